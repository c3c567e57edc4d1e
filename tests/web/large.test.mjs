// A docker-save archive of more than 3 GB squashed through the page: the worker's wasm
// memory (WebAssembly.Memory byteLength, sampled by the worker on every read, chunk and
// progress step) must stay under 512 MB, and the download must equal the CLI's output.
// The archive, the download and the CLI output are written to tests/.work/ and deleted.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  cliSquash,
  firstDifference,
  foreignRequests,
  launch,
  openArchive,
  requireBuild,
  screenshot,
  squashAndDownload,
  startServer,
  waitReady,
  workDir,
} from './helpers.mjs';
import { patternFill, writeDockerSave } from '../support/archive.mjs';
import { tarMemberNames } from '../support/tar.mjs';

const MB = 1e6;
const MiB = 1 << 20;
const LIMIT = 512 * MiB;

function bigSpec() {
  const file = (name, mib, seed) => ({ name, size: mib * MiB, fill: patternFill(seed) });
  const dirs = (...names) => names.map((name) => ({ name, type: 'dir' }));
  return {
    tag: 'big/data:1',
    steps: [
      {
        createdBy: '/bin/sh -c #(nop) ADD file:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff in / ',
        entries: [...dirs('usr/', 'usr/lib/'), file('usr/lib/base.so', 200, 1)],
      },
      { createdBy: '/bin/sh -c #(nop)  CMD ["sh"]' },
      {
        createdBy: '/bin/sh -c download-datasets',
        entries: [...dirs('data/'), file('data/a.bin', 700, 2), file('data/b.bin', 700, 3), file('data/c.bin', 300, 4)],
      },
      {
        createdBy: '/bin/sh -c rm /data/b.bin && generate-more',
        entries: [...dirs('data/'), { name: 'data/.wh.b.bin', size: 0 }, file('data/d.bin', 800, 5)],
      },
      { createdBy: '/bin/sh -c rewrite /data/a.bin', entries: [...dirs('data/'), file('data/a.bin', 450, 6)] },
    ],
  };
}

test('a 3 GB archive squashes in the page with the wasm memory under 512 MB', { timeout: 3600000 }, async (t) => {
  requireBuild();
  const dir = workDir('large');
  const input = path.join(dir, 'big.tar');
  const download = path.join(dir, 'big.page.tar');
  const expected = path.join(dir, 'big.cli.tar');
  const server = await startServer();
  const browser = await launch({ name: 'large' });
  const { page } = browser;
  const times = {};
  try {
    let t0 = Date.now();
    const { size } = writeDockerSave(input, bigSpec());
    times.generate = (Date.now() - t0) / 1000;
    assert.ok(size >= 3 * 2 ** 30, `archive is ${size} bytes`);

    await page.goto(server.url);
    t0 = Date.now();
    await openArchive(page, input, { analysed: false });
    times.list = (Date.now() - t0) / 1000;
    await waitReady(page, 1800000);
    times.inspect = (Date.now() - t0) / 1000;
    assert.equal(await page.isVisible('#error'), false, await page.textContent('#error'));

    // Root: everything goes through the squash.
    await page.fill('#tag', 'big/data:squashed');
    const shown = [];
    t0 = Date.now();
    const sampler = setInterval(async () => {
      try {
        shown.push(await page.textContent('#progress-stats'));
      } catch {
        /* page busy */
      }
    }, 2000);
    let facts;
    let shownFacts;
    try {
      ({ facts, shown: shownFacts } = await squashAndDownload(page, download, { button: '#root' }));
    } finally {
      clearInterval(sampler);
    }
    times.squashAndDownload = (Date.now() - t0) / 1000;
    await screenshot(page, '5-large-result');

    const peak = Number(facts['peak-memory']);
    const pageMBps = Number(facts.speed);
    const shownRates = shown.map((s) => Number((s || '').match(/([\d.]+) MB\/s/)?.[1])).filter((x) => x > 0);
    const report = {
      archiveBytes: size,
      outputBytes: Number(facts['output-bytes']),
      peakWasmMemoryMB: +(peak / MiB).toFixed(1),
      pageAverageMBps: +pageMBps.toFixed(1),
      pageSquashSeconds: +Number(facts.time).toFixed(1),
      pageSpeedShown: shownFacts.speed,
      progressMBpsShown: shownRates,
      sink: facts.sink,
      seconds: times,
    };
    t.diagnostic(JSON.stringify(report));
    fs.writeFileSync(path.join(workDir('reports'), 'web-large.json'), `${JSON.stringify(report, null, 2)}\n`);
    assert.ok(peak > 0, 'the worker reported its wasm memory');
    assert.ok(peak < LIMIT, `peak wasm memory ${(peak / MiB).toFixed(1)} MiB is not under 512 MiB`);
    assert.ok(shownRates.length > 0, 'the progress showed MB/s');

    t0 = Date.now();
    cliSquash(input, expected, { from: 'root', tag: 'big/data:squashed' });
    times.cli = (Date.now() - t0) / 1000;
    const diff = firstDifference(download, expected);
    assert.equal(
      diff,
      -1,
      `the page's download differs from the CLI output at byte ${diff}: ` +
        `page [${tarMemberNames(download).join(', ')}], CLI [${tarMemberNames(expected).join(', ')}]`,
    );
    assert.deepEqual(foreignRequests(browser.requests, server.url.replace(/\/$/, '')), []);
    t.diagnostic(`times: ${JSON.stringify(times)}`);
  } finally {
    await browser.close();
    await server.stop();
    for (const f of [input, download, expected]) fs.rmSync(f, { force: true });
  }
});
