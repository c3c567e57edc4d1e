// The packed tarball (`npm pack`, made by `make wasm`) installs offline into a fresh
// folder, and what is installed works: its bin (files, stdin/stdout, inspect, the
// original's flags) and `import 'docker-squash-wasm'` give the native CLI's bytes.
// The `bundler` entry runs where WebAssembly ES modules load (Node's
// --experimental-wasm-modules does what bundlers do).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { requireBuild, tarball, workDir, run, runPiped, nativeSquash, CLI } from './helpers.mjs';
import { smallImage } from './archive.mjs';

let dir;
let app;
let bin;
let archive;

before(() => {
  requireBuild();
  dir = workDir('package');
  app = path.join(dir, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // Offline: no registry is asked for anything (the package has no dependencies).
  const r = run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball()], {
    cwd: app,
    env: { npm_config_cache: path.join(dir, 'npm-cache'), npm_config_registry: 'http://127.0.0.1:9/' },
  });
  assert.equal(r.status, 0, `npm install failed: ${r.stderr}`);
  bin = path.join(app, 'node_modules/.bin/docker-squash-wasm');
  archive = path.join(dir, 'small.tar');
  smallImage(archive);
});

test('the tarball holds the package and nothing of the build', () => {
  const files = run('tar', ['-tzf', tarball()]).stdout.toString().split('\n').filter(Boolean);
  for (const f of [
    'package/package.json',
    'package/README.md',
    'package/node.mjs',
    'package/browser.mjs',
    'package/bin/docker-squash-wasm.mjs',
    'package/wasm/nodejs/docker_squash_wasm_bg.wasm',
    'package/wasm/web/docker_squash_wasm.js',
    'package/wasm/bundler/docker_squash_wasm.js',
    'package/index.d.ts',
    'package/node.d.ts',
    'package/wasm/web/docker_squash_wasm.d.ts',
  ]) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  assert.ok(
    !files.some((f) => /node_modules|\.test\.|types\.ts|Cargo|\.rs$/.test(f)),
    `nothing else: ${files.join(' ')}`,
  );
  const pkg = JSON.parse(fs.readFileSync(path.join(app, 'node_modules/docker-squash-wasm/package.json'), 'utf8'));
  assert.equal(pkg.name, 'docker-squash-wasm');
  assert.match(pkg.version, /^\d+\.\d+\.\d+/);
  assert.ok(!JSON.stringify(pkg).includes('@OUT_NAME@'));
});

test("the installed bin squashes files as the native CLI does, with the original's flags", () => {
  const out = path.join(dir, 'bin-out.tar');
  const native = nativeSquash(archive, ['-from', 'root', '-t', 'app:squashed'], path.join(dir, 'native.tar'));
  assert.equal(native.status, 0, native.stderr);
  for (const flags of [
    ['-from', 'root', '-t', 'app:squashed'],
    ['--from', 'root', '--tag=app:squashed'],
    ['-from=root', '-t', 'app:squashed', '-verbose'],
  ]) {
    fs.rmSync(out, { force: true });
    const r = run(bin, [...flags, '-i', archive, '-o', out], { cwd: app });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.readFileSync(out).equals(native.bytes), `${flags.join(' ')}: same bytes as the CLI`);
    assert.match(r.stderr, /^docker-squash-wasm: -from root: one layer for the whole image$/m);
    if (flags.includes('-verbose')) {
      assert.match(r.stderr, /\[\s+\d+\.\ds\] input: \d+ bytes/);
      assert.match(r.stderr, /layers: 3 -> 1; size: .* -> .*; new layer sha256:[0-9a-f]{64}/);
    } else {
      assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, 'one line without -verbose');
    }
  }
});

test('the installed bin reads stdin through a pipe (plain and gzip) and writes stdout', () => {
  const native = nativeSquash(archive, [], path.join(dir, 'native-default.tar'));
  const plain = runPiped(archive, bin, [], { cwd: app });
  assert.equal(plain.status, 0, plain.stderr);
  assert.ok(plain.stdout.equals(native.bytes), 'stdin -> stdout: same bytes as the CLI');
  const gzFile = path.join(dir, 'small.tar.gz');
  fs.writeFileSync(gzFile, zlib.gzipSync(fs.readFileSync(archive)));
  const gz = runPiped(gzFile, bin, ['-verbose'], { cwd: app });
  assert.equal(gz.status, 0, gz.stderr);
  assert.match(gz.stderr, /stdin is gzip-compressed: decompressing to a temporary file/);
  assert.ok(gz.stdout.equals(native.bytes), 'gzip on stdin: same bytes');
  const dash = runPiped(archive, bin, ['-i', '-', '-o', '-'], { cwd: app });
  assert.ok(dash.stdout.equals(native.bytes), '-i - -o -');
});

