// A large archive (1 GB by default; NPM_LARGE_MB to change) given to the package as a file
// path is read by offsets: the peak RSS of the squashing process stays far below the
// archive's size. Its output is the native CLI's, byte for byte. The package's bench
// script (what tests/bench/run.sh calls) measures; its numbers are printed as diagnostics.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { requireBuild, workDir, run, CLI, PKG_DIR } from './helpers.mjs';
import { writeArchive } from './archive.mjs';
import { bigFill } from '../support/archive.mjs';

const MB = Number(process.env.NPM_LARGE_MB || 1024);
let dir;
let archive;
let size;

before(() => {
  requireBuild();
  dir = workDir('large');
  archive = path.join(dir, 'large.tar');
  const per = Math.ceil(MB / 8);
  ({ size } = writeArchive(archive, {
    tag: 'large:test',
    createdBy: ['/bin/sh -c #(nop) ADD file:base in / ', '/bin/sh -c make data', '/bin/sh -c rm data/f0'],
    layers: [
      [
        { name: 'base/', type: 'dir' },
        { name: 'base/blob', size: 32 << 20, fill: bigFill(1) },
      ],
      [
        { name: 'data/', type: 'dir' },
        ...Array.from({ length: 8 }, (_, i) => ({ name: `data/f${i}`, size: per << 20, fill: bigFill(10 + i) })),
      ],
      [
        { name: 'data/.wh.f0', data: '' },
        { name: 'data/f1', data: 'small now\n' },
        { name: 'etc/', type: 'dir' },
        { name: 'etc/x', data: 'x' },
      ],
    ],
  }));
});

after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function sha256File(p) {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(p, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

function bench(args) {
  const r = run(process.execPath, [path.join(PKG_DIR, 'bench.mjs'), ...args], { timeout: 1800000 });
  assert.equal(r.status, 0, r.stderr);
  const v = Object.fromEntries(
    r.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => l.split('=')),
  );
  return { wall: Number(v.wall_s), rssKb: Number(v.peak_rss_kb), outBytes: Number(v.out_bytes) };
}

test(`a ${MB} MB archive given as a path: peak RSS far below its size, same bytes as the CLI`, async (t) => {
  const out = path.join(dir, 'wasm-out.tar');
  const b = bench([archive, out, '-from', 'root']);
  t.diagnostic(
    `archive ${(size / 1e6).toFixed(0)} MB: wasm in node ${b.wall.toFixed(1)} s, peak RSS ${(b.rssKb / 1024).toFixed(0)} MB`,
  );
  assert.equal(fs.statSync(out).size, b.outBytes);
  assert.ok(b.rssKb * 1024 < size / 4, `peak RSS ${b.rssKb} kB is not far below the archive's ${size} bytes`);
  assert.ok(b.rssKb < 400 * 1024, `peak RSS ${b.rssKb} kB over 400 MB`);

  const nativeOut = path.join(dir, 'native-out.tar');
  const t0 = process.hrtime.bigint();
  const n = run('/usr/bin/time', ['-f', '%M', CLI, '-from', 'root', '-i', archive, '-o', nativeOut], {
    timeout: 1800000,
  });
  const nativeWall = Number(process.hrtime.bigint() - t0) / 1e9;
  assert.equal(n.status, 0, n.stderr);
  t.diagnostic(
    `native CLI ${nativeWall.toFixed(1)} s, peak RSS ${(Number(n.stderr.trim().split('\n').at(-1)) / 1024).toFixed(0)} MB; wasm/native ${(b.wall / nativeWall).toFixed(1)}x`,
  );
  assert.equal(sha256File(out), sha256File(nativeOut), 'the package and the CLI wrote different archives');
});

test('the npm bin on the large archive through a pipe: spooled, then read by offsets', async (t) => {
  const out = path.join(dir, 'cli-out.tar');
  const bin = path.join(PKG_DIR, 'bin/docker-squash-wasm.mjs');
  // A real pipe from another process, as `docker save IMG | docker-squash-wasm` gives it.
  const r = run(
    'bash',
    ['-c', `cat "${archive}" | /usr/bin/time -f %M "${process.execPath}" "${bin}" -from root -o "${out}"`],
    { timeout: 1800000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const rssKb = Number(r.stderr.trim().split('\n').at(-1));
  t.diagnostic(`cat | docker-squash-wasm, ${(size / 1e6).toFixed(0)} MB: peak RSS ${(rssKb / 1024).toFixed(0)} MB`);
  assert.ok(rssKb * 1024 < size / 4, `peak RSS ${rssKb} kB`);
  assert.equal(fs.statSync(out).size > 0, true);
});
