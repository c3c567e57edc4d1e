// The plan under the history: the chosen squash point in words, why it is the suggestion
// (or a link back to the suggestion), and what the result will be.

import { fmtBytes } from '../format/bytes.mjs';
import { cleanCreatedBy, shortId } from '../format/history.mjs';
import { plural } from '../format/plural.mjs';
import { estimateFor, layersOf, pointIndex } from '../image.mjs';
import { $, el } from './dom.mjs';

function choiceText(img, from) {
  const layers = layersOf(img);
  if (from === 'root') return `Squash point: root. All ${plural(layers.length, 'layer')} become one.`;
  const chosen = pointIndex(img, from);
  const kept = chosen + 1;
  const merged = layers.length - kept;
  const row = img.history.find((h) => h.layer && h.layer.index === chosen);
  return (
    `Squash point: layer ${shortId(from)} (${cleanCreatedBy(row && row.createdBy).slice(0, 60) || 'no command'}). ` +
    (merged > 0
      ? `Keeps ${plural(kept, 'layer')}, merges the ${plural(merged, 'layer')} above into one.`
      : 'Nothing is above it, so the image stays as it is; choose a lower layer or root to squash.')
  );
}

/** `analysed`/`analysing` as for the history; `choose(from)` for "Use the suggested point". */
export function showPlan({ img, from, analysed, analysing, choose }) {
  const def = img.defaultFrom;
  $('choice').textContent = choiceText(img, from);
  if (def && def.from === from) {
    $('choice').append(
      el('span', { className: 'reason', textContent: ` Suggested: ${def.reason}.`.replace(/\.\.$/, '.') }),
    );
  } else if (def) {
    const back = el('button', { type: 'button', className: 'link', textContent: 'Use the suggested point' });
    back.addEventListener('click', () => choose(def.from));
    $('choice').append(' ', back);
  }
  const est = estimateFor(img, from);
  $('estimate').textContent =
    analysed && est
      ? `Result: ${plural(Number(est.layersAfter), 'layer')}, about ${fmtBytes(est.sizeAfter)} (${fmtBytes(est.reclaimedBytes)} less than ${fmtBytes(img.totalSize)}).`
      : analysing
        ? 'Working out what each squash point would save…'
        : '';
}
