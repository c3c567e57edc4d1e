// Squashing where the image lives, with no pipe: `-i docker-daemon:X -o docker-daemon:T`,
// the bare `docker-squash [-t T] IMAGE` (read from the engine, loaded back), and podman's
// `containers-storage:`, by both CLIs. The engines are the tests' own: the private dockerd
// reached only through DOCKER_HOST (there is no system daemon), and podman on a private
// store named by CONTAINERS_STORAGE_CONF.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN,
  WASM_BIN,
  docker,
  image,
  inspectImage,
  layersOf,
  load,
  run,
  saved,
  squashCli,
  useDocker,
  workDir,
} from '../support/e2e.mjs';
import { assertSameFilesystem } from '../support/roundtrip.mjs';
import { writeArchive } from '../npm/archive.mjs';
import { bigFill } from '../support/archive.mjs';

const loaded = useDocker();

const CLIS = [
  { name: 'native', prog: 'docker-squash', cmd: (args) => [BIN, args] },
  { name: 'npm bin', prog: 'docker-squash-wasm', cmd: (args) => [process.execPath, [WASM_BIN, ...args]] },
];

const squash = (cli, args, opts = {}) => run(...cli.cmd(args), { check: false, ...opts });
const has = (ref) => docker(['image', 'inspect', ref], { check: false }).status === 0;

/** The id of the image the archive route gives for the same squash (saved file in, file out). */
function idByArchive(src, args, tag) {
  const out = path.join(workDir('engine'), `${tag.replace(/[/:]/g, '_')}.tar`);
  squashCli([...args, '-t', tag, '-i', saved(src), '-o', out]);
  load(out);
  loaded.push(tag);
  return inspectImage(tag).Id;
}

