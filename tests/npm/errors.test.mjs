// Bad input never crashes the package: empty, truncated, not a tar, corrupt or truncated
// gzip, damaged archives all throw an Error with a clear message and a stable `code`
// (the same message as the native CLI's), and the package keeps working afterwards.
// Exceptions from the caller's callbacks come back unchanged; wrong arguments are
// TypeErrors with code BAD_ARGUMENT. The CLI exits non-zero with one line.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { requireBuild, loadPackage, workDir, run, runPiped, CLI, PKG_DIR, concat } from './helpers.mjs';
import { smallImage } from './archive.mjs';

const CODES = new Set([
  'NOT_AN_IMAGE',
  'CORRUPT',
  'DIGEST_MISMATCH',
  'IMAGE_CHOICE',
  'FROM_CHOICE',
  'BAD_TAG',
  'TOO_LARGE',
  'UNSUPPORTED',
  'IO',
  'CANCELLED',
]);
const BIN = () => path.join(PKG_DIR, 'bin/docker-squash-wasm.mjs');

let pkg;
let dir;
let good;
let goodBytes;

before(async () => {
  requireBuild();
  pkg = await loadPackage();
  dir = workDir('errors');
  good = path.join(dir, 'good.tar');
  smallImage(good);
  goodBytes = fs.readFileSync(good);
});

function badInputs() {
  const gz = zlib.gzipSync(goodBytes);
  const corruptGz = Buffer.from(gz);
  for (let i = 200; i < 260; i++) corruptGz[i] ^= 0x5a;
  const flipped = Buffer.from(goodBytes);
  for (let i = 2048; i < 2100; i++) flipped[i] ^= 0xff; // inside the first layer's content
  let seed = 12345;
  const random = Buffer.alloc(1 << 20);
  for (let i = 0; i < random.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    random[i] = seed >>> 24;
  }
  return {
    empty: Buffer.alloc(0),
    'one byte': Buffer.from([0x41]),
    'not a tar (text)': Buffer.from('this is not an image archive\n'.repeat(100)),
    'random bytes': random,
    'zero blocks': Buffer.alloc(10240),
    'truncated in the middle': goodBytes.subarray(0, Math.floor(goodBytes.length / 2)),
    'truncated before the manifest': goodBytes.subarray(0, goodBytes.length - 3000),
    'truncated gzip': gz.subarray(0, Math.floor(gz.length / 2)),
    'corrupt gzip': corruptGz,
    'gzip of text': zlib.gzipSync(Buffer.from('hello')),
    'damaged layer content': flipped,
  };
}

