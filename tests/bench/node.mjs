// `make bench`'s Node row: the npm package (the assembled one, as users install it) on FILE,
// step by step, each its own pass, alternating with the native CLI after a warm-up:
//   read             fs.readSync over the whole file in 4 MB slices, nothing else
//   inspect          the analysis trusting the diff_ids (as the page runs it)
//   squash-noverify  squashToFile from root, no compression, trusting the diff_ids
//   squash           the same verifying every layer with node:crypto (the default)
//   squash-wasm-sha  the same with the wasm's own SHA-256 (`sha256: null`), as browsers have
// Prints one JSON line: per step the median ms, MB/s and the ratio to the CLI's median.
//   node tests/bench/node.mjs FILE [ROUNDS]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { PKG_DIR } from '../npm/helpers.mjs';
import { CLI } from '../support/paths.mjs';

const [file, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || 3);
const pkg = await import(pathToFileURL(path.join(PKG_DIR, 'node.mjs')).href);
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'node-bench-')), 'out.tar');
const squash = (o) => pkg.squashToFile(file, out, { from: 'root', compress: 'none', ...o });

const STEPS = {
  read: async () => {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(4 << 20);
    try {
      while (fs.readSync(fd, buf) > 0);
    } finally {
      fs.closeSync(fd);
    }
  },
  inspect: () => pkg.inspect(file, { verify: false }),
  'squash-noverify': () => squash({ verify: false }),
  squash: () => squash({}),
  'squash-wasm-sha': () => squash({ sha256: null }),
};

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function cliRun() {
  const t0 = performance.now();
  const r = spawnSync(CLI, ['-from', 'root', '-compress', 'none', '-i', file, '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the CLI failed: ${r.stderr}`);
  return performance.now() - t0;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  await squash({}); // warm-up: the wasm compiled, the file in the page cache
  cliRun();
  const ms = {};
  const cli = [];
  for (let i = 0; i < rounds; i++) {
    for (const [name, fn] of Object.entries(STEPS)) {
      cli.push(cliRun());
      (ms[name] ??= []).push(await timed(fn));
    }
  }
  const size = fs.statSync(file).size;
  const report = { bytes: size, rounds, cliMs: Math.round(median(cli)), steps: {} };
  for (const [k, v] of Object.entries(ms)) {
    const m = median(v);
    report.steps[k] = { ms: Math.round(m), mbps: Math.round(size / 1e3 / m), vsCli: +(m / median(cli)).toFixed(2) };
  }
  console.log(JSON.stringify(report));
} finally {
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
}
