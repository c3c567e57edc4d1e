#!/usr/bin/env node
// `docker-squash-wasm`: the native docker-squash CLI's command line, flags and messages, on
// the WebAssembly engine.
//   docker save IMAGE | npx docker-squash-wasm -t TAG [-from ID|root] [-verbose] | docker load
//   npx docker-squash-wasm inspect [--json] FILE
// The input is read by offsets (a file in place; stdin spooled to an unlinked temporary
// file first, gzip decompressed on the way); the output goes to stdout or to a temporary
// file renamed into place at the end.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import {
  lowLevel,
  inspect as inspectArchive,
  list,
  squash as squashArchive,
  checkTag,
  version,
  fileSource,
  writeAllSync,
} from '../node.mjs';

const PROG = 'docker-squash-wasm';

const USAGE = `\
Squash the layers of a Docker image into one.

Usage:
  docker save IMAGE | ${PROG} [-t TAG] [-from ID|root] | docker load
  ${PROG} [-t TAG] [-from ID|root] [-i IN] [-o OUT] [-image REF] [-platform OS/ARCH] [-no-verify] [-verbose]
  ${PROG} inspect [--json] [-image REF] [-platform OS/ARCH] [-no-verify] FILE

Options:
  -t, --tag TAG          tag the result (repo:tag); default: keep the image's own tags
  -from, --from ID|root  keep layer ID and all below, squash the rest (\`root\`: one layer);
                         default: keep the base image up to its first \`ADD file:\` layer
  -i, --input FILE       the archive \`docker save\` wrote (.tar, .tar.gz, .tar.zst); default stdin
  -o, --output FILE      where to write the squashed archive; default stdout
  -image, --image REF    which image of a multi-image archive (tag or id)
  -platform, --platform  OS/ARCH of an OCI index with several platforms (default linux/amd64)
  -no-verify             trust the layers' diff_ids instead of hashing every layer: several
                         times faster, but a damaged layer that is squashed goes unnoticed
  -verbose, -v           say what is done, on stderr
  -h, --help             this help
  --version              the version
Layer ids are those \`${PROG} inspect FILE\` prints (any unique prefix).
`;

/** A failure with the one message to print. */
class Fail extends Error {}

// ---- arguments: Go's flag package conventions, as the original's users pass them -------

function parse(argv) {
  const a = { inspect: false, json: false, noVerify: false, verbose: false, help: false, version: false };
  let i = 0;
  if (argv[0] === 'inspect') {
    a.inspect = true;
    i = 1;
  }
  while (i < argv.length) {
    const arg = argv[i++];
    let rest = null;
    if (arg.startsWith('--')) rest = arg.slice(2);
    else if (arg.startsWith('-')) rest = arg.slice(1);
    if (rest === null || rest === '') {
      if (a.inspect && a.input === undefined) {
        a.input = arg;
        continue;
      }
      if (arg === '-') continue; // stdin, the default
      throw new Fail(`unexpected argument \`${arg}\``);
    }
    const eq = rest.indexOf('=');
    const name = eq >= 0 ? rest.slice(0, eq) : rest;
    const inline = eq >= 0 ? rest.slice(eq + 1) : undefined;
    const value = (flag) => {
      if (inline !== undefined) return inline;
      if (i >= argv.length) throw new Fail(`flag -${flag} needs a value`);
      return argv[i++];
    };
    switch (name) {
      case 't':
      case 'tag':
        a.tag = value('t');
        break;
      case 'from':
      case 'f':
        a.from = value('from');
        break;
      case 'i':
      case 'input':
        a.input = value('i');
        break;
      case 'o':
      case 'output':
        a.output = value('o');
        break;
      case 'image':
        a.image = value('image');
        break;
      case 'platform':
        a.platform = value('platform');
        break;
      case 'verbose':
      case 'v':
        a.verbose = inline === undefined || inline !== 'false';
        break;
      case 'no-verify':
        a.noVerify = inline === undefined || inline !== 'false';
        break;
      case 'json':
        a.json = true;
        break;
      case 'h':
      case 'help':
        a.help = true;
        break;
      case 'version':
        a.version = true;
        break;
      default:
        throw new Fail(`unknown flag \`${arg}\``);
    }
  }
  return a;
}

