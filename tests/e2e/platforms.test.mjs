// A multi-platform tag (amd64 + arm64/v8, different layers) in Debian's real registry, put
// there by `skopeo copy --all` as users have one: squashed over its own tag it stays an
// index whose every platform, pulled back by skopeo, has its own filesystem; a push that
// would leave a platform out is refused and the tag keeps both.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, TESTS, docker, image, run, saved, useDocker, workDir } from '../support/e2e.mjs';
import { assertSameFilesystem } from '../support/roundtrip.mjs';

const loaded = useDocker();
const SCRIPT = path.join(TESTS, 'support/registry.sh');
const have = (cmd) => run('bash', ['-c', `command -v ${cmd}`], { check: false }).status === 0;
const skip = !have('docker-registry') || !have('skopeo') ? 'docker-registry or skopeo is not installed' : false;
const PLATFORMS = [
  { name: 'whiteouts', arch: 'amd64' },
  { name: 'links', arch: 'arm64', variant: 'v8' },
];

let reg; // { dir, address, user, password, config }
const creds = () => `${reg.user}:${reg.password}`;
const squash = (args) => run(BIN, args, { check: false, env: { ...process.env, DOCKER_CONFIG: reg.config } });
const served = (repo) =>
  run('skopeo', ['inspect', '--raw', '--tls-verify=false', `--creds=${creds()}`, `docker://${reg.address}/${repo}`])
    .stdout;

/** An OCI layout in `dir` whose tag `multi` is an index of the two test images, the
 * second's config made arm64/v8 by hand (skopeo writes each image, we write the index). */
function multiPlatformLayout(dir) {
  for (const p of PLATFORMS) {
    run('skopeo', ['copy', '-q', `docker-archive:${saved(image(p.name))}`, `oci:${dir}:${p.arch}`]);
  }
  const blob = (d) => path.join(dir, 'blobs/sha256', d.replace('sha256:', ''));
  const put = (bytes) => {
    const d = `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
    fs.writeFileSync(blob(d), bytes);
    return { digest: d, size: bytes.length };
  };
  const top = JSON.parse(fs.readFileSync(path.join(dir, 'index.json')));
  const entries = PLATFORMS.map((p) => {
    const desc = top.manifests.find((m) => m.annotations['org.opencontainers.image.ref.name'] === p.arch);
    const manifest = JSON.parse(fs.readFileSync(blob(desc.digest)));
    const config = JSON.parse(fs.readFileSync(blob(manifest.config.digest)));
    Object.assign(config, { architecture: p.arch }, p.variant ? { variant: p.variant } : {});
    manifest.config = { ...manifest.config, ...put(Buffer.from(JSON.stringify(config))) };
    const platform = { os: 'linux', architecture: p.arch, ...(p.variant ? { variant: p.variant } : {}) };
    return { mediaType: manifest.mediaType, ...put(Buffer.from(JSON.stringify(manifest))), platform };
  });
  const nested = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries };
  const index = { mediaType: nested.mediaType, ...put(Buffer.from(JSON.stringify(nested))) };
  top.manifests = [{ ...index, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }];
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(top));
}

/** Each platform of `repo`, pulled by skopeo for its architecture and loaded, has the
 * filesystem of the image it was made from. */
function assertEveryPlatform(repo) {
  for (const p of PLATFORMS) {
    const out = path.join(workDir('platforms'), `back-${p.arch}.tar`);
    fs.rmSync(out, { force: true });
    const tag = `e2e-platforms-back:${p.arch}`;
    const variant = p.variant ? ['--override-variant', p.variant] : [];
    run('skopeo', [
      'copy',
      '-q',
      '--override-arch',
      p.arch,
      ...variant,
      '--src-tls-verify=false',
      `--src-creds=${creds()}`,
      `docker://${reg.address}/${repo}`,
      `docker-archive:${out}:${tag}`,
    ]);
    docker(['load', '-q', '-i', out]);
    loaded.push(tag);
    assertSameFilesystem(image(p.name), tag);
  }
}

describe('a multi-platform tag in a registry', { skip }, () => {
  before(() => {
    const dir = workDir('platforms', 'server');
    const r = run('bash', [SCRIPT, 'start', dir]);
    const env = Object.fromEntries([...r.stdout.toString().matchAll(/(REGISTRY_\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    reg = { dir, address: env.REGISTRY_ADDRESS, user: env.REGISTRY_USER, password: env.REGISTRY_PASSWORD };
    reg.config = workDir('platforms', 'config');
    const auth = Buffer.from(creds()).toString('base64');
    fs.writeFileSync(path.join(reg.config, 'config.json'), JSON.stringify({ auths: { [reg.address]: { auth } } }));
    const layout = workDir('platforms', 'layout');
    fs.rmSync(layout, { recursive: true, force: true });
    multiPlatformLayout(layout);
    run('skopeo', [
      'copy',
      '-q',
      '--all',
      '--dest-tls-verify=false',
      `--dest-creds=${creds()}`,
      `oci:${layout}:multi`,
      `docker://${reg.address}/multi/app:1`,
    ]);
  });
  after(() => {
    if (reg) run('bash', [SCRIPT, 'stop', reg.dir], { check: false });
  });

  test('a push that would leave a platform out is refused, and the tag keeps both', () => {
    const before = served('multi/app:1');
    const r = squash(['-from', 'root', '-i', saved(image('whiteouts')), '-o', `docker://${reg.address}/multi/app:1`]);
    assert.notEqual(r.status, 0, r.stderr.toString());
    const said = r.stderr.toString();
    assert.match(said, /is an index of 2 platforms \(linux\/amd64, linux\/arm64\)/);
    assert.match(said, /on linux\/arm64 without an image/);
    assert.deepEqual(served('multi/app:1'), before);
  });

  test('squashed over its own tag: an index again, every platform its own filesystem in one layer', () => {
    const r = squash([
      '-from',
      'root',
      '-i',
      `docker://${reg.address}/multi/app:1`,
      '-o',
      `docker://${reg.address}/multi/app:1`,
    ]);
    assert.equal(r.status, 0, r.stderr.toString());
    const index = JSON.parse(served('multi/app:1'));
    assert.deepEqual(
      index.manifests.map((m) => [m.platform.architecture, m.platform.variant]),
      [
        ['amd64', undefined],
        ['arm64', 'v8'],
      ],
    );
    for (const m of index.manifests) {
      const manifest = JSON.parse(served(`multi/app@${m.digest}`));
      assert.equal(manifest.layers.length, 1, JSON.stringify(manifest));
    }
    assertEveryPlatform('multi/app:1');
  });
});
