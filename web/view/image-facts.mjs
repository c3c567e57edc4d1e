// The facts shown above the history: tags, id, platform, archive format, layers, size.

import { fmtBytes } from '../format/bytes.mjs';
import { shortId } from '../format/history.mjs';
import { layersOf } from '../image.mjs';
import { $ } from './dom.mjs';
import { showFacts } from './facts.mjs';

/** `img` of `listing` (list()'s result); `analysed`: inspect() has run, so waste is known. */
export function showImageFacts(img, listing, analysed) {
  const compression = listing.compression && listing.compression !== 'none' ? `, ${listing.compression}` : '';
  const facts = [
    { label: 'Tags', value: img.tags && img.tags.length ? img.tags.join(', ') : 'none' },
    { label: 'ID', value: shortId(img.id) },
    { label: 'Platform', value: img.platform },
    { label: 'Archive', value: `${listing.format}${compression}` },
    { label: 'Layers', value: String(layersOf(img).length) },
    { label: 'Total size', value: fmtBytes(img.totalSize) },
  ];
  if (analysed) facts.push({ label: 'Wasted by later layers', value: fmtBytes(img.wastedBytes) });
  showFacts($('facts'), facts);
}
