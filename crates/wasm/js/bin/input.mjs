// The bin's input, for reading by offset: a regular uncompressed file in place (watched
// for changes while it is read); stdin, a pipe or a compressed file spooled to an unlinked
// temporary file first, decompressed on the way, with the native CLI's messages.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { lowLevel, fileSource, writeAllSync } from '../node.mjs';
import { PROG, Fail, osMessage } from './fail.mjs';
import { engineSave } from './engine.mjs';
import { registrySource } from './registry.mjs';

/** The wasm module: the engine, and the command line shared with the native CLI. */
const cli = lowLevel();

/** A temporary file, unlinked at once: gone when the process ends, whatever happens. */
function tempFd(tag) {
  const dir = os.tmpdir();
  for (let n = 0; n < 1000; n++) {
    const p = path.join(dir, `.${PROG}-${process.pid}-${tag}-${n}`);
    let fd;
    try {
      fd = fs.openSync(p, 'wx+', 0o600);
    } catch (e) {
      if (e.code === 'EEXIST') continue;
      throw new Fail(`cannot create a temporary file in ${dir}: ${osMessage(e)}`);
    }
    fs.rmSync(p, { force: true });
    return fd;
  }
  throw new Fail('cannot create a temporary file');
}

/**
 * Decompresses a zstd (or any) input, already a file, into a new temporary file with the
 * engine's own spooling: the native CLI's decoder, bomb bound and messages.
 */
function engineSpool(source, what) {
  const fd = tempFd('input');
  try {
    cli.spool(source, what, (chunk) => {
      try {
        writeAllSync(fd, chunk);
      } catch (e) {
        throw new Fail(`cannot write a temporary file: ${osMessage(e)}`);
      }
    });
    return fileSource(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** The bytes of `it` until there are at least `n` (fewer only at its end). */
async function readHead(it, n, what) {
  const first = [];
  let got = 0;
  try {
    while (got < n) {
      const { value, done } = await it.next();
      if (done) break;
      first.push(value);
      got += value.length;
    }
  } catch (e) {
    throw new Fail(`cannot read ${what}: ${osMessage(e)}`);
  }
  return Buffer.concat(first);
}

/**
 * Copies a stream (stdin, a pipe) to a temporary file, for reading by offset: gzip is
 * decompressed on the way by Node's zlib (native speed; deflate cannot expand past
 * 1032:1, below the engine's bomb bound, so no bound is needed here); zstd is copied as
 * it is, then decompressed by the engine (`engineSpool`).
 */
async function spoolStream(stream, what, log) {
  const it = stream[Symbol.asyncIterator]();
  const head = await readHead(it, 4, what);
  const compression = cli.compressionOf(head);
  if (compression !== 'none') log(`${what} is ${compression}-compressed: decompressing to a temporary file`);
  const gunzip = compression === 'gzip' ? zlib.createGunzip() : null;
  const whole = Readable.from(
    (async function* rest() {
      if (head.length) yield head;
      for (;;) {
        const { value, done } = await it.next();
        if (done) return;
        yield value;
      }
    })(),
    { objectMode: false },
  );
  const fd = tempFd(compression === 'zstd' ? 'zstd' : 'input');
  const out = fs.createWriteStream(null, { fd, autoClose: false, highWaterMark: 1 << 20 });
  try {
    await pipeline(...[whole, gunzip, out].filter(Boolean));
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      /* the failed pipeline closed it */
    }
    if (gunzip && e.code && String(e.code).startsWith('Z_'))
      throw new Fail(`${what} is gzip-compressed but damaged: ${zlibMessage(e)}`);
    if (e.syscall === 'write') throw new Fail(`cannot write a temporary file: ${osMessage(e)}`);
    throw new Fail(
      gunzip ? `${what} is gzip-compressed but damaged: ${osMessage(e)}` : `cannot read ${what}: ${osMessage(e)}`,
    );
  }
  const spooled = fileSource(fd);
  if (compression !== 'zstd') return { source: spooled, compression };
  try {
    return { source: engineSpool(spooled, what), compression };
  } finally {
    fs.closeSync(fd);
  }
}

/** A zlib error in the words of the native CLI's decoder (Rust's flate2). */
function zlibMessage(e) {
  if (e.code === 'Z_BUF_ERROR') return 'incomplete deflate stream';
  if (e.code === 'Z_DATA_ERROR') {
    if (/header|unknown compression method/.test(e.message)) return 'invalid gzip header';
    if (/incorrect (data|length) check/.test(e.message)) return 'corrupt gzip stream does not have a matching checksum';
    return 'corrupt deflate stream';
  }
  return e.message;
}

/**
 * For a file read in place, as it was when opened: a function giving the error to report
 * if it has since changed (appended to, truncated, rewritten), else null. A squash of a
 * file that changes while it is read must not end in an image of neither version.
 */
function watch(fd, p, then) {
  return () => {
    let now;
    try {
      now = fs.fstatSync(fd, { bigint: true });
    } catch {
      return null;
    }
    if (now.size === then.size && now.mtimeNs === then.mtimeNs) return null;
    return cli.sayInputChanged(p, Number(now.size), Number(then.size));
  };
}

/**
 * The input a location names (parseArgs's `source`), as `openInput` gives it; an engine's
 * image is read with its `save`, spooled as stdin is.
 */
export async function openSource(loc, log, args) {
  if (loc.kind === 'engine') return engineSave(loc, spoolStream, log);
  if (loc.kind === 'registry') return registrySource(loc, args, log);
  return openInput(loc.kind === 'archive' ? loc.path : null, log);
}

/**
 * The input, for random access: a regular uncompressed file in place, else spooled.
 * `{ source, compression, changed? }`: how the input itself was compressed, and for a file
 * read in place, `changed()` (see `watch`).
 */
export async function openInput(p, log) {
  if (p === null || p === '-') {
    // Node's own stdin stream, never fd 0 read by hand: once `process.stdin` exists (and
    // reading `isTTY` creates it), a pipe or socket on fd 0 is non-blocking, and a plain
    // read of fd 0 fails with EAGAIN whenever the writer is slower than we are. The stream
    // waits for data the event loop's way, whatever fd 0 is (pipe, socket, file, tty).
    if (process.stdin.isTTY) throw new Fail(cli.sayNoInput(PROG));
    return spoolStream(process.stdin, 'stdin', log);
  }
  let fd;
  try {
    fd = fs.openSync(p, 'r');
  } catch (e) {
    throw new Fail(`cannot open ${p}: ${osMessage(e)}`);
  }
  let st;
  try {
    st = fs.fstatSync(fd, { bigint: true });
  } catch (e) {
    throw new Fail(`cannot read ${p}: ${osMessage(e)}`);
  }
  if (st.isDirectory()) throw new Fail(`${p} is a folder; give the .tar file \`docker save\` wrote`);
  if (st.isFile()) {
    const magic = Buffer.alloc(4);
    let n = 0;
    try {
      n = fs.readSync(fd, magic, 0, 4, 0);
    } catch {
      /* as the native CLI: an unreadable start is found by the engine */
    }
    const compression = cli.compressionOf(magic.subarray(0, n));
    if (compression === 'none') return { source: fileSource(fd), compression, changed: watch(fd, p, st) };
    if (compression === 'zstd') {
      log(`${p} is zstd-compressed: decompressing to a temporary file`);
      const file = fileSource(fd);
      try {
        return { source: engineSpool(file, p), compression };
      } finally {
        fs.closeSync(fd);
      }
    }
  }
  return spoolStream(fs.createReadStream(null, { fd, autoClose: false, highWaterMark: 1 << 20 }), p, log);
}
