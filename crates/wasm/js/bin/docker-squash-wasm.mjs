#!/usr/bin/env node
// `docker-squash-wasm`: the native docker-squash CLI on the WebAssembly engine.
//   docker save IMAGE | npx docker-squash-wasm -t TAG [-from ID|root] [-verbose] | docker load
//   npx docker-squash-wasm inspect [--json] FILE
// The command line itself (flags, usage, parsing, the inspect table, what is said on
// stderr) is the native CLI's, from the wasm module (crates/cli-def); this file does
// Node's I/O only. The input is read by offsets (input.mjs); the output goes to stdout or
// to a temporary file renamed into place at the end (node.mjs's `fileOutput`).
//
// The squash itself runs in a worker thread (this same file): the wasm call is synchronous,
// and while it runs the main thread's event loop is free to take SIGINT, SIGTERM and
// SIGHUP, remove the temporary output and exit with 128 + the signal, as the native CLI.

import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { PROG, Fail, osMessage } from './fail.mjs';
import { openSource } from './input.mjs';
import { engineOutput } from './engine.mjs';
import { registryOutput } from './registry.mjs';
import {
  lowLevel,
  inspect as inspectArchive,
  list,
  squash as squashArchive,
  checkOptions,
  version,
  fileSource,
  fileOutput,
  checkOutputPath,
  writeAllSync,
} from '../node.mjs';

/** The wasm module: the engine, and the command line shared with the native CLI. */
const cli = lowLevel();

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

// ---- output ---------------------------------------------------------------------------

/**
 * stdout, a file written under a temporary name and renamed into place when complete, an
 * engine's load (engine.mjs), or a push (registry.mjs), as parseArgs's `destination` says.
 */
function openOutput(loc, args, pulled, log) {
  if (loc.kind === 'engine') return engineOutput(loc);
  if (loc.kind === 'registry') return registryOutput(loc, args, pulled, log);
  if (loc.kind === 'archive') return fileOutput(loc.path, { describe: osMessage });
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
 * returns what it undid, if anything), say so in one line and exit with 128 + the signal.
 */
function onSignals(cleanup) {
  const handlers = Object.entries(SIGNALS).map(([sig, n]) => {
    const h = () => {
      const undone = cleanup();
      process.stderr.write(`\n${PROG}: interrupted by ${sig}${undone ? `: ${undone}` : ''}\n`);
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
  if (args.input === null && args.positional === null) throw new Fail(cli.sayNeedsFile(PROG));
  const log = makeLog(args.verbose);
  const { source, compression } = await openSource(args.source, log, args);
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
    // The CI gate: the facts are printed either way, then the one line saying why.
    const why = cli.inspectGate(facts, args.failUnderEfficiency ?? undefined, args.maxWasted ?? undefined);
    if (why) throw new Fail(why);
  } finally {
    source.close();
  }
}

async function squash(args) {
  const log = makeLog(args.verbose);
  // Bad options, and an output that cannot be written, are refused before stdin is spooled
  // or a pull starts.
  await checkOptions({ tag: args.tag, compress: args.compress, level: args.level, format: args.format });
  if (args.destination.kind === 'archive') checkOutputPath(args.destination.path, osMessage);
  let out = null;
  const stopWatching = onSignals(() => {
    if (!out || !out.tmp) return null;
    out.abandon();
    return out.stops ?? 'the unfinished output was removed';
  });
  const { source, changed, pulled } = await openSource(args.source, log, args);
  log(cli.sayInputSize(source.size));
  log(cli.sayVerifyNote(!args.noVerify));
  if (args.verbose) {
    try {
      for (const line of cli.sayListing(await list(source))) log(line);
    } catch {
      /* the squash below says what is wrong */
    }
  }
  out = openOutput(args.destination, args, pulled, log);
  let report = null;
  let failure = null;
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
        pushed: args.destination.kind === 'registry',
      },
    });
  } catch (e) {
    failure = e;
  }
  // A file that changed under us gives an error naming what happened, never an image
  // (asked before its descriptor is closed).
  const why = changed ? changed() : null;
  source.close();
  if (why || failure) {
    out.abandon();
    throw why ? new Fail(why) : failure;
  }
  let said;
  try {
    said = await out.commit(); // a file's rename is synchronous; an engine's load is awaited
  } finally {
    stopWatching(); // in the same turn as the rename: no signal can come between
  }
  // Always said (as the original and the native CLI do): which layer was kept, and why.
  process.stderr.write(`${PROG}: ${report.from.reason}\n`);
  // Never silent: what the input's index named that the output leaves out.
  for (const l of report.leftOut ?? []) process.stderr.write(`${PROG}: ${l.reason}\n`);
  if (args.destination.kind === 'engine' || args.destination.kind === 'registry') {
    // No file to look at: say what was done, and what the engine's load said.
    process.stderr.write(`${PROG}: ${cli.saySizes(report)}\n`);
    for (const line of (said || '').split('\n').filter((l) => l.trim()))
      process.stderr.write(`${PROG}: ${line.trim()}\n`);
  }
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
