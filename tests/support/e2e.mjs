// Shared by the end-to-end tests (tests/e2e/*.test.mjs): the private Docker engine, the
// CLI under test, the test images (built once: tagged by the hash of their definition, so
// a later file or a later run finds them), and the round trip
//   docker save -> docker-squash -> docker load -> docker create + docker export.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { treeOfTar } from './fscompare.mjs';
import { CLI, FIXTURES, ROOT } from './paths.mjs';
import { pipeArgs } from './pipe.mjs';
import { readTar } from './tar.mjs';

export { FIXTURES, ROOT };
export const TESTS = path.join(ROOT, 'tests');
export const IMAGES = path.join(TESTS, 'images');
export const WORK = path.join(TESTS, '.work/e2e');
export const DOCKERD_DIR = path.join(TESTS, '.work/e2e-dockerd');
export const BIN = process.env.DOCKER_SQUASH_BIN || CLI;

export function workDir(...parts) {
  const d = path.join(WORK, ...parts);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/**
 * Runs a command; throws with its stderr when it fails, unless `check: false`.
 * Returns { status, stdout (Buffer), stderr (string) }.
 */
export function run(cmd, args, { input, check = true, env, cwd, timeout = 600000 } = {}) {
  const r = spawnSync(cmd, args, {
    input,
    env: env ? { ...process.env, ...env } : process.env,
    cwd,
    maxBuffer: 2 ** 31 - 1,
    timeout,
  });
  // EPIPE: the command exited without reading all its input (an early error): not ours.
  if (r.error && !(r.error.code === 'EPIPE' && (r.status !== null || r.signal))) {
    throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  }
  const out = { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr.toString() };
  if (check && r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${out.stderr.slice(-4000)}`);
  }
  return out;
}

/** Runs a shell pipeline (bash -o pipefail). */
export function sh(script, opts = {}) {
  return run('bash', ['-o', 'pipefail', '-ec', script], opts);
}

export const docker = (args, opts) => run('docker', args, opts);
export const dockerText = (args, opts) => docker(args, opts).stdout.toString().trim();
/** The npm package's bin (built by `make wasm`): every e2e squash is run through it too. */
export const WASM_BIN =
  process.env.DOCKER_SQUASH_WASM_BIN || path.join(ROOT, 'target/npm/docker-squash-wasm/bin/docker-squash-wasm.mjs');

/**
 * Runs the native CLI; when it wrote a file (-o) from a file (-i), runs the wasm package's
 * bin with the same arguments, and the native CLI with -no-verify, and requires
 * byte-identical output, so every end-to-end case proves the npm package and the
 * headers-only reading too (their output then loads with the same filesystem).
 */
export function squashCli(args, opts) {
  const r = run(BIN, args, opts);
  const o = args.indexOf('-o');
  if (r.status === 0 && o >= 0 && args.includes('-i') && !opts?.input) {
    if (!fs.existsSync(WASM_BIN)) throw new Error(`${WASM_BIN} is missing: run "make wasm"`);
    const out = args[o + 1];
    const a = fs.readFileSync(out);
    // The same squash by the npm package's bin, and natively with -no-verify (layers
    // indexed by their headers alone): both must write exactly the same bytes.
    const others = [
      ['the npm package', process.execPath, [WASM_BIN]],
      ['-no-verify', BIN, ['-no-verify']],
    ];
    for (const [what, exe, pre] of others) {
      const otherOut = `${out}.other.tar`;
      const oargs = [...args];
      oargs[o + 1] = otherOut;
      run(exe, [...pre, ...oargs], opts);
      const b = fs.existsSync(otherOut) ? fs.readFileSync(otherOut) : Buffer.alloc(0);
      fs.rmSync(otherOut, { force: true });
      if (Buffer.compare(a, b) !== 0) {
        throw new Error(`the output of ${what} differs from the native CLI's for: ${args.join(' ')}`);
      }
    }
  }
  return r;
}

/**
 * Runs `cat FILE | docker-squash ARGS` (a real OS pipe from another process, as users
 * give stdin), then the same through the npm package's bin, and requires the same exit
 * status and, when it succeeds, byte-identical stdout. Returns the native CLI's result.
 */
