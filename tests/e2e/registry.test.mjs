// Registry to registry with no daemon: `-i docker://R/A:1 -o docker://R/B:sq` against
// Debian's real registry (distribution 2.8, htpasswd login), the images put there by
// skopeo. The result is pulled back by skopeo and loaded into the tests' Docker engine to
// compare filesystems; the registry's access log shows what was sent: kept layers are
// never uploaded again (mounted from the source repository, or already there).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, TESTS, docker, image, layersOf, run, saved, useDocker, workDir } from '../support/e2e.mjs';
import { assertSameFilesystem, fromArgs } from '../support/roundtrip.mjs';
import { accessLog } from '../support/registry-log.mjs';

const loaded = useDocker();
const SCRIPT = path.join(TESTS, 'support/registry.sh');
const have = (cmd) => run('bash', ['-c', `command -v ${cmd}`], { check: false }).status === 0;
const skip = !have('docker-registry') || !have('skopeo') ? 'docker-registry or skopeo is not installed' : false;

let reg; // { address, user, password, log, config }

/** A docker config directory whose `auths` log in as `user:password`. */
function dockerConfig(name, user, password) {
  const d = workDir('registry', name);
  const auth = Buffer.from(`${user}:${password}`).toString('base64');
  fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ auths: { [reg.address]: { auth } } }));
  return d;
}

const squash = (args, config = reg.config) =>
  run(BIN, args, { check: false, env: { ...process.env, DOCKER_CONFIG: config } });

/** Puts a test image into the registry as skopeo does (its layers gzip-compressed). */
function put(name, repo) {
  run('skopeo', [
    'copy',
    '-q',
    '--dest-tls-verify=false',
    `--dest-creds=${reg.user}:${reg.password}`,
    `docker-archive:${saved(image(name))}`,
    `docker://${reg.address}/${repo}`,
  ]);
}

/** Pulls `repo` back with skopeo and loads it into the tests' Docker engine under `tag`. */
function pullAndLoad(repo, tag) {
  const out = path.join(workDir('registry'), `${tag.replace(/[/:]/g, '_')}.tar`);
  fs.rmSync(out, { force: true });
  run('skopeo', [
    'copy',
    '-q',
    '--src-tls-verify=false',
    `--src-creds=${reg.user}:${reg.password}`,
    `docker://${reg.address}/${repo}`,
    `docker-archive:${out}:${tag}`,
  ]);
  docker(['load', '-q', '-i', out]);
  loaded.push(tag);
}

/** The access log's requests since `mark` (a line count), as { method, uri, status }. */
const requestsSince = (mark) => accessLog(reg.log).since(mark);
const logMark = () => accessLog(reg.log).mark();

