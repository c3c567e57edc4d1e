// The npm package reaches registries as the native CLI does, with the same code (the
// registry client compiled to wasm, on Node's fetch): the packed tarball, installed, pushes
// manifests and blobs byte-identical to the native CLI's, sends only the new layer and the
// config (kept layers are mounted), nothing on a second push, and says the native CLI's
// words when something is wrong. Against Debian's real registry (htpasswd login), the
// test images put there by skopeo, in Docker's and in OCI's media types.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { requireBuild, installPacked, workDir, run, CLI, ROOT } from './helpers.mjs';
import { smallImage } from './archive.mjs';
import { accessLog, MANIFEST_ACCEPT as ACCEPT } from '../support/registry-log.mjs';

const SCRIPT = path.join(ROOT, 'tests/support/registry.sh');
const have = (cmd) => run('bash', ['-c', `command -v ${cmd}`]).status === 0;
const skip = !have('docker-registry') || !have('skopeo') ? 'docker-registry or skopeo is not installed' : false;

let dir;
let reg; // { dir, address, user, password, log }
let config; // a docker config directory logging in as e2e
let bin;
let pkg;
let archive;
let ids; // the archive's layer ids, bottom first

/** A docker config directory with `json` as its config.json. */
function dockerConfig(name, json) {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(json));
  return d;
}
const login = (password) => ({
  auths: { [reg.address]: { auth: Buffer.from(`${reg.user}:${password}`).toString('base64') } },
});

const env = (cfg, extra = {}) => ({ DOCKER_CONFIG: cfg, ...extra });
const native = (args, cfg = config, extra) => run(CLI, args, { env: env(cfg, extra) });
const wasm = (args, cfg = config, extra) => run(process.execPath, [bin, ...args], { env: env(cfg, extra) });

/** Puts the archive into the registry as skopeo does: `format` v2s2 (Docker) or oci. */
function put(repo, format) {
  const r = run('skopeo', [
    'copy',
    '-q',
    `--format=${format}`,
    '--dest-tls-verify=false',
    `--dest-creds=${reg.user}:${reg.password}`,
    `docker-archive:${archive}`,
    `docker://${reg.address}/${repo}`,
  ]);
  assert.equal(r.status, 0, r.stderr);
}

const basic = () => `Basic ${Buffer.from(`${reg.user}:${reg.password}`).toString('base64')}`;

/** The manifest of repo:tag as the registry serves it: bytes and content type. */
async function manifest(repo, tag) {
  const r = await fetch(`http://${reg.address}/v2/${repo}/manifests/${tag}`, {
    headers: { authorization: basic(), accept: ACCEPT },
  });
  assert.equal(r.status, 200, `${repo}:${tag}`);
  return { bytes: Buffer.from(await r.arrayBuffer()), type: r.headers.get('content-type') };
}

async function blob(repo, digest) {
  const r = await fetch(`http://${reg.address}/v2/${repo}/blobs/${digest}`, { headers: { authorization: basic() } });
  assert.equal(r.status, 200, `${repo} ${digest}`);
  return Buffer.from(await r.arrayBuffer());
}

/** Asserts repo a:tag and repo b:tag are the same image: manifest bytes, type, every blob. */
async function assertSamePush([repoA, tagA], [repoB, tagB]) {
  const a = await manifest(repoA, tagA);
  const b = await manifest(repoB, tagB);
  assert.equal(b.type, a.type);
  assert.ok(a.bytes.equals(b.bytes), `manifests differ:\n${a.bytes}\n${b.bytes}`);
  const m = JSON.parse(a.bytes);
  for (const d of [m.config, ...m.layers]) {
    assert.ok((await blob(repoA, d.digest)).equals(await blob(repoB, d.digest)), d.digest);
  }
  return m;
}

