// The page's worker: all heavy work happens here, never on the page's thread.
//
// The archive is read in slices from the dropped File (FileReaderSync), so it is never
// held in memory. The squashed archive is written as it is produced (4 MB chunks): into a
// file of the origin-private file system (File System Access API, synchronous handle)
// where the browser has one, otherwise into a Blob made of 8 MB parts.
// Either way nothing big is ever contiguous in memory, and the page gets back a File/Blob.
//
// Messages in:  { id, op: 'list' | 'inspect' | 'squash', file, options }
// Messages out: { id, type: 'progress', progress, memory }
//               { id, type: 'done', result, output?, memory }
//               { id, type: 'error', error: { code, message }, memory }

import init, * as squasher from './pkg/docker_squash_wasm.js';

const PROGRESS_EVERY_MS = 100;
const BLOB_PART = 8 << 20; // output is collected in parts of this size
const OUT_PREFIX = 'squashed-';

let wasmMemory = null;
let booting = null;
const memory = { now: 0, peak: 0 };

function sampleMemory() {
  if (!wasmMemory) return;
  const n = wasmMemory.buffer.byteLength;
  memory.now = n;
  if (n > memory.peak) memory.peak = n;
}

function boot() {
  booting ??= init().then(
    (exports) => {
      wasmMemory = exports.memory;
      sampleMemory();
    },
    (e) => {
      booting = null;
      const err = new Error(`The squasher could not be loaded (${e && e.message ? e.message : e}).`);
      err.code = 'LOAD';
      throw err;
    },
  );
  return booting;
}

/** The `source` the wasm reads: random access into the File, by slices (the bindings
 * keep their own read-ahead window for small reads). */
function fileSource(file) {
  const reader = new FileReaderSync();
  return {
    size: file.size,
    readAt(offset, length) {
      const start = Number(offset);
      const end = Math.min(file.size, start + Number(length));
      if (!(end > start)) return new Uint8Array(0);
      const bytes = new Uint8Array(reader.readAsArrayBuffer(file.slice(start, end)));
      sampleMemory();
      return bytes;
    },
  };
}

/** Output written straight to a file of the origin-private file system. */
class OpfsSink {
  constructor(handle, access) {
    this.handle = handle;
    this.access = access;
    this.pos = 0;
    this.kind = 'opfs';
  }
  write(chunk) {
    let done = 0;
    while (done < chunk.length) {
      const n = this.access.write(chunk.subarray(done), { at: this.pos });
      if (n <= 0) throw Object.assign(new Error('could not write the output: the disk may be full'), { code: 'IO' });
      done += n;
      this.pos += n;
    }
  }
  async finish() {
    this.access.flush();
    this.access.close();
    this.access = null;
    return this.handle.getFile();
  }
  abort() {
    try {
      this.access?.close();
    } catch {
      /* already closed */
    }
  }
}

/** Output collected into a Blob of fixed-size parts (the browser may keep them on disk). */
class BlobSink {
  constructor() {
    this.parts = [];
    this.buf = new Uint8Array(BLOB_PART);
    this.fill = 0;
    this.kind = 'blob';
  }
  write(chunk) {
    let done = 0;
    while (done < chunk.length) {
      const n = Math.min(chunk.length - done, this.buf.length - this.fill);
      this.buf.set(chunk.subarray(done, done + n), this.fill);
      this.fill += n;
      done += n;
      if (this.fill === this.buf.length) this.flushPart();
    }
  }
  flushPart() {
    if (this.fill === 0) return;
    this.parts.push(new Blob([this.buf.subarray(0, this.fill)])); // copies
    this.fill = 0;
  }
  async finish() {
    this.flushPart();
    this.buf = null;
    return new Blob(this.parts, { type: 'application/x-tar' });
  }
  abort() {
    this.parts = [];
    this.buf = null;
  }
}

const DAY_MS = 24 * 3600 * 1000;

/** Drops this page's earlier results (it shows one at a time) and other pages' old ones. */
async function dropOldOutputs(dir, session) {
  for await (const [name, handle] of dir.entries()) {
    if (!name.startsWith(OUT_PREFIX)) continue;
    try {
      const mine = name.startsWith(`${OUT_PREFIX}${session}-`);
      if (mine || (await handle.getFile()).lastModified < Date.now() - DAY_MS) await dir.removeEntry(name);
    } catch {
      // Still open in another page, or already gone.
    }
  }
}

async function openSink(session) {
  try {
    if (navigator.storage && navigator.storage.getDirectory) {
      const dir = await navigator.storage.getDirectory();
      await dropOldOutputs(dir, session);
      const name = `${OUT_PREFIX}${session}-${Date.now()}.tar`;
      const handle = await dir.getFileHandle(name, { create: true });
      if (handle.createSyncAccessHandle) {
        const access = await handle.createSyncAccessHandle();
        access.truncate(0);
        return new OpfsSink(handle, access);
      }
    }
  } catch {
    // No usable private file system (private browsing, old browser): use a Blob.
  }
  return new BlobSink();
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
    let code = e.code;
    if (!code) code = e instanceof WebAssembly.RuntimeError ? 'INTERNAL' : 'INTERNAL';
    return { code: String(code), message: String(e.message || e) };
  }
  return { code: 'INTERNAL', message: String(e) };
}

async function run(msg) {
  const { id, op, file, options = {} } = msg;
  await boot();
  const source = fileSource(file);
  const onProgress = progressPoster(id);
  if (op === 'list') {
    return { result: squasher.list(source) };
  }
  if (op === 'inspect') {
    return { result: squasher.inspect(source, { ...options, onProgress }) };
  }
  if (op === 'squash') {
    const sink = await openSink(String(msg.session || 'page').replace(/[^A-Za-z0-9]/g, ''));
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
    let result;
    try {
      result = squasher.squash(source, { ...options, onProgress, onChunk });
    } catch (e) {
      sink.abort();
      throw sinkError || e;
    }
    const output = await sink.finish();
    sampleMemory();
    return { result, output, stats: { ms: performance.now() - started, sink: sink.kind } };
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