/** The blobs a run sent: the digests of its completed uploads (PUT …?digest=). */
const uploaded = (reqs) =>
  reqs
    .filter((r) => r.method === 'PUT' && /\/blobs\/uploads\//.test(r.uri))
    .map((r) => decodeURIComponent(/[?&]digest=([^&]+)/.exec(r.uri)?.[1] ?? ''));

describe('docker:// to docker://', { skip }, () => {
  before(() => {
    const dir = workDir('registry', 'server');
    const r = run('bash', [SCRIPT, 'start', dir]);
    const env = Object.fromEntries([...r.stdout.toString().matchAll(/(REGISTRY_\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    reg = {
      dir,
      address: env.REGISTRY_ADDRESS,
      user: env.REGISTRY_USER,
      password: env.REGISTRY_PASSWORD,
      log: env.REGISTRY_LOG,
    };
    reg.config = dockerConfig('config-good', reg.user, reg.password);
  });
  after(() => {
    if (reg) run('bash', [SCRIPT, 'stop', reg.dir], { check: false });
  });

  for (const [label, mode] of [
    ['root', 'root'],
    ['default', 'default'],
    ['a middle layer', { keep: 2 }],
  ]) {
    test(`from ${label}: the same filesystem; kept layers are mounted, never uploaded`, () => {
      const name = 'whiteouts';
      const slug = typeof mode === 'string' ? mode : `keep${mode.keep}`;
      put(name, `e2e/${name}:1`);
      const mark = logMark();
      const dest = `e2e/${name}-sq-${slug}:sq`;
      const r = squash([
        ...fromArgs(image(name), mode),
        '-i',
        `docker://${reg.address}/e2e/${name}:1`,
        '-o',
        `docker://${reg.address}/${dest}`,
      ]);
      assert.equal(r.status, 0, r.stderr.toString());
      assert.match(
        r.stderr.toString(),
        new RegExp(`^docker-squash: pushed docker://${reg.address}/${dest}@sha256:[0-9a-f]{64}$`, 'm'),
      );
      const reqs = requestsSince(mark);
      const sent = uploaded(reqs);
      // Only the new layer and the config travel; the kept layers are mounted (a mount the
      // source cannot give, 202, is the upload session of the new layer or the config).
      assert.equal(sent.length, 2, `uploaded: ${sent.join(', ')}`);
      const mounts = reqs.filter((q) => q.method === 'POST' && /[?&]mount=/.test(q.uri) && q.status === 201);
      const tag = `e2e-registry-sq:${slug}`;
      pullAndLoad(dest, tag);
      assertSameFilesystem(image(name), tag);
      assert.equal(mounts.length, mode === 'root' ? 0 : layersOf(tag).length - 1, 'every kept layer was mounted');
      // Pushed again: every blob is there already.
      const again = logMark();
      assert.equal(
        squash([
          ...fromArgs(image(name), mode),
          '-i',
          `docker://${reg.address}/e2e/${name}:1`,
          '-o',
          `docker://${reg.address}/${dest}`,
        ]).status,
        0,
      );
      assert.deepEqual(uploaded(requestsSince(again)), []);
    });
  }

  test('a wrong password, a missing repository, a missing tag: one clear message each', () => {
    put('links', 'e2e/links:1');
    const bad = dockerConfig('config-bad', reg.user, 'wrong');
    let r = squash(['-i', `docker://${reg.address}/e2e/links:1`, '-o', `docker://${reg.address}/e2e/links:sq`], bad);
    assert.equal(r.status, 1);
    const said = r.stderr.toString();
    assert.equal(
      said,
      `docker-squash: login to ${reg.address} failed: the registry refused the credentials from ` +
        `${bad}/config.json for repository:e2e/links:pull (UNAUTHORIZED: authentication required): ` +
        `docker login ${reg.address}\n`,
    );
    assert.doesNotMatch(said, /wrong|e2e-secret/, 'no credential is printed');
    r = squash(['-i', `docker://${reg.address}/e2e/nothing-here:1`, '-o', `docker://${reg.address}/e2e/x:sq`]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.toString(), `docker-squash: repository e2e/nothing-here not found at ${reg.address}\n`);
    r = squash(['-i', `docker://${reg.address}/e2e/links:nope`, '-o', `docker://${reg.address}/e2e/x:sq`]);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr.toString(),
      `docker-squash: tag nope not found in repository ${reg.address}/e2e/links (it has: 1)\n`,
    );
  });

  test('a registry image squashed into the engine, and an engine image pushed', () => {
    put('opaque', 'e2e/opaque:1');
    const tag = 'e2e-registry-into-engine:sq';
    loaded.push(tag);
    let r = squash(['-from', 'root', '-i', `docker://${reg.address}/e2e/opaque:1`, '-o', `docker-daemon:${tag}`]);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(layersOf(tag).length, 1);
    assertSameFilesystem(image('opaque'), tag);
    r = squash([
      '-from',
      'root',
      '-i',
      `docker-daemon:${image('opaque')}`,
      '-o',
      `docker://${reg.address}/e2e/opaque:from-engine`,
    ]);
    assert.equal(r.status, 0, r.stderr.toString());
    // A classic docker save has plain layers; pushed as stored, the new layer is gzipped.
    const raw = run('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      `--creds=${reg.user}:${reg.password}`,
      `docker://${reg.address}/e2e/opaque:from-engine`,
    ]);
    const layers = JSON.parse(raw.stdout).layers;
    assert.equal(layers.length, 1);
    assert.match(layers[0].mediaType, /tar\+gzip$/);
    pullAndLoad('e2e/opaque:from-engine', 'e2e-registry-from-engine:sq');
    assertSameFilesystem(image('opaque'), 'e2e-registry-from-engine:sq');
  });
});
