// Where the worker writes the squashed archive as it is produced (4 MB chunks): a file of
// the origin-private file system (File System Access API, synchronous handle) where the
// browser has one, otherwise a Blob made of 8 MB parts. Either way nothing big is ever
// contiguous in memory, and the page gets back a File/Blob. Worker side only.

const BLOB_PART = 8 << 20; // output is collected in parts of this size
const OUT_PREFIX = 'squashed-';
const SCRATCH_PREFIX = 'scratch-'; // worker.mjs names the new layer's scratch files so
const DAY_MS = 24 * 3600 * 1000;

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

/** The Web Lock a page holds while it is open (worker-bridge.mjs): its files are in use. */
export const PAGE_LOCK_PREFIX = 'docker-squash-page-';

/** The sessions of the pages open now, by their locks; null where there are no Web Locks. */
async function openSessions() {
  if (!(navigator.locks && navigator.locks.query)) return null;
  const { held = [] } = await navigator.locks.query();
  return new Set(
    held
      .map((l) => l.name)
      .filter((n) => n.startsWith(PAGE_LOCK_PREFIX))
      .map((n) => n.slice(PAGE_LOCK_PREFIX.length)),
  );
}

/**
 * Drops this page's earlier results (it shows one at a time) and scratch files, and what
 * pages no longer open left (a tab closed or reloaded mid-squash): by their Web Locks, or
 * a day after they were written where there are none. A file still open (a worker just
 * ended lets go of it a moment later) is tried again for a few seconds: only the files
 * there at the start, so that a squash begun meanwhile keeps its own.
 */
async function dropOldOutputs(dir, session, { retries = 0 } = {}) {
  const open = await openSessions();
  let doomed = [];
  for await (const [name, handle] of dir.entries()) {
    const prefix = [OUT_PREFIX, SCRATCH_PREFIX].find((p) => name.startsWith(p));
    if (!prefix) continue;
    const owner = name.slice(prefix.length).split('-')[0];
    try {
      const gone = open ? !open.has(owner) : (await handle.getFile()).lastModified < Date.now() - DAY_MS;
      if (owner === session || gone) doomed.push(name);
    } catch {
      // Already gone.
    }
  }
  for (let attempt = 0; doomed.length && attempt <= retries; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, 500));
    const left = [];
    for (const name of doomed) {
      try {
        await dir.removeEntry(name);
      } catch (e) {
        if (e && e.name !== 'NotFoundError') left.push(name); // still open: later
      }
    }
    doomed = left;
  }
}

/** Drops what `dropOldOutputs` drops, trying for a while: at each visit, and after a cancelled squash. */
export async function dropLeftovers(session) {
  try {
    if (navigator.storage && navigator.storage.getDirectory) {
      await dropOldOutputs(await navigator.storage.getDirectory(), session, { retries: 20 });
    }
  } catch {
    // No private file system: nothing was left there.
  }
}

/** A sink for this page (`session`): `{ kind, write(chunk), finish() -> File|Blob, abort() }`. */
export async function openSink(session) {
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
