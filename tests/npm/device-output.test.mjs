// The npm bin and squashToFile with an output that is a device or a pipe (`-o /dev/null`, a
// FIFO): written to directly, never replaced by a renamed temporary file.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { requireBuild, loadPackage, workDir, run, PKG_DIR } from './helpers.mjs';
import { smallImage } from './archive.mjs';

const BIN = path.join(PKG_DIR, 'bin/docker-squash-wasm.mjs');
let dir;
let archive;
let pkg;

before(async () => {
  requireBuild({ cli: false });
  pkg = await loadPackage();
  dir = workDir('device-output');
  archive = path.join(dir, 'small.tar');
  smallImage(archive);
});

const noTemporaries = () => fs.readdirSync('/dev').filter((n) => n.startsWith('.null.') && n.endsWith('.tmp'));

test('-o /dev/null and squashToFile("/dev/null") leave /dev/null a device', async () => {
  const r = run(process.execPath, [BIN, '-from', 'root', '-i', archive, '-o', '/dev/null']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(fs.statSync('/dev/null').isCharacterDevice(), '/dev/null was replaced');
  await pkg.squashToFile(archive, '/dev/null', { from: 'root' });
  assert.ok(fs.statSync('/dev/null').isCharacterDevice(), '/dev/null was replaced');
  assert.deepEqual(noTemporaries(), []);
});

test('a FIFO gets the same archive as a file', async () => {
  const fifo = path.join(dir, 'out.fifo');
  fs.rmSync(fifo, { force: true });
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const child = spawn(process.execPath, [BIN, '-from', 'root', '-i', archive, '-o', fifo], { stdio: 'ignore' });
  const chunks = [];
  for await (const c of fs.createReadStream(fifo)) chunks.push(c);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  assert.ok(fs.statSync(fifo).isFIFO(), 'still a FIFO');
  const file = path.join(dir, 'out.tar');
  assert.equal(run(process.execPath, [BIN, '-from', 'root', '-i', archive, '-o', file]).status, 0);
  assert.deepEqual(Buffer.concat(chunks), fs.readFileSync(file));
});

test('a folder is refused at once, with what to give instead', () => {
  const r = run(process.execPath, [BIN, '-from', 'root', '-i', archive, '-o', dir]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /is a folder; give the file to write/);
});
