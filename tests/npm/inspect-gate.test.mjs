// `docker-squash-wasm inspect` as a CI gate: the table shows dive's efficiency and the waste
// by folder, and `--fail-under-efficiency` / `--max-wasted` end with the native CLI's exit
// status and words, the facts printed either way.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { requireBuild, workDir, run, CLI, PKG_DIR } from './helpers.mjs';
import { smallImage } from './archive.mjs';

const BIN = path.join(PKG_DIR, 'bin/docker-squash-wasm.mjs');
let archive;

before(() => {
  requireBuild();
  archive = path.join(workDir('inspect-gate'), 'small.tar');
  smallImage(archive);
});

const both = (args) => {
  const text = (r) => ({ ...r, stdout: r.stdout.toString() });
  const ours = text(run(process.execPath, [BIN, 'inspect', ...args, archive]));
  const native = text(run(CLI, ['inspect', ...args, archive]));
  return { ours, native };
};

test('the table with efficiency and waste by folder is the native CLI’s, and passes without a gate', () => {
  const { ours, native } = both([]);
  assert.equal(ours.status, 0, ours.stderr);
  assert.equal(ours.stdout, native.stdout);
  assert.match(ours.stdout, /\n {2}efficiency: \d+\.\d% \(as dive scores it: 100% is no waste\)\n/);
  assert.match(ours.stdout, /\n {2}wasted, by folder \(--json lists their largest files\):\n/);
});

test('each gate that fails: exit 1, the facts, then one line in the native CLI’s words', () => {
  for (const gate of [['--fail-under-efficiency', '0.99'], ['--max-wasted', '1B'], ['--max-wasted=0.01%']]) {
    const { ours, native } = both(gate);
    assert.equal(ours.status, 1, `${gate}: ${ours.stderr}`);
    assert.equal(native.status, 1, `${gate}: ${native.stderr}`);
    assert.equal(ours.stdout, native.stdout, `${gate}: the facts`);
    assert.equal(ours.stderr.replace(/^docker-squash-wasm:/, 'docker-squash:'), native.stderr, `${gate}`);
    assert.equal(ours.stderr.split('\n').filter(Boolean).length, 1, `${gate}: one line`);
  }
  for (const gate of [
    ['--fail-under-efficiency', '0'],
    ['--max-wasted', '1GB'],
    ['--json', '--max-wasted', '100%'],
  ]) {
    assert.equal(both(gate).ours.status, 0, `${gate} passes`);
  }
});
