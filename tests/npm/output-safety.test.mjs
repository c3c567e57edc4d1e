// The npm bin, beside the native CLI: a link planted where a temporary output could be is
// never written through, a login in a reference is never echoed, and an output that cannot
// be written is refused before the input is read (stdin stays open and silent: a run that
// read it would hang until the test's timeout kills it).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { requireBuild, workDir, run, CLI, PKG_DIR } from './helpers.mjs';
import { smallImage } from './archive.mjs';

const BIN = path.join(PKG_DIR, 'bin/docker-squash-wasm.mjs');
let dir;

before(() => {
  requireBuild();
  dir = workDir('output-safety');
});

/** Runs `cmd args` with a stdin that is never written nor closed; at most 20 s. */
function withOpenStdin(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: still running after 20 s (it waited for stdin)`));
    }, 20000);
    child.on('close', (status) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ status, stderr });
    });
  });
}

/** The same refusal from both programs, before stdin is read: status and words. */
async function bothRefuse(args, status) {
  const native = await withOpenStdin(CLI, args);
  const wasm = await withOpenStdin(process.execPath, [BIN, ...args]);
  assert.equal(native.status, status, native.stderr);
  assert.equal(wasm.status, status, wasm.stderr);
  assert.equal(wasm.stderr.replaceAll('docker-squash-wasm', 'docker-squash'), native.stderr);
  return native.stderr;
}

test('a login in a reference is refused before the input is read, and never echoed', async () => {
  for (const flag of ['-o', '-i']) {
    const err = await bothRefuse([flag, 'docker://alice:s3cret@127.0.0.1:5999/team/app:1'], 2);
    assert.ok(!err.includes('s3cret') && !err.includes('alice'), err);
    assert.ok(err.includes('docker login 127.0.0.1:5999'), err);
  }
});

test('an invalid output reference is refused before the input is read', async () => {
  const err = await bothRefuse(['-o', 'docker://127.0.0.1:5999/Team/App:1'], 2);
  assert.match(err, /invalid reference .*lowercase/);
});

test('a missing output folder, or a file where a folder should be, is refused before the input is read', async () => {
  const plain = path.join(dir, 'plain');
  fs.writeFileSync(plain, 'x');
  const missing = await bothRefuse(['-o', path.join(dir, 'no/such/folder/out.tar')], 1);
  assert.match(missing, /there is no folder .*; create it first/);
  assert.match(await bothRefuse(['-o', path.join(plain, 'out.tar')], 1), /plain is not a folder/);
  assert.match(await bothRefuse(['-o', path.join(plain, 'sub/out.tar')], 1), /plain is not a folder/);
  assert.match(await bothRefuse(['-o', dir], 1), /is a folder; give the file to write/);
});

test('links planted at pid-named temporaries are never written through, by the bin or the API', async () => {
  const input = path.join(dir, 'in.tar');
  smallImage(input);
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'precious');
  const out = path.join(dir, 'out.tar');
  const planted = [];
  for (let p = process.pid; p < process.pid + 3000; p++) {
    const l = path.join(dir, `.out.tar.tmp-${p}`);
    fs.symlinkSync(victim, l);
    planted.push(l);
  }
  const r = run(process.execPath, [BIN, '-from', 'root', '-i', input, '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  const pkg = await import(path.join(PKG_DIR, 'node.mjs'));
  const api = path.join(dir, 'api.tar');
  await pkg.squashToFile(input, api, { from: 'root' });
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
  for (const f of [out, api]) assert.ok(fs.lstatSync(f).isFile(), `${f} is a plain file`);
  assert.ok(fs.readFileSync(out).equals(fs.readFileSync(api)));
  for (const l of planted) assert.equal(fs.readlinkSync(l), victim);
  const others = fs.readdirSync(dir).filter((n) => !n.startsWith('.out.tar.tmp-'));
  assert.deepEqual(others.sort(), ['api.tar', 'in.tar', 'out.tar', 'plain', 'victim']);
});
