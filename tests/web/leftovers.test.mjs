// The page leaves nothing in the origin-private file system: a tab closed in the middle of
// a squash leaves its partial output and the new layer's scratch file only until the next
// visit, and Cancel (here while the new layer is compressed) frees them at once.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { appImageSpec, launch, openArchive, requireBuild, startServer, workDir } from './helpers.mjs';
import { writeDockerSave } from '../support/archive.mjs';

const dir = workDir('web-leftovers');
const BIG = path.join(dir, 'big.tar');

/** The squasher's files in the origin's private file system. */
const ourFiles = (page) =>
  page.evaluate(async () => {
    const names = [];
    for await (const [name] of (await navigator.storage.getDirectory()).entries()) names.push(name);
    return names.filter((n) => n.startsWith('squashed-') || n.startsWith('scratch-')).sort();
  });

async function untilNoFiles(page, what) {
  const t0 = Date.now();
  let left = await ourFiles(page);
  while (left.length && Date.now() - t0 < 15000) {
    await new Promise((r) => setTimeout(r, 200));
    left = await ourFiles(page);
  }
  assert.deepEqual(left, [], `${what}: left in the private file system`);
}

/** Starts a gzip squash from root of the big archive and waits until the new layer is being made. */
async function startCompressing(page, url) {
  await page.goto(url);
  await openArchive(page, BIG);
  await page.selectOption('#compress', 'gzip');
  await page.click('#root');
  await page.waitForFunction(() => document.getElementById('progress').dataset.phase === 'squash', null, {
    timeout: 300000,
    polling: 50,
  });
  assert.ok(
    (await ourFiles(page)).some((n) => n.startsWith('scratch-')),
    'the scratch file exists while compressing',
  );
}

describe('the private file system after interrupted squashes', () => {
  let server;
  let browser;

  before(async () => {
    requireBuild({ cli: false });
    writeDockerSave(BIG, appImageSpec({ tag: 'left/overs:1', scale: 150 }));
    server = await startServer();
    browser = await launch({ name: 'leftovers' });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    fs.rmSync(BIG, { force: true });
  });

  test('a tab closed mid-squash leaves nothing beyond the next visit', async () => {
    const first = await browser.context.newPage();
    await startCompressing(first, server.url);
    await first.close();
    const next = browser.page;
    await next.goto(server.url);
    await untilNoFiles(next, 'after the next visit');
  });

  test('Cancel while the new layer is compressed frees its files', async () => {
    const page = browser.page;
    await startCompressing(page, server.url);
    await page.click('#cancel');
    await page.waitForSelector('#progress', { state: 'hidden', timeout: 5000 });
    await untilNoFiles(page, 'after Cancel');
  });
});