/** The access log's requests since `mark` (a line count): { method, uri, status }. */
const requestsSince = (mark) => accessLog(reg.log).since(mark);
const logMark = () => accessLog(reg.log).mark();
const uploads = (reqs) => reqs.filter((r) => r.method === 'PUT' && /\/blobs\/uploads\//.test(r.uri));
const mounts = (reqs) => reqs.filter((r) => r.method === 'POST' && /[?&]mount=/.test(r.uri) && r.status === 201);

/** The native CLI's stderr as the bin says it: every program name (a usage error quotes
 *  the usage text too). */
const asBin = (s) => s.replaceAll('docker-squash', 'docker-squash-wasm');

describe('docker:// in the npm package', { skip }, () => {
  before(async () => {
    requireBuild();
    dir = workDir('registry');
    const installed = installPacked(dir);
    bin = path.join(installed, 'bin/docker-squash-wasm.mjs');
    pkg = await import(pathToFileURL(path.join(installed, 'node.mjs')).href);
    archive = path.join(dir, 'small.tar');
    smallImage(archive);
    const facts = JSON.parse(run(CLI, ['inspect', '--json', archive]).stdout);
    ids = facts.images[0].history.filter((h) => h.layer).map((h) => h.layer.id);

    const server = path.join(dir, 'server');
    const r = run('bash', [SCRIPT, 'start', server]);
    assert.equal(r.status, 0, r.stderr);
    const vars = Object.fromEntries(
      [...r.stdout.toString().matchAll(/(REGISTRY_\w+)=(\S+)/g)].map((m) => [m[1], m[2]]),
    );
    reg = {
      dir: server,
      address: vars.REGISTRY_ADDRESS,
      user: vars.REGISTRY_USER,
      password: vars.REGISTRY_PASSWORD,
      log: vars.REGISTRY_LOG,
    };
    config = dockerConfig('good', login(reg.password));
    put('e2e/small-docker:1', 'v2s2');
    put('e2e/small-oci:1', 'oci');
  });
  after(() => {
    if (reg) run('bash', [SCRIPT, 'stop', reg.dir]);
  });

  for (const [source, media] of [
    ['small-docker', 'application/vnd.docker.distribution.manifest.v2+json'],
    ['small-oci', 'application/vnd.oci.image.manifest.v1+json'],
  ]) {
    for (const [label, flags, kept] of [
      ['root', ['-from', 'root'], 0],
      ['the default point', [], 1],
      ['a middle layer', () => ['-from', ids[1]], 2],
    ]) {
      test(`${source}, from ${label}: the bin pushes what the native CLI pushes`, async () => {
        const f = typeof flags === 'function' ? flags() : flags;
        const slug = `${source}-${kept}`;
        const src = `docker://${reg.address}/e2e/${source}:1`;
        let r = native([...f, '-i', src, '-o', `docker://${reg.address}/e2e/native-${slug}:sq`]);
        assert.equal(r.status, 0, r.stderr);
        const mark = logMark();
        const said = asBin(r.stderr).replaceAll(`e2e/native-${slug}`, `e2e/npm-${slug}`);
        r = wasm([...f, '-i', src, '-o', `docker://${reg.address}/e2e/npm-${slug}:sq`]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, said, 'the native lines: the layer kept, the sizes, what was pushed');
        assert.match(
          r.stderr,
          new RegExp(
            `^docker-squash-wasm: pushed docker://${reg.address}/e2e/npm-${slug}:sq@sha256:[0-9a-f]{64}$`,
            'm',
          ),
        );
        assert.match(r.stderr, new RegExp(`^docker-squash-wasm: blobs: 2 uploaded .*, ${kept} mounted from`, 'm'));
        const reqs = requestsSince(mark);
        assert.equal(uploads(reqs).length, 2, 'the new layer and the config');
        assert.equal(mounts(reqs).length, kept, 'every kept layer mounted');
        const m = await assertSamePush([`e2e/native-${slug}`, 'sq'], [`e2e/npm-${slug}`, 'sq']);
        assert.equal(m.mediaType ?? media, media);
        assert.equal((await manifest(`e2e/npm-${slug}`, 'sq')).type, media);
        // Again: everything is there already.
        const again = logMark();
        r = wasm([...f, '-i', src, '-o', `docker://${reg.address}/e2e/npm-${slug}:sq`]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(uploads(requestsSince(again)).length, 0);
      });
    }
  }

  test('squashToFile: an archive and a docker:// input pushed as the native CLI pushes them', async () => {
    let r = native(['-i', archive, '-o', `docker://${reg.address}/e2e/native-archive:sq`]);
    assert.equal(r.status, 0, r.stderr);
    const lines = [];
    const opts = { dockerConfig: config, onLog: (l) => lines.push(l) };
    const fromArchive = await pkg.squashToFile(archive, `docker://${reg.address}/e2e/npm-archive:sq`, opts);
    assert.equal(fromArchive.pulled, null);
    assert.equal(fromArchive.pushed.uploaded.length, 3, 'an archive has no source to mount from');
    await assertSamePush(['e2e/native-archive', 'sq'], ['e2e/npm-archive', 'sq']);

    const src = `docker://${reg.address}/e2e/small-docker:1`;
    r = native(['-i', src, '-o', `docker://${reg.address}/e2e/native-api:sq`]);
    assert.equal(r.status, 0, r.stderr);
    const rep = await pkg.squashToFile(src, `docker://${reg.address}/e2e/npm-api:sq`, opts);
    assert.equal(rep.pulled.reference, `${reg.address}/e2e/small-docker:1`);
    assert.equal(rep.pushed.uploaded.length, 2);
    assert.equal(rep.pushed.mounted.length, 1);
    await assertSamePush(['e2e/native-api', 'sq'], ['e2e/npm-api', 'sq']);
    assert.ok(
      lines.some((l) => l.includes('mounted from e2e/small-docker')),
      lines.join('\n'),
    );

    // list, inspect, squash and verifyLayers read docker:// as they read a file.
    const listed = await pkg.list(src, { dockerConfig: config });
    assert.equal(listed.images[0].history.filter((h) => h.layer).length, 3);
    const facts = await pkg.inspect(src, { dockerConfig: config });
    assert.equal(facts.images.length, 1);
    await pkg.verifyLayers(src, { dockerConfig: config, layers: [0, 1, 2] });
    const { chunks, pulled } = await pkg.squash(src, { dockerConfig: config, from: 'root' });
    assert.equal(pulled.layers, 3);
    assert.ok(chunks.length > 0);
  });

  test('a wrong password, a missing repository or tag, a bad reference: the native words and codes', async () => {
    const bad = dockerConfig('bad', login('wrong'));
    const cases = [
      [['-i', `docker://${reg.address}/e2e/small-docker:1`, '-o', `docker://${reg.address}/e2e/x:sq`], bad],
      [['-i', `docker://${reg.address}/e2e/nothing-here:1`, '-o', `docker://${reg.address}/e2e/x:sq`], config],
      [['-i', `docker://${reg.address}/e2e/small-docker:nope`, '-o', `docker://${reg.address}/e2e/x:sq`], config],
      [['-i', `docker://${reg.address}/E2E/Bad:1`, '-o', `docker://${reg.address}/e2e/x:sq`], config],
    ];
    for (const [args, cfg] of cases) {
      const n = native(args, cfg);
      const w = wasm(args, cfg);
      assert.notEqual(n.status, 0, n.stderr);
      assert.equal(w.status, n.status, w.stderr);
      assert.equal(w.stderr, asBin(n.stderr));
      assert.doesNotMatch(w.stderr, /wrong|e2e-secret|internal error/);
    }
    const src = `docker://${reg.address}/e2e/small-docker:1`;
    const code = (p) =>
      p.then(
        () => 'resolved',
        (e) => e.code,
      );
    assert.equal(await code(pkg.list(src, { dockerConfig: bad })), 'REGISTRY_AUTH');
    assert.equal(
      await code(pkg.list(`docker://${reg.address}/e2e/nothing-here:1`, { dockerConfig: config })),
      'REGISTRY_NOT_FOUND',
    );
    assert.equal(
      await code(pkg.list(`docker://${reg.address}/e2e/small-docker:nope`, { dockerConfig: config })),
      'REGISTRY_NOT_FOUND',
    );
    assert.equal(await code(pkg.list('docker://127.0.0.1:9/e2e/x:1', { dockerConfig: config })), 'REGISTRY_NETWORK');
    assert.equal(await code(pkg.list(`docker://${reg.address}/E2E:1`)), 'BAD_REFERENCE');
  });

  test('inspect docker://: the native table', () => {
    const args = ['inspect', `docker://${reg.address}/e2e/small-oci:1`];
    const n = native(args);
    const w = wasm(args);
    assert.equal(n.status, 0, n.stderr);
    assert.equal(w.status, 0, w.stderr);
    assert.ok(w.stdout.equals(n.stdout), `${w.stdout}\n---\n${n.stdout}`);
  });

  test('auths, credHelpers and credsStore (a real helper) log in; -verbose shows no credential', () => {
    const helpers = path.join(dir, 'helpers');
    fs.mkdirSync(helpers, { recursive: true });
    const helper = path.join(helpers, 'docker-credential-e2etest');
    fs.writeFileSync(
      helper,
      `#!/bin/sh\n[ "$1" = get ] || exit 2\nread -r server\n[ "$server" = "${reg.address}" ] || { echo "credentials not found in native keychain"; exit 1; }\n` +
        `echo '{"Username":"${reg.user}","Secret":"${reg.password}"}'\n`,
    );
    fs.chmodSync(helper, 0o755);
    const PATH = `${helpers}:${process.env.PATH}`;
    const src = `docker://${reg.address}/e2e/small-oci:1`;
    const configs = [login(reg.password), { credHelpers: { [reg.address]: 'e2etest' } }, { credsStore: 'e2etest' }];
    for (const json of configs) {
      const cfg = dockerConfig(`login-${Object.keys(json)[0]}`, json);
      const args = ['-verbose', '-i', src, '-o', `docker://${reg.address}/e2e/helped:sq`];
      const n = native(args, cfg, { PATH });
      const w = wasm(args, cfg, { PATH });
      assert.equal(n.status, 0, n.stderr);
      assert.equal(w.status, 0, w.stderr);
      assert.match(w.stderr, /GET http:\/\/.*\/v2\/: 401 Unauthorized/);
      assert.match(w.stderr, /^docker-squash-wasm: pushed docker:\/\//m);
      const b64 = Buffer.from(`${reg.user}:${reg.password}`).toString('base64');
      for (const secret of [reg.password, b64]) assert.ok(!w.stderr.includes(secret), `${secret} leaked`);
    }
  });

  test('through fetch, a 503 is retried and a blob cut midway is fetched again from its start', async () => {
    // A proxy in front of the registry: the first manifest GET answers 503, the first
    // GET of the biggest blob is cut after half its bytes.
    const seen = [];
    let cutDone = false;
    let failDone = false;
    const proxy = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (!failDone && req.method === 'GET' && /\/manifests\//.test(req.url)) {
        failDone = true;
        res.writeHead(503).end();
        return;
      }
      const [host, port] = reg.address.split(':');
      const up = http.request({ host, port, method: req.method, path: req.url, headers: req.headers }, (u) => {
        const big = Number(u.headers['content-length'] ?? 0) > 100000 && /\/blobs\/sha256:/.test(req.url);
        res.writeHead(u.statusCode, u.headers);
        if (big && !cutDone) {
          cutDone = true;
          let sent = 0;
          const half = Number(u.headers['content-length']) / 2;
          u.on('data', (d) => {
            if (sent >= half) return;
            res.write(d.subarray(0, Math.min(d.length, half - sent)));
            sent += d.length;
            if (sent >= half) res.socket.destroy();
          });
          return;
        }
        u.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const address = `127.0.0.1:${proxy.address().port}`;
      const auth = Buffer.from(`${reg.user}:${reg.password}`).toString('base64');
      const cfg = dockerConfig('proxy', { auths: { [address]: { auth } } });
      const lines = [];
      const listed = await pkg.list(`docker://${address}/e2e/small-docker:1`, {
        dockerConfig: cfg,
        onLog: (l) => lines.push(l),
      });
      assert.equal(listed.images[0].history.filter((h) => h.layer).length, 3);
      assert.ok(failDone && cutDone, seen.join('\n'));
      const retries = lines.filter((l) => l.includes('retrying in'));
      assert.equal(retries.length, 2, lines.join('\n'));
      assert.match(retries[0], /503 Service Unavailable/);
      assert.match(retries[1], /downloading the layer .* blob/);
    } finally {
      proxy.close();
    }
  });
});
