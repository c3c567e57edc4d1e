// The npm bin run on a large generated archive, as the interruption and changing-input
// tests need it: one work folder with the archive, fresh folders in it, and the bin
// started in the background with its own TMPDIR (so what it leaves there can be seen).

import { before, after } from 'node:test';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { requireBuild, workDir, PKG_DIR } from './helpers.mjs';
import { writeArchive } from './archive.mjs';
import { bigFill } from '../support/archive.mjs';

export const BIN = path.join(PKG_DIR, 'bin/docker-squash-wasm.mjs');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Registers the test file's before/after: a work folder `name` holding `big.tar`, one
 * layer of `files` files of 50 MiB. Returns `{ archive(), folder(name) }`.
 */
export function bigArchiveFixture(name, files) {
  let dir;
  before(() => {
    requireBuild({ cli: false });
    dir = workDir(name);
    writeArchive(path.join(dir, 'big.tar'), {
      tag: 'big:test',
      createdBy: ['/bin/sh -c #(nop) ADD file:base in / '],
      layers: [Array.from({ length: files }, (_, i) => ({ name: `f${i}`, size: 50 << 20, fill: bigFill(i) }))],
    });
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    archive: () => path.join(dir, 'big.tar'),
    /** A fresh empty folder under the work folder. */
    folder(sub) {
      const d = path.join(dir, sub);
      fs.rmSync(d, { recursive: true, force: true });
      fs.mkdirSync(d, { recursive: true });
      return d;
    },
  };
}

/** Starts the bin with `args` and TMPDIR `tmp`: `{ child, ended }`, ended giving { code, signal, stderr }. */
export function startBin(args, tmp, stdin = 'ignore') {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, TMPDIR: tmp },
    stdio: [stdin, 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const ended = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, ended };
}
