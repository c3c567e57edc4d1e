// The history table, newest first like `docker history`: one row per step, a radio button
// on each row that can be a squash point, what squashing there gives, and a last row for
// root. Clicking anywhere on a row chooses it.

import { fmtBytes } from '../format/bytes.mjs';
import { cleanCreatedBy, shortId } from '../format/history.mjs';
import { plural } from '../format/plural.mjs';
import { estimateFor, layersOf, pointIndex } from '../image.mjs';
import { $, el } from './dom.mjs';

function estimateText(est) {
  if (!est) return '';
  return `${plural(Number(est.layersAfter), 'layer')} · ${fmtBytes(est.sizeAfter)} · saves ${fmtBytes(est.reclaimedBytes)}`;
}

/** The five cells of a row: radio, layer id, command, size, estimate. */
const rowCells = () => [
  el('td'),
  el('td', { className: 'mono id' }),
  el('td', { className: 'cmd' }),
  el('td', { className: 'num' }),
  el('td', { className: 'num est-col small' }),
];

/**
 * Renders the history of `img` with `from` chosen. `analysed`: estimates are known;
 * `analysing`: they are being worked out. `choose(from)` is called on a click and returns
 * whether the choice was taken (it is not while a squash runs).
 */
export function showHistory({ img, from, analysed, analysing, choose }) {
  const layers = layersOf(img);
  const top = layers.length ? layers[layers.length - 1].index : -1;
  const chosen = pointIndex(img, from);
  const pending = analysing ? '…' : '';
  const offer = (tr, cell, value, label) => addRadio(tr, cell, { value, label, checked: value === from, choose });

  const rows = [...img.history].reverse().map((h) => {
    const tr = el('tr');
    const l = h.layer;
    const cells = rowCells();
    tr.dataset.history = String(h.index);
    cells[2].append(
      el('code', { textContent: cleanCreatedBy(h.createdBy) || '(no command recorded)', title: h.createdBy || '' }),
    );
    if (!l) {
      tr.classList.add('empty');
      cells[1].textContent = '<missing>';
      cells[1].title = 'metadata only: this step made no layer';
      cells[3].textContent = '0 B';
    } else {
      tr.dataset.layer = String(l.index);
      cells[1].textContent = shortId(l.diffId || l.id);
      cells[1].title = l.diffId || l.id;
      cells[3].textContent = fmtBytes(l.size);
      tr.classList.add(l.index > chosen ? 'squashed' : 'kept');
      if (l.index === chosen) tr.classList.add('point');
      if (l.index === top) {
        cells[4].textContent = 'top layer';
        cells[4].classList.add('muted');
        // Only offered when it is the suggestion (a one-layer image): nothing gets squashed.
        if (img.defaultFrom && img.defaultFrom.from === l.id) {
          offer(tr, cells[0], l.id, `Keep layer ${shortId(l.id)} and all below: nothing to squash`);
          cells[4].textContent = 'nothing to squash';
        }
      } else {
        offer(tr, cells[0], l.id, `Keep layer ${l.index} (${shortId(l.id)}) and all below, squash the rest`);
        cells[4].textContent = analysed ? estimateText(estimateFor(img, l.id)) : pending;
      }
    }
    tr.append(...cells);
    return tr;
  });

  // Root: one click squashes everything.
  const tr = el('tr', { className: 'root-row' });
  tr.dataset.layer = 'root';
  const cells = rowCells();
  cells[1].textContent = 'root';
  cells[2].textContent = 'Squash the whole image into one layer';
  cells[4].textContent = analysed ? estimateText(estimateFor(img, 'root')) : pending;
  offer(tr, cells[0], 'root', 'Squash the whole image into one layer (root)');
  if (from === 'root') tr.classList.add('point');
  tr.append(...cells);
  rows.push(tr);
  $('history-body').replaceChildren(...rows);
}

/** Makes `tr` a squash point: a radio button in `cell`, and a click anywhere on the row. */
function addRadio(tr, cell, { value, label, checked, choose }) {
  const r = el('input', { type: 'radio', name: 'point', value, checked });
  r.setAttribute('aria-label', label);
  r.addEventListener('change', () => {
    if (r.checked) choose(value);
  });
  cell.append(r);
  tr.classList.add('choosable');
  tr.addEventListener('click', (e) => {
    if (e.target === r) return;
    if (window.getSelection && String(window.getSelection())) return; // let people copy text
    if (!choose(value)) return;
    document.querySelector(`#history-body input[value="${CSS.escape(value)}"]`)?.focus();
  });
}

/** Radio buttons can be used unless a squash runs. */
export function lockHistory(locked) {
  for (const r of document.querySelectorAll('#history-body input[type=radio]')) r.disabled = locked;
}