function assertCoded(e, what) {
  assert.ok(e instanceof Error, `${what}: an Error (got ${e})`);
  assert.ok(!(e instanceof WebAssembly.RuntimeError), `${what}: the wasm trapped: ${e.message}`);
  assert.ok(CODES.has(e.code), `${what}: code ${e.code} is one of the engine's`);
  assert.ok(e.message.length > 10 && !/undefined|\[object/.test(e.message), `${what}: a clear message: ${e.message}`);
}

test("bad input throws a coded Error with the native CLI's message, in squash, inspect and list", async () => {
  for (const [name, bytes] of Object.entries(badInputs())) {
    const file = path.join(dir, `bad-${name.replace(/\W+/g, '-')}.tar`);
    fs.writeFileSync(file, bytes);
    const native = run(CLI, ['-from', 'root', '-i', file, '-o', path.join(dir, 'native.tar')]);
    for (const [fn, call] of [
      ['squash', () => pkg.squash(file, { from: 'root' })],
      ['squash (bytes)', () => pkg.squash(new Uint8Array(bytes), { from: 'root' })],
      ['inspect', () => pkg.inspect(file)],
      ['list', () => pkg.list(bytes)],
    ]) {
      let err;
      try {
        await call();
      } catch (e) {
        err = e;
      }
      if (name === 'damaged layer content' && fn === 'list') {
        assert.ifError(err); // list reads no layer: it cannot see this damage
        continue;
      }
      assert.ok(err, `${name}: ${fn} did not throw`);
      assertCoded(err, `${name}: ${fn}`);
      if (fn === 'squash' && bytes[0] !== 0x1f) {
        // the CLI decompresses gzip itself, with its own messages
        assert.notEqual(native.status, 0, `${name}: the CLI accepted it`);
        assert.equal(`docker-squash: ${err.message}\n`, native.stderr, `${name}: same message as the CLI`);
      }
    }
  }
  // Still working after all that.
  const { report } = await pkg.squash(good, { from: 'root' });
  assert.equal(report.layersAfter, 1);
});

test('damaged archives: every single-byte change either squashes or throws a coded Error', async () => {
  // A few hundred positions over headers, JSON and layer content.
  const step = Math.max(1, Math.floor(goodBytes.length / 300));
  let failures = 0;
  for (let at = 0; at < goodBytes.length; at += step) {
    const b = Buffer.from(goodBytes);
    b[at] ^= 0x20;
    try {
      await pkg.squash(b, { from: 'root' });
    } catch (e) {
      assertCoded(e, `byte ${at} changed`);
      failures++;
    }
  }
  assert.ok(failures > 0, 'some changes are noticed');
});

test('bad tag and bad -from: BAD_TAG and FROM_CHOICE, before any output', async () => {
  let chunks = 0;
  await assert.rejects(
    pkg.squash(good, {
      tag: 'Not A Tag!',
      onChunk: () => {
        chunks++;
      },
    }),
    (e) => e.code === 'BAD_TAG' && /Not A Tag!/.test(e.message),
  );
  await assert.rejects(
    pkg.squash(good, {
      from: 'ffffffffffff',
      onChunk: () => {
        chunks++;
      },
    }),
    (e) => e.code === 'FROM_CHOICE',
  );
  assert.equal(chunks, 0);
  await assert.rejects(pkg.checkTag('UPPER:case'), (e) => e.code === 'BAD_TAG');
  assert.equal(await pkg.checkTag('app'), 'app:latest');
});

test('checkOptions rejects as squash would, reading nothing: BAD_OPTION, BAD_ARGUMENT, BAD_TAG', async () => {
  await pkg.checkOptions({ compress: 'zstd', level: 19, format: 'docker', tag: 'app' });
  await pkg.checkOptions();
  await pkg.checkOptions({ level: 12 }); // auto may pick zstd, which takes 12
  const cases = [
    [{ compress: 'none', level: 3 }, 'BAD_OPTION', '-level 3 needs -compress gzip or zstd'],
    [{ compress: 'gzip', level: 10 }, 'BAD_OPTION', '-level 10 is out of range for gzip'],
    [{ level: 25 }, 'BAD_OPTION', '-level 25 is out of range for every compression'],
    [{ compress: 'lz4' }, 'BAD_ARGUMENT', '-compress takes auto, none, gzip or zstd'],
    [{ format: 'tar' }, 'BAD_ARGUMENT', '-format takes oci'],
    [{ level: 2.5 }, 'BAD_ARGUMENT', 'whole number'],
    [{ tag: 'Not A Tag!' }, 'BAD_TAG', 'Not A Tag!'],
  ];
  for (const [options, code, says] of cases) {
    await assert.rejects(pkg.checkOptions(options), (e) => e.code === code && e.message.includes(says), says);
    // squash says the same, with no output.
    let chunks = 0;
    await assert.rejects(
      pkg.squash(good, { ...options, onChunk: () => chunks++ }),
      (e) => e.code === code && e.message.includes(says),
    );
    assert.equal(chunks, 0);
  }
});

/** The bin's exit status and stderr with stdin a pipe held open and never written. */
function refusedWithStdinOpen(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN(), ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: waited for stdin instead of refusing at once`));
    }, 20000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ status, stderr });
    });
  });
}

test("the bin refuses bad and conflicting options with the native CLI's words and status, before reading stdin", async () => {
  const out = path.join(dir, 'options-out.tar');
  const cases = [
    ['-compress', 'lz4'],
    ['-format', 'tar'],
    ['-level', 'fast'],
    ['-compress', 'gzip', '-compress', 'zstd'],
    ['-from', 'root', '--json'],
    ['-compress', 'none', '-level', '3'],
    ['-compress', 'gzip', '-level', '10'],
    ['-level', '25'],
    ['-t', 'Not A Tag!'],
  ];
  for (const args of cases) {
    const r = await refusedWithStdinOpen([...args, '-o', out]);
    const n = run(CLI, [...args, '-o', out], { input: Buffer.alloc(0) });
    assert.ok(r.status === 1 || r.status === 2, `${args.join(' ')}: exit ${r.status}`);
    assert.equal(r.status, n.status, `${args.join(' ')}: the native CLI's status`);
    assert.equal(
      r.stderr.replace(/docker-squash-wasm/g, 'docker-squash'),
      n.stderr,
      `${args.join(' ')}: the native CLI's words`,
    );
    assert.ok(!fs.existsSync(out), `${args.join(' ')}: nothing written`);
  }
  const inspect = run(process.execPath, [BIN(), 'inspect', '-t', 'app', good]);
  assert.equal(inspect.status, 2);
  assert.match(inspect.stderr, /^docker-squash-wasm: inspect takes no -t: it only reads \(squashing takes it\)\n/);
});

test('exceptions thrown by callbacks come back unchanged; onProgress returning false cancels', async () => {
  const mine = new Error('disk on fire');
  const src = {
    size: goodBytes.length,
    readAt(o, l) {
      if (o > 4096) throw mine;
      return goodBytes.subarray(o, o + l);
    },
  };
  await assert.rejects(pkg.squash(src, { from: 'root' }), (e) => e === mine);
  await assert.rejects(
    pkg.squash(good, {
      onChunk: () => {
        throw mine;
      },
    }),
    (e) => e === mine,
  );
  await assert.rejects(
    pkg.squash(good, {
      onProgress: () => {
        throw mine;
      },
    }),
    (e) => e === mine,
  );
  await assert.rejects(pkg.inspect(good, { onProgress: () => false }), (e) => e.code === 'CANCELLED');
  await assert.rejects(pkg.squash(good, { onProgress: () => false }), (e) => e.code === 'CANCELLED');
  // A thrown non-Error value too.
  await assert.rejects(
    pkg.squash(good, {
      onChunk: () => {
        throw 'plain string';
      },
    }),
    (e) => e === 'plain string',
  );
  // Progress does arrive, with phases and byte counts.
  const seen = [];
  await pkg.squash(good, {
    onProgress: (p) => {
      seen.push(p);
    },
  });
  assert.ok(seen.some((p) => p.phase === 'read') && seen.some((p) => p.phase === 'write'));
  const last = seen.at(-1);
  assert.equal(last.bytesDone, last.bytesTotal);
});

