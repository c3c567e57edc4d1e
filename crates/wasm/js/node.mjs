// docker-squash-wasm for Node.js (>= 20): the engine in WebAssembly (wasm-pack's `nodejs`
// target), plus what only Node has: file paths, read by offset with fs.readSync (never the
// whole file), and writing the result to a file under a temporary name, renamed at the end.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { createApi, toSource, codedError } from './common.mjs';
import { registryRef, pullToTemp, pushArchive } from './registry.mjs';

const require = createRequire(import.meta.url);
let low = null;
/** The low-level bindings (wasm-bindgen's exports), loaded on first use. */
export function lowLevel() {
  low ??= require('./wasm/nodejs/@OUT_NAME@.js');
  return low;
}

const ioError = (message, cause) => codedError(message, 'IO', Error, cause);

/**
 * A random-access source over a file: a path, or a descriptor already open for reading.
 * Reads at most `length` bytes per call into one reused buffer. Call `close()` when done
 * (only descriptors it opened itself are closed).
 */
export function fileSource(file) {
  let fd;
  let owned = false;
  if (typeof file === 'number') {
    fd = file;
  } else {
    const p = file instanceof URL ? file : String(file);
    try {
      fd = fs.openSync(p, 'r');
    } catch (e) {
      throw ioError(`cannot open ${p}: ${e.message}`, e);
    }
    owned = true;
  }
  let st;
  try {
    st = fs.fstatSync(fd);
  } catch (e) {
    if (owned) fs.closeSync(fd);
    throw ioError(`cannot read ${file}: ${e.message}`, e);
  }
  if (!st.isFile()) {
    if (owned) fs.closeSync(fd);
    throw ioError(
      st.isDirectory()
        ? `${file} is a folder; give the .tar file \`docker save\` wrote`
        : `${file} is not a regular file (for a pipe or stdin, copy it to a file first)`,
    );
  }
  let buf = Buffer.alloc(0);
  return {
    size: st.size,
    fd,
    readAt(offset, length) {
      if (buf.length < length) buf = Buffer.allocUnsafe(Math.max(length, 64 << 10));
      let got = 0;
      while (got < length) {
        const n = fs.readSync(fd, buf, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return buf.subarray(0, got); // copied by the wasm before the next call
    },
    close() {
      if (owned && fd !== undefined) {
        const f = fd;
        fd = undefined;
        fs.closeSync(f);
      }
    },
  };
}

async function open(input) {
  if (typeof input === 'string' || input instanceof URL) {
    const source = fileSource(input);
    return { source, close: () => source.close() };
  }
  return { source: await toSource(input) };
}

// Node's SHA-256 (OpenSSL, with the CPU's SHA instructions) instead of sha2 compiled to
// wasm: hashing every layer is most of the work, and this makes it several times faster.
const nodeSha256 = () => crypto.createHash('sha256');

/**
 * Scratch space for the new layer (staged once when it must be measured before it is
 * written: a compressed layer, or any layer of the OCI layout): a file in the system's
 * temporary folder, unlinked as soon as it is open, so it vanishes however the process ends.
 */
export function tempFileScratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-squash-'));
  const file = path.join(dir, 'layer');
  const fd = fs.openSync(file, 'w+', 0o600);
  fs.rmSync(dir, { recursive: true, force: true });
  let pos = 0;
  let buf = Buffer.alloc(0);
  return {
    write(chunk) {
      writeAllSync(fd, chunk, pos);
      pos += chunk.length;
    },
    readAt(offset, length) {
      if (buf.length < length) buf = Buffer.allocUnsafe(length);
      const n = fs.readSync(fd, buf, 0, length, offset);
      return buf.subarray(0, n);
    },
    close() {
      fs.closeSync(fd);
    },
  };
}

const api = createApi({ load: lowLevel, open, sha256: nodeSha256, scratch: tempFileScratch });

const logOf = (o) => (o && typeof o.onLog === 'function' ? o.onLog : () => {});

/**
 * `fn(input)`, a `docker://REF` input pulled first into an unlinked temporary file (an OCI
 * layout, as the native CLI does): `{ value, pulled }`, pulled null for any other input.
 */
async function withInput(input, opts, fn) {
  const ref = registryRef(input);
  if (ref === null) return { value: await fn(input), pulled: null };
  const { fd, pulled } = await pullToTemp(lowLevel(), ref, opts, logOf(opts));
  try {
    return { value: await fn(fileSource(fd)), pulled };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Images, tags and history of an archive, without reading the layers.
 * @param input a file path, `docker://REF`, Uint8Array, ArrayBuffer, Blob or `{ size, readAt }` source
 */
export const list = async (input, opts) => (await withInput(input, opts, (i) => api.list(i))).value;
/** Everything `docker-squash inspect` shows: reads and verifies every layer. */
export const inspect = async (input, opts) => (await withInput(input, opts, (i) => api.inspect(i, opts))).value;
/** Squashes: `{ chunks, report, pulled }` (chunks empty when `onChunk` is given). */
export async function squash(input, opts) {
  const { value, pulled } = await withInput(input, opts, (i) => api.squash(i, opts));
  return { ...value, pulled };
}
export const checkTag = api.checkTag;
export const checkOptions = api.checkOptions;
export const verifyLayers = async (input, opts) =>
  (await withInput(input, opts, (i) => api.verifyLayers(i, opts))).value;
export const version = api.version;

/**
 * Writes all of `chunk` to `fd` (at `position` when given), waiting out EAGAIN on
 * non-blocking pipes.
 */
export function writeAllSync(fd, chunk, position) {
  let done = 0;
  while (done < chunk.length) {
    try {
      const at = position === undefined ? null : position + done;
      done += fs.writeSync(fd, chunk, done, chunk.length - done, at);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

/**
 * A file written under a temporary name beside `outPath`, flushed to disk and renamed into
 * place by `commit()` only when complete, so a failure never leaves a partial file behind;
 * `abandon()` removes what was written. Failures are IO errors, their OS part worded by
 * `describe(error)`. A path that names a device or a pipe (`/dev/null`, a FIFO) is written
 * to as it is: renaming a file over it would replace the device itself.
 */
export function fileOutput(outPath, { describe = (e) => e.message } = {}) {
  const st = checkOutputPath(outPath, describe);
  if (st && !st.isFile()) return deviceOutput(outPath, describe);
  let fd, tmp;
  try {
    ({ fd, path: tmp } = exclusiveFile(path.dirname(outPath), `.${path.basename(outPath)}.`, '.tmp'));
  } catch (e) {
    throw ioError(`cannot write ${outPath}: ${describe(e)}`, e);
  }
  const abandon = () => {
    closeQuietly(fd); // closed or not, the file goes
    fd = undefined;
    fs.rmSync(tmp, { force: true });
  };
  return {
    /** The temporary file's descriptor (another thread may write to it), and its path. */
    get fd() {
      return fd;
    },
    tmp,
    write(chunk) {
      try {
        writeAllSync(fd, chunk);
      } catch (e) {
        throw ioError(`writing ${outPath}: ${describe(e)}`, e);
      }
    },
    commit() {
      try {
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        fd = undefined;
      } catch (e) {
        abandon();
        throw ioError(`writing ${outPath}: ${describe(e)}`, e);
      }
      try {
        fs.renameSync(tmp, outPath);
      } catch (e) {
        abandon();
        throw ioError(`cannot move the result to ${outPath}: ${describe(e)}`, e);
      }
    },
    abandon,
  };
}

/**
 * What can be known of an output path before anything is read: a folder, or a file in a
 * folder that is not there, is refused (IO errors, worded as the native CLI's). Returns the
 * path's stat, or null when there is no file yet.
 */
export function checkOutputPath(outPath, describe = (e) => e.message) {
  let st = null;
  try {
    st = fs.statSync(outPath);
  } catch {
    /* not there yet: made under a temporary name */
  }
  if (st && st.isDirectory()) {
    throw ioError(`${outPath} is a folder; give the file to write, e.g. ${path.join(outPath, 'squashed.tar')}`);
  }
  if (st) return st;
  const dir = path.dirname(outPath);
  let d;
  try {
    d = fs.statSync(dir);
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') {
      // ENOTDIR: a part of the path above is a file, which the native CLI words alike.
      if (e.code === 'ENOTDIR') throw ioError(`cannot write ${outPath}: ${notFolderOf(dir)} is not a folder`);
      throw ioError(`cannot write ${outPath}: there is no folder ${dir}; create it first`, e);
    }
    throw ioError(`cannot write ${outPath}: ${dir}: ${describe(e)}`, e);
  }
  if (!d.isDirectory()) throw ioError(`cannot write ${outPath}: ${dir} is not a folder`);
  return null;
}

/** The first part of `dir` that is a file (what ENOTDIR is about). */
function notFolderOf(dir) {
  let at = dir;
  while (path.dirname(at) !== at) {
    try {
      if (!fs.statSync(at).isDirectory()) return at;
    } catch {
      /* above it, then */
    }
    at = path.dirname(at);
  }
  return dir;
}

/**
 * A new file `dir/PREFIX<random>SUFFIX`, created exclusively ('wx': O_CREAT|O_EXCL, which
 * never follows a link planted at that name) under a name no one can predict; a name taken
 * already is tried again with another. `{ fd, path }`; throws the OS error otherwise.
 */
export function exclusiveFile(dir, prefix, suffix, mode = 0o666) {
  for (let tries = 1; ; tries++) {
    const p = path.join(dir, `${prefix}${crypto.randomBytes(9).toString('base64url')}${suffix}`);
    try {
      return { fd: fs.openSync(p, 'wx', mode), path: p };
    } catch (e) {
      if (e.code !== 'EEXIST' || tries >= 16) throw e;
    }
  }
}

/** Closes `fd` (if any) when it can: a descriptor closed already is no error here. */
export function closeQuietly(fd) {
  if (fd === undefined) return;
  try {
    fs.closeSync(fd);
  } catch {
    /* closed already */
  }
}

/** `fileOutput` for a device or pipe: written directly; nothing to rename or remove. */
function deviceOutput(outPath, describe) {
  let fd;
  try {
    fd = fs.openSync(outPath, 'w');
  } catch (e) {
    throw ioError(`cannot write ${outPath}: ${describe(e)}`, e);
  }
  const close = () => {
    closeQuietly(fd);
    fd = undefined;
  };
  return {
    get fd() {
      return fd;
    },
    tmp: null,
    write(chunk) {
      try {
        writeAllSync(fd, chunk);
      } catch (e) {
        throw ioError(`writing ${outPath}: ${describe(e)}`, e);
      }
    },
    commit: close,
    abandon: close,
  };
}

/**
 * Squashes into the file `outPath` (see `fileOutput`): a failure never leaves a partial
 * archive. Resolves to the report. `docker://REF` pushes instead (see `squashToRegistry`).
 */
export async function squashToFile(input, outPath, opts = {}) {
  if (typeof outPath !== 'string' || outPath === '')
    throw codedError('outPath must be a file path', 'BAD_ARGUMENT', TypeError);
  const ref = registryRef(outPath);
  if (ref !== null) return squashToRegistry(input, ref, opts);
  const out = fileOutput(outPath);
  try {
    const { report } = await squash(input, { ...opts, onChunk: (chunk) => out.write(chunk), transientChunks: true });
    out.commit();
    return report;
  } catch (e) {
    out.abandon();
    throw e;
  }
}

/**
 * Squashes into an OCI layout in a temporary file, then pushes it to `ref` as the native
 * CLI's `-o docker://REF` does: only the blobs the registry lacks are sent, the layers of a
 * `docker://` input on the same registry are mounted, the manifest keeps the input's media
 * types, and `auto` gzips a plain new layer (`pushed`). Resolves to the report with
 * `pushed` (what the push did) and `pulled` (the input pulled, or null).
 */
async function squashToRegistry(input, ref, opts) {
  if (opts.format === 'docker' || opts.tag !== undefined) {
    const what = opts.tag !== undefined ? 'tag names the image in an archive' : 'format is an archive layout';
    throw codedError(`options.${what}; a push is named by docker://…: drop it`, 'BAD_OPTION', TypeError);
  }
  const low = lowLevel();
  low.registryReference(ref); // a bad reference is refused before anything is read
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-squash-push-'));
  const archive = path.join(dir, 'image.tar');
  try {
    const out = fileOutput(archive);
    let squashed;
    try {
      squashed = await squash(input, {
        ...opts,
        format: 'oci',
        pushed: true,
        onChunk: (chunk) => out.write(chunk),
        transientChunks: true,
      });
      out.commit();
    } catch (e) {
      out.abandon();
      throw e;
    }
    const { report, pulled } = squashed;
    const pushed = await pushArchive(low, archive, ref, opts, logOf(opts), pulled);
    return { ...report, pushed, pulled };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
