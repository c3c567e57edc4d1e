// The layers verified in parallel: while the page's worker squashes trusting the diff_ids,
// helper workers (one per spare core, at most three) each hash their share of the layers
// against the config's diff_ids (the engine's verifyLayers: the same reading, checks and
// messages as a verifying squash). The download is offered only once every share passed;
// the first failure stops every worker and is shown as the single-worker squash shows it.
// With one core, or one layer, the squash verifies by itself as before.
// A helper hashes a plain layer with the browser's native SHA-256 (the package's
// `wholeLayerMax`), which needs the layer whole in memory: the helpers' limits are set so
// that what they hold at once stays within the package's budget (a quarter of the
// device's memory, at most 2 GiB); a larger layer is hashed in wasm as it is read.

import { subtleWhole } from './pkg/common.mjs';
import { WorkerBridge } from './worker-bridge.mjs';

const MAX_HELPERS = 3;
const helpers = []; // kept between squashes: each has its wasm compiled already

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
  for (const h of helpers) h.cancel();
}

/**
 * Squashes `file` with `options` in `worker`, the layers of `layers` (LayerInfo) verified
 * alongside by helpers. `onProgress` gets the squash's progress, then, if the helpers are
 * still at it, their summed progress as phase 'verify'. Resolves with the squash's answer
 * plus `verifiers` (how many helpers verified; 0: the squash verified by itself), and
 * `hashedWhole` of the `sizable` layers they verified: those hashed by the browser's SHA-256.
 */
export async function squashVerified(worker, file, options, layers, onProgress) {
  const n = options.verify === false ? 0 : helperCount(layers);
  if (n === 0) return { ...(await worker.call('squash', file, options, onProgress)), verifiers: 0 };
  const parts = shares(layers, n);
  const limits = wholeLimits(parts, layers, subtleWhole.max());
  while (helpers.length < parts.length) helpers.push(new WorkerBridge({ helper: true }));
  const total = parts.reduce((s, p) => s + p.bytes, 0);
  const done = parts.map(() => 0);
  let squashed = false;
  const verifyProgress = (i) => (p) => {
    done[i] = Number(p.bytesDone);
    if (squashed) onProgress({ phase: 'verify', bytesDone: done.reduce((a, b) => a + b, 0), bytesTotal: total });
  };
  const verifying = parts.map((p, i) =>
    helpers[i].call(
      'verify',
      file,
      { image: options.image, platform: options.platform, layers: p.layers, wholeLayerMax: limits[i] },
      verifyProgress(i),
    ),
  );
  const squashing = worker.call('squash', file, { ...options, verify: false }, onProgress).then((answer) => {
    squashed = true;
    return answer;
  });
  try {
    const [answer, ...verified] = await Promise.all([squashing, ...verifying]);
    const hashedWhole = verified.reduce((n, v) => n + ((v.result && v.result.hashedWhole) || []).length, 0);
    return { ...answer, verifiers: parts.length, hashedWhole, sizable: parts.reduce((n, p) => n + p.layers.length, 0) };
  } catch (e) {
    // The first failure is the one to show; the rest of the work stops now.
    worker.cancel();
    cancelVerifiers();
    throw e;
  }
}