export function squashPiped(file, args, opts = {}) {
  const piped = (cmd) => run('bash', pipeArgs(file, [...cmd, ...args]), { ...opts, check: false });
  const r = piped([BIN]);
  if (opts.check !== false && r.status !== 0) {
    throw new Error(`cat ${file} | docker-squash ${args.join(' ')} exited with ${r.status}:\n${r.stderr.slice(-4000)}`);
  }
  if (!fs.existsSync(WASM_BIN)) throw new Error(`${WASM_BIN} is missing: run "make wasm"`);
  const w = piped([process.execPath, WASM_BIN]);
  if (w.status !== r.status) {
    throw new Error(`through a pipe, the npm bin exited with ${w.status}, the CLI with ${r.status}: ${w.stderr}`);
  }
  if (r.status === 0 && Buffer.compare(r.stdout, w.stdout) !== 0) {
    throw new Error(`through a pipe, the npm bin's output differs from the CLI's for: ${args.join(' ')}`);
  }
  return r;
}

// ------------------------------------------------------------------ the engine

/**
 * Starts (or finds running) the private dockerd of the e2e tests and points DOCKER_HOST at
 * it. Returns a function that stops it by pid; it also stops when this process exits.
 * Test files start it through useDocker(); its data root stays, so images built by an
 * earlier file are found by the next.
 */
