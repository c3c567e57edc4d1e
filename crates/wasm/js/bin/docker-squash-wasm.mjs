#!/usr/bin/env node
// `docker-squash-wasm`: the native docker-squash CLI on the WebAssembly engine.
//   docker save IMAGE | npx docker-squash-wasm -t TAG [-from ID|root] [-verbose] | docker load
//   npx docker-squash-wasm inspect [--json] FILE
// The command line itself (flags, usage, parsing, the inspect table, what is said on
// stderr) is the native CLI's, from the wasm module (crates/cli-def); this file does
// Node's I/O only. The input is read by offsets (a file in place; stdin spooled to an
// unlinked temporary file first, decompressed on the way); the output goes to stdout or
// to a temporary file renamed into place at the end (node.mjs's `fileOutput`).
//
// The squash itself runs in a worker thread (this same file): the wasm call is synchronous,
// and while it runs the main thread's event loop is free to take SIGINT, SIGTERM and
// SIGHUP, remove the temporary output and exit with 128 + the signal, as the native CLI.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  lowLevel,
  inspect as inspectArchive,
  list,
  squash as squashArchive,
  checkTag,
  version,
  fileSource,
  fileOutput,
  writeAllSync,
} from '../node.mjs';

const PROG = 'docker-squash-wasm';
/** The wasm module: the engine, and the command line shared with the native CLI. */
const cli = lowLevel();

/** A failure with the one message to print. */
class Fail extends Error {}

/** An OS error as Rust's io::Error shows it: "No such file or directory (os error 2)". */
function osMessage(e) {
  if (e && typeof e.errno === 'number' && typeof e.message === 'string') {
    const m = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message);
    if (m) return `${m[1].charAt(0).toUpperCase()}${m[1].slice(1)} (os error ${Math.abs(e.errno)})`;
  }
  return e && e.message ? e.message : String(e);
}

function makeLog(verbose) {
  const start = process.hrtime.bigint();
  return (msg) => {
    if (!verbose) return;
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    process.stderr.write(`${cli.sayStamped(s, msg)}\n`);
  };
}

/** A progress line on stderr when it is a terminal, redrawn at most five times a second. */
function progressPrinter() {
  const tty = process.stderr.isTTY;
  const start = Date.now();
  let last = Date.now();
  return (p) => {
    if (tty && (Date.now() - last >= 200 || p.bytesDone >= p.bytesTotal)) {
      last = Date.now();
      process.stderr.write(cli.sayProgress(p.phase, p.bytesDone, p.bytesTotal, (Date.now() - start) / 1000));
    }
  };
}

// ---- input ----------------------------------------------------------------------------

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
 * The input, for random access: a regular uncompressed file in place, else spooled.
 * `{ source, compression }`: how the input itself was compressed.
 */
async function openInput(p, log) {
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
    st = fs.fstatSync(fd);
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
    if (compression === 'none') return { source: fileSource(fd), compression };
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

// ---- output ---------------------------------------------------------------------------

/** stdout, or a file written under a temporary name and renamed into place when complete. */
function openOutput(p) {
  if (p !== null && p !== '-') return fileOutput(p, { describe: osMessage });
  if (process.stdout.isTTY) throw new Fail(cli.sayTerminalOutput());
  return {
    fd: 1,
    write: (chunk) => writeStdout(chunk),
    commit() {},
    abandon() {},
  };
}

function writeStdout(bytes) {
  try {
    writeAllSync(1, bytes);
  } catch (e) {
    if (e.code === 'EPIPE') throw new StdoutClosed();
    throw new Fail(`writing to stdout: ${osMessage(e)}`);
  }
}

/** Whoever read our stdout has gone (`| head -c 1000`): the run ends quietly. */
class StdoutClosed extends Error {}

// ---- signals and the worker -------------------------------------------------------------

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };

/**
 * Until the returned function is called, SIGINT, SIGTERM and SIGHUP run `cleanup()` (which
 * returns what it removed, if anything), say so in one line and exit with 128 + the signal.
 */
function onSignals(cleanup) {
  const handlers = Object.entries(SIGNALS).map(([sig, n]) => {
    const h = () => {
      const removed = cleanup();
      process.stderr.write(`\n${PROG}: interrupted by ${sig}${removed ? ': the unfinished output was removed' : ''}\n`);
      process.exit(128 + n);
    };
    process.on(sig, h);
    return [sig, h];
  });
  return () => handlers.forEach(([sig, h]) => process.off(sig, h));
}

