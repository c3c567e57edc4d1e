// The app controller: the page's state and its flows. A file is listed (fast: images and
// history), then analysed (what each squash point saves), then squashed on request; each
// step runs in the worker, and the views are redrawn from the state after each change.
// document.body.dataset.state says where the page is (the tests wait on it):
// empty → opening → analysing → ready → squashing → done, or error.

import { fmtBytes } from './format/bytes.mjs';
import { carryChoice, defaultTag, imageLabel, imageOptions, layersOf } from './image.mjs';
import { $ } from './view/dom.mjs';
import { hideError, showError } from './view/error.mjs';
import { lockHistory, showHistory } from './view/history-table.mjs';
import { showImageFacts } from './view/image-facts.mjs';
import { showPlan } from './view/plan.mjs';
import { hideProgress, startProgress } from './view/progress.mjs';
import { clearResult, showResult } from './view/result.mjs';
import { cancelVerifiers, forgetVerification, squashVerified, verifyInBackground } from './verifiers.mjs';
import { WorkerBridge } from './worker-bridge.mjs';

const ACCEPTED = /\.(tar|tar\.gz|tgz|tar\.zst|tzst|gz|zst)$/i;

const state = {
  file: null,
  listing: null, // list() result
  inspection: null, // inspect() result, for the chosen image
  image: null, // the chosen ImageInfo (from inspection when there, else listing)
  from: null, // "root" or a layer id
  busy: null, // 'list' | 'inspect' | 'squash'
  generation: 0, // bumped on every new file, so late answers for an old file are dropped
};

let worker = null;

const setPageState = (name) => {
  document.body.dataset.state = name;
};

/** Starts the worker; the page is empty until a file is chosen. */
export function start() {
  worker = new WorkerBridge();
  setPageState('empty');
}

/** Whatever runs (list, analysis, squash) stops at once. */
export function cancel() {
  if (!state.busy) return;
  worker.cancel();
  cancelVerifiers();
}

export async function openFile(file) {
  if (!file) return;
  cancel();
  forgetVerification(); // the last file's, even when nothing else runs
  state.generation++;
  const gen = state.generation;
  hideError();
  clearResult();
  Object.assign(state, { file, listing: null, inspection: null, image: null, from: null, busy: 'list' });
  $('image').hidden = true;
  $('plan').hidden = true;
  hideProgress();
  $('file-info').hidden = false;
  $('file-info').textContent =
    `${file.name} · ${fmtBytes(file.size)}${ACCEPTED.test(file.name) ? '' : ' · not a usual archive name, trying anyway'}`;
  setPageState('opening');
  try {
    const { result } = await worker.call('list', file);
    if (gen !== state.generation) return;
    state.listing = result;
    if (!result.images || result.images.length === 0) {
      throw Object.assign(new Error('the archive holds no image'), { code: 'NOT_AN_IMAGE' });
    }
    state.busy = null;
    showImages();
    verifyNow(gen);
    await analyse(gen);
  } catch (e) {
    if (gen !== state.generation) return;
    state.busy = null;
    setPageState('error');
    showError(e, 'read this file');
  }
}

function showImages() {
  const images = state.listing.images;
  const sel = $('image-select');
  sel.replaceChildren(...images.map((img, i) => new Option(imageLabel(img), String(i))));
  $('image-choice').hidden = images.length < 2;
  sel.value = '0';
  chooseImage(0);
}

function chooseImage(i) {
  const img = state.listing.images[i];
  state.image = img;
  state.inspection = null;
  state.from = img.defaultFrom ? img.defaultFrom.from : 'root';
  $('tag').value = defaultTag(img);
  $('image').hidden = false;
  $('plan').hidden = false;
  render();
}

/** Another image of a multi-image archive: shown at once, then analysed. */
export function selectImage(i) {
  chooseImage(i);
  verifyNow(state.generation);
  analyse(state.generation);
}

/**
 * The helpers start verifying the chosen image's layers at once; a damaged layer is shown
 * as soon as it is found (the squash, if asked for, fails with the same words).
 */
function verifyNow(gen) {
  const v = verifyInBackground(state.file, imageOptions(state.listing.images, state.image), layersOf(state.image));
  v?.promise.catch((e) => {
    if (gen === state.generation && e.code !== 'CANCELLED' && state.busy !== 'squash')
      showError(e, 'verify the layers');
  });
}

async function analyse(gen) {
  state.busy = 'inspect';
  setPageState('analysing');
  render();
  const progress = startProgress('Analysing layers', { analysing: true });
  try {
    // The estimates need the layers' headers only; the squash verifies every layer (and
    // hashing is the slowest part of reading in wasm), so the analysis trusts the diff_ids.
    const options = { ...imageOptions(state.listing.images, state.image), verify: false };
    const { result } = await worker.call('inspect', state.file, options, progress.update);
    if (gen !== state.generation) return;
    const img = (result.images || []).find((x) => x.id === state.image.id) || result.images[0];
    state.inspection = result;
    state.from = carryChoice(state.image, img, state.from);
    state.image = img;
    setPageState('ready');
  } catch (e) {
    if (gen !== state.generation) return;
    setPageState('ready');
    showError(e, 'analyse the layers'); // says nothing for CANCELLED: "Skip analysis"
  } finally {
    if (gen === state.generation) {
      state.busy = null;
      hideProgress();
      render();
    }
  }
}

/** Makes `from` the squash point; refused (false) while a squash runs. */
export function choose(from) {
  if (state.busy === 'squash') return false;
  state.from = from;
  render();
  return true;
}

/** "Squash everything (root)": chooses root and squashes, as its label says. */
export function squashFromRoot() {
  if (state.busy || !choose('root')) return undefined;
  return squash();
}

export async function squash() {
  if (!state.image || state.busy) return;
  hideError();
  clearResult();
  const gen = state.generation;
  const tag = $('tag').value.trim();
  const options = {
    ...imageOptions(state.listing.images, state.image),
    from: state.from,
    compress: $('compress').value,
    format: $('format').value,
  };
  if (tag) options.tag = tag;
  state.busy = 'squash';
  setPageState('squashing');
  render();
  const progress = startProgress('Starting');
  const t0 = performance.now();
  try {
    const done = await squashVerified(worker, state.file, options, layersOf(state.image), progress.update);
    if (gen !== state.generation) return;
    const seconds = (performance.now() - t0) / 1000;
    const analysed = state.inspection ? state.image : null;
    showResult({ done, file: state.file, tag, seconds, phases: progress.phases, analysed });
    setPageState('done');
  } catch (e) {
    if (gen !== state.generation) return;
    setPageState(e.code === 'CANCELLED' ? 'ready' : 'error');
    showError(e, 'squash the image');
  } finally {
    if (gen === state.generation) {
      state.busy = null;
      hideProgress();
      render();
    }
  }
}

/** Redraws the image, its history and the plan from the state, and what can be used now. */
function render() {
  const img = state.image;
  if (!img) return;
  const view = {
    img,
    from: state.from,
    analysed: Boolean(state.inspection),
    analysing: state.busy === 'inspect',
    choose,
  };
  showImageFacts(img, state.listing, view.analysed);
  showHistory(view);
  showPlan(view);
  const squashing = state.busy === 'squash';
  $('root').disabled = Boolean(state.busy);
  $('squash').disabled = Boolean(state.busy);
  $('squash').textContent = view.analysing ? 'Squash (after the analysis)' : 'Squash';
  $('tag').disabled = squashing;
  $('compress').disabled = squashing;
  $('format').disabled = squashing;
  $('image-select').disabled = Boolean(state.busy);
  lockHistory(squashing);
}
