// "Where the space went", in the result: a bar per layer that holds bytes a later layer
// deletes or overwrites, dive's efficiency score, and the wasted files by folder, each
// folder expandable to its largest files.

import { fmtBytes } from '../format/bytes.mjs';
import { plural } from '../format/plural.mjs';
import { cleanCreatedBy, shortId } from '../format/history.mjs';
import { layersOf } from '../image.mjs';
import { $, el } from './dom.mjs';

const note = (text) => el('p', { className: 'muted', textContent: text });

/** `img` as inspect() reported it; null when the analysis was skipped. */
export function showWaste(img) {
  if (!img) {
    $('chart').replaceChildren(note('The layer analysis was skipped, so there is no breakdown.'));
    showGroups(null);
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
  showGroups(img);
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

/** How many folders the result lists (the engine reports up to 50). */
const GROUPS_SHOWN = 20;

/** The efficiency line and the wasted files by folder; `img` null: none. */
function showGroups(img) {
  const groups = (img && img.wastedGroups) || [];
  const e = img ? img.efficiency : null;
  $('efficiency').hidden = e === null || e === undefined;
  $('efficiency').textContent =
    e === null || e === undefined ? '' : `Efficiency ${(100 * e).toFixed(1)}%, as dive scores it (100% is no waste).`;
  $('efficiency').title =
    "Each path's smallest size over the layers (0 once deleted), over the bytes of every file of every layer. " +
    "dive adds a deleted folder's bytes a second time; here each byte counts once.";
  $('groups-title').hidden = groups.length === 0;
  $('groups').hidden = groups.length === 0;
  const layerName = (index) => {
    const l = layersOf(img).find((x) => x.index === Number(index));
    return l ? shortId(l.diffId || l.id) : `layer ${index}`;
  };
  const commandOf = (index) => {
    const h = img.history.find((x) => x.layer && x.layer.index === Number(index));
    return cleanCreatedBy(h && h.createdBy).slice(0, 60);
  };
  $('groups').replaceChildren(
    ...groups.slice(0, GROUPS_SHOWN).map((g) => {
      const removedBy = commandOf(g.removedBy);
      const summary = el(
        'summary',
        {},
        el('span', { className: 'mono folder', textContent: g.folder }),
        el('span', { className: 'num', textContent: `${plural(Number(g.files), 'file')}, ${fmtBytes(g.size)}` }),
        el('span', {
          className: 'muted',
          textContent: `in ${layerName(g.layerIndex)}, ${g.how} by ${layerName(g.removedBy)}${removedBy ? ` (${removedBy})` : ''}`,
        }),
      );
      const rows = g.largest.map((f) =>
        el(
          'tr',
          {},
          el('td', { className: 'mono path', textContent: f.path, title: f.path }),
          el('td', { className: 'num', textContent: fmtBytes(f.size) }),
        ),
      );
      const more = Number(g.files) - g.largest.length;
      if (more > 0)
        rows.push(el('tr', {}, el('td', { className: 'muted', textContent: `and ${plural(more, 'more file')}` })));
      const table = el('table', { className: 'small' }, el('tbody', {}, ...rows));
      return el('li', {}, el('details', {}, summary, table));
    }),
  );
}
