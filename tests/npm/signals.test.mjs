// The npm bin interrupted as users interrupt it (Ctrl-C, kill, a closed terminal) at
// several points of a squash of a large generated archive: while stdin is spooled, while
// the squash runs (its worker thread), while the output is written. The exit status is
// 128 + the signal, stderr says so in one line, and neither the output folder nor the
// temporary folder holds anything new. A closed stdout ends the run quietly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, bigArchiveFixture, startBin, sleep } from './bin-run.mjs';

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
const fixture = bigArchiveFixture('signals', 6);
const folder = fixture.folder;

async function waitFor(what, ready) {
  const t0 = Date.now();
  while (!ready()) {
    assert.ok(Date.now() - t0 < 60000, `never saw: ${what}`);
    await sleep(5);
  }
}

async function endsBy(run, sig, outDir, tmp, when) {
  const { code, signal, stderr } = await run.ended;
  assert.equal(code, 128 + SIGNALS[sig], `${sig} ${when}: exit ${code} ${signal ?? ''}, stderr: ${stderr}`);
  const lines = stderr.split('\n').filter((l) => l.trim());
  assert.equal(lines.length, 1, `${sig} ${when}: one line on stderr, got: ${stderr}`);
  assert.match(lines[0], new RegExp(`^docker-squash-wasm: interrupted by ${sig}`));
  assert.deepEqual(fs.readdirSync(outDir), [], `${sig} ${when}: the output folder holds something`);
  assert.deepEqual(fs.readdirSync(tmp), [], `${sig} ${when}: the temporary folder holds something`);
}

for (const sig of Object.keys(SIGNALS)) {
  test(`${sig} while stdin is spooled: 128+${SIGNALS[sig]}, one line, no spool left`, async () => {
    const [outDir, tmp] = [folder(`spool-out-${sig}`), folder(`spool-tmp-${sig}`)];
    const run = startBin(['-from', 'root', '-o', path.join(outDir, 'out.tar')], tmp, 'pipe');
    const fd = fs.openSync(fixture.archive(), 'r');
    const half = Buffer.alloc(100 << 20);
    fs.readSync(fd, half, 0, half.length, 0);
    fs.closeSync(fd);
    await new Promise((r) => run.child.stdin.write(half, r));
    await sleep(500); // stdin stays open: the bin waits for more
    run.child.kill(sig);
    await endsBy(run, sig, outDir, tmp, 'while spooling stdin');
    run.child.stdin.destroy();
  });

  test(`${sig} while the squash runs: the temporary output is removed`, async () => {
    const [outDir, tmp] = [folder(`run-out-${sig}`), folder(`run-tmp-${sig}`)];
    const run = startBin(
      ['-from', 'root', '-compress', 'gzip', '-i', fixture.archive(), '-o', path.join(outDir, 'out.tar')],
      tmp,
    );
    await waitFor('the temporary output', () => fs.readdirSync(outDir).length > 0);
    await sleep(300);
    run.child.kill(sig);
    await endsBy(run, sig, outDir, tmp, 'while squashing');
  });

  test(`${sig} while the output is written: the temporary output is removed`, async () => {
    const [outDir, tmp] = [folder(`write-out-${sig}`), folder(`write-tmp-${sig}`)];
    const run = startBin(
      ['-from', 'root', '-format', 'docker', '-i', fixture.archive(), '-o', path.join(outDir, 'out.tar')],
      tmp,
    );
    const written = () => fs.readdirSync(outDir).some((n) => fs.statSync(path.join(outDir, n)).size > 0);
    await waitFor('the output being written', written);
    run.child.kill(sig);
    await endsBy(run, sig, outDir, tmp, 'while writing');
  });
}

test('a closed stdout (| head -c 1000) ends the run quietly, with nothing left', async () => {
  const tmp = folder('closed-stdout');
  const child = spawn(process.execPath, [BIN, '-from', 'root', '-i', fixture.archive()], {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let got = 0;
  child.stdout.on('data', (d) => {
    got += d.length;
    if (got >= 1000) child.stdout.destroy();
  });
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 141, `exit ${code}, stderr: ${stderr}`);
  assert.equal(stderr, '', 'nothing on stderr');
  assert.deepEqual(fs.readdirSync(tmp), []);
});
