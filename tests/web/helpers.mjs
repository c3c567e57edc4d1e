// Helpers for the page tests: the static server, headless Chromium, driving the page, the
// native CLI for byte-for-byte comparison, and the test archives' specs (written by
// ../support/archive.mjs).

import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { patternFill } from '../support/archive.mjs';
import { CLI, FIXTURES, ROOT } from '../support/paths.mjs';

export { CLI, FIXTURES, ROOT };
// The served folder: web/ (SQUASH_WEB_DIR may name a copy of it, e.g. with a wasm built elsewhere).
export const WEB = process.env.SQUASH_WEB_DIR ? path.resolve(process.env.SQUASH_WEB_DIR) : path.join(ROOT, 'web');
export const WORK = path.join(ROOT, 'tests/.work');
export const SHOTS = path.join(WORK, 'screenshots');

export function workDir(name) {
  const d = path.join(WORK, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** Fails with a clear message when the build the page needs is missing. */
export function requireBuild({ cli = true } = {}) {
  const wasm = path.join(WEB, 'pkg/wasm/web/docker_squash_wasm_bg.wasm');
  if (!fs.existsSync(wasm)) throw new Error(`${wasm} is missing: run "make wasm" first`);
  if (cli && !fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "make cli" first`);
}

// ------------------------------------------------------------------ server

/** Starts tests/support/serve.py on a free port; returns { url, stop, requests }. */
export async function startServer(dir = WEB) {
  const child = spawn('python3', [path.join(ROOT, 'tests/support/serve.py'), dir, '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const requests = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s) => {
    for (const line of s.split('\n')) if (line.trim()) requests.push(line);
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve.py did not start: ${out}`)), 10000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s) => {
      out += s;
      const m = out.match(/on (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve.py exited with ${code}: ${out}`));
    });
  });
  child.removeAllListeners('exit');
  let stopped = false;
  const stop = () =>
    new Promise((resolve) => {
      if (stopped || child.exitCode !== null) {
        stopped = true;
        resolve();
        return;
      }
      stopped = true;
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { url, stop, requests, pid: child.pid };
}

// ------------------------------------------------------------------ browser

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A fresh Chromium profile; records every request any page, worker or service worker makes. */
export async function launch({ viewport = { width: 1280, height: 900 }, name = 'profile' } = {}) {
  const profile = fs.mkdtempSync(path.join(workDir('profiles'), `${name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    acceptDownloads: true,
    serviceWorkers: 'allow',
  });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = context.pages()[0] || (await context.newPage());
  const consoleErrors = [];
  const watch = (p) => {
    p.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    p.on('pageerror', (e) => consoleErrors.push(String(e)));
  };
  watch(page);
  context.on('page', watch);
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, requests, consoleErrors, close, profile };
}

/** Requests that went anywhere but `origin` (blob: and data: URLs stay in the browser). */
export function foreignRequests(requests, origin) {
  return requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'));
}

export async function screenshot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// ------------------------------------------------------------------ the page, driven

/** Chooses `file` with the page's file input and waits for the history. */
export async function openArchive(page, file, { analysed = true } = {}) {
  await page.setInputFiles('#file', file);
  await page.waitForSelector('#history-body tr', { state: 'attached' });
  if (analysed) await waitReady(page);
}

/** Waits until no work runs (list and inspect are done, or failed). */
export async function waitReady(page, timeout = 600000) {
  await page.waitForFunction(() => ['ready', 'error', 'done'].includes(document.body.dataset.state), null, { timeout });
}

/**
 * Clicks `button` (#squash, or #root: "Squash everything (root)"), waits for the result and
 * downloads it to `dest`. Returns the facts shown.
 */
export async function squashAndDownload(page, dest, { timeout = 1800000, onProgress, button = '#squash' } = {}) {
  await page.click(button);
  if (onProgress) await onProgress();
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, {
    timeout,
    polling: 250,
  });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'done') {
    const err = await page.textContent('#error');
    throw new Error(`squash failed in the page: ${err.replace(/\s+/g, ' ')}`);
  }
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 600000 }), page.click('#download')]);
  await download.saveAs(dest);
  const facts = await page.$$eval('#result-facts dd', (dds) =>
    Object.fromEntries(dds.map((d) => [d.dataset.key, d.dataset.value])),
  );
  const shown = await page.$$eval('#result-facts dd', (dds) =>
    Object.fromEntries(dds.map((d) => [d.dataset.key, d.textContent])),
  );
  return { facts, shown, suggestedName: download.suggestedFilename() };
}

// ------------------------------------------------------------------ the CLI

