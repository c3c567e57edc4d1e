#!/usr/bin/env node
// Benchmark piece: squashes IN into OUT with the npm package (the wasm engine in Node) and
// prints the wall time and the peak RSS of this process.
//   node bench.mjs IN OUT [-from ID|root] [-t TAG] [-compress C] [-level N] [-format F]
// Output, one line each, for scripts:  wall_s=<seconds>  peak_rss_kb=<kB>  out_bytes=<n>
//
// Runs from the assembled package (next to node.mjs and wasm/) or from its source folder
// crates/wasm/js/ in the repository, where it loads the package `make wasm` assembled
// (wasm-pack.toml's [npm] package-dir).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function packageDir() {
  if (fs.existsSync(path.join(here, 'wasm', 'nodejs'))) return here;
  const root = path.resolve(here, '..', '..', '..');
  const toml = fs.readFileSync(path.join(root, 'wasm-pack.toml'), 'utf8');
  const npm = toml.split(/^\[/m).find((s) => s.startsWith('npm]')) || '';
  const m = /^package-dir\s*=\s*"([^"]+)"/m.exec(npm);
  if (!m) throw new Error('wasm-pack.toml has no [npm] package-dir');
  const dir = path.join(root, m[1]);
  if (!fs.existsSync(path.join(dir, 'node.mjs'))) throw new Error(`${dir} is not built: run make wasm`);
  return dir;
}

function usage(msg) {
  process.stderr.write(
    `bench: ${msg}\nusage: node bench.mjs IN OUT [-from ID|root] [-t TAG] [-compress C] [-level N] [-format F]\n`,
  );
  process.exit(2);
}

const argv = process.argv.slice(2);
const pos = [];
const opts = {};
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const flag = a.replace(/^--?/, '');
  const names = {
    from: 'from',
    f: 'from',
    t: 'tag',
    tag: 'tag',
    compress: 'compress',
    level: 'level',
    format: 'format',
  };
  if (a.startsWith('-') && names[flag.split('=')[0]]) {
    const [name, inline] = flag.split(/=(.*)/s);
    const value = inline ?? argv[++i];
    if (value === undefined) usage(`${a} needs a value`);
    opts[names[name]] = names[name] === 'level' ? Number(value) : value;
  } else if (a.startsWith('-') && a !== '-') {
    usage(`unknown flag ${a}`);
  } else {
    pos.push(a);
  }
}
if (pos.length !== 2) usage('IN and OUT are needed');
const [input, output] = pos;

const { squashToFile } = await import(pathToFileURL(path.join(packageDir(), 'node.mjs')).href);
const t0 = process.hrtime.bigint();
try {
  const report = await squashToFile(input, output, opts);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(
    `wall_s=${wall.toFixed(3)}\npeak_rss_kb=${process.resourceUsage().maxRSS}\nout_bytes=${report.outputBytes}\n`,
  );
} catch (e) {
  process.stderr.write(`bench: ${e.message}${e.code ? ` (${e.code})` : ''}\n`);
  process.exit(1);
}
