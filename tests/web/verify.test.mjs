// The page verifies the layers in helper workers while its worker squashes (one helper per
// spare core, at most three), hashing plain layers with the browser's own SHA-256 where
// the device's memory allows (else in wasm): the download is the CLI's, byte for byte,
// with one core's worth of helpers or three; a damaged layer is found and named exactly as
// the squash alone (one core) and the native CLI name it, whichever SHA-256 hashed it, and
// as soon as the file is opened (the helpers start then); Cancel ends every worker.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CLI,
  appImageSpec,
  cliSquash,
  firstDifference,
  launch,
  openArchive,
  requireBuild,
  squashAndDownload,
  startServer,
  workDir,
} from './helpers.mjs';
import { writeDockerSave } from '../support/archive.mjs';

const dir = workDir('web-verify');
const APP = path.join(dir, 'app.tar');
const DAMAGED = path.join(dir, 'damaged.tar');
const BIG = path.join(dir, 'big.tar');

/** A copy of `src` with one byte flipped in the middle of its largest member (a layer's file data). */
function damage(src, dest) {
  const bytes = fs.readFileSync(src);
  let best = null;
  for (let at = 0; at + 512 <= bytes.length;) {
    const name = bytes.toString('latin1', at, at + 100).replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(
      bytes
        .toString('latin1', at + 124, at + 136)
        .replace(/\0.*$/s, '')
        .trim() || '0',
      8,
    );
    if (!best || size > best.size) best = { name, size, data: at + 512 };
    at += 512 + Math.ceil(size / 512) * 512;
  }
  bytes[best.data + Math.floor(best.size / 2)] ^= 0xff;
  fs.writeFileSync(dest, bytes);
  return best.name;
}

/** How many layers the archive's image has, as the CLI's inspect counts them. */
function layers(archive) {
  const r = spawnSync(CLI, ['inspect', '--json', archive], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).images[0].history.filter((h) => h.layer).length;
}

describe('layers verified in parallel workers', () => {
  let server;
  let browser;

  before(async () => {
    requireBuild();
    writeDockerSave(APP, appImageSpec({ tag: 'verify/app:1', scale: 8 }));
    damage(APP, DAMAGED);
    server = await startServer();
    browser = await launch({ name: 'verify' });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A fresh page that tells the app it has `cores` cores, and `memory` GB of memory when
   * given (a tiny figure leaves no room for a layer whole: the helpers hash in wasm).
   */
  async function pageWith(cores, memory) {
    const page = await browser.context.newPage();
    await page.addInitScript((n) => Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => n }), cores);
    if (memory !== undefined)
      await page.addInitScript((m) => Object.defineProperty(navigator, 'deviceMemory', { get: () => m }), memory);
    await page.goto(server.url);
    return page;
  }

  for (const [cores, helpers] of [
    [2, 1],
    [4, 3],
  ]) {
    test(`${cores} cores: ${helpers} helper${helpers > 1 ? 's' : ''} verify; the download is the CLI's`, async () => {
      const page = await pageWith(cores);
      try {
        await openArchive(page, APP);
        const out = path.join(dir, `page-${cores}.tar`);
        const { facts, shown } = await squashAndDownload(page, out, { button: '#root' });
        assert.equal(facts.verifiers, String(helpers), shown.verifiers);
        const sizable = layers(APP);
        assert.equal(
          shown.verifiers,
          `in ${helpers} worker${helpers > 1 ? 's' : ''} alongside the squash, ${sizable} of ${sizable} with the browser's own SHA-256`,
        );
        const cli = path.join(dir, `cli-${cores}.tar`);
        cliSquash(APP, cli, { from: 'root', tag: 'verify/app:squashed' });
        assert.equal(firstDifference(out, cli), -1, 'the same bytes as the CLI');
      } finally {
        await page.close();
      }
    });
  }

  test('a damaged layer: the helpers name it as the squash alone and the CLI do', async () => {
    const native = spawnSync(CLI, ['-from', 'root', '-i', DAMAGED, '-o', path.join(dir, 'never.tar')], {
      encoding: 'utf8',
    });
    assert.equal(native.status, 1);
    const cliMessage = native.stderr.replace(/^docker-squash: /, '').trim();
    assert.match(cliMessage, /^layer \d+ \(`.+`\) has content sha256:[0-9a-f]{64} but the image config promises/);
    const shown = {};
    for (const [cores, memory] of [
      [1],
      [2],
      [4],
      [2, 1e-9], // the helper hashes in wasm
    ]) {
      const page = await pageWith(cores, memory);
      try {
        await openArchive(page, DAMAGED);
        await page.click('#root');
        await page.waitForSelector('#error:not([hidden])', { timeout: 120000 });
        assert.equal(await page.getAttribute('#error', 'data-code'), 'DIGEST_MISMATCH');
        const key = cores + (memory ? '-wasm' : '');
        shown[key] = await page.textContent('#error');
        assert.ok(shown[key].includes(cliMessage), `${key}: ${shown[key]}`);
        assert.equal(await page.isVisible('#result'), false, 'no download is offered');
      } finally {
        await page.close();
      }
    }
    assert.equal(shown[2], shown[1], 'with helpers as without');
    assert.equal(shown[4], shown[1]);
    assert.equal(shown['2-wasm'], shown[1], "with the helper's SHA-256 in wasm");
  });

  test('the helpers verify from the moment the file is opened: a damaged layer is shown unasked', async () => {
    const page = await pageWith(2);
    try {
      await openArchive(page, DAMAGED, { analysed: false });
      await page.waitForSelector('#error:not([hidden])', { timeout: 120000 });
      assert.equal(await page.getAttribute('#error', 'data-code'), 'DIGEST_MISMATCH');
      assert.equal(await page.textContent('#error-title'), 'Could not verify the layers');
      assert.match(await page.textContent('#error-detail'), /^DIGEST_MISMATCH: layer \d+ \(`.+`\) has content sha256:/);
      assert.equal(await page.isVisible('#result'), false);
    } finally {
      await page.close();
    }
  });

  test('Cancel ends the squash and every helper', async (t) => {
    writeDockerSave(BIG, appImageSpec({ tag: 'verify/big:1', scale: 300 }));
    t.after(() => fs.rmSync(BIG, { force: true }));
    const page = await pageWith(4);
    try {
      await openArchive(page, BIG);
      const closed = new Set();
      const running = new Set(page.workers());
      page.on('worker', (w) => running.add(w));
      for (const w of running) w.on('close', () => closed.add(w));
      page.on('worker', (w) => w.on('close', () => closed.add(w)));
      await page.click('#root');
      await page.waitForFunction(() => Number(document.getElementById('progress-bar').value) > 0, null, {
        timeout: 120000,
        polling: 20,
      });
      const busy = [...running].filter((w) => !closed.has(w));
      assert.ok(busy.length >= 4, `the squash and three helpers run: ${busy.length} workers`);
      await page.click('#cancel');
      await page.waitForSelector('#progress', { state: 'hidden', timeout: 2000 });
      const t0 = Date.now();
      while (busy.some((w) => !closed.has(w)) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        busy.filter((w) => !closed.has(w)).map((w) => w.url()),
        [],
        'every worker of the squash was ended',
      );
      assert.equal(await page.isVisible('#error'), false, 'cancelling is not an error');
      // And the next squash works, with new helpers.
      await squashAndDownload(page, path.join(dir, 'after-cancel.tar'), { button: '#root' });
    } finally {
      await page.close();
    }
  });
});
