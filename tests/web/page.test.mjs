// The web page in headless Chromium: open an archive, see its history and squash points,
// squash, download; the download must equal the native CLI's output byte for byte.
// Also: drop, root in one click, Cancel, bad files, no request off the origin. Offline
// use is in offline.test.mjs.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import {
  CLI,
  FIXTURES,
  appImageSpec,
  cliSquash,
  firstDifference,
  foreignRequests,
  launch,
  openArchive,
  requireBuild,
  screenshot,
  sha256File,
  squashAndDownload,
  startServer,
  waitReady,
  workDir,
  writeGarbage,
  writeTruncated,
} from './helpers.mjs';
import { writeDockerSave } from '../support/archive.mjs';
import { exportTree, load, startDocker } from '../support/e2e.mjs';
import { diffTrees } from '../support/fscompare.mjs';
import { tarMemberNames } from '../support/tar.mjs';

const dir = workDir('web');
const APP = path.join(dir, 'webapp.tar');
const TAG = 'example.com/team/webapp:squashed';
writeDockerSave(APP, appImageSpec());

/** Squashes `input` with the CLI and checks the page's download is the same bytes. */
function assertSameAsCli(input, downloaded, choices, name) {
  const expected = path.join(dir, `${name}.cli.tar`);
  cliSquash(input, expected, choices);
  const diff = firstDifference(downloaded, expected);
  if (diff !== -1) {
    const page = tarMemberNames(downloaded);
    const cli = tarMemberNames(expected);
    const names =
      page.join(' ') === cli.join(' ')
        ? 'same member names'
        : `member names differ: page [${page.join(', ')}], CLI [${cli.join(', ')}]`;
    assert.fail(
      `${name}: the page's download differs from the CLI output at byte ${diff} ` +
        `(page ${fs.statSync(downloaded).size} bytes, CLI ${fs.statSync(expected).size} bytes; ${names})`,
    );
  }
  assert.equal(sha256File(downloaded), sha256File(expected));
}