test('the installed bin: inspect as the native CLI prints it, --help, --version', () => {
  const ours = run(bin, ['inspect', archive], { cwd: app });
  const theirs = run(CLI, ['inspect', archive]);
  assert.equal(ours.status, 0, ours.stderr);
  assert.equal(ours.stdout.toString(), theirs.stdout.toString());
  const json = run(bin, ['inspect', '--json', archive], { cwd: app });
  assert.equal(json.stdout.toString(), run(CLI, ['inspect', '--json', archive]).stdout.toString());
  // A compressed file is decompressed on the way in; both say what the file itself is.
  const gz = path.join(dir, 'inspect.tar.gz');
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(archive)));
  const gzOurs = run(bin, ['inspect', gz], { cwd: app }).stdout.toString();
  assert.match(gzOurs, /^archive: .* \(compression: gzip\)$/m);
  assert.equal(gzOurs, run(CLI, ['inspect', gz]).stdout.toString());
  const help = run(bin, ['--help'], { cwd: app });
  assert.equal(help.status, 0);
  assert.match(
    help.stdout.toString(),
    /^Squash the layers of a Docker image into one\.\n\nUsage:\n  docker save IMAGE \| docker-squash-wasm/,
  );
  assert.equal(
    help.stdout.toString().replaceAll('docker-squash-wasm', 'docker-squash'),
    run(CLI, ['--help']).stdout.toString(),
  );
  const v = run(bin, ['--version'], { cwd: app });
  assert.match(v.stdout.toString(), /^docker-squash-wasm \d+\.\d+\.\d+\n$/);
  const noFile = run(bin, ['inspect'], { cwd: app });
  assert.equal(noFile.status, 1);
  assert.equal(noFile.stderr, 'docker-squash-wasm: inspect needs a FILE: docker-squash-wasm inspect image.tar\n');
});

test('import "docker-squash-wasm" from the installed package: Node entry, same bytes', () => {
  const script = path.join(app, 'use.mjs');
  fs.writeFileSync(
    script,
    `
import { squash, squashToFile, inspect, version } from 'docker-squash-wasm';
import fs from 'node:fs';
const facts = await inspect(process.argv[2]);
const { chunks, report } = await squash(process.argv[2], { from: 'root', tag: 'app:squashed' });
const rep2 = await squashToFile(fs.readFileSync(process.argv[2]), process.argv[3], { from: 'root', tag: 'app:squashed' });
fs.writeFileSync(process.argv[3] + '.chunks', Buffer.concat(chunks));
console.log(JSON.stringify({ layers: facts.images[0].history.length, id: report.imageId, same: rep2.imageId === report.imageId, v: await version() }));
`,
  );
  const out = path.join(dir, 'import-out.tar');
  const r = run(process.execPath, [script, archive, out], { cwd: app });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout.toString());
  assert.equal(res.layers, 3);
  assert.ok(res.same);
  const native = nativeSquash(archive, ['-from', 'root', '-t', 'app:squashed'], path.join(dir, 'native2.tar'));
  assert.ok(fs.readFileSync(out).equals(native.bytes), 'squashToFile: same bytes as the CLI');
  assert.ok(fs.readFileSync(`${out}.chunks`).equals(native.bytes), 'squash chunks: same bytes as the CLI');
});

test('the bundler entry (wasm as an ES module import) and the low-level web glue work', () => {
  const script = path.join(app, 'bundler.mjs');
  fs.writeFileSync(
    script,
    `
import { squash } from 'docker-squash-wasm/bundler';
import init, { list } from 'docker-squash-wasm/low-level/web';
import fs from 'node:fs';
import { createRequire } from 'node:module';
const bytes = fs.readFileSync(process.argv[2]);
const { chunks } = await squash(bytes, { from: 'root' });
process.stdout.write(Buffer.concat(chunks));
const wasmPath = createRequire(import.meta.url).resolve('docker-squash-wasm/package.json').replace(/package\\.json$/, 'wasm/web/docker_squash_wasm_bg.wasm');
await init({ module_or_path: fs.readFileSync(wasmPath) });
const l = list({ size: bytes.length, readAt: (o, n) => bytes.subarray(o, o + n) });
process.stderr.write(l.images[0].tags.join());
`,
  );
  const r = run(process.execPath, ['--experimental-wasm-modules', '--no-warnings', script, archive], { cwd: app });
  assert.equal(r.status, 0, r.stderr);
  const native = nativeSquash(archive, ['-from', 'root'], path.join(dir, 'native3.tar'));
  assert.ok(r.stdout.equals(native.bytes), 'bundler entry: same bytes as the CLI');
  assert.equal(r.stderr, 'npmtest:small');
});