for (const cli of CLIS) {
  const slug = cli.name.replace(/\W/g, '');
  describe(`${cli.name}: docker-daemon:`, () => {
    test('-i docker-daemon:X -o docker-daemon:T loads the squash DOCKER_HOST names, as the archive route does', () => {
      const src = image('whiteouts');
      const tag = `e2e-engine-${slug}:root`;
      loaded.push(tag);
      const r = squash(cli, ['-from', 'root', '-i', `docker-daemon:${src}`, '-o', `docker-daemon:${tag}`]);
      assert.equal(r.status, 0, r.stderr.toString());
      const said = r.stderr.toString();
      assert.match(said, new RegExp(`^${cli.prog}: -from root: one layer`, 'm'));
      assert.match(said, new RegExp(`^${cli.prog}: layers: \\d+ -> 1; `, 'm'));
      assert.match(said, new RegExp(`^${cli.prog}: Loaded image: ${tag}$`, 'm'));
      assert.equal(layersOf(tag).length, 1);
      assertSameFilesystem(src, tag);
      // The same image, byte for byte, as `docker save` to a file, squashed, `docker load`.
      assert.equal(inspectImage(tag).Id, idByArchive(src, ['-from', 'root'], `e2e-engine-${slug}:root-file`));
    });

    test('a docker context is honoured as docker itself honours it (DOCKER_CONTEXT, no DOCKER_HOST)', () => {
      const config = workDir('engine', `context-${slug}`);
      const env = { ...process.env, DOCKER_CONFIG: config };
      run('docker', ['context', 'rm', '-f', 'e2e-private'], { env, check: false });
      run('docker', ['context', 'create', 'e2e-private', '--docker', `host=${process.env.DOCKER_HOST}`], { env });
      delete env.DOCKER_HOST;
      env.DOCKER_CONTEXT = 'e2e-private';
      const tag = `e2e-engine-${slug}:context`;
      loaded.push(tag);
      const r = squash(cli, ['-from', 'root', '-i', `docker-daemon:${image('links')}`, '-o', `docker-daemon:${tag}`], {
        env,
      });
      assert.equal(r.status, 0, r.stderr.toString());
      assert.equal(layersOf(tag).length, 1);
    });

    test('the bare IMAGE is squashed in place: under -t, else under its own name', () => {
      const src = image('opaque');
      const name = `e2e-engine-${slug}-bare:1`;
      docker(['tag', src, name]);
      loaded.push(name, `e2e-engine-${slug}-bare:sq`);
      let r = squash(cli, ['-t', `e2e-engine-${slug}-bare:sq`, name]);
      assert.equal(r.status, 0, r.stderr.toString());
      assert.match(r.stderr.toString(), new RegExp(`Loaded image: e2e-engine-${slug}-bare:sq`));
      assert.ok(layersOf(`e2e-engine-${slug}-bare:sq`).length < layersOf(name).length);
      assertSameFilesystem(src, `e2e-engine-${slug}-bare:sq`);
      r = squash(cli, ['-from', 'root', name]);
      assert.equal(r.status, 0, r.stderr.toString());
      assert.match(r.stderr.toString(), new RegExp(`Loaded image: ${name}`));
      assert.equal(layersOf(name).length, 1);
      assertSameFilesystem(src, name);
    });

    test('errors name the engine and what it said; nothing is loaded', () => {
      let r = squash(cli, ['-i', 'docker-daemon:e2e-engine-missing:1', '-o', `docker-daemon:e2e-engine-${slug}:no`]);
      assert.equal(r.status, 1);
      assert.equal(
        r.stderr.toString(),
        `${cli.prog}: \`docker save e2e-engine-missing:1\` failed: Error response from daemon: reference does not exist\n`,
      );
      assert.ok(!has(`e2e-engine-${slug}:no`));
      r = squash(cli, ['e2e-engine-missing:1'], { env: { ...process.env, PATH: '/nonexistent' } });
      assert.equal(
        r.stderr.toString(),
        `${cli.prog}: cannot run \`docker\` for docker-daemon:e2e-engine-missing:1: it is not on PATH; install it, or give an archive file with -i/-o\n`,
      );
      r = squash(cli, [image('links')], { env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent.sock' } });
      assert.equal(r.status, 1);
      assert.match(
        r.stderr.toString(),
        new RegExp(`^${cli.prog}: \`docker save e2e-links:\\w+\` failed: .*Cannot connect`),
      );
      // A damaged archive is refused before anything reaches the load.
      const bad = path.join(workDir('engine'), 'damaged.tar');
      fs.writeFileSync(bad, Buffer.alloc(4096, 7));
      r = squash(cli, ['-i', bad, '-o', `docker-daemon:e2e-engine-${slug}:bad`]);
      assert.equal(r.status, 1);
      assert.ok(!has(`e2e-engine-${slug}:bad`), 'a failed squash loads nothing');
    });

    test('SIGTERM while the result is written: 143, one line, nothing loaded, nothing left', async () => {
      const dir = workDir('engine', `sig-${slug}`);
      const tmp = path.join(dir, 'tmp');
      fs.rmSync(tmp, { recursive: true, force: true });
      fs.mkdirSync(tmp);
      const big = path.join(dir, 'big.tar');
      if (!fs.existsSync(big)) {
        writeArchive(big, {
          tag: 'e2e-engine-big:1',
          createdBy: ['/bin/sh -c #(nop) ADD file:base in / '],
          layers: [Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, size: 50 << 20, fill: bigFill(i) }))],
        });
      }
      const tag = `e2e-engine-${slug}:sig`;
      const [exe, args] = cli.cmd(['-verbose', '-from', 'root', '-i', big, '-o', `docker-daemon:${tag}`]);
      const child = spawn(exe, args, { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const ended = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
      // The output opens right after the listing; squashing 300 MB then takes a while.
      const t0 = Date.now();
      while (!/image 0: /.test(stderr)) {
        assert.ok(Date.now() - t0 < 60000, `no listing: ${stderr}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 200));
      child.kill('SIGTERM');
      const code = await ended;
      assert.equal(code, 143, stderr);
      const last = stderr.trim().split('\n').pop();
      assert.equal(last, `${cli.prog}: interrupted by SIGTERM: the load was stopped, nothing was loaded`, stderr);
      assert.ok(!has(tag), 'nothing was loaded');
      assert.deepEqual(fs.readdirSync(tmp), [], 'the temporary folder holds nothing new');
    });
  });
}

/** podman on a private store, for the CLIs (which run plain `podman save`/`podman load`). */
function podmanStore() {
  const d = workDir('engine', 'podman');
  const conf = path.join(d, 'storage.conf');
  fs.writeFileSync(conf, `[storage]\ndriver = "vfs"\ngraphroot = "${d}/root"\nrunroot = "${d}/run"\n`);
  const env = { ...process.env, CONTAINERS_STORAGE_CONF: conf };
  return { env, podman: (args) => run('podman', args, { env }) };
}

const havePodman = run('bash', ['-c', 'command -v podman'], { check: false }).status === 0;

describe('containers-storage: (podman)', { skip: !havePodman && 'podman is not installed' }, () => {
  for (const cli of CLIS) {
    test(`${cli.name}: -i containers-storage:X -o containers-storage:T, the same filesystem`, () => {
      const { env, podman } = podmanStore();
      const src = image('links');
      podman(['load', '-i', saved(src)]);
      const tag = `localhost/e2e-engine-podman-${cli.name.replace(/\W/g, '')}:sq`;
      const r = squash(cli, ['-from', 'root', '-i', `containers-storage:${src}`, '-o', `containers-storage:${tag}`], {
        env,
      });
      assert.equal(r.status, 0, r.stderr.toString());
      assert.match(r.stderr.toString(), /Loaded image: /);
      const info = JSON.parse(podman(['image', 'inspect', tag]).stdout)[0];
      assert.equal(info.RootFS.Layers.length, 1);
      // Back through docker, to compare the trees the way every other test does.
      const out = path.join(workDir('engine'), 'podman-out.tar');
      fs.rmSync(out, { force: true });
      podman(['save', '-o', out, tag]);
      const said = docker(['load', '-i', out]).stdout.toString();
      const loadedAs = said.match(/Loaded image: (\S+)/)[1];
      loaded.push(loadedAs);
      assertSameFilesystem(src, loadedAs);
      podman(['rmi', '-f', tag]);
    });
  }
});
