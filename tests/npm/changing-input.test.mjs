// Inputs that change under the npm bin: a file truncated, appended to or rewritten while it
// is read, and a stdin that ends early, give one clear line naming what happened (the
// native CLI's words), exit 1, and leave no output, never a silently wrong image.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bigArchiveFixture, startBin, sleep } from './bin-run.mjs';

const fixture = bigArchiveFixture('changing-input', 4);
const folder = fixture.folder;

/** Squashes a copy of the archive to a file and runs `change` on the copy once the squash has started. */
async function squashWhile(name, change) {
  const d = folder(name);
  const input = path.join(d, 'in.tar');
  fs.copyFileSync(fixture.archive(), input);
  const [outDir, tmp] = [folder(`${name}-out`), folder(`${name}-tmp`)];
  const r = startBin(['-from', 'root', '-compress', 'gzip', '-i', input, '-o', path.join(outDir, 'out.tar')], tmp);
  const t0 = Date.now();
  while (fs.readdirSync(outDir).length === 0) {
    assert.ok(Date.now() - t0 < 60000, `${name}: the squash never started`);
    await sleep(2);
  }
  change(input);
  return { ...(await r.ended), outDir, tmp, input };
}

function assertRefused(what, { code, stderr, outDir, tmp }, says) {
  assert.equal(code, 1, `${what}: exit ${code}, stderr: ${stderr}`);
  const lines = stderr.split('\n').filter((l) => l.trim());
  assert.equal(lines.length, 1, `${what}: one line on stderr: ${stderr}`);
  assert.ok(lines[0].startsWith('docker-squash-wasm: '), `${what}: ${lines[0]}`);
  assert.ok(lines[0].includes(says), `${what}: ${lines[0]}`);
  assert.deepEqual(fs.readdirSync(outDir), [], `${what}: something was left in the output folder`);
  assert.deepEqual(fs.readdirSync(tmp), [], `${what}: something was left in the temporary folder`);
}

test('a file truncated while it is read: an error that says so, with both lengths, and no output', async () => {
  const size = fs.statSync(fixture.archive()).size;
  const half = Math.floor(size / 2);
  const r = await squashWhile('truncated', (p) => fs.truncateSync(p, half));
  assertRefused('truncated', r, `${r.input} changed while it was read (truncated: ${half} bytes, ${size} when opened)`);
});

test('a file appended to while it is read: an error that says so, and no output', async () => {
  const size = fs.statSync(fixture.archive()).size;
  const r = await squashWhile('appended', (p) => fs.appendFileSync(p, Buffer.alloc(4096)));
  assertRefused('appended', r, `changed while it was read (appended to: ${size + 4096} bytes, ${size} when opened)`);
});

test('a file rewritten in place (same length) while it is read: an error that says so, and no output', async () => {
  const r = await squashWhile('rewritten', (p) => {
    const fd = fs.openSync(p, 'r+');
    fs.writeSync(fd, Buffer.alloc(4096, 7), 0, 4096, 1 << 20);
    fs.closeSync(fd);
  });
  assertRefused('rewritten', r, 'was rewritten while it was read; nothing was written');
});

test('a stdin that ends early: an error that says the input is cut short, and no output', async () => {
  const [outDir, tmp] = [folder('early-out'), folder('early-tmp')];
  const r = startBin(['-from', 'root', '-o', path.join(outDir, 'out.tar')], tmp, 'pipe');
  const bytes = fs.readFileSync(fixture.archive());
  r.child.stdin.end(bytes.subarray(0, Math.floor((bytes.length * 2) / 3)));
  const { code, stderr } = await r.ended;
  assertRefused('stdin cut short', { code, stderr, outDir, tmp }, 'truncated');
});
