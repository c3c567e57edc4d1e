// Where the login goes and how long a registry may stall, through the packed npm package's
// bin (Node's fetch as transport) beside the native CLI, against the scripted hosts of
// crates/testkit's hostile_registry run as a process (target/release/scripted-registry): a
// registry on 127.0.0.1, storage on another port, another loopback address, a rogue token
// realm. Each case asserts on what every other host received (never an Authorization), on
// the exit status and the words (the native CLI's, to the letter), and on the time taken.

import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { requireBuild, installPacked, workDir, run, CLI, ROOT } from './helpers.mjs';
import { smallImage } from './archive.mjs';

const SCRIPTED = path.join(ROOT, 'target/release/scripted-registry');
const STORAGE = 1;
const OTHER_ADDRESS = 2;
const ROGUE_REALM = 3;

let dir;
let bin;
let archive;

/** Starts the scripted hosts of `scenario`; `stop()` resolves to every request they saw. */
async function hosts(scenario) {
  const child = spawn(SCRIPTED, [scenario], { stdio: ['pipe', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  const ended = new Promise((resolve) => child.on('close', resolve));
  while (!text.includes('\n')) {
    if (child.exitCode !== null) throw new Error(`scripted-registry ${scenario} exited ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const hello = JSON.parse(text.slice(0, text.indexOf('\n')));
  const config = path.join(dir, `config-${scenario}`);
  fs.mkdirSync(config, { recursive: true });
  fs.writeFileSync(path.join(config, 'config.json'), hello.config);
  return {
    ...hello,
    configDir: config,
    async stop() {
      child.stdin.end();
      await ended;
      return text
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l));
    },
  };
}

/** Both programs, the same arguments; `{ native, wasm }`, each with its time in ms. */
function both(h, args) {
  const timed = (cmd, argv) => {
    const t = Date.now();
    const r = run(cmd, argv, { env: { DOCKER_CONFIG: h.configDir }, timeout: 120000 });
    return { ...r, ms: Date.now() - t };
  };
  return {
    native: timed(CLI, args('native')),
    wasm: timed(process.execPath, [bin, ...args('wasm')]),
  };
}

const asNative = (s) => s.replaceAll('docker-squash-wasm:', 'docker-squash:');

/** The last line of stderr: the one the user reads. */
const lastLine = (s) => s.trim().split('\n').pop();

/** No host but the registry (and `realm`, a realm the registry named) got a login, and no
 *  secret reached either program's stderr. */
function assertNoLoginElsewhere(h, seen, outs, realm = null) {
  for (const r of seen.filter((r) => r.index !== 0 && r.index !== realm)) {
    assert.equal(r.authorization, null, `${r.method} ${r.target} at ${r.at} got a login`);
  }
  for (const o of outs) {
    for (const secret of [h.password, h.token, h.basic]) assert.ok(!o.stderr.includes(secret), o.stderr);
  }
}

describe('the npm package keeps the login and the deadlines as the native CLI does', () => {
  before(() => {
    requireBuild();
    assert.ok(fs.existsSync(SCRIPTED), `${SCRIPTED} is missing: run "make cli"`);
    dir = workDir('registry-hostile');
    bin = path.join(installPacked(dir), 'bin/docker-squash-wasm.mjs');
    archive = path.join(dir, 'small.tar');
    smallImage(archive);
  });

  const pull = (h) => (who) => ['-from', 'root', '-i', `docker://${h.reference}`, '-o', path.join(dir, `${who}.tar`)];

  for (const [scenario, at] of [
    ['redirect-to-other-port', STORAGE],
    ['redirect-to-other-address', OTHER_ADDRESS],
  ]) {
    test(`${scenario}: the blob comes from the other host without the login, the same bytes`, async () => {
      const h = await hosts(scenario);
      const { native, wasm } = both(h, pull(h));
      const seen = await h.stop();
      assert.equal(native.status, 0, native.stderr);
      assert.equal(wasm.status, 0, wasm.stderr);
      assert.ok(fs.readFileSync(path.join(dir, 'native.tar')).equals(fs.readFileSync(path.join(dir, 'wasm.tar'))));
      assert.equal(seen.filter((r) => r.index === at).length, 2, 'each program fetched the layer from there');
      assert.ok(
        seen.some((r) => r.index === 0 && r.authorization === h.basic),
        'the registry got the login',
      );
      assertNoLoginElsewhere(h, seen, [native, wasm]);
    });
  }

  test('bearer-redirect: the token goes to the registry, the password to the realm it named, storage gets neither', async () => {
    const h = await hosts('bearer-redirect');
    const { native, wasm } = both(h, pull(h));
    const seen = await h.stop();
    assert.equal(native.status, 0, native.stderr);
    assert.equal(wasm.status, 0, wasm.stderr);
    assert.ok(
      seen.some((r) => r.index === OTHER_ADDRESS && r.target.startsWith('/token') && r.authorization === h.basic),
    );
    assert.ok(seen.some((r) => r.index === 0 && r.authorization === `Bearer ${h.token}`));
    assertNoLoginElsewhere(h, seen, [native, wasm], OTHER_ADDRESS);
  });

  test("storage-challenge: storage's own 401 gets no answer and is not called a login failure", async () => {
    const h = await hosts('storage-challenge');
    const { native, wasm } = both(h, pull(h));
    const seen = await h.stop();
    const storage = h.addrs[STORAGE];
    assert.equal(native.status, 1, native.stderr);
    assert.equal(wasm.status, 1, wasm.stderr);
    assert.equal(asNative(lastLine(wasm.stderr)), lastLine(native.stderr));
    assert.ok(
      lastLine(native.stderr).includes(`${storage} answered 401 Unauthorized to GET http://${storage}/storage/`),
    );
    assert.ok(lastLine(native.stderr).includes(`the login for ${h.registry} goes to ${h.registry} only`));
    assert.equal(seen.filter((r) => r.index === ROGUE_REALM).length, 0, 'the rogue realm heard nothing');
    assertNoLoginElsewhere(h, seen, [native, wasm]);
  });

  test('upload-elsewhere: an upload location on another host gets no login and its challenge no answer', async () => {
    const h = await hosts('upload-elsewhere');
    const { native, wasm } = both(h, () => ['-from', 'root', '-i', archive, '-o', `docker://${h.pushReference}`]);
    const seen = await h.stop();
    const other = h.addrs[OTHER_ADDRESS];
    assert.equal(native.status, 1, native.stderr);
    assert.equal(wasm.status, 1, wasm.stderr);
    assert.equal(asNative(lastLine(wasm.stderr)), lastLine(native.stderr));
    assert.ok(lastLine(native.stderr).includes(`${other} answered 401 Unauthorized to PUT http://${other}/upload/`));
    assert.ok(
      seen.some((r) => r.index === OTHER_ADDRESS),
      'the upload did go there',
    );
    assert.equal(seen.filter((r) => r.index === ROGUE_REALM).length, 0);
    assertNoLoginElsewhere(h, seen, [native, wasm]);
  });

  test('redirect-to-plain-http: refused as the same URL asked for directly, nothing sent', async () => {
    const h = await hosts('redirect-to-plain-http');
    const { native, wasm } = both(h, pull(h));
    const seen = await h.stop();
    const port = h.addrs[STORAGE].split(':').pop();
    assert.equal(native.status, 1, native.stderr);
    assert.equal(wasm.status, 1, wasm.stderr);
    assert.equal(asNative(lastLine(wasm.stderr)), lastLine(native.stderr));
    assert.ok(lastLine(native.stderr).includes(`refusing plain HTTP to 0.0.0.0:${port}`), native.stderr);
    assert.equal(seen.filter((r) => r.index === STORAGE).length, 0);
  });

  for (const [scenario, words, [lo, hi]] of [
    ['trickle', 'bytes arrived in 2 s (less than 1024 bytes per 2 s)', [4000, 15000]],
    ['silent', 'sent no answer in time', [4000, 15000]],
  ]) {
    test(`${scenario}: stopped after two tries of a 2 s deadline, with the advice`, async () => {
      const h = await hosts(scenario);
      const { native, wasm } = both(h, (who) => ['-registry-timeout', '2', ...pull(h)(who)]);
      await h.stop();
      for (const [who, r] of [
        ['native', native],
        ['wasm', wasm],
      ]) {
        assert.equal(r.status, 1, `${who}: ${r.stderr}`);
        const line = asNative(lastLine(r.stderr));
        assert.ok(line.includes('after 2 tries: ') && line.includes(words), `${who}: ${line}`);
        assert.ok(line.includes('-registry-timeout 120 (now 2 s)'), `${who}: ${line}`);
        assert.ok(r.ms >= lo && r.ms < hi, `${who} took ${r.ms} ms`);
        console.log(`${scenario}: ${who} took ${r.ms} ms`);
      }
      assert.equal(asNative(lastLine(wasm.stderr)), lastLine(native.stderr));
    });
  }
});