export function startDocker() {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run "make cli" (or set DOCKER_SQUASH_BIN)`);
  const script = path.join(TESTS, 'support/dockerd.sh');
  const r = run('bash', [script, 'start', DOCKERD_DIR], { timeout: 120000 });
  const m = r.stdout.toString().match(/DOCKER_HOST=(\S+)/);
  if (!m) throw new Error(`dockerd.sh start printed no DOCKER_HOST: ${r.stdout}${r.stderr}`);
  process.env.DOCKER_HOST = m[1];
  process.env.DOCKER_BUILDKIT = '0';
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    spawnSync('bash', [script, 'stop', DOCKERD_DIR], { stdio: 'ignore', timeout: 60000 });
  };
  process.once('exit', stop);
  return stop;
}

/**
 * The setup of every e2e test file, called at its top level: the private dockerd is
 * started before the file's tests and stopped after them. Returns the list to push every
 * tag a test loads into; those images are removed before dockerd stops.
 */
export function useDocker() {
  const loaded = [];
  let stop;
  before(() => {
    stop = startDocker();
  });
  after(() => {
    if (loaded.length) docker(['rmi', '-f', ...loaded], { check: false });
    stop?.();
  });
  return loaded;
}

// ------------------------------------------------------------------ the test images

function hashFiles(files) {
  const h = createHash('sha256');
  for (const f of files) h.update(f).update('\0').update(fs.readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 16);
}

const imageCache = new Map();

/**
 * The images: name -> { ref, middleKeep }. `middleKeep` is how many of the image's own
 * layers (above its FROM) the "middle" squash point keeps; chosen so that deletions and
 * changes above it hit files below it.
 */
export const RULE_IMAGES = {
  whiteouts: { middleKeep: 2 },
  opaque: { middleKeep: 2 },
  types: { middleKeep: 1 },
  meta: { middleKeep: 1 },
  links: { middleKeep: 1 },
  special: { middleKeep: 1 },
  names: { middleKeep: 1 },
  config: { middleKeep: 1 },
  sizes: { middleKeep: 1 },
};

function have(ref) {
  return docker(['image', 'inspect', ref], { check: false }).status === 0;
}

function buildBase() {
  const key = hashFiles([
    path.join(IMAGES, 'base.sh'),
    fs.realpathSync(run('bash', ['-c', 'command -v busybox']).stdout.toString().trim()),
  ]);
  const ref = `e2e-base:${key}`;
  if (!have(ref)) {
    const ctx = workDir('ctx', 'base');
    run('bash', [path.join(IMAGES, 'base.sh'), ctx]);
    docker(['build', '-q', '--network', 'none', '-t', ref, ctx]);
  }
  return ref;
}

function buildFrom(name, baseRef, dockerfile, contextFiles = []) {
  const key = hashFiles([dockerfile, ...contextFiles]) + baseRef.split(':')[1].slice(0, 8);
  const ref = `e2e-${name}:${key}`;
  if (!have(ref)) {
    const ctx = workDir('ctx', name);
    for (const f of contextFiles) fs.copyFileSync(f, path.join(ctx, path.basename(f)));
    docker(['build', '-q', '--network', 'none', '--build-arg', `BASE=${baseRef}`, '-t', ref, '-f', dockerfile, ctx]);
  }
  return ref;
}

/** Builds (once) and returns the ref of a test image: base, stack, handmade or a rule image. */
export function image(name) {
  if (imageCache.has(name)) return imageCache.get(name);
  let ref;
  if (name === 'base') ref = buildBase();
  else if (name === 'stack') {
    ref = buildFrom('stack', image('base'), path.join(IMAGES, 'stack/Dockerfile'), [
      path.join(IMAGES, 'stack/stack.txt'),
    ]);
  } else if (name === 'handmade') {
    const stack = image('stack');
    const key = hashFiles([path.join(IMAGES, 'handmade.py')]) + stack.split(':')[1].slice(0, 8);
    ref = `e2e-handmade:${key}`;
    if (!have(ref)) {
      const d = workDir('ctx', 'handmade');
      docker(['save', '-o', path.join(d, 'stack.tar'), stack]);
      run('python3', [path.join(IMAGES, 'handmade.py'), path.join(d, 'stack.tar'), path.join(d, 'handmade.tar'), ref]);
      docker(['load', '-q', '-i', path.join(d, 'handmade.tar')]);
    }
  } else if (RULE_IMAGES[name]) {
    ref = buildFrom(name, image('stack'), path.join(IMAGES, `${name}.Dockerfile`));
  } else throw new Error(`no test image ${name}`);
  imageCache.set(name, ref);
  return ref;
}

// ------------------------------------------------------------------ what docker says

export function inspectImage(ref) {
  return JSON.parse(dockerText(['image', 'inspect', ref]))[0];
}

/** The diff_ids of an image, bottom first. */
export function layersOf(ref) {
  return inspectImage(ref).RootFS.Layers || [];
}

/** The image's config history (from a saved archive's config: docker inspect lacks it). */
export function historyOf(ref) {
  // `docker history` lists newest first and hides empty_layer; the raw JSON keeps both.
  const rows = dockerText(['history', '--no-trunc', '--format', '{{json .}}', ref])
    .split('\n')
    .map((l) => JSON.parse(l));
  return rows.reverse();
}

const exportCache = new Map();

/** The filesystem a container of `ref` sees (see fscompare.mjs). */
export function exportTree(ref) {
  const id = inspectImage(ref).Id;
  if (exportCache.has(id)) return exportCache.get(id);
  // A command is given because some images have none; the container is never started.
  const cid = dockerText(['create', '--pull=never', '--network', 'none', ref, '/e2e-never-run']);
  try {
    const tar = docker(['export', cid]).stdout;
    const tree = treeOfTar(tar);
    exportCache.set(id, tree);
    return tree;
  } finally {
    docker(['rm', '-f', cid], { check: false });
  }
}

/** docker save to a file (once per image per run). */
export function saved(ref) {
  const id = inspectImage(ref).Id.replace('sha256:', '').slice(0, 16);
  const file = path.join(workDir('saved'), `${ref.replace(/[/:]/g, '_')}-${id}.tar`);
  if (!fs.existsSync(file)) {
    docker(['save', '-o', file + '.part', ref]);
    fs.renameSync(file + '.part', file);
  }
  return file;
}

/** Loads an archive; returns the image ids and tags docker reports. */
export function load(file) {
  const out = dockerText(['load', '-i', file]);
  const tags = [...out.matchAll(/Loaded image: (\S+)/g)].map((m) => m[1]);
  const ids = [...out.matchAll(/Loaded image ID: (\S+)/g)].map((m) => m[1]);
  return { out, tags, ids };
}

/** The manifest and config of a docker-archive written by the CLI. */
export function readArchiveMeta(file) {
  const entries = readTar(fs.readFileSync(file));
  const byName = new Map(entries.map((e) => [e.name.toString('utf8').replace(/^\.\//, ''), e]));
  const manifest = JSON.parse(byName.get('manifest.json').data.toString());
  const config = JSON.parse(byName.get(manifest[0].Config).data.toString());
  return { entries, byName, manifest, config };
}

/** Pipes `producer` into `consumer` (arrays of [cmd, ...args]) and waits; returns both statuses. */
export function pipe(producer, consumer, { input } = {}) {
  return sh(`${producer.map(q).join(' ')} | ${consumer.map(q).join(' ')}`, { input });
}

export function q(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}
