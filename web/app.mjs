// The page: shows what is in the archive, lets the user choose a squash point and a tag,
// and drives the worker (web/worker.mjs), where the wasm does all the work.

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- formatting

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];
/** Decimal units with three significant digits, like `docker history`. */
export function fmtBytes(n) {
  n = Number(n);
  if (!Number.isFinite(n)) return '?';
  let u = 0;
  let v = Math.abs(n);
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  const s = u === 0 ? String(v) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${n < 0 ? '-' : ''}${s} ${UNITS[u]}`;
}

function fmtDuration(s) {
  if (!Number.isFinite(s) || s < 0) return '';
  if (s < 1) return 'less than a second';
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const shortId = (id) =>
  String(id || '')
    .replace(/^sha256:/, '')
    .slice(0, 12);
/** `created_by` as `docker history` shows it, without the shell prefix noise. */
const cleanCreatedBy = (s) =>
  String(s || '')
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
    .replace(/^\/bin\/sh -c /, 'RUN ')
    .trim();

// ---------------------------------------------------------------- errors in plain words

const ADVICE = {
  NOT_AN_IMAGE: [
    'This file is not a Docker image archive.',
    'Choose an archive written by "docker save -o image.tar IMAGE" (or podman/skopeo save): a .tar, .tar.gz, .tgz or .tar.zst file.',
  ],
  CORRUPT: [
    'The archive is damaged or incomplete.',
    'It may have been cut short while copying or downloading. Save the image again with "docker save" and choose the new file.',
  ],
  DIGEST_MISMATCH: [
    'A layer in the archive does not match its checksum.',
    'The archive was changed or damaged after it was saved. Save the image again with "docker save".',
  ],
  IMAGE_CHOICE: ['Which image to use is not clear.', 'Choose one of the images listed above.'],
  FROM_CHOICE: [
    'That squash point does not name exactly one layer.',
    'Click another row of the history, or choose root.',
  ],
  BAD_TAG: [
    'The tag is not a valid image name.',
    'Use lowercase letters, digits, ".", "_" and "-", like "myapp:squashed" or "registry.example.com/team/app:1.0". Or leave it empty.',
  ],
  TOO_LARGE: [
    'The archive hit a safety limit.',
    'It holds something unusually large (for example a compression bomb). If you trust it, use the docker-squash command-line tool.',
  ],
  UNSUPPORTED: [
    'This archive uses something the squasher does not support.',
    'Try the docker-squash command-line tool, or save the image with a current Docker version.',
  ],
  IO: [
    'Reading the file or writing the result failed.',
    'Check that the file is still there and that your disk has free space, then try again.',
  ],
  LOAD: [
    'The squasher could not start in this browser.',
    'Reload the page. It needs a current browser with WebAssembly and module workers (Chrome, Edge, Firefox or Safari from 2023 on).',
  ],
  INTERNAL: [
    'The squasher failed unexpectedly.',
    'Try again; if it happens again with the same file, please report it with the details below.',
  ],
};

function showError(err, during) {
  const code = err && err.code ? String(err.code) : 'INTERNAL';
  if (code === 'CANCELLED') return;
  const [what, todo] = ADVICE[code] || ADVICE.INTERNAL;
  $('error-title').textContent = during ? `Could not ${during}` : 'Something went wrong';
  $('error-what').textContent = what;
  $('error-todo').textContent = todo;
  $('error-detail').textContent = `${code}: ${err && err.message ? err.message : String(err)}`;
  $('error').dataset.code = code;
  $('error').hidden = false;
  $('error').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

function hideError() {
  $('error').hidden = true;
  delete $('error').dataset.code;
}

// ---------------------------------------------------------------- the worker

/** Names this page's output files in the browser's private file storage. */
const SESSION = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

class Squasher {
  constructor() {
    this.nextId = 1;
    this.spawn();
  }

  spawn() {
    this.pending = new Map();
    this.worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module', name: 'squasher' });
    this.worker.onmessage = (e) => this.receive(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault?.();
      this.failAll({ code: 'LOAD', message: e.message || 'the worker could not start' });
    };
  }

  receive(msg) {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.memory) p.memory = msg.memory;
    if (msg.type === 'progress') {
      p.onProgress?.(msg.progress, msg.memory);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.type === 'done') {
      p.resolve(msg);
    } else {
      const err = Object.assign(new Error(msg.error.message), { code: msg.error.code, memory: msg.memory });
      p.reject(err);
      // A wasm panic leaves the module unusable: start afresh.
      if (err.code === 'INTERNAL') this.restart();
    }
  }

  failAll(error) {
    const pending = this.pending;
    this.pending = new Map();
    for (const p of pending.values()) p.reject(Object.assign(new Error(error.message), { code: error.code }));
  }

  restart() {
    this.worker.terminate();
    const pending = this.pending;
    this.spawn();
    for (const p of pending.values()) p.reject(Object.assign(new Error('stopped'), { code: 'CANCELLED' }));
  }

  /** Stops whatever runs at once: the worker is ended and a new one made. */
  cancel() {
    this.restart();
  }

  call(op, file, options = {}, onProgress = null) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, op, file, options, session: SESSION });
    });
  }
}

// ---------------------------------------------------------------- state

const state = {
  file: null,
  listing: null, // list() result
  inspection: null, // inspect() result, for the chosen image
  image: null, // the chosen ImageInfo (from inspection when there, else listing)
  from: null, // "root" or a layer id
  busy: null, // 'list' | 'inspect' | 'squash'
  generation: 0, // bumped on every new file, so late answers for an old file are dropped
  resultUrl: null,
};

let squasher;

// ---------------------------------------------------------------- file choice

const ACCEPTED = /\.(tar|tar\.gz|tgz|tar\.zst|tzst|gz|zst)$/i;

async function openFile(file) {
  if (!file) return;
  if (state.busy) squasher.cancel();
  state.generation++;
  const gen = state.generation;
  hideError();
  clearResult();
  Object.assign(state, { file, listing: null, inspection: null, image: null, from: null, busy: 'list' });
  $('image').hidden = true;
  $('plan').hidden = true;
  $('progress').hidden = true;
  $('file-info').hidden = false;
  $('file-info').textContent =
    `${file.name} · ${fmtBytes(file.size)}${ACCEPTED.test(file.name) ? '' : ' · not a usual archive name, trying anyway'}`;
  document.body.dataset.state = 'opening';
  try {
    const { result } = await squasher.call('list', file);
    if (gen !== state.generation) return;
    state.listing = result;
    if (!result.images || result.images.length === 0) {
      throw Object.assign(new Error('the archive holds no image'), { code: 'NOT_AN_IMAGE' });
    }
    state.busy = null;
    showImages();
    await analyse(gen);
  } catch (e) {
    if (gen !== state.generation) return;
    state.busy = null;
    document.body.dataset.state = 'error';
    showError(e, 'read this file');
  }
}

function imageLabel(img) {
  const name = img.tags && img.tags.length ? img.tags.join(', ') : `untagged ${shortId(img.id)}`;
  return `${name} (${img.platform})`;
}

function showImages() {
  const images = state.listing.images;
  const sel = $('image-select');
  sel.replaceChildren(...images.map((img, i) => new Option(imageLabel(img), String(i))));
  $('image-choice').hidden = images.length < 2;
  sel.value = '0';
  chooseImage(0, { keepTag: false });
}

function chooseImage(i, { keepTag }) {
  const img = state.listing.images[i];
  state.image = img;
  state.inspection = null;
  state.from = img.defaultFrom ? img.defaultFrom.from : 'root';
  if (!keepTag) $('tag').value = defaultTag(img);
  $('image').hidden = false;
  $('plan').hidden = false;
  render();
}

/** "nginx:1.25" -> "nginx:squashed"; "localhost:5000/app" -> "localhost:5000/app:squashed". */
export function defaultTag(img) {
  const t = img.tags && img.tags[0];
  if (!t) return '';
  const slash = t.lastIndexOf('/');
  const colon = t.lastIndexOf(':');
  const repo = colon > slash ? t.slice(0, colon) : t;
  return `${repo.split('@')[0]}:squashed`;
}

function imageOptions() {
  // One image: nothing to choose (and nothing to get wrong). Several: by id, else by tag.
  if (state.listing.images.length < 2) return {};
  const img = state.image;
  const opts = { image: img.id || (img.tags && img.tags[0]) || String(img.index) };
  if (img.platform) opts.platform = img.platform;
  return opts;
}

async function analyse(gen) {
  state.busy = 'inspect';
  document.body.dataset.state = 'analysing';
  render();
  startProgress('Analysing layers');
  try {
    // The estimates need the layers' headers only; the squash verifies every layer (and
    // hashing is the slowest part of reading in wasm), so the analysis trusts the diff_ids.
    const { result } = await squasher.call('inspect', state.file, { ...imageOptions(), verify: false }, onProgress);
    if (gen !== state.generation) return;
    const img = (result.images || []).find((x) => x.id === state.image.id) || result.images[0];
    state.inspection = result;
    // Layer ids can change once the layers are read (pre-1.10 archives name layers by their
    // legacy id until their diff_id is known): carry the choice over by layer position.
    const before = state.image;
    const wasDefault = before.defaultFrom && state.from === before.defaultFrom.from;
    let from = state.from;
    if (wasDefault && img.defaultFrom) {
      from = img.defaultFrom.from;
    } else if (from !== 'root') {
      const old = layersOf(before).find((l) => l.id === from);
      const now = old && layersOf(img).find((l) => l.index === old.index);
      from = now ? now.id : img.defaultFrom ? img.defaultFrom.from : 'root';
    }
    state.image = img;
    state.from = from;
    document.body.dataset.state = 'ready';
  } catch (e) {
    if (gen !== state.generation) return;
    document.body.dataset.state = 'ready';
    if (e.code !== 'CANCELLED') showError(e, 'analyse the layers');
  } finally {
    if (gen === state.generation) {
      state.busy = null;
      $('progress').hidden = true;
      render();
    }
  }
}

// ---------------------------------------------------------------- rendering

function layersOf(img) {
  return img.history.filter((r) => r.layer).map((r) => r.layer);
}

function estimateFor(from) {
  const points = state.image && state.image.squashPoints;
  if (!points || points.length === 0) return null;
  return points.find((p) => p.from === from) || null;
}

function pointIndex(from) {
  // Index of the layer kept at the top of the base; -1 for root.
  if (from === 'root') return -1;
  const l = layersOf(state.image).find((x) => x.id === from);
  return l ? l.index : -1;
}

function estimateText(est) {
  if (!est) return '';
  return `${plural(Number(est.layersAfter), 'layer')} · ${fmtBytes(est.sizeAfter)} · saves ${fmtBytes(est.reclaimedBytes)}`;
}

function render() {
  const img = state.image;
  if (!img) return;
  const layers = layersOf(img);
  const analysed = Boolean(state.inspection);

  // Facts.
  const facts = [
    ['Tags', img.tags && img.tags.length ? img.tags.join(', ') : 'none'],
    ['ID', shortId(img.id)],
    ['Platform', img.platform],
    [
      'Archive',
      `${state.listing.format}${state.listing.compression && state.listing.compression !== 'none' ? `, ${state.listing.compression}` : ''}`,
    ],
    ['Layers', String(layers.length)],
    ['Total size', fmtBytes(img.totalSize)],
  ];
  if (analysed) facts.push(['Wasted by later layers', fmtBytes(img.wastedBytes)]);
  $('facts').replaceChildren(
    ...facts.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }),
  );

  // History, newest first.
  const top = layers.length ? layers[layers.length - 1].index : -1;
  const chosen = pointIndex(state.from);
  const rows = [];
  for (const h of [...img.history].reverse()) {
    const tr = document.createElement('tr');
    const l = h.layer;
    const cmd = cleanCreatedBy(h.createdBy);
    tr.dataset.history = String(h.index);
    const cells = [
      document.createElement('td'),
      document.createElement('td'),
      document.createElement('td'),
      document.createElement('td'),
      document.createElement('td'),
    ];
    cells[1].className = 'mono id';
    cells[2].className = 'cmd';
    cells[3].className = 'num';
    cells[4].className = 'num est-col small';
    const code = document.createElement('code');
    code.textContent = cmd || '(no command recorded)';
    code.title = h.createdBy || '';
    cells[2].append(code);
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
      if (l.index > chosen) tr.classList.add('squashed');
      else tr.classList.add('kept');
      if (l.index === chosen) tr.classList.add('point');
      if (l.index === top) {
        cells[4].textContent = 'top layer';
        cells[4].classList.add('muted');
        // Only offered when it is the suggestion (a one-layer image): nothing gets squashed.
        if (img.defaultFrom && img.defaultFrom.from === l.id) {
          addRadio(tr, cells[0], l.id, `Keep layer ${shortId(l.id)} and all below: nothing to squash`);
          cells[4].textContent = 'nothing to squash';
        }
      } else {
        addRadio(tr, cells[0], l.id, `Keep layer ${l.index} (${shortId(l.id)}) and all below, squash the rest`);
        const est = estimateFor(l.id);
        cells[4].textContent = analysed ? estimateText(est) : state.busy === 'inspect' ? '…' : '';
      }
    }
    tr.append(...cells);
    rows.push(tr);
  }
  // Root: one click squashes everything.
  const tr = document.createElement('tr');
  tr.className = 'root-row';
  tr.dataset.layer = 'root';
  const cells = [
    document.createElement('td'),
    document.createElement('td'),
    document.createElement('td'),
    document.createElement('td'),
    document.createElement('td'),
  ];
  cells[1].className = 'mono id';
  cells[1].textContent = 'root';
  cells[2].className = 'cmd';
  cells[2].textContent = 'Squash the whole image into one layer';
  cells[3].className = 'num';
  cells[4].className = 'num est-col small';
  cells[4].textContent = analysed ? estimateText(estimateFor('root')) : state.busy === 'inspect' ? '…' : '';
  addRadio(tr, cells[0], 'root', 'Squash the whole image into one layer (root)');
  if (state.from === 'root') tr.classList.add('point');
  tr.append(...cells);
  rows.push(tr);
  $('history-body').replaceChildren(...rows);

  // The plan.
  const def = img.defaultFrom;
  const isDefault = def && def.from === state.from;
  const kept = chosen + 1;
  const merged = layers.length - kept;
  let choice;
  if (state.from === 'root') {
    choice = `Squash point: root. All ${plural(layers.length, 'layer')} become one.`;
  } else {
    const row = img.history.find((h) => h.layer && h.layer.index === chosen);
    choice =
      `Squash point: layer ${shortId(state.from)} (${cleanCreatedBy(row && row.createdBy).slice(0, 60) || 'no command'}). ` +
      (merged > 0
        ? `Keeps ${plural(kept, 'layer')}, merges the ${plural(merged, 'layer')} above into one.`
        : 'Nothing is above it, so the image stays as it is; choose a lower layer or root to squash.');
  }
  $('choice').textContent = choice;
  if (isDefault) {
    const em = document.createElement('span');
    em.className = 'reason';
    em.textContent = ` Suggested: ${def.reason}.`.replace(/\.\.$/, '.');
    $('choice').append(em);
  } else if (def) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link';
    b.textContent = 'Use the suggested point';
    b.addEventListener('click', () => choose(def.from));
    $('choice').append(' ', b);
  }
  const est = estimateFor(state.from);
  $('estimate').textContent =
    analysed && est
      ? `Result: ${plural(Number(est.layersAfter), 'layer')}, about ${fmtBytes(est.sizeAfter)} (${fmtBytes(est.reclaimedBytes)} less than ${fmtBytes(img.totalSize)}).`
      : state.busy === 'inspect'
        ? 'Working out what each squash point would save…'
        : '';

  $('root').disabled = state.from === 'root' || state.busy === 'squash';
  $('squash').disabled = Boolean(state.busy);
  $('squash').textContent = state.busy === 'inspect' ? 'Squash (after the analysis)' : 'Squash';
  $('tag').disabled = state.busy === 'squash';
  $('image-select').disabled = Boolean(state.busy);
  for (const r of document.querySelectorAll('#history-body input[type=radio]')) r.disabled = state.busy === 'squash';
}

function addRadio(tr, cell, value, label) {
  const r = document.createElement('input');
  r.type = 'radio';
  r.name = 'point';
  r.value = value;
  r.checked = value === state.from;
  r.setAttribute('aria-label', label);
  r.addEventListener('change', () => {
    if (r.checked) choose(value);
  });
  cell.append(r);
  tr.classList.add('choosable');
  tr.addEventListener('click', (e) => {
    if (e.target === r || state.busy === 'squash') return;
    if (window.getSelection && String(window.getSelection())) return; // let people copy text
    choose(value);
    document.querySelector(`#history-body input[value="${CSS.escape(value)}"]`)?.focus();
  });
}

