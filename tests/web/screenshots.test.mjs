// Every state of the page (empty, analysing, history, squashing with progress, result with
// the waste report unfolded, error), in light and dark, on a desktop and a phone: a
// screenshot of each in tests/.work/web/screenshots/states/, and none scrolls sideways.
// The analysing and squashing states are caught on an archive that takes a while: a
// gzip-compressed one, which must be decompressed to be analysed (a plain one is analysed
// from its tar headers in a blink).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  SHOTS,
  appImageSpec,
  launch,
  requireBuild,
  startServer,
  waitReady,
  workDir,
  writeGarbage,
} from './helpers.mjs';
import { writeDockerSave } from '../support/archive.mjs';

const dir = workDir('web-screenshots');
const BIG = path.join(dir, 'big.tar.gz');
const GARBAGE = path.join(dir, 'garbage.tar');
const OUT = path.join(SHOTS, 'states');
const LOOKS = [
  { name: 'light', viewport: { width: 1280, height: 900 }, colorScheme: 'light' },
  { name: 'dark', viewport: { width: 1280, height: 900 }, colorScheme: 'dark' },
  { name: 'phone', viewport: { width: 390, height: 844 }, colorScheme: 'light' },
  { name: 'phone-dark', viewport: { width: 390, height: 844 }, colorScheme: 'dark' },
];

const stateIs = (page, states, timeout = 600000) =>
  page.waitForFunction((s) => s.includes(document.body.dataset.state), states, { timeout, polling: 20 });

describe('the page in every state, look and width', () => {
  let server;
  let browser;

  before(async () => {
    requireBuild({ cli: false });
    const plain = path.join(dir, 'big.tar');
    writeDockerSave(plain, appImageSpec({ tag: 'shots/app:1', scale: 120 }));
    fs.writeFileSync(BIG, zlib.gzipSync(fs.readFileSync(plain), { level: 1 }));
    fs.rmSync(plain);
    writeGarbage(GARBAGE);
    fs.mkdirSync(OUT, { recursive: true });
    server = await startServer();
    browser = await launch({ name: 'screenshots' });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const look of LOOKS) {
    test(`${look.name}: empty, analysing, history, squashing, result, error`, async () => {
      const page = browser.page;
      await page.setViewportSize(look.viewport);
      await page.emulateMedia({ colorScheme: look.colorScheme });
      const shots = [];
      const shot = async (state) => {
        const file = path.join(OUT, `${state}-${look.name}.png`);
        await page.screenshot({ path: file, fullPage: true });
        shots.push(file);
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(wide <= look.viewport.width, `${state} (${look.name}) scrolls sideways: ${wide}px`);
      };

      await page.goto(server.url);
      await stateIs(page, ['empty']);
      await shot('1-empty');

      await page.setInputFiles('#file', BIG);
      await stateIs(page, ['analysing']);
      await page.waitForFunction(() => Number(document.getElementById('progress-bar').value) > 0, null, {
        timeout: 120000,
        polling: 20,
      });
      await shot('2-analysing');
      assert.equal(
        await page.evaluate(() => document.body.dataset.state),
        'analysing',
        'still analysing after the shot',
      );
      await waitReady(page);
      assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready');
      await shot('3-history');

      await page.click('#root');
      await page.waitForFunction(() => /MB\/s/.test(document.getElementById('progress-stats').textContent), null, {
        timeout: 300000,
        polling: 20,
      });
      assert.match(await page.textContent('#progress-stats'), /of .*B · [\d.]+ MB\/s/);
      await shot('4-squashing');
      assert.equal(
        await page.evaluate(() => document.body.dataset.state),
        'squashing',
        'still squashing after the shot',
      );
      await stateIs(page, ['done', 'error']);
      assert.equal(await page.evaluate(() => document.body.dataset.state), 'done', await page.textContent('#error'));
      await page.click('#groups > li:first-child summary');
      await shot('5-result');

      await page.setInputFiles('#file', GARBAGE);
      await stateIs(page, ['error']);
      await shot('6-error');
      assert.equal(shots.length, 6);
      for (const f of shots) assert.ok(fs.statSync(f).size > 10000, `${f} is a real picture`);
    });
  }
});
