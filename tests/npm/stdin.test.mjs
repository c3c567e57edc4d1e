// stdin as users give it to the npm bin and to the native CLI: a shell pipe
// (`docker save IMG | docker-squash-wasm`), a socket (what Node's spawn and service
// managers give), a file redirect, and a terminal (refused at once, with advice). The
// archive is hundreds of times a pipe buffer (64 KiB), and a writer that pauses is waited
// for. Whole-archive zstd with skippable frames (RFC 8878 §3.1.2) squashes, and damaged
// zstd gets one plain message, the same from both programs.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { requireBuild, workDir, run, runPiped, nativeSquash, CLI, PKG_DIR } from './helpers.mjs';
import { writeArchive } from './archive.mjs';
import { bigFill } from '../support/archive.mjs';

const BIN = path.join(PKG_DIR, 'bin/docker-squash-wasm.mjs');
/** Both programs, as [name, command, leading args]. */
const PROGRAMS = [
  ['npm bin', process.execPath, [BIN]],
  ['native CLI', CLI, []],
];
const PIPE_BUFFER = 64 << 10;

let dir;
let plain;
let expected;
const inputs = {};

/** A skippable frame: magic 0x184D2A5n, a little-endian length, that many bytes. */
function skippable(n, payload) {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(0x184d2a50 + n, 0);
  h.writeUInt32LE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

const zstdOf = (bytes) => run('zstd', ['-q', '-c', '-3'], { input: bytes }).stdout;

before(() => {
  requireBuild();
  dir = workDir('stdin');
  plain = path.join(dir, 'image.tar');
  writeArchive(plain, {
    tag: 'npmtest:stdin',
    createdBy: ['/bin/sh -c #(nop) ADD file:0123abcd in / ', '/bin/sh -c make'],
    layers: [
      [
        { name: 'etc/', type: 'dir' },
        { name: 'etc/hosts', data: '127.0.0.1 localhost\n' },
      ],
      [
        { name: 'data/', type: 'dir' },
        { name: 'data/blob', size: 20 << 20, fill: bigFill(11) },
        { name: 'etc/.wh.hosts', data: '' },
      ],
    ],
  });
  const bytes = fs.readFileSync(plain);
  assert.ok(bytes.length > 300 * PIPE_BUFFER, 'the archive is hundreds of pipe buffers');
  const native = nativeSquash(plain, ['-from', 'root'], path.join(dir, 'expected.tar'));
  assert.equal(native.status, 0, native.stderr);
  expected = native.bytes;
  inputs.plain = plain;
  inputs.gzip = path.join(dir, 'image.tar.gz');
  fs.writeFileSync(inputs.gzip, zlib.gzipSync(bytes, { level: 1 }));
  inputs.zstd = path.join(dir, 'image.tar.zst');
  fs.writeFileSync(inputs.zstd, zstdOf(bytes));
  // Skippable frames at the start, between two frames and at the end, as `zstd -d` takes them.
  const half = bytes.length >> 1;
  inputs['zstd with skippable frames'] = path.join(dir, 'skippable.tar.zst');
  fs.writeFileSync(
    inputs['zstd with skippable frames'],
    Buffer.concat([
      skippable(0, Buffer.from('metadata a tool wrote')),
      zstdOf(bytes.subarray(0, half)),
      skippable(15, Buffer.alloc(0)),
      zstdOf(bytes.subarray(half)),
      skippable(7, Buffer.alloc(100000, 7)),
    ]),
  );
  const unz = run('zstd', ['-d', '-q', '-c', inputs['zstd with skippable frames']]);
  assert.ok(unz.stdout.equals(bytes), 'zstd -d itself reads the skippable frames');
});

for (const [name, cmd, pre] of PROGRAMS) {
  test(`${name}: a shell pipe (cat FILE | …) of a plain, gzip or zstd archive gives the bytes of a squash by file`, () => {
    for (const [what, file] of Object.entries(inputs)) {
      const r = runPiped(file, cmd, [...pre, '-from', 'root']);
      assert.equal(r.status, 0, `${what}: ${r.stderr}`);
      assert.ok(r.stdout.equals(expected), `${what}: the same bytes as the squash of the file`);
    }
  });

  test(`${name}: a writer that pauses (a slow docker save) is waited for, not refused`, () => {
    const r = runPiped(plain, cmd, [...pre, '-from', 'root'], {
      producer: 'sleep 1; head -c 70000 -- "$f"; sleep 1.5; tail -c +70001 -- "$f"',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.equals(expected), 'the same bytes');
  });

  test(`${name}: a socket on stdin, written in pieces`, async () => {
    const child = spawn(cmd, [...pre, '-from', 'root'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const fd0 = fs.readlinkSync(`/proc/${child.pid}/fd/0`);
    assert.match(fd0, /^socket:/, 'Node gives a child a socket for stdio "pipe"');
    const out = [];
    let err = '';
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => (err += c));
    const done = new Promise((resolve) => child.on('close', resolve));
    const bytes = fs.readFileSync(plain);
    for (let at = 0; at < bytes.length; at += 1 << 20) {
      if (!child.stdin.write(bytes.subarray(at, at + (1 << 20)))) {
        await new Promise((resolve) => child.stdin.once('drain', resolve));
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.stdin.end();
    const status = await done;
    assert.equal(status, 0, err);
    assert.ok(Buffer.concat(out).equals(expected), 'the same bytes');
  });

  test(`${name}: a file redirect (< FILE)`, () => {
    const r = run('bash', ['-c', 'f=$1; shift; "$@" < "$f"', 'bash', plain, cmd, ...pre, '-from', 'root']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.equals(expected), 'the same bytes');
  });

  test(`${name}: a terminal on stdin is refused at once with what to do instead`, () => {
    const out = path.join(dir, 'tty-out.tar');
    const line = [cmd, ...pre, '-from', 'root', '-o', out].map((a) => `'${a}'`).join(' ');
    // `script` runs the command with a new pseudo-terminal as its stdin.
    const t0 = Date.now();
    const r = run('script', ['-qec', line, '/dev/null'], { timeout: 60000 });
    assert.equal(r.signal, null, 'it did not wait for input until killed');
    assert.ok(Date.now() - t0 < 30000, 'it answered at once');
    assert.equal(r.status, 1);
    assert.match(r.stdout.toString(), /no input: pipe `docker save IMAGE` into docker-squash(-wasm)?, or give -i FILE/);
    assert.ok(!fs.existsSync(out), 'nothing written');
  });
}

test('the npm bin and the native CLI say the same plain words about damaged zstd, by file and through a pipe', () => {
  const z = fs.readFileSync(inputs['zstd with skippable frames']);
  const frame = 8 + 'metadata a tool wrote'.length; // where the first real frame starts
  const flipped = Buffer.from(z);
  for (let i = frame + 4000; i < frame + 4100; i++) flipped[i] ^= 0x5a;
  const damaged = {
    truncated: z.subarray(0, z.length >> 1),
    'bytes changed inside a frame': flipped,
    // A skippable frame whose length field promises more than follows.
    'a skippable frame longer than the input': Buffer.concat([
      zstdOf(fs.readFileSync(plain)),
      skippable(3, Buffer.alloc(0)).fill(0xff, 4, 8),
      Buffer.alloc(10),
    ]),
    'only a skippable frame, cut short': skippable(1, Buffer.alloc(64)).subarray(0, 40),
  };
  for (const [what, bytes] of Object.entries(damaged)) {
    const file = path.join(dir, 'damaged.tar.zst');
    fs.writeFileSync(file, bytes);
    for (const [how, args] of [
      ['by file', ['-i', file]],
      ['through a pipe', []],
    ]) {
      const said = PROGRAMS.map(([, cmd, pre]) => {
        const r =
          how === 'by file'
            ? run(cmd, [...pre, ...args, '-from', 'root'])
            : runPiped(file, cmd, [...pre, '-from', 'root']);
        assert.equal(r.status, 1, `${what} ${how}: exit 1: ${r.stderr}`);
        assert.equal(r.stdout.length, 0, `${what} ${how}: nothing on stdout`);
        return r.stderr.replace(/^docker-squash(-wasm)?: /, '');
      });
      assert.equal(said[0], said[1], `${what} ${how}: the same message`);
      assert.equal(said[0].split('\n').filter(Boolean).length, 1, `${what} ${how}: one line: ${said[0]}`);
      assert.match(
        said[0],
        /zstd-compressed but damaged: (corrupt|truncated) zstd stream( \(its checksum does not match\))?\n$/,
        `${what} ${how}`,
      );
      assert.doesNotMatch(said[0], /[{}]|SkipFrame|Error/, `${what} ${how}: no debug dump`);
    }
  }
});