describe('web page', () => {
  let server;
  let browser;
  let page;

  before(async () => {
    requireBuild();
    server = await startServer();
    browser = await launch({ name: 'page' });
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the empty page says the image stays local, has a strict CSP, loads only from its origin', async () => {
    await page.goto(server.url);
    await page.waitForSelector('#drop');
    assert.match(await page.textContent('body'), /your image never leaves your computer/i);
    // Registries: why the page takes archives, and what to run instead.
    assert.ok(await page.isVisible('.pick-note'));
    assert.match(
      await page.textContent('.pick-note'),
      /skopeo copy docker:\/\/REGISTRY\/APP:1 docker-archive:image\.tar/,
    );
    const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
    assert.doesNotMatch(csp, /https?:|\*|'unsafe-inline'|'unsafe-eval'/);
    // The file input is labelled and reachable by keyboard.
    assert.equal(await page.evaluate(() => document.getElementById('file').labels.length), 1);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'file');
    await screenshot(page, '1-empty');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, '1-empty-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('choosing an archive shows images, tags, history and what each squash point gives', async () => {
    await page.goto(server.url);
    await openArchive(page, APP);
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready', await page.textContent('#error'));
    assert.ok(!(await page.isVisible('.pick-note')), 'the registry note goes once an archive is open');
    const facts = await page.textContent('#facts');
    assert.match(facts, /example\.com\/team\/webapp:1\.4/);
    assert.match(facts, /linux\/amd64/);
    // History like `docker history`: newest first, 8 steps + the root row.
    const rows = await page.$$eval('#history-body tr', (trs) =>
      trs.map((tr) => ({
        text: tr.textContent,
        cls: tr.className,
        layer: tr.dataset.layer,
        radio: Boolean(tr.querySelector('input[type=radio]')),
        est: tr.querySelector('.est-col')?.textContent || '',
      })),
    );
    assert.equal(rows.length, 9);
    assert.match(rows[0].text, /ENTRYPOINT/);
    assert.match(rows[7].text, /ADD file:/);
    assert.equal(rows[8].layer, 'root');
    // Metadata-only steps are greyed and cannot be chosen; the top layer cannot either.
    for (const i of [0, 1, 4, 6]) assert.match(rows[i].cls, /empty/, `row ${i} greyed`);
    assert.equal(rows.filter((r) => r.radio).length, 4, 'root + the three layers below the top one');
    assert.match(rows[2].est, /top layer/);
    // Each squash point shows layers, size and bytes reclaimed.
    for (const r of rows.filter((x) => x.radio)) assert.match(r.est, /\d+ layers? · .+B · saves .+B/, r.text);
    // The default (first ADD file: layer) is preselected and its reason shown.
    const checked = await page.$eval('#history-body input:checked', (r) => r.closest('tr').textContent);
    assert.match(checked, /ADD file:/);
    assert.match(await page.textContent('#choice'), /Suggested: /);
    assert.equal(await page.inputValue('#tag'), 'example.com/team/webapp:squashed');
    await screenshot(page, '2-history');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, '2-history-phone');
    assert.ok(
      await page.evaluate(() => document.documentElement.scrollWidth <= 390),
      'no sideways scrolling on a phone',
    );
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('squash from a clicked layer with a tag: the download equals the CLI output', async () => {
    await page.goto(server.url);
    await openArchive(page, APP);
    // Click the apt-get layer row (keep base + apt layer, squash the two above).
    const row = page.locator('#history-body tr', { hasText: 'apt-get install' });
    await row.locator('td.cmd').click();
    assert.equal(await row.locator('input[type=radio]').isChecked(), true);
    const layerId = await row.locator('input[type=radio]').inputValue();
    assert.match(await page.textContent('#choice'), /Keeps 2 layers, merges the 2 layers above/);
    await page.fill('#tag', TAG);
    const out = path.join(dir, 'page-layer.tar');
    const { suggestedName } = await squashAndDownload(page, out);
    assert.equal(suggestedName, 'example.com-team-webapp-squashed.tar');
    assert.equal(await page.inputValue('#load-cmd'), `docker load -i ${suggestedName}`);
    assert.match(await page.textContent('#after-layers'), /^3 layers$/);
    assert.match(await page.textContent('#before-layers'), /^4 layers$/);
    await screenshot(page, '3-result');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, '3-result-phone');
    assert.ok(
      await page.evaluate(() => document.documentElement.scrollWidth <= 390),
      'no sideways scrolling on a phone',
    );
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, '3-result-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    assertSameAsCli(APP, out, { from: layerId, tag: TAG }, 'layer');
  });

  test("the download loads into the real Docker engine and shows the original's filesystem", () => {
    const out = path.join(dir, 'page-layer.tar'); // the previous test's download
    assert.ok(fs.existsSync(out), 'the previous test downloaded the squashed archive');
    const stop = startDocker();
    try {
      const original = load(APP).tags[0];
      assert.deepEqual(load(out).tags, [TAG]);
      assert.deepEqual(diffTrees(exportTree(original), exportTree(TAG)), []);
    } finally {
      stop();
    }
  });

  test('"Squash everything (root)" squashes from root in one click, the default tag applies, the chart shows the wasted space', async () => {
    await page.goto(server.url);
    await openArchive(page, APP);
    assert.equal(await page.isChecked('#history-body tr.root-row input'), false, 'the suggestion is not root');
    const out = path.join(dir, 'page-root.tar');
    await squashAndDownload(page, out, { button: '#root' });
    assert.equal(await page.isChecked('#history-body tr.root-row input'), true);
    assert.match(await page.textContent('#choice'), /root/);
    assert.match(await page.textContent('#after-layers'), /^1 layer$/);
    // The apt layer's deleted .deb files are the wasted bytes.
    const chart = await page.textContent('#chart');
    assert.match(chart, /apt-get install/);
    assert.match(chart, /973 kB of 1\.23 MB/);
    // By folder: the deleted .debs are one group, largest first; expanding it lists them.
    const groups = await page.$$eval('#groups > li summary', (s) => s.map((x) => x.textContent));
    assert.equal(groups.length, 2, groups.join(' | '));
    assert.match(groups[0], /^var\/cache\/apt\/archives\/2 files, 973 kB.*deleted by .*\(RUN rm -rf \/var\/cache\/apt/);
    assert.match(groups[1], /^app\/1 file, 19 B.*overwritten by/);
    assert.equal(await page.isVisible('#groups > li:first-child td.path'), false, 'folded until clicked');
    await page.click('#groups > li:first-child summary');
    const files = await page.$$eval('#groups > li:first-child td.path', (tds) => tds.map((t) => t.textContent));
    assert.deepEqual(files, ['var/cache/apt/archives/gcc_12.deb', 'var/cache/apt/archives/libc-dev_2.36.deb']);
    // dive's score, as the CLI computes it.
    const cli = JSON.parse(spawnSync(CLI, ['inspect', '--json', APP], { encoding: 'utf8' }).stdout);
    const e = (100 * cli.images[0].efficiency).toFixed(1);
    assert.ok(Number(e) > 0 && Number(e) < 100, e);
    assert.equal(await page.textContent('#efficiency'), `Efficiency ${e}%, as dive scores it (100% is no waste).`);
    assertSameAsCli(APP, out, { from: 'root', tag: 'example.com/team/webapp:squashed' }, 'root');
  });

  test('the default squash point with an empty tag keeps the image tags; same bytes as the CLI', async () => {
    await page.goto(server.url);
    await openArchive(page, APP);
    await page.fill('#tag', '');
    const out = path.join(dir, 'page-default.tar');
    const { suggestedName } = await squashAndDownload(page, out);
    assert.equal(suggestedName, 'webapp-squashed.tar');
    assertSameAsCli(APP, out, {}, 'default');
  });

  test('dropping a file works like choosing it', async () => {
    await page.goto(server.url);
    const bytes = fs.readFileSync(APP).toString('base64');
    const dt = await page.evaluateHandle((b64) => {
      const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const d = new DataTransfer();
      d.items.add(new File([bin], 'dropped.tar', { type: 'application/x-tar' }));
      return d;
    }, bytes);
    await page.dispatchEvent('#drop', 'dragenter', { dataTransfer: dt });
    await page.dispatchEvent('#drop', 'dragover', { dataTransfer: dt });
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
    await page.waitForSelector('#history-body tr');
    await waitReady(page);
    assert.match(await page.textContent('#file-info'), /dropped\.tar/);
    assert.match(await page.textContent('#facts'), /webapp:1\.4/);
  });

  test('keyboard: arrow keys move the squash point, Enter in the tag field squashes', async () => {
    await page.goto(server.url);
    await openArchive(page, APP);
    await page.focus('#history-body input:checked');
    await page.keyboard.press('ArrowDown'); // next radio in the group: root
    assert.equal(await page.isChecked('#history-body tr.root-row input'), true);
    await page.focus('#tag');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 120000 });
  });

  test('a file that is not an image: a clear error, and the page keeps working', async () => {
    const bad = path.join(dir, 'not-an-image.tar');
    writeGarbage(bad);
    await page.goto(server.url);
    await page.setInputFiles('#file', bad);
    await page.waitForSelector('#error:not([hidden])');
    const text = await page.textContent('#error');
    assert.match(text, /not a Docker image archive/i, text);
    assert.match(text, /docker save/);
    assert.equal(await page.isVisible('#image'), false);
    await screenshot(page, '4-error');
    // An empty file, too.
    const empty = path.join(dir, 'empty.tar');
    fs.writeFileSync(empty, '');
    await page.setInputFiles('#file', empty);
    await page.waitForFunction(() => document.getElementById('file-info').textContent.startsWith('empty.tar'));
    await page.waitForSelector('#error:not([hidden])');
    assert.equal(await page.getAttribute('#error', 'data-code'), 'NOT_AN_IMAGE');
    // Then a good one works, and the error goes away.
    await openArchive(page, APP);
    assert.equal(await page.isVisible('#error'), false);
    const out = path.join(dir, 'page-after-error.tar');
    await squashAndDownload(page, out);
    assert.ok(fs.statSync(out).size > 0);
  });

  test('a truncated archive: a clear error saying so', async () => {
    const cut = path.join(dir, 'truncated.tar');
    writeTruncated(APP, cut, 0.5);
    await page.goto(server.url);
    await page.setInputFiles('#file', cut);
    await page.waitForFunction(
      () => document.body.dataset.state === 'error' || !document.getElementById('error').hidden,
      null,
      { timeout: 60000 },
    );
    await page.waitForSelector('#error:not([hidden])');
    const text = await page.textContent('#error');
    assert.equal(await page.getAttribute('#error', 'data-code'), 'CORRUPT', text);
    assert.match(text, /damaged or incomplete/i, text);
    assert.match(text, /truncated/i, 'the engine says what is wrong in the details');
  });

  test('a tag that is not valid: a clear error, then a good tag works', async () => {
    await page.goto(server.url);
    await openArchive(page, APP);
    await page.fill('#tag', 'Not A Valid:Tag!');
    await page.click('#squash');
    await page.waitForSelector('#error:not([hidden])');
    assert.equal(await page.getAttribute('#error', 'data-code'), 'BAD_TAG');
    assert.match(await page.textContent('#error'), /not a valid image name/);
    await page.fill('#tag', 'fixed:1');
    await squashAndDownload(page, path.join(dir, 'page-fixed-tag.tar'));
  });

  test('Cancel stops at once; the next squash works', async (t) => {
    const big = path.join(dir, 'cancel.tar');
    t.after(() => fs.rmSync(big, { force: true }));
    writeDockerSave(big, appImageSpec({ tag: 'cancel/me:1', scale: 400 })); // about 800 MB
    // The analysis reads the layers' headers only, which takes a moment on an uncompressed
    // archive; a compressed one is decoded whole: long enough to skip.
    const z = spawnSync('zstd', ['-q', '-f', '-1', '-T0', '--rm', big, '-o', `${big}.zst`]);
    assert.equal(z.status, 0, `zstd (installed by make setup) failed: ${z.stderr}`);
    t.after(() => fs.rmSync(`${big}.zst`, { force: true }));
    await page.goto(server.url);
    await openArchive(page, `${big}.zst`, { analysed: false });
    // First the analysis: skipping it leaves a usable page without estimates.
    await page.waitForFunction(
      () => document.body.dataset.state === 'analysing' && Number(document.getElementById('progress-bar').value) > 0,
      null,
      { timeout: 120000 },
    );
    assert.equal(await page.textContent('#cancel'), 'Skip analysis');
    await page.click('#cancel');
    await page.waitForSelector('#progress', { state: 'hidden', timeout: 2000 });
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready');
    assert.equal(await page.isVisible('#error'), false);
    assert.deepEqual(
      await page.$$eval('#history-body td.est-col', (tds) => [...new Set(tds.map((td) => td.textContent))].sort()),
      ['', 'top layer'],
    );
    assert.equal(await page.isEnabled('#squash'), true);
    // Then a squash.
    await page.click('#root');
    await page.waitForFunction(() => Number(document.getElementById('progress-bar').value) > 0, null, {
      timeout: 120000,
    });
    const stats = await page.textContent('#progress-stats');
    assert.match(stats, /of .*B/);
    const t0 = Date.now();
    await page.click('#cancel');
    await page.waitForSelector('#progress', { state: 'hidden', timeout: 2000 });
    const ms = Date.now() - t0;
    assert.ok(ms < 2000, `cancel took ${ms} ms`);
    assert.equal(await page.isVisible('#error'), false, 'cancelling is not an error');
    assert.equal(await page.isVisible('#result'), false);
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready');
    // The page works after a cancel: squash the small archive.
    await openArchive(page, APP);
    await squashAndDownload(page, path.join(dir, 'page-after-cancel.tar'));
  });

  test('gzip- and zstd-compressed archives squash like the CLI', async (t) => {
    const gz = path.join(dir, 'webapp.tar.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(APP)));
    const inputs = [gz];
    const zst = path.join(dir, 'webapp.tar.zst');
    const z = spawnSync('zstd', ['-q', '-f', '-3', APP, '-o', zst]);
    if (z.status === 0) inputs.push(zst);
    else t.diagnostic('zstd is not installed: the .tar.zst case is left out');
    for (const input of inputs) {
      await page.goto(server.url);
      await openArchive(page, input);
      assert.equal(await page.isVisible('#error'), false, await page.textContent('#error'));
      const facts = await page.textContent('#facts');
      assert.match(facts, input.endsWith('.gz') ? /gzip/ : /zstd/);
      const out = path.join(dir, `page-${path.basename(input)}.tar`);
      await squashAndDownload(page, out, { button: '#root' });
      assertSameAsCli(input, out, { from: 'root', tag: 'example.com/team/webapp:squashed' }, path.basename(input));
    }
  });

  test('each choice of storage (gzip, zstd, plain, the Docker layout) downloads what the CLI writes, and says which', async () => {
    const choices = [
      { compress: 'gzip', format: 'oci', says: /gzip level 6/ },
      { compress: 'zstd', format: 'oci', says: /zstd level 3/ },
      { compress: 'none', format: 'oci', says: /a plain tar/ },
      { compress: 'auto', format: 'docker', says: /a plain tar.*auto: the squashed layers were plain tars/ },
    ];
    for (const c of choices) {
      await page.goto(server.url);
      await openArchive(page, APP);
      await page.selectOption('#compress', c.compress);
      await page.selectOption('#format', c.format);
      await page.fill('#tag', TAG);
      const name = `page-root-${c.compress}-${c.format}`;
      const out = path.join(dir, `${name}.tar`);
      await squashAndDownload(page, out, { button: '#root' });
      assert.match(await page.textContent('#result-facts'), c.says);
      const cli = { from: 'root', tag: TAG, format: c.format };
      if (c.compress !== 'auto') cli.compress = c.compress;
      assertSameAsCli(APP, out, cli, name);
    }
  });

  test('an archive with two images: choose the second, squash it like the CLI', async (t) => {
    const file = path.join(FIXTURES, 'go-containerregistry/v1_tarball__test_bundle.tar');
    if (!fs.existsSync(file)) {
      t.skip(`${file} is absent`);
      return;
    }
    await page.goto(server.url);
    await openArchive(page, file);
    assert.equal(await page.isVisible('#image-choice'), true);
    const labels = await page.$$eval('#image-select option', (os) => os.map((o) => o.textContent));
    assert.equal(labels.length, 2);
    const firstHistory = await page.textContent('#history-body');
    await page.selectOption('#image-select', '1');
    await waitReady(page);
    assert.match(await page.textContent('#facts'), new RegExp(labels[1].split(' ')[0]));
    assert.notEqual(await page.textContent('#history-body'), firstHistory);
    const id = await page.evaluate(() => document.querySelector('#facts').textContent.match(/ID([0-9a-f]{12})/)[1]);
    await page.check('#history-body tr.root-row input');
    await page.fill('#tag', 'second:squashed');
    const out = path.join(dir, 'page-second-image.tar');
    await squashAndDownload(page, out);
    assertSameAsCli(file, out, { from: 'root', tag: 'second:squashed', image: id }, 'second-image');
  });

  test('no request left the origin during all of the above', () => {
    const foreign = foreignRequests(browser.requests, server.url.replace(/\/$/, ''));
    assert.deepEqual(foreign, []);
    assert.ok(
      browser.requests.some((u) => u.endsWith('.wasm')),
      'the wasm request was seen',
    );
    assert.deepEqual(
      browser.consoleErrors.filter((e) => /Content Security Policy|Refused/i.test(e)),
      [],
    );
  });

  test('real archives from other tools open and squash like the CLI', async (t) => {
    if (!fs.existsSync(FIXTURES)) {
      t.skip(`${FIXTURES} is absent`);
      return;
    }
    const cases = [
      'jib/docker-save.tar',
      'rules_docker/pause.tar',
      'dive/test-kaniko-image.tar',
      'go-containerregistry/v1_mutate__whiteout_image.tar',
      'containers-image/almostempty.tar',
      'go-containerregistry/v1_tarball__no_manifest.tar',
      'go-containerregistry/v1_tarball__hello-world-v25.tar',
      'dive/test-oci-zstd-image.tar',
      'oras-go/hello-world.tar',
    ]
      .map((f) => path.join(FIXTURES, f))
      .filter((f) => fs.existsSync(f));
    if (cases.length === 0) {
      t.skip('none of the fixtures used here is present');
      return;
    }
    for (const file of cases) {
      await t.test(path.relative(FIXTURES, file), async () => {
        await page.goto(server.url);
        await openArchive(page, file);
        assert.equal(await page.isVisible('#error'), false, await page.textContent('#error'));
        // The suggested point is chosen, as a checked row, once the layers are read.
        assert.equal(await page.$$eval('#history-body input:checked', (x) => x.length), 1);
        assert.match(await page.textContent('#choice'), /Suggested: /);
        const tag = `fixture/${path
          .basename(file, '.tar')
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')}:squashed`;
        await page.check('#history-body tr.root-row input');
        await page.fill('#tag', tag);
        const out = path.join(dir, `fixture-${path.basename(file)}`);
        await squashAndDownload(page, out);
        assertSameAsCli(file, out, { from: 'root', tag }, `fixture-${path.basename(file)}`);
      });
    }
  });
});