function choose(from) {
  if (state.busy === 'squash') return;
  state.from = from;
  render();
}

// ---------------------------------------------------------------- progress

let phaseStart = null;

function startProgress(label) {
  phaseStart = null;
  phaseTimes = {};
  $('progress').hidden = false;
  $('progress-label').textContent = `${label}…`;
  $('progress-bar').removeAttribute('value');
  $('progress-stats').textContent = '';
  $('cancel').textContent = state.busy === 'inspect' ? 'Skip analysis' : 'Cancel';
}

const PHASES = {
  read: 'Step 1 of 2: reading and checking the layers',
  write: 'Step 2 of 2: writing the squashed image',
};
/** Per phase of the running squash: { t0, t1, bytes } for the result's speed figures. */
let phaseTimes = {};

function onProgress(p) {
  const now = performance.now();
  if (!phaseStart || phaseStart.phase !== p.phase) phaseStart = { phase: p.phase, t: now, bytes: p.bytesDone };
  const pt = (phaseTimes[p.phase] ??= { t0: now, t1: now, bytes: 0 });
  pt.t1 = now;
  pt.bytes = p.bytesDone;
  const label = state.busy === 'inspect' ? 'Analysing layers' : PHASES[p.phase] || p.phase;
  $('progress-label').textContent = label;
  const bar = $('progress-bar');
  if (p.bytesTotal > 0) {
    bar.max = p.bytesTotal;
    bar.value = Math.min(p.bytesDone, p.bytesTotal);
  }
  const secs = (now - phaseStart.t) / 1000;
  const rate = secs > 0.2 ? (p.bytesDone - phaseStart.bytes) / secs : 0;
  const parts = [`${fmtBytes(p.bytesDone)} of ${fmtBytes(p.bytesTotal)}`];
  if (rate > 0) {
    parts.push(`${(rate / 1e6).toFixed(rate >= 1e8 ? 0 : 1)} MB/s`);
    const left = (p.bytesTotal - p.bytesDone) / rate;
    if (p.bytesDone < p.bytesTotal) parts.push(left < 1 ? 'almost done' : `about ${fmtDuration(left)} left`);
  }
  $('progress-stats').textContent = parts.join(' · ');
  $('progress').dataset.phase = p.phase;
}

