// The package's browser entry in a real browser (headless Chromium, under the strict
// Content-Security-Policy of tests/support/serve.py): in a module worker a Blob is read in
// slices with FileReaderSync; on the page's main thread it is read up front with
// arrayBuffer(). Both give the native CLI's bytes; bad input is a coded Error.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { requireBuild, workDir, nativeSquash, PKG_DIR } from './helpers.mjs';
import { smallImage } from './archive.mjs';
import { startServer, launch } from '../web/helpers.mjs';

let dir;
let server;
let browser;
let want;

const WORKER = `
import { squash, inspect, list } from './pkg/browser.mjs';
async function sha256(chunks) {
  const blob = new Blob(chunks);
  const h = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(h)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
self.onmessage = async ({ data }) => {
  try {
    const blob = await (await fetch(data.url)).blob();
    const reads = [];
    const facts = await inspect(blob);
    const listed = await list(blob);
    const progress = [];
    const { chunks, report } = await squash(blob, { from: 'root', tag: 'app:squashed', onProgress: (p) => { progress.push(p.phase); } });
    let error = null;
    try { await squash(new Blob(['not an archive at all'.repeat(50)])); } catch (e) { error = { code: e.code, message: e.message, isError: e instanceof Error }; }
    postMessage({ ok: true, worker: typeof FileReaderSync === 'function', hash: await sha256(chunks), report,
      layers: facts.images[0].history.length, format: listed.format, phases: [...new Set(progress)], error });
  } catch (e) {
    postMessage({ ok: false, message: String(e && e.message || e), code: e && e.code });
  }
};
`;

const MAIN = `
import { squash } from './pkg/browser.mjs';
window.runMain = async (url) => {
  const blob = await (await fetch(url)).blob();
  const { chunks } = await squash(blob, { from: 'root', tag: 'app:squashed' });
  const h = await crypto.subtle.digest('SHA-256', await new Blob(chunks).arrayBuffer());
  return [...new Uint8Array(h)].map((b) => b.toString(16).padStart(2, '0')).join('');
};
window.runWorker = (url) => new Promise((resolve) => {
  const w = new Worker('./worker.mjs', { type: 'module' });
  w.onmessage = (e) => resolve(e.data);
  w.onerror = (e) => resolve({ ok: false, message: e.message || 'worker error' });
  w.postMessage({ url });
});
document.body.dataset.ready = '1';
`;

before(async () => {
  requireBuild();
  dir = workDir('browser');
  fs.cpSync(PKG_DIR, path.join(dir, 'pkg'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'worker.mjs'), WORKER);
  fs.writeFileSync(path.join(dir, 'main.mjs'), MAIN);
  fs.writeFileSync(
    path.join(dir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>npm package</title><link rel="icon" href="data:,"><body><script type="module" src="main.mjs"></script></body>',
  );
  const archive = path.join(dir, 'small.tar');
  smallImage(archive);
  const native = nativeSquash(archive, ['-from', 'root', '-t', 'app:squashed'], path.join(dir, 'native.tar'));
  assert.equal(native.status, 0, native.stderr);
  want = crypto.createHash('sha256').update(native.bytes).digest('hex');
  fs.rmSync(path.join(dir, 'native.tar'));
  server = await startServer(dir);
  browser = await launch({ name: 'npm' });
  await browser.page.goto(server.url);
  await browser.page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: 60000 });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('in a module worker (FileReaderSync): same bytes as the native CLI, progress, coded errors', async () => {
  const r = await browser.page.evaluate((url) => window.runWorker(url), `${server.url}small.tar`);
  assert.ok(r.ok, `the worker failed: ${r.message} (${r.code})`);
  assert.equal(r.worker, true, 'FileReaderSync exists in the worker');
  assert.equal(r.hash, want, 'same bytes as the native CLI');
  assert.equal(r.report.layersAfter, 1);
  assert.equal(r.layers, 3);
  assert.equal(r.format, 'docker-save (1.10-24)');
  // The OCI layout names the new layer's blob by its digest: it is made (and measured)
  // before the archive is written.
  assert.deepEqual(r.phases, ['read', 'squash', 'write']);
  assert.ok(r.error && r.error.isError, 'bad input throws an Error');
  assert.equal(r.error.code, 'NOT_AN_IMAGE');
  assert.deepEqual(browser.consoleErrors, []);
});

test("on the page's main thread (Blob read with arrayBuffer): same bytes", async () => {
  const hash = await browser.page.evaluate((url) => window.runMain(url), `${server.url}small.tar`);
  assert.equal(hash, want);
  assert.deepEqual(browser.consoleErrors, []);
});