test('a source that lies about its size, or returns the wrong thing, is an IO/CORRUPT error', async () => {
  const half = goodBytes.length >> 1;
  const short = { size: goodBytes.length, readAt: (o, l) => goodBytes.subarray(o, Math.min(half, o + l)) };
  await assert.rejects(pkg.squash(short, { from: 'root' }), (e) => {
    assertCoded(e, 'the source ends early');
    return /input ended at byte \d+ of the \d+ it was said to have/.test(e.message);
  });
  const wrong = { size: goodBytes.length, readAt: () => 'text' };
  await assert.rejects(pkg.squash(wrong), (e) => {
    assertCoded(e, 'readAt returns a string');
    return /Uint8Array/.test(e.message);
  });
});

test('wrong arguments are TypeErrors with code BAD_ARGUMENT', async () => {
  const bad = (e) => e instanceof TypeError && e.code === 'BAD_ARGUMENT';
  await assert.rejects(pkg.squash(42), bad);
  await assert.rejects(pkg.squash({ size: 'big', readAt() {} }), bad);
  await assert.rejects(pkg.squash(good, 'root'), bad);
  await assert.rejects(pkg.squash(good, { from: 3 }), bad);
  await assert.rejects(pkg.squash(good, { onChunk: 'no' }), bad);
  await assert.rejects(pkg.inspect(good, { onProgress: 1 }), bad);
  const low = pkg.lowLevel();
  assert.throws(() => low.squash({ size: 0, readAt: () => new Uint8Array(0) }, {}), bad);
  await assert.rejects(
    pkg.squash(path.join(dir, 'does-not-exist.tar')),
    (e) => e.code === 'IO' && /cannot open/.test(e.message),
  );
  await assert.rejects(pkg.squash(dir), (e) => e.code === 'IO' && /is a folder/.test(e.message));
});

test('the CLI: one clear line and a non-zero exit on bad input; no output file, no temporary left', () => {
  const out = path.join(dir, 'cli-out.tar');
  for (const [name, bytes] of Object.entries(badInputs())) {
    const file = path.join(dir, 'cli-bad.tar');
    fs.writeFileSync(file, bytes);
    const r = run(process.execPath, [BIN(), '-i', file, '-o', out]);
    const n = run(CLI, ['-i', file, '-o', out]);
    assert.equal(r.status, 1, `${name}: exit 1`);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${name}: one line: ${r.stderr}`);
    if (bytes[0] === 0x1f) {
      // Node's zlib decompresses on the way in: it may notice damage at another point than
      // the native CLI's decoder, so only the start of the message is the same.
      assert.equal(
        r.stderr
          .replace(/^docker-squash-wasm:/, 'docker-squash:')
          .split(': ')
          .slice(0, 2)
          .join(': '),
        n.stderr.split(': ').slice(0, 2).join(': '),
        `${name}: the CLI's message`,
      );
    } else {
      assert.equal(r.stderr.replace(/^docker-squash-wasm:/, 'docker-squash:'), n.stderr, `${name}: the CLI's message`);
    }
    assert.ok(!fs.existsSync(out), `${name}: no output written`);
    // Through stdin too, a real pipe (spooled to a temporary file first).
    const s = runPiped(file, process.execPath, [BIN(), '-o', out]);
    assert.equal(s.status, 1, `${name} on stdin: exit 1`);
    assert.match(s.stderr, /^docker-squash-wasm: .+\n$/);
  }
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
  const tag = run(process.execPath, [BIN(), '-t', 'Bad Tag', '-i', good, '-o', out]);
  assert.equal(tag.status, 1);
  assert.equal(
    tag.stderr.replace(/^docker-squash-wasm:/, 'docker-squash:'),
    run(CLI, ['-t', 'Bad Tag', '-i', good, '-o', out]).stderr,
  );
  const usage = run(process.execPath, [BIN(), '-nope']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /^docker-squash-wasm: unknown flag `-nope`\n\nSquash the layers/);
  const missing = run(process.execPath, [BIN(), '-i', path.join(dir, 'nope.tar'), '-o', out]);
  assert.equal(missing.status, 1);
  assert.equal(
    missing.stderr,
    `docker-squash-wasm: cannot open ${path.join(dir, 'nope.tar')}: No such file or directory (os error 2)\n`,
  );
  const ok = run(process.execPath, [BIN(), '-from', 'root', '-i', good, '-o', out]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(concat([fs.readFileSync(out)]).length > 0);
});
