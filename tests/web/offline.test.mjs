// The web page works offline: after one visit, its service worker serves the page, the
// worker and the wasm with the server gone, and an archive squashes with no request made.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  appImageSpec,
  foreignRequests,
  launch,
  openArchive,
  requireBuild,
  squashAndDownload,
  startServer,
  workDir,
} from './helpers.mjs';
import { writeDockerSave } from '../support/archive.mjs';

const dir = workDir('offline');
const APP = path.join(dir, 'webapp.tar');
writeDockerSave(APP, appImageSpec());

describe('offline', () => {
  test('after one visit the page works with the server gone', async () => {
    requireBuild({ cli: false });
    const server = await startServer();
    const browser = await launch({ name: 'offline' });
    const { page, context } = browser;
    try {
      await page.goto(server.url);
      await page.evaluate(() => navigator.serviceWorker.ready);
      // The worker script and the wasm are cached at install; wait until it controls the page.
      await page.reload();
      assert.equal(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)), true);
      await server.stop();
      await context.setOffline(true);
      await page.reload();
      await page.waitForSelector('#drop');
      await openArchive(page, APP);
      assert.equal(await page.isVisible('#error'), false, await page.textContent('#error'));
      const out = path.join(dir, 'page-offline.tar');
      await squashAndDownload(page, out);
      assert.ok(fs.statSync(out).size > 0);
      assert.deepEqual(foreignRequests(browser.requests, server.url.replace(/\/$/, '')), []);
    } finally {
      await browser.close();
      await server.stop();
    }
  });
});