// ---------------------------------------------------------------- squash and result

function outputName(tag) {
  if (tag) return `${tag.replace(/[/:@]+/g, '-').replace(/[^A-Za-z0-9._-]/g, '')}.tar`;
  const base = (state.file && state.file.name ? state.file.name : 'image').replace(
    /\.(tar\.gz|tgz|tar\.zst|tzst|tar|gz|zst)$/i,
    '',
  );
  return `${base.replace(/[^A-Za-z0-9._-]+/g, '_') || 'image'}-squashed.tar`;
}

const shellQuote = (s) => (/^[A-Za-z0-9._\/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

async function squash() {
  if (!state.image || state.busy) return;
  hideError();
  clearResult();
  const gen = state.generation;
  const tag = $('tag').value.trim();
  const options = { ...imageOptions(), from: state.from };
  if (tag) options.tag = tag;
  state.busy = 'squash';
  document.body.dataset.state = 'squashing';
  render();
  startProgress('Starting');
  const t0 = performance.now();
  try {
    const msg = await squasher.call('squash', state.file, options, onProgress);
    if (gen !== state.generation) return;
    showResult(msg, tag, (performance.now() - t0) / 1000);
    document.body.dataset.state = 'done';
  } catch (e) {
    if (gen !== state.generation) return;
    document.body.dataset.state = e.code === 'CANCELLED' ? 'ready' : 'error';
    showError(e, 'squash the image');
  } finally {
    if (gen === state.generation) {
      state.busy = null;
      $('progress').hidden = true;
      render();
    }
  }
}

function clearResult() {
  if (state.resultUrl) URL.revokeObjectURL(state.resultUrl);
  state.resultUrl = null;
  $('result').hidden = true;
  $('download').removeAttribute('href');
}

function showResult(msg, tag, seconds) {
  const r = msg.result;
  const out = msg.output;
  const name = outputName(tag);
  state.resultUrl = URL.createObjectURL(out);
  const a = $('download');
  a.href = state.resultUrl;
  a.download = name;
  a.textContent = `Download ${name}`;
  $('download-info').textContent = `${fmtBytes(out.size)} tar archive`;
  $('load-cmd').value = `docker load -i ${shellQuote(name)}`;
  $('copy-status').textContent = '';

  $('before-size').textContent = fmtBytes(r.sizeBefore);
  $('before-layers').textContent = plural(Number(r.layersBefore), 'layer');
  $('after-size').textContent = fmtBytes(r.sizeAfter);
  $('after-layers').textContent = plural(Number(r.layersAfter), 'layer');
  const saved = Number(r.sizeBefore) - Number(r.sizeAfter);
  $('saved-size').textContent = fmtBytes(Math.max(0, saved));
  $('saved-pct').textContent =
    Number(r.sizeBefore) > 0 ? `${Math.max(0, (100 * saved) / Number(r.sizeBefore)).toFixed(1)}%` : '';

  renderChart();

  const mbps = seconds > 0 ? Number(state.file.size) / 1e6 / seconds : 0;
  const rateOf = (ph) => {
    const x = phaseTimes[ph];
    const secs = x ? (x.t1 - x.t0) / 1000 : 0;
    return secs > 0.05
      ? `${fmtBytes(x.bytes)} at ${(x.bytes / 1e6 / secs).toFixed(1)} MB/s`
      : x
        ? fmtBytes(x.bytes)
        : '';
  };
  const phases = [
    ['read', 'reading'],
    ['write', 'writing'],
  ]
    .filter(([ph]) => phaseTimes[ph])
    .map(([ph, name]) => `${name} ${rateOf(ph)}`)
    .join('; ');
  const facts = [
    ['image-id', 'New image ID', shortId(r.imageId), r.imageId],
    ['tags', 'Tags', r.tags && r.tags.length ? r.tags.join(', ') : 'none', ''],
    [
      'from',
      'Squash point',
      r.from
        ? `${r.from.from === 'root' ? 'root' : shortId(r.from.from)}${r.from.reason ? ` (${r.from.reason})` : ''}`
        : '',
      '',
    ],
    [
      'new-layer',
      'New layer',
      r.newLayerDiffId ? `${shortId(r.newLayerDiffId)}, ${fmtBytes(r.newLayerSize)}` : 'nothing was squashed',
      r.newLayerDiffId || '',
    ],
    ['output-bytes', 'Archive size', fmtBytes(r.outputBytes), String(r.outputBytes)],
    ['time', 'Time', fmtDuration(seconds), String(seconds)],
    [
      'speed',
      'Average speed',
      `${mbps.toFixed(1)} MB/s of the ${fmtBytes(state.file.size)} archive${phases ? ` (${phases})` : ''}`,
      String(mbps),
    ],
    [
      'peak-memory',
      'Peak WebAssembly memory',
      fmtBytes(msg.memory ? msg.memory.peak : 0),
      String(msg.memory ? msg.memory.peak : 0),
    ],
    [
      'sink',
      'Written to',
      msg.stats && msg.stats.sink === 'opfs' ? 'browser file storage (on disk)' : 'browser memory (Blob)',
      msg.stats ? msg.stats.sink : '',
    ],
  ];
  $('result-facts').replaceChildren(
    ...facts.flatMap(([key, k, v, raw]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dd.dataset.key = key;
      dd.dataset.value = raw;
      return [dt, dd];
    }),
  );
  $('result').hidden = false;
  $('result').scrollIntoView({ block: 'start', behavior: 'smooth' });
  a.focus({ preventScroll: true });
}

function renderChart() {
  const chart = $('chart');
  const img = state.image;
  const fileBody = $('files-body');
  if (!state.inspection) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = 'The layer analysis was skipped, so there is no breakdown.';
    chart.replaceChildren(p);
    fileBody.replaceChildren();
    $('files').hidden = true;
    $('files-title').hidden = true;
    return;
  }
  const layers = layersOf(img);
  const wasted = layers.filter((l) => Number(l.wastedBytes) > 0);
  const max = Math.max(1, ...layers.map((l) => Number(l.size)));
  if (wasted.length === 0) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent =
      'No layer holds files that a later layer deletes or overwrites: the saving comes from fewer layers.';
    chart.replaceChildren(p);
  } else {
    const rows = wasted.map((l) => {
      const h = img.history.find((x) => x.layer && x.layer.index === l.index);
      const row = document.createElement('div');
      row.className = 'bar-row';
      const label = document.createElement('div');
      label.className = 'bar-label';
      const id = document.createElement('span');
      id.className = 'mono';
      id.textContent = shortId(l.diffId || l.id);
      const cmd = document.createElement('span');
      cmd.className = 'muted';
      cmd.textContent = ` ${cleanCreatedBy(h && h.createdBy).slice(0, 70)}`;
      label.append(id, cmd);
      const track = document.createElement('div');
      track.className = 'bar-track';
      track.setAttribute('role', 'img');
      track.setAttribute(
        'aria-label',
        `layer ${shortId(l.diffId || l.id)}: ${fmtBytes(l.wastedBytes)} wasted of ${fmtBytes(l.size)}`,
      );
      const whole = document.createElement('div');
      whole.className = 'bar-size';
      whole.style.width = `${(100 * Number(l.size)) / max}%`;
      const waste = document.createElement('div');
      waste.className = 'bar-waste';
      waste.style.width = `${(100 * Number(l.wastedBytes)) / max}%`;
      track.append(whole, waste);
      const value = document.createElement('div');
      value.className = 'bar-value num';
      value.textContent = `${fmtBytes(l.wastedBytes)} of ${fmtBytes(l.size)}`;
      row.append(label, track, value);
      return row;
    });
    const legend = document.createElement('p');
    legend.className = 'legend small muted';
    const a = document.createElement('span');
    a.className = 'swatch waste';
    a.setAttribute('aria-hidden', 'true');
    const b = document.createElement('span');
    b.className = 'swatch size';
    b.setAttribute('aria-hidden', 'true');
    legend.append(a, ' dropped by squashing   ', b, ' rest of the layer');
    chart.replaceChildren(...rows, legend);
  }
  const files = img.largestWasted || [];
  $('files').hidden = files.length === 0;
  $('files-title').hidden = files.length === 0;
  fileBody.replaceChildren(
    ...files.map((f) => {
      const tr = document.createElement('tr');
      const p = document.createElement('td');
      p.className = 'mono path';
      p.textContent = f.path;
      p.title = f.path;
      const s = document.createElement('td');
      s.className = 'num';
      s.textContent = fmtBytes(f.size);
      const l = document.createElement('td');
      l.className = 'mono';
      l.textContent = layerName(f.layerIndex);
      const h = document.createElement('td');
      h.textContent = `${f.how} by ${layerName(f.removedBy)}`;
      tr.append(p, s, l, h);
      return tr;
    }),
  );
}

