// The page's worker: all heavy work happens here, never on the page's thread. It runs the
// npm package's browser entry (pkg/browser.mjs, placed there by `make wasm`), which reads
// the dropped File in slices with FileReaderSync, so the archive is never held in memory.
// The squashed archive goes to an output sink (output-sink.mjs) as it is produced.
//
// Messages in:  { id, op: 'list' | 'inspect' | 'squash' | 'verify' | 'cleanup', file, options, session }
// Messages out: { id, type: 'progress', progress, memory }
//               { id, type: 'done', result, output?, stats?, memory }
//               { id, type: 'error', error: { code, message }, memory }
// `memory` is the wasm memory's size, `{ now, peak }` in bytes.

import * as squasher from './pkg/browser.mjs';
import { dropLeftovers, openSink } from './output-sink.mjs';

const PROGRESS_EVERY_MS = 100;

const memory = { now: 0, peak: 0 };

function sampleMemory() {
  const m = squasher.wasmMemory();
  if (!m) return;
  const n = m.buffer.byteLength;
  memory.now = n;
  if (n > memory.peak) memory.peak = n;
}

function progressPoster(id) {
  let last = 0;
  return (p) => {
    sampleMemory();
    const now = performance.now();
    const bytesDone = Number(p.bytesDone);
    const bytesTotal = Number(p.bytesTotal);
    if (now - last >= PROGRESS_EVERY_MS || bytesDone >= bytesTotal) {
      last = now;
      postMessage({ id, type: 'progress', progress: { phase: p.phase, bytesDone, bytesTotal }, memory: { ...memory } });
    }
  };
}

function errorOf(e) {
  if (e && typeof e === 'object') {
    return { code: String(e.code || 'INTERNAL'), message: String(e.message || e) };
  }
  return { code: 'INTERNAL', message: String(e) };
}

async function squashToSink(file, options, onProgress, session) {
  const sink = await openSink(session);
  // Where the new layer waits while it is measured (its size and digest come first in the
  // archive); without one it is made twice.
  const scratch = await squasher.opfsScratch(`scratch-${session}-`);
  let sinkError = null;
  const onChunk = (chunk) => {
    try {
      sink.write(chunk);
    } catch (e) {
      sinkError ??= e;
      throw e;
    }
    sampleMemory();
  };
  const started = performance.now();
  let report;
  try {
    ({ report } = await squasher.squash(file, { ...options, onProgress, onChunk, scratch }));
  } catch (e) {
    sink.abort();
    throw sinkError || e; // the sink's own error (say, a full disk) says more
  } finally {
    scratch?.().close();
  }
  const output = await sink.finish();
  sampleMemory();
  return { result: report, output, stats: { ms: performance.now() - started, sink: sink.kind } };
}

const sessionOf = (msg) => String(msg.session || 'page').replace(/[^A-Za-z0-9]/g, '');

async function run(msg) {
  const { id, op, file, options = {} } = msg;
  if (op === 'cleanup') {
    // In the background: files a worker just ended still holds go once it lets go of them.
    dropLeftovers(sessionOf(msg));
    return { result: null };
  }
  await squasher.init();
  sampleMemory();
  const onProgress = progressPoster(id);
  if (op === 'list') {
    return { result: await squasher.list(file) };
  }
  if (op === 'inspect') {
    return { result: await squasher.inspect(file, { ...options, onProgress }) };
  }
  if (op === 'verify') {
    return { result: await squasher.verifyLayers(file, { ...options, onProgress }) };
  }
  if (op === 'squash') {
    return squashToSink(file, options, onProgress, sessionOf(msg));
  }
  throw Object.assign(new Error(`unknown operation ${op}`), { code: 'INTERNAL' });
}

// Requests run one at a time, in order: the wasm calls are synchronous anyway.
let queue = Promise.resolve();
self.onmessage = (event) => {
  const msg = event.data;
  queue = queue.then(async () => {
    try {
      const out = await run(msg);
      sampleMemory();
      postMessage({ id: msg.id, type: 'done', ...out, memory: { ...memory } });
    } catch (e) {
      sampleMemory();
      postMessage({ id: msg.id, type: 'error', error: errorOf(e), memory: { ...memory } });
    }
  });
};
