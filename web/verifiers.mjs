// The layers verified in parallel: helper workers (one per spare core, at most three) each
// hash their share of the layers against the config's diff_ids (the engine's verifyLayers:
// the same reading, checks and messages as a verifying squash), from the moment an image
// is opened (the result does not depend on the squash point, and the user reads the
// analysis meanwhile) while the page's worker analyses, then squashes trusting the
// diff_ids. The download is offered only once every share passed; the first failure stops
// every worker and is shown as the single-worker squash shows it. With one core the squash
// verifies by itself as before.
// A helper hashes a plain layer with the browser's native SHA-256 (the package's
// `wholeLayerMax`), which needs the layer whole in memory (twice, while it is hashed): the
// helpers' limits are set so that the layers they hold at once stay within the package's
// default for one (an eighth of the device's memory, at most 1 GiB), so at most a quarter
// of it is held in all; a larger layer is hashed in wasm as it is read.

import { subtleWhole } from './pkg/common.mjs';
import { WorkerBridge } from './worker-bridge.mjs';

const MAX_HELPERS = 3;
const helpers = []; // kept between squashes: each has its wasm compiled already
let running = null; // the verification under way or done (verifyInBackground)

/** How many helpers this machine gets: one per core beyond the page's own worker. */
function helperCount(layers) {
  const cores = navigator.hardwareConcurrency || 1;
  const sizable = layers.filter((l) => Number(l.storedSize) > 0).length;
  return Math.min(MAX_HELPERS, Math.max(0, cores - 1), sizable);
}

/** The layers in `n` shares of about equal bytes (largest first, each to the lightest share). */
export function shares(layers, n) {
  const bins = Array.from({ length: n }, () => ({ bytes: 0, layers: [] }));
  for (const l of [...layers].sort((a, b) => Number(b.storedSize) - Number(a.storedSize))) {
    const bin = bins.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    bin.layers.push(l.index);
    bin.bytes += Number(l.storedSize);
  }
  return bins.filter((b) => b.layers.length > 0);
}

/**
 * Per share, the largest layer its helper may hold whole: the largest layer of each share,
 * the largest of these lowered first until their sum fits in `budget`.
 */
export function wholeLimits(parts, layers, budget) {
  const size = new Map(layers.map((l) => [l.index, Number(l.storedSize)]));
  const sizes = parts.map((p) => p.layers.map((i) => size.get(i) || 0).sort((a, b) => b - a));
  const at = parts.map(() => 0);
  const limit = (k) => sizes[k][at[k]] || 0;
  for (;;) {
    const held = parts.reduce((s, _, k) => s + limit(k), 0);
    if (held <= budget) return parts.map((_, k) => limit(k));
    const k = parts.map((_, j) => j).reduce((a, b) => (limit(b) > limit(a) ? b : a));
    at[k] += 1;
  }
}

/** Stops every helper's work at once (their workers are ended and made again). */
export function cancelVerifiers() {
  running = null;
  for (const h of helpers) h.cancel();
}

/** Forgets the last image's verification; its helpers are stopped only if still at work. */
export function forgetVerification() {
  if (running && !running.settled) cancelVerifiers();
  running = null;
}

/**
 * The verification of `layers` (LayerInfo) of `file`'s image picked by `imageOpts` in the
 * helpers: started now unless it is under way or done for the same file and image, or null
 * with one core. `{ promise, parts, done, total, onProgress, settled }`: set `onProgress` to
 * hear the helpers' summed progress; `settled` once every helper has finished.
 */
export function verifyInBackground(file, imageOpts, layers) {
  const n = helperCount(layers);
  if (n === 0) return null;
  const key = JSON.stringify([imageOpts.image, imageOpts.platform, layers.map((l) => l.diffId)]);
  if (running && running.file === file && running.key === key) return running;
  const parts = shares(layers, n);
  const limits = wholeLimits(parts, layers, subtleWhole.max());
  while (helpers.length < parts.length) helpers.push(new WorkerBridge({ helper: true }));
  const v = {
    file,
    key,
    parts,
    done: parts.map(() => 0),
    total: parts.reduce((s, p) => s + p.bytes, 0),
    onProgress: null,
    settled: false,
  };
  const progressOf = (i) => (p) => {
    v.done[i] = Number(p.bytesDone);
    if (v.onProgress)
      v.onProgress({ phase: 'verify', bytesDone: v.done.reduce((a, b) => a + b, 0), bytesTotal: v.total });
  };
  const verifying = parts.map((p, i) =>
    helpers[i].call(
      'verify',
      file,
      { image: imageOpts.image, platform: imageOpts.platform, layers: p.layers, wholeLayerMax: limits[i] },
      progressOf(i),
    ),
  );
  v.promise = Promise.all(verifying).then((verified) => ({
    hashedWhole: verified.reduce((n, r) => n + ((r.result && r.result.hashedWhole) || []).length, 0),
    sizable: parts.reduce((n, p) => n + p.layers.length, 0),
  }));
  v.promise.catch(() => {}); // seen by whoever awaits it; a cancelled one by no one
  Promise.allSettled(verifying).then(() => {
    v.settled = true;
  });
  running = v;
  return v;
}

/**
 * Squashes `file` with `options` in `worker`, the layers of `layers` (LayerInfo) verified
 * by the helpers (`verifyInBackground`, started now if it was not). `onProgress` gets the
 * squash's progress, then, if the helpers are still at it, their summed progress as phase
 * 'verify'. Resolves with the squash's answer plus `verifiers` (how many helpers verified;
 * 0: the squash verified by itself), and `hashedWhole` of the `sizable` layers they
 * verified: those hashed by the browser's SHA-256.
 */
export async function squashVerified(worker, file, options, layers, onProgress) {
  const v = options.verify === false ? null : verifyInBackground(file, options, layers);
  if (!v) return { ...(await worker.call('squash', file, options, onProgress)), verifiers: 0 };
  const squashing = worker.call('squash', file, { ...options, verify: false }, onProgress).then((answer) => {
    v.onProgress = onProgress; // from now on the progress shown is the helpers'
    const sum = v.done.reduce((x, y) => x + y, 0);
    if (sum < v.total) onProgress({ phase: 'verify', bytesDone: sum, bytesTotal: v.total });
    return answer;
  });
  try {
    const [answer, verified] = await Promise.all([squashing, v.promise]);
    return { ...answer, verifiers: v.parts.length, ...verified };
  } catch (e) {
    // The first failure is the one to show; the rest of the work stops now.
    worker.cancel();
    cancelVerifiers();
    throw e;
  }
}