/** Runs the squash in a worker thread: the input and the output are descriptors it shares. */
function squashInWorker(job) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: job });
    w.once('message', (m) => {
      if (m.report) resolve(m.report);
      else if (m.stdoutClosed) reject(new StdoutClosed());
      else reject(Object.assign(m.known ? new Fail(m.message) : new Error(m.message), m.code ? { code: m.code } : {}));
    });
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`the squash stopped (worker exit ${code})`)));
  });
}

/** The worker's side: one squash, its chunks written to `outFd`, its result posted back. */
async function workerSquash({ inputFd, outFd, outName, options }) {
  const source = fileSource(inputFd);
  try {
    const { report } = await squashArchive(source, {
      ...options,
      onProgress: progressPrinter(),
      onChunk: (c) => {
        try {
          writeAllSync(outFd, c);
        } catch (e) {
          if (outFd === 1 && e.code === 'EPIPE') throw new StdoutClosed();
          throw new Fail(outFd === 1 ? `writing to stdout: ${osMessage(e)}` : `writing ${outName}: ${osMessage(e)}`);
        }
      },
      transientChunks: true,
    });
    parentPort.postMessage({ report });
  } catch (e) {
    // The callback's own exception (a write that failed) is the one the wasm rethrows.
    if (e instanceof StdoutClosed) parentPort.postMessage({ stdoutClosed: true });
    else
      parentPort.postMessage({
        message: e && e.message ? e.message : String(e),
        code: e?.code,
        known: e instanceof Fail || typeof e?.code === 'string',
      });
  }
}

// ---- commands -------------------------------------------------------------------------

async function inspect(args) {
  if (args.input === null) throw new Fail(cli.sayNeedsFile(PROG));
  const log = makeLog(args.verbose);
  const { source, compression } = await openInput(args.input, log);
  try {
    const facts = await inspectArchive(source, {
      image: args.image,
      platform: args.platform,
      verify: !args.noVerify,
      onProgress: progressPrinter(),
    });
    // The file was decompressed on the way in: say what the user's file is.
    if (compression !== 'none') facts.compression = compression;
    writeStdout(Buffer.from(cli.renderInspect(facts, args.json)));
  } finally {
    source.close();
  }
}

async function squash(args) {
  const log = makeLog(args.verbose);
  if (args.tag !== null) await checkTag(args.tag);
  let out = null;
  const stopWatching = onSignals(() => {
    if (!out || !out.tmp) return false;
    out.abandon();
    return true;
  });
  const { source } = await openInput(args.input, log);
  log(cli.sayInputSize(source.size));
  log(cli.sayVerifyNote(!args.noVerify));
  if (args.verbose) {
    try {
      for (const line of cli.sayListing(await list(source))) log(line);
    } catch {
      /* the squash below says what is wrong */
    }
  }
  out = openOutput(args.output);
  let report;
  try {
    report = await squashInWorker({
      inputFd: source.fd,
      outFd: out.fd ?? 1,
      outName: args.output,
      options: {
        from: args.from,
        tag: args.tag,
        image: args.image,
        platform: args.platform,
        verify: !args.noVerify,
        compress: args.compress,
        level: args.level,
        format: args.format,
      },
    });
  } catch (e) {
    out.abandon();
    throw e;
  } finally {
    source.close();
  }
  out.commit();
  stopWatching(); // in the same turn as the rename: no signal can come between
  // Always said (as the original and the native CLI do): which layer was kept, and why.
  process.stderr.write(`${PROG}: ${report.from.reason}\n`);
  for (const line of cli.saySummary(report)) log(line);
}

async function main(argv) {
  let args;
  try {
    args = cli.parseArgs(argv);
  } catch (e) {
    if (e.code !== 'USAGE') throw e;
    process.stderr.write(`${PROG}: ${e.message}\n\n${cli.usage(PROG)}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(cli.usage(PROG));
    return 0;
  }
  if (args.version) {
    process.stdout.write(`${PROG} ${await version()}\n`);
    return 0;
  }
  try {
    await (args.command === 'inspect' ? inspect(args) : squash(args));
    return 0;
  } catch (e) {
    if (e instanceof StdoutClosed) return 128 + 13; // quietly, with the status a shell shows for SIGPIPE
    const known = e instanceof Fail || (e && typeof e.code === 'string');
    const msg = e && e.message ? e.message : String(e);
    process.stderr.write(`${PROG}: ${known ? msg : `internal error: ${msg}`}\n`);
    return 1;
  }
}

if (isMainThread) process.exitCode = await main(process.argv.slice(2));
else await workerSquash(workerData);