/** Runs the native CLI on `input` with the same choices the page made. */
export function cliSquash(input, output, { from, tag, image, compress, format } = {}) {
  const args = ['-i', input, '-o', output];
  if (from) args.push('-from', from);
  if (tag) args.push('-t', tag);
  if (image) args.push('-image', image);
  if (compress) args.push('-compress', compress);
  if (format) args.push('-format', format);
  const r = spawnSync(CLI, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${CLI} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r;
}

export function sha256File(file) {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** First offset where two files differ, or -1. */
export function firstDifference(a, b) {
  const fa = fs.openSync(a, 'r');
  const fb = fs.openSync(b, 'r');
  const ba = Buffer.allocUnsafe(1 << 20);
  const bb = Buffer.allocUnsafe(1 << 20);
  try {
    for (let pos = 0; ; pos += ba.length) {
      const na = fs.readSync(fa, ba, 0, ba.length, pos);
      const nb = fs.readSync(fb, bb, 0, bb.length, pos);
      const n = Math.min(na, nb);
      for (let i = 0; i < n; i++) if (ba[i] !== bb[i]) return pos + i;
      if (na !== nb) return pos + n;
      if (na === 0) return -1;
    }
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

// ------------------------------------------------------------------ docker-save archives

const dirs = (...names) => names.map((name) => ({ name, type: 'dir' }));

/**
 * A small app image like one built from a Dockerfile: a base from `ADD file:`, metadata
 * steps, packages installed then their cache deleted, app files overwritten. `scale`
 * multiplies the file sizes (1 → about 2 MB in all).
 */
export function appImageSpec({ tag = 'example.com/team/webapp:1.4', scale = 1 } = {}) {
  const kb = (n) => Math.round(n * 1024 * scale);
  return {
    tag,
    steps: [
      {
        createdBy: '/bin/sh -c #(nop) ADD file:6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f in / ',
        entries: [
          ...dirs(
            'bin/',
            'etc/',
            'usr/',
            'usr/lib/',
            'var/',
            'var/cache/',
            'var/cache/apt/',
            'var/cache/apt/archives/',
          ),
          { name: 'bin/sh', size: kb(90), fill: patternFill(1) },
          { name: 'bin/busybox', type: 'hardlink', linkname: 'bin/sh' },
          { name: 'etc/os-release', data: 'NAME="Test Linux"\nVERSION_ID=1\n' },
          { name: 'usr/lib/libc.so.6', size: kb(300), fill: patternFill(2) },
        ],
      },
      { createdBy: '/bin/sh -c #(nop)  CMD ["sh"]' },
      {
        createdBy: '/bin/sh -c apt-get update && apt-get install -y build-essential',
        entries: [
          ...dirs('usr/', 'usr/bin/', 'var/', 'var/cache/', 'var/cache/apt/', 'var/cache/apt/archives/'),
          { name: 'usr/bin/gcc', size: kb(250), fill: patternFill(3) },
          { name: 'var/cache/apt/archives/gcc_12.deb', size: kb(600), fill: patternFill(4) },
          { name: 'var/cache/apt/archives/libc-dev_2.36.deb', size: kb(350), fill: patternFill(5) },
        ],
      },
      { createdBy: '/bin/sh -c #(nop) WORKDIR /app' },
      {
        createdBy:
          '/bin/sh -c #(nop) COPY dir:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0 in /app ',
        entries: [
          ...dirs('app/', 'app/data/'),
          { name: 'app/server.js', data: 'console.log("v1");\n' },
          { name: 'app/data/model.bin', size: kb(400), fill: patternFill(6) },
        ],
      },
      {
        createdBy: '/bin/sh -c rm -rf /var/cache/apt/archives/*.deb && echo \'console.log("v2")\' > /app/server.js',
        entries: [
          ...dirs('app/', 'var/', 'var/cache/', 'var/cache/apt/', 'var/cache/apt/archives/'),
          { name: 'app/server.js', data: 'console.log("v2");\n' },
          { name: 'var/cache/apt/archives/.wh.gcc_12.deb', size: 0 },
          { name: 'var/cache/apt/archives/.wh.libc-dev_2.36.deb', size: 0 },
        ],
      },
      { createdBy: '/bin/sh -c #(nop)  EXPOSE 8080/tcp' },
      { createdBy: '/bin/sh -c #(nop)  ENTRYPOINT ["node", "server.js"]' },
    ],
  };
}

/** Random bytes named like an archive: not an image at all. */
export function writeGarbage(file, size = 64 * 1024) {
  fs.writeFileSync(file, randomBytes(size));
}

/** A copy of `src` cut to `fraction` of its length: a truncated archive. */
export function writeTruncated(src, dest, fraction = 0.6) {
  const buf = fs.readFileSync(src);
  fs.writeFileSync(dest, buf.subarray(0, Math.floor(buf.length * fraction)));
}
