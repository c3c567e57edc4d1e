// The page bench's worker: times, on the dropped File, what the page's squash is made of,
// one step at a time (each its own pass over the file):
//   read     FileReaderSync over the whole file in 4 MB slices, nothing else (the floor)
//   list     the archive's images and history (tar headers of the archive only)
//   inspect  the analysis (with the options given: the page's trusts the diff_ids)
//   squash   the squash from root as the page runs it, output discarded
//   squash-noverify  the same trusting the diff_ids (no layer hashing)
//   read-whole   each plain layer read whole from the File in one slice (arrayBuffer())
//   digest-whole the same, each then hashed with crypto.subtle (what a helper does)
//   verify   verifyLayers over every layer, as one helper does it (the two above + the engine)
// Posts { steps: [{ step, ms, bytes }], memoryPeak } or { error }.

import * as squasher from './pkg/browser.mjs';
import { blobSyncSource } from './pkg/common.mjs';

const SLICE = 4 << 20;

function readAll(file, slice = SLICE) {
  const r = new FileReaderSync();
  let n = 0;
  for (let o = 0; o < file.size; o += slice)
    n += r.readAsArrayBuffer(file.slice(o, Math.min(file.size, o + slice))).byteLength;
  return n;
}

async function streamAll(file) {
  let n = 0;
  for await (const c of file.stream()) n += c.length;
  return n;
}

async function wholeLayers(file, digest) {
  const low = await squasher.lowLevel();
  let n = 0;
  for (const r of low.layerRanges(blobSyncSource(file)).filter((r) => r.plain)) {
    const buf = await file.slice(r.offset, r.offset + r.size).arrayBuffer();
    if (digest) await crypto.subtle.digest('SHA-256', buf);
    n += buf.byteLength;
  }
  return n;
}

async function step(name, file, options) {
  const t0 = performance.now();
  let bytes = 0;
  if (name === 'read') bytes = readAll(file, options.slice);
  else if (name === 'read-whole' || name === 'digest-whole') bytes = await wholeLayers(file, name === 'digest-whole');
  else if (name === 'verify') {
    const facts = await squasher.list(file);
    const layers = facts.images[0].history.flatMap((h) => (h.layer ? [h.layer.index] : []));
    await squasher.verifyLayers(file, { layers });
  } else if (name === 'stream') bytes = await streamAll(file);
  else if (name === 'list') await squasher.list(file);
  else if (name === 'inspect') await squasher.inspect(file, options);
  else {
    const { report } = await squasher.squash(file, {
      from: 'root',
      verify: name !== 'squash-noverify',
      compress: options.compress,
      onChunk: (c) => {
        bytes += c.length;
      },
    });
    bytes = report.outputBytes;
  }
  return { step: name, ms: performance.now() - t0, bytes };
}

self.onmessage = async (e) => {
  const { file, steps } = e.data;
  try {
    await squasher.init();
    const out = [];
    for (const s of steps) out.push(await step(s.step, file, s.options || {}));
    postMessage({ steps: out, memoryPeak: squasher.wasmMemory()?.buffer.byteLength ?? 0 });
  } catch (err) {
    postMessage({ error: String(err && err.message ? err.message : err) });
  }
};