// ---- formatting, as the native CLI prints ------------------------------------------

/** `{:.1}` as Rust formats it: exact ties round to even (JS's toFixed rounds them up). */
function fixed1(v) {
  const q = v * 4;
  if (Number.isInteger(q) && q % 2 !== 0) {
    const lo = Math.floor(v * 10);
    return ((lo % 2 === 0 ? lo : lo + 1) / 10).toFixed(1);
  }
  return v.toFixed(1);
}

function bytes(n) {
  const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u += 1;
  }
  return u === 0 ? `${n} B` : `${fixed1(v)} ${UNITS[u]}`;
}

const tags = (t) => (t.length === 0 ? '<untagged>' : t.join(', '));
const chars = (s) => Array.from(s);
const short = (id) =>
  chars(id.replace(/^(sha256:)+/, ''))
    .slice(0, 12)
    .join('');
const padEnd = (s, n) => s + ' '.repeat(Math.max(0, n - chars(s).length));
const padStart = (s, n) => ' '.repeat(Math.max(0, n - chars(s).length)) + s;

function clip(s, n) {
  const line = s.replace(/[\n\t]/g, ' ');
  const c = chars(line);
  return c.length <= n ? line : `${c.slice(0, n - 1).join('')}…`;
}

function showInspection(f) {
  const out = [];
  out.push(`archive: ${f.format} (compression: ${f.compression})`);
  for (const img of f.images) {
    out.push('');
    out.push(`image ${img.index}: ${tags(img.tags)}  id ${short(img.id)}  ${img.platform}`);
    out.push(
      `  ${padStart('#', 3)}  ${padEnd('LAYER ID', 12)}  ${padEnd('CREATED BY', 60)}  ${padStart('SIZE', 9)}  ${padStart('WASTED', 9)}`,
    );
    for (const h of img.history) {
      const [id, size, wasted] = h.layer
        ? [short(h.layer.id), bytes(h.layer.size), h.layer.wastedBytes > 0 ? bytes(h.layer.wastedBytes) : '']
        : ['-', '(empty)', ''];
      out.push(
        `  ${padStart(String(h.index), 3)}  ${padEnd(id, 12)}  ${padEnd(clip(h.createdBy, 60), 60)}  ${padStart(size, 9)}  ${padStart(wasted, 9)}`,
      );
    }
    out.push(`  total: ${bytes(img.totalSize)}`);
    const def = img.defaultFrom.from === 'root' ? 'root' : short(img.defaultFrom.from);
    out.push(`  default squash point: ${def} — ${img.defaultFrom.reason}`);
    if (img.squashPoints.length > 0) {
      out.push(`  wasted: ${bytes(img.wastedBytes)} in files that later layers delete or overwrite`);
      out.push('  squashing from:');
      for (const p of img.squashPoints) {
        const from = p.from === 'root' ? 'root' : short(p.from);
        out.push(
          `    ${padEnd(from, 12)}  ${p.layersAfter} layers, ${bytes(p.sizeAfter)}, reclaims ${bytes(p.reclaimedBytes)}`,
        );
      }
    }
    if (img.largestWasted.length > 0) {
      out.push('  largest wasted files:');
      const step = (layer) => {
        const h = img.history.find((r) => r.layer && r.layer.index === layer);
        return h ? h.index : layer;
      };
      for (const w of img.largestWasted.slice(0, 10)) {
        out.push(
          `    ${padStart(bytes(w.size), 9)}  ${w.path}  (written by #${step(w.layerIndex)}, ${w.how} by #${step(w.removedBy)})`,
        );
      }
    }
  }
  return `${out.join('\n')}\n`;
}

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
    process.stderr.write(`[${padStart(s.toFixed(1), 6)}s] ${msg}\n`);
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
      const pct = p.bytesTotal > 0 ? (p.bytesDone * 100) / p.bytesTotal : 0;
      const rate = p.bytesDone / Math.max((Date.now() - start) / 1000, 0.001) / 1e6;
      process.stderr.write(
        `\r${p.phase.padEnd(5)} ${padStart(pct.toFixed(1), 5)}%  ${bytes(p.bytesDone)} / ${bytes(p.bytesTotal)}  ${rate.toFixed(0)} MB/s   `,
      );
      if (p.bytesDone >= p.bytesTotal) process.stderr.write(`\r${' '.repeat(70)}\r`);
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

