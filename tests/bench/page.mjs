// `make bench`'s page row: headless Chromium squashes FILE from root (no compression)
//   - in the page itself (web/), timed as the page times it: from the click on "Squash
//     everything (root)" to the download being offered (and, as `…-from-drop`, from the
//     file being dropped: the listing, the analysis and the helpers' verification, which
//     start at once, included), the layers verified by helper
//     workers as on this machine's cores, and with 8 cores claimed (more helpers than
//     cores: what the page would reach with 8, approximately), and with 1 (no helpers);
//   - step by step in one worker (page/probe-worker.mjs), each step its own pass;
// alternating with the native CLI on the same file after a warm-up. Prints one JSON line:
// per step the median ms, MB/s and the ratio to the CLI's median.
//   node tests/bench/page.mjs FILE [ROUNDS]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { launch, openArchive, startServer, ROOT, CLI } from '../web/helpers.mjs';

const [file, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || 3);
const STEPS = [
  { step: 'read' },
  { step: 'list' },
  { step: 'inspect', options: { verify: false } }, // as the page analyses
  { step: 'squash-noverify', options: { compress: 'none' } },
  { step: 'squash', options: { compress: 'none' } },
  { step: 'read-whole' },
  { step: 'digest-whole' },
  { step: 'verify' },
];

// The probe next to the package's browser entry, as the page has it.
const site = fs.mkdtempSync(path.join(os.tmpdir(), 'page-bench-'));
fs.symlinkSync(path.join(ROOT, 'web/pkg'), path.join(site, 'pkg'));
for (const f of ['probe.html', 'probe.mjs', 'probe-worker.mjs']) {
  fs.copyFileSync(path.join(ROOT, 'tests/bench/page', f), path.join(site, f));
}
const server = await startServer(site);
const app = await startServer();
const browser = await launch({ name: 'pagebench' });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function pageRun() {
  const page = browser.page;
  await page.goto(`${server.url}probe.html`);
  await page.evaluate((s) => (document.body.dataset.steps = JSON.stringify(s)), STEPS);
  await page.setInputFiles('#file', file);
  await page.waitForFunction(() => window.benchResult, null, { timeout: 1800000, polling: 200 });
  const r = await page.evaluate(() => window.benchResult);
  if (r.error) throw new Error(`the page failed: ${r.error}`);
  return r;
}

/** The page's own squash (ms, as its result shows), telling the page it has `cores` cores. */
async function appRun(cores) {
  const page = await browser.context.newPage();
  try {
    if (cores)
      await page.addInitScript((n) => Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => n }), cores);
    await page.goto(app.url);
    const dropped = performance.now();
    await openArchive(page, file);
    await page.selectOption('#compress', 'none');
    await page.click('#root');
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, {
      timeout: 1800000,
      polling: 100,
    });
    const r = await page.evaluate(() => ({
      state: document.body.dataset.state,
      error: document.getElementById('error').textContent,
      seconds: Number(document.querySelector('#result-facts dd[data-key="time"]')?.dataset.value),
    }));
    if (r.state !== 'done') throw new Error(`the page failed: ${r.error}`);
    return { click: r.seconds * 1000, drop: performance.now() - dropped };
  } finally {
    await page.close();
  }
}

function cliRun() {
  const t0 = performance.now();
  const r = spawnSync(CLI, ['-from', 'root', '-compress', 'none', '-i', file, '-o', '/dev/null'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the CLI failed: ${r.stderr}`);
  return performance.now() - t0;
}

try {
  await pageRun(); // warm-up: the wasm compiled, the file in the page cache
  cliRun();
  const page = {};
  const cli = [];
  let peak = 0;
  for (let i = 0; i < rounds; i++) {
    const r = await pageRun();
    for (const s of r.steps) (page[s.step] ??= []).push(s.ms);
    peak = Math.max(peak, r.memoryPeak);
    for (const [name, cores] of [
      ['page', undefined],
      ['page-8-cores', 8],
      ['page-1-core', 1],
    ]) {
      cli.push(cliRun());
      const t = await appRun(cores);
      (page[name] ??= []).push(t.click);
      (page[`${name}-from-drop`] ??= []).push(t.drop);
    }
  }
  const size = fs.statSync(file).size;
  const out = { bytes: size, rounds, cliMs: Math.round(median(cli)), wasmMemoryPeak: peak, steps: {} };
  for (const [k, v] of Object.entries(page)) {
    const ms = median(v);
    out.steps[k] = { ms: Math.round(ms), mbps: Math.round(size / 1e3 / ms), vsCli: +(ms / median(cli)).toFixed(2) };
  }
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
  await server.stop();
  await app.stop();
  fs.rmSync(site, { recursive: true, force: true });
}
