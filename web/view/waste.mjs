// "Where the space went", in the result: a bar per layer that holds bytes a later layer
// deletes or overwrites, and the largest of those files.

import { fmtBytes } from '../format/bytes.mjs';
import { cleanCreatedBy, shortId } from '../format/history.mjs';
import { layersOf } from '../image.mjs';
import { $, el } from './dom.mjs';

const note = (text) => el('p', { className: 'muted', textContent: text });

/** `img` as inspect() reported it; null when the analysis was skipped. */
export function showWaste(img) {
  if (!img) {
    $('chart').replaceChildren(note('The layer analysis was skipped, so there is no breakdown.'));
    showFiles([], null);
    return;
  }
  const layers = layersOf(img);
  const wasted = layers.filter((l) => Number(l.wastedBytes) > 0);
  if (wasted.length === 0) {
    $('chart').replaceChildren(
      note('No layer holds files that a later layer deletes or overwrites: the saving comes from fewer layers.'),
    );
  } else {
    const max = Math.max(1, ...layers.map((l) => Number(l.size)));
    $('chart').replaceChildren(...wasted.map((l) => barRow(img, l, max)), legend());
  }
  showFiles(img.largestWasted || [], img);
}

function barRow(img, l, max) {
  const h = img.history.find((x) => x.layer && x.layer.index === l.index);
  const id = shortId(l.diffId || l.id);
  const label = el(
    'div',
    { className: 'bar-label' },
    el('span', { className: 'mono', textContent: id }),
    el('span', { className: 'muted', textContent: ` ${cleanCreatedBy(h && h.createdBy).slice(0, 70)}` }),
  );
  const whole = el('div', { className: 'bar-size' });
  whole.style.width = `${(100 * Number(l.size)) / max}%`;
  const waste = el('div', { className: 'bar-waste' });
  waste.style.width = `${(100 * Number(l.wastedBytes)) / max}%`;
  const track = el('div', { className: 'bar-track' }, whole, waste);
  track.setAttribute('role', 'img');
  track.setAttribute('aria-label', `layer ${id}: ${fmtBytes(l.wastedBytes)} wasted of ${fmtBytes(l.size)}`);
  const value = el('div', {
    className: 'bar-value num',
    textContent: `${fmtBytes(l.wastedBytes)} of ${fmtBytes(l.size)}`,
  });
  return el('div', { className: 'bar-row' }, label, track, value);
}

function legend() {
  const swatch = (kind) => {
    const s = el('span', { className: `swatch ${kind}` });
    s.setAttribute('aria-hidden', 'true');
    return s;
  };
  return el(
    'p',
    { className: 'legend small muted' },
    swatch('waste'),
    ' dropped by squashing   ',
    swatch('size'),
    ' rest of the layer',
  );
}

/** The largest wasted files, with the layer each is in and the one that removes it. */
function showFiles(files, img) {
  $('files').hidden = files.length === 0;
  $('files-title').hidden = files.length === 0;
  const layerName = (index) => {
    const l = layersOf(img).find((x) => x.index === Number(index));
    return l ? shortId(l.diffId || l.id) : `layer ${index}`;
  };
  $('files-body').replaceChildren(
    ...files.map((f) =>
      el(
        'tr',
        {},
        el('td', { className: 'mono path', textContent: f.path, title: f.path }),
        el('td', { className: 'num', textContent: fmtBytes(f.size) }),
        el('td', { className: 'mono', textContent: layerName(f.layerIndex) }),
        el('td', { textContent: `${f.how} by ${layerName(f.removedBy)}` }),
      ),
    ),
  );
}