/** Runs `work(fd)` on a new temporary file; closes the file if it throws. */
function withTempFd(tag, work) {
  const fd = tempFd(tag);
  try {
    return work(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/**
 * Decompresses a zstd (or any) input, already a file, into a new temporary file with the
 * engine's own spooling: the native CLI's decoder, bomb bound and messages.
 */
function engineSpool(source, what) {
  return withTempFd('input', (fd) => {
    lowLevel().spool(source, what, (chunk) => {
      try {
        writeAllSync(fd, chunk);
      } catch (e) {
        throw new Fail(`cannot write a temporary file: ${osMessage(e)}`);
      }
    });
    return fileSource(fd);
  });
}

/**
 * Copies a stream (stdin, a pipe) to a temporary file, for reading by offset: gzip is
 * decompressed on the way by Node's zlib (native speed; deflate cannot expand past
 * 1032:1, below the engine's bomb bound, so no bound is needed here); zstd is copied as
 * it is, then decompressed by the engine (`engineSpool`).
 */
async function spoolStream(stream, what, log) {
  const it = stream[Symbol.asyncIterator]();
  const first = [];
  let got = 0;
  try {
    while (got < 4) {
      const { value, done } = await it.next();
      if (done) break;
      first.push(value);
      got += value.length;
    }
  } catch (e) {
    throw new Fail(`cannot read ${what}: ${osMessage(e)}`);
  }
  const head = Buffer.concat(first);
  const compression = lowLevel().compressionOf(head);
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
  if (compression !== 'zstd') return spooled;
  try {
    return engineSpool(spooled, what);
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

/** The input, for random access: a regular uncompressed file in place, else spooled. */
async function openInput(p, log) {
  if (p === undefined || p === '-') {
    // Node's own stdin stream, never fd 0 read by hand: once `process.stdin` exists (and
    // reading `isTTY` creates it), a pipe or socket on fd 0 is non-blocking, and a plain
    // read of fd 0 fails with EAGAIN whenever the writer is slower than we are. The stream
    // waits for data the event loop's way, whatever fd 0 is (pipe, socket, file, tty).
    if (process.stdin.isTTY)
      throw new Fail('no input: pipe `docker save IMAGE` into docker-squash-wasm, or give -i FILE');
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
    const c = lowLevel().compressionOf(magic.subarray(0, n));
    if (c === 'none') return fileSource(fd);
    if (c === 'zstd') {
      log(`${p} is zstd-compressed: decompressing to a temporary file`);
      const file = fileSource(fd);
      try {
        return engineSpool(file, p);
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
  if (p === undefined || p === '-') {
    if (process.stdout.isTTY) {
      throw new Fail('refusing to write an image archive to a terminal: pipe into `docker load` or give -o FILE');
    }
    return {
      write: (chunk) => {
        try {
          writeAllSync(1, chunk);
        } catch (e) {
          throw new Fail(`writing to stdout: ${osMessage(e)}`);
        }
      },
      commit() {},
      abandon() {},
    };
  }
  const dir = path.dirname(p) || '.';
  const tmp = path.join(dir, `.${path.basename(p) || 'out'}.tmp-${process.pid}`);
  let fd;
  try {
    fd = fs.openSync(tmp, 'w');
  } catch (e) {
    throw new Fail(`cannot write ${tmp}: ${osMessage(e)}`);
  }
  return {
    write(chunk) {
      try {
        writeAllSync(fd, chunk);
      } catch (e) {
        throw new Fail(`writing ${p}: ${osMessage(e)}`);
      }
    },
    commit() {
      try {
        fs.fsyncSync(fd);
        fs.closeSync(fd);
      } catch (e) {
        fs.rmSync(tmp, { force: true });
        throw new Fail(`writing ${p}: ${osMessage(e)}`);
      }
      try {
        fs.renameSync(tmp, p);
      } catch (e) {
        fs.rmSync(tmp, { force: true });
        throw new Fail(`cannot move the result to ${p}: ${osMessage(e)}`);
      }
    },
    abandon() {
      try {
        fs.closeSync(fd);
      } catch {
        /* already closed */
      }
      fs.rmSync(tmp, { force: true });
    },
  };
}

// ---- commands -------------------------------------------------------------------------

async function inspect(args) {
  if (args.input === undefined) throw new Fail(`inspect needs a FILE: ${PROG} inspect image.tar`);
  const log = makeLog(args.verbose);
  const src = await openInput(args.input, log);
  try {
    const facts = await inspectArchive(src, {
      image: args.image,
      platform: args.platform,
      verify: !args.noVerify,
      onProgress: progressPrinter(),
    });
    const text = args.json ? `${JSON.stringify(facts, null, 2)}\n` : showInspection(facts);
    try {
      writeAllSync(1, Buffer.from(text));
    } catch (e) {
      throw new Fail(`writing to stdout: ${osMessage(e)}`);
    }
  } finally {
    src.close();
  }
}

async function squash(args) {
  const log = makeLog(args.verbose);
  if (args.tag !== undefined) await checkTag(args.tag);
  const src = await openInput(args.input, log);
  log(`input: ${src.size} bytes`);
  log(
    args.noVerify ? "layers: trusting the config's diff_ids (-no-verify)" : 'layers: each verified against its diff_id',
  );
  if (args.verbose) {
    try {
      const l = await list(src);
      log(`archive: ${l.format}, compression ${l.compression}`);
      for (const img of l.images) {
        const layers = img.history.filter((h) => h.layer).length;
        log(`image ${img.index}: ${tags(img.tags)} ${img.platform} (${layers} layers)`);
      }
    } catch {
      /* the squash below says what is wrong */
    }
  }
  const out = openOutput(args.output);
  let report;
  try {
    ({ report } = await squashArchive(src, {
      from: args.from,
      tag: args.tag,
      image: args.image,
      platform: args.platform,
      verify: !args.noVerify,
      onProgress: progressPrinter(),
      onChunk: (c) => out.write(c),
      transientChunks: true,
    }));
  } catch (e) {
    out.abandon();
    throw e;
  } finally {
    src.close();
  }
  out.commit();
  // Always said (as the original and the native CLI do): which layer was kept, and why.
  process.stderr.write(`${PROG}: ${report.from.reason}\n`);
  const kept = report.from.layerIndex === null ? 0 : report.from.layerIndex + 1;
  for (let i = 0; i < report.layersBefore; i++) log(`layer ${i}: ${i < kept ? 'kept' : 'squashed'}`);
  log(
    `layers: ${report.layersBefore} -> ${report.layersAfter}; size: ${bytes(report.sizeBefore)} -> ${bytes(report.sizeAfter)}; ` +
      `new layer ${report.newLayerDiffId ?? 'none'} (${bytes(report.newLayerSize)})`,
  );
  log(`image ${report.imageId} tagged ${tags(report.tags)}`);
}

async function main(argv) {
  let args;
  try {
    args = parse(argv);
  } catch (e) {
    process.stderr.write(`${PROG}: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`${PROG} ${await version()}\n`);
    return 0;
  }
  try {
    await (args.inspect ? inspect(args) : squash(args));
    return 0;
  } catch (e) {
    const known = e instanceof Fail || (e && typeof e.code === 'string');
    const msg = e && e.message ? e.message : String(e);
    process.stderr.write(`${PROG}: ${known ? msg : `internal error: ${msg}`}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