/** A layer as the history table shows it: its short id. */
function layerName(index) {
  const l = layersOf(state.image).find((x) => x.index === Number(index));
  return l ? shortId(l.diffId || l.id) : `layer ${index}`;
}

async function copyCommand() {
  const text = $('load-cmd').value;
  try {
    await navigator.clipboard.writeText(text);
    $('copy-status').textContent = 'Copied.';
  } catch {
    $('load-cmd').select();
    const ok = document.execCommand && document.execCommand('copy');
    $('copy-status').textContent = ok ? 'Copied.' : 'Select the command and copy it.';
  }
}

// ---------------------------------------------------------------- wiring

function wire() {
  squasher = new Squasher();
  const input = $('file');
  input.addEventListener('change', () => {
    const f = input.files && input.files[0];
    if (f) openFile(f);
    input.value = ''; // choosing the same file again works
  });
  const drop = $('drop');
  let depth = 0;
  const isFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
  document.addEventListener('dragenter', (e) => {
    if (!isFiles(e)) return;
    e.preventDefault();
    depth++;
    drop.classList.add('over');
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) drop.classList.remove('over');
  });
  document.addEventListener('dragover', (e) => {
    if (!isFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  document.addEventListener('drop', (e) => {
    if (!isFiles(e)) return;
    e.preventDefault();
    depth = 0;
    drop.classList.remove('over');
    const f = e.dataTransfer.files && e.dataTransfer.files[0];
    if (f) openFile(f);
  });
  $('image-select').addEventListener('change', () => {
    chooseImage(Number($('image-select').value), { keepTag: false });
    analyse(state.generation);
  });
  $('root').addEventListener('click', () => choose('root'));
  $('squash').addEventListener('click', squash);
  $('tag').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') squash();
  });
  $('cancel').addEventListener('click', () => {
    if (!state.busy) return;
    squasher.cancel();
  });
  $('copy').addEventListener('click', copyCommand);
  $('error-close').addEventListener('click', hideError);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.busy) squasher.cancel();
  });
  document.body.dataset.state = 'empty';

  if ('serviceWorker' in navigator && location.protocol.startsWith('http')) {
    navigator.serviceWorker.register('sw.js').catch(() => {
      /* the page works without it, only not offline */
    });
  }
}

wire();
