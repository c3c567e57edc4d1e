// Helpers for the npm package tests: where the built package, its tarball and the native
// CLI are (as wasm-pack.toml says), running commands, the fixtures of ../shared/fixtures.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, FIXTURES, ROOT } from '../support/paths.mjs';
import { pipeArgs } from '../support/pipe.mjs';

export { CLI, FIXTURES, ROOT };
export const WORK = path.join(ROOT, 'tests/.work/npm');

/** A value of wasm-pack.toml's [section]. */
function tomlValue(section, key) {
  const text = fs.readFileSync(path.join(ROOT, 'wasm-pack.toml'), 'utf8');
  const body = text.split(/^\[/m).find((s) => s.startsWith(`${section}]`));
  const m = body && new RegExp(`^${key}\\s*=\\s*"([^"]*)"`, 'm').exec(body);
  if (!m) throw new Error(`wasm-pack.toml: no [${section}] ${key}`);
  return m[1];
}

export const PKG_DIR = path.join(ROOT, tomlValue('npm', 'package-dir'));
export const PACK_DIR = path.join(ROOT, tomlValue('npm', 'pack-dir'));

/** Fails with a clear message when what the tests need is not built. */
export function requireBuild({ cli = true } = {}) {
  if (!fs.existsSync(path.join(PKG_DIR, 'node.mjs'))) throw new Error(`${PKG_DIR} is missing: run "make wasm" first`);
  if (cli && !fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "make cli" first`);
}

export function tarball() {
  const t = fs.readdirSync(PACK_DIR).filter((f) => /^docker-squash-wasm-.*\.tgz$/.test(f));
  if (t.length !== 1)
    throw new Error(`expected one docker-squash-wasm-*.tgz in ${PACK_DIR}, found ${t.length}: run "make wasm"`);
  return path.join(PACK_DIR, t[0]);
}

/**
 * The packed tarball installed, as a user installs it, into `dir/app` (offline: every
 * dependency is in the tarball). Returns the installed package's folder.
 */
export function installPacked(dir) {
  const app = path.join(dir, 'app');
  fs.mkdirSync(app, { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  const i = run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball()], {
    cwd: app,
    env: { npm_config_cache: path.join(dir, 'npm-cache'), npm_config_registry: 'http://127.0.0.1:9/' },
  });
  if (i.status !== 0) throw new Error(`npm install of the packed tarball failed: ${i.stderr}`);
  return path.join(app, 'node_modules/docker-squash-wasm');
}

/** The package's Node entry, as built (not installed). */
export async function loadPackage() {
  requireBuild({ cli: false });
  return import(pathToFileURL(path.join(PKG_DIR, 'node.mjs')).href);
}

export function workDir(name) {
  const d = path.join(WORK, name);
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** Runs a command; returns { status, stdout (Buffer), stderr (string) }. */
export function run(cmd, args, { input, cwd, env, timeout = 600000 } = {}) {
  const r = spawnSync(cmd, args, {
    input,
    cwd,
    env: env ? { ...process.env, ...env } : process.env,
    timeout,
    maxBuffer: 1 << 30,
  });
  // EPIPE: the child stopped reading its stdin early (it refused the input): its exit
  // status and stderr are what the test judges.
  if (r.error && !(r.error.code === 'EPIPE' && r.status !== null)) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr.toString() };
}

/**
 * Runs `cat FILE | cmd args` (see ../support/pipe.mjs; `producer` replaces `cat`).
 * Returns cmd's own status, stdout and stderr.
 */
export function runPiped(file, cmd, args, { producer, ...opts } = {}) {
  return run('bash', pipeArgs(file, [cmd, ...args], { producer }), opts);
}

/** The native CLI's squash of `input` with `flags`; { status, bytes, stderr }. */
export function nativeSquash(input, flags, out) {
  fs.rmSync(out, { force: true });
  const r = run(CLI, [...flags, '-i', input, '-o', out]);
  return { status: r.status, bytes: r.status === 0 ? fs.readFileSync(out) : null, stderr: r.stderr };
}

/** The native CLI's `inspect --json`, parsed, or { error } with its message. */
export function nativeInspect(input) {
  const r = run(CLI, ['inspect', '--json', input]);
  if (r.status !== 0) return { error: r.stderr.replace(/^docker-squash: /, '').trim(), status: r.status };
  return { json: r.stdout.toString() };
}

/** Real archives of ../shared/fixtures (absent on some machines: then none). */
export function fixtureArchives() {
  if (!fs.existsSync(FIXTURES)) return [];
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.tar(\.gz|\.zst)?$/.test(e.name)) out.push(p);
    }
  };
  walk(FIXTURES);
  return out.sort();
}

export function concat(chunks) {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
}

/** First differing byte of two buffers, for messages. */
export function firstDiff(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
