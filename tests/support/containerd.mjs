// containerd (the engine behind Docker 29's default image store) and a registry, for the
// end-to-end tests: a private containerd and a private registry, each started before a
// test file's tests and stopped after them by pid (tests/support/containerd.sh and
// registry.sh); containerd's own importer (`ctr images import`), its mounts of an image's
// filesystem as the trees fscompare.mjs compares, and pushes to the registry from
// containerd and from the private Docker engine, with the bytes they cost.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { TESTS, docker, run } from './e2e.mjs';
import { treeOfTar } from './fscompare.mjs';
import { MANIFEST_ACCEPT as ACCEPT } from './registry-log.mjs';

export const CONTAINERD_DIR = path.join(TESTS, '.work/e2e-containerd');
export const REGISTRY_DIR = path.join(TESTS, '.work/e2e-registry');
/** Where images are mounted: one fresh directory per mount, removed (never recursively) after. */
export const MOUNTS = path.join(CONTAINERD_DIR, 'mnt');
/** The namespace of every ctr command: the tests see only what they imported. */
export const NAMESPACE = 'docker-squash-e2e';

const ctrState = { address: null, snapshotter: null };

/** Test namespaces are named after NAMESPACE: they are emptied before and after the tests. */
export const namespace = (suffix) => `${NAMESPACE}-${suffix}`;

/** Runs `ctr -a SOCK -n NS ARGS`; throws with its stderr when it fails, unless `check: false`. */
export function ctr(args, { ns = NAMESPACE, ...opts } = {}) {
  if (!ctrState.address) throw new Error('containerd is not running: call useContainerd() at the top of the file');
  return run('ctr', ['-a', ctrState.address, '-n', ns, ...args], opts);
}

const ctrText = (args, opts) => ctr(args, opts).stdout.toString();

/** The snapshotter flag of import, pull and mount: overlayfs when containerd has it, else native. */
const snapshotterArgs = () => ['--snapshotter', ctrState.snapshotter];

/**
 * The reference containerd gives a name: Docker's normalization (`name:tag` is
 * `docker.io/library/name:tag`, `user/name` is `docker.io/user/name`, no tag is `:latest`).
 */
export function normalizeRef(ref) {
  let r = ref;
  const first = r.split('/')[0];
  const hasHost = r.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasHost) r = r.includes('/') ? `docker.io/${r}` : `docker.io/library/${r}`;
  if (!r.includes('@') && !/:[^/]+$/.test(r)) r += ':latest';
  return r;
}

// ------------------------------------------------------------------ containerd

/** The mounts under `dir` (from /proc/self/mountinfo), deepest first. */
export function mountsUnder(dir) {
  const unescape = (s) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => unescape(l.split(' ')[4]))
    .filter((p) => p === dir || p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts (and removes the snapshot of) every image mount a test left under MOUNTS. */
function unmountAll() {
  for (const m of mountsUnder(MOUNTS)) ctr(['images', 'unmount', '--rm', m], { check: false });
  if (fs.existsSync(MOUNTS)) {
    for (const d of fs.readdirSync(MOUNTS)) {
      const p = path.join(MOUNTS, d);
      // Never recursively: a directory that is still a mount point must stay (and fail).
      ctr(['images', 'unmount', '--rm', p], { check: false });
      fs.rmdirSync(p);
    }
  }
}

/** The test namespaces: NAMESPACE and those named after it (`${NAMESPACE}-pull`, ...). */
function testNamespaces() {
  return ctrText(['namespaces', 'ls', '-q'])
    .split('\n')
    .filter((n) => n === NAMESPACE || n.startsWith(`${NAMESPACE}-`));
}

/** Removes every image of a test namespace (their content and snapshots go with them), and the namespace. */
function emptyNamespace(ns) {
  const refs = ctrImages({ ns }).map((i) => i.ref);
  for (let i = 0; i < refs.length; i += 50)
    ctr(['images', 'rm', '--sync', ...refs.slice(i, i + 50)], { ns, check: false });
  ctr(['namespaces', 'rm', ns], { check: false });
}

/**
 * Starts the private containerd (or finds it running) and returns a function that stops it
 * by pid; it also stops when this process exits. Test files call useContainerd() instead.
 */
export function startContainerd() {
  const script = path.join(TESTS, 'support/containerd.sh');
  const r = run('bash', [script, 'start', CONTAINERD_DIR], { timeout: 120000 });
  const m = r.stdout.toString().match(/CONTAINERD_ADDRESS=(\S+)/);
  if (!m) throw new Error(`containerd.sh start printed no CONTAINERD_ADDRESS: ${r.stdout}${r.stderr}`);
  ctrState.address = m[1];
  const plugins = ctrText(['plugins', 'ls']);
  const overlay = /io\.containerd\.snapshotter\.v1\s+overlayfs\s+\S+\s+ok/.test(plugins);
  ctrState.snapshotter = process.env.CONTAINERD_SNAPSHOTTER || (overlay ? 'overlayfs' : 'native');
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    run('bash', [script, 'stop', CONTAINERD_DIR], { check: false, timeout: 60000 });
  };
  process.once('exit', stop);
  return stop;
}

/**
 * The setup of a test file that uses containerd, called at its top level: the private
 * containerd is started before the file's tests, with the test namespaces emptied of what
 * an earlier, interrupted run left, and after them every image the tests imported or
 * pulled is removed, with its namespace, and containerd is stopped by pid. The after hook
 * fails if a test left a mount under MOUNTS (it unmounts it first). Returns
 * { snapshotter }, filled in before the tests.
 */
export function useContainerd() {
  let stop;
  before(() => {
    stop = startContainerd();
    unmountAll();
    for (const ns of testNamespaces()) emptyNamespace(ns);
  });
  after(() => {
    if (!stop) return;
    const left = mountsUnder(MOUNTS);
    try {
      unmountAll();
      for (const ns of testNamespaces()) emptyNamespace(ns);
    } finally {
      stop();
    }
    assert.deepEqual(left, [], 'image mounts were left behind');
    assert.deepEqual(mountsUnder(CONTAINERD_DIR), [], 'mounts under the containerd directory outlived it');
  });
  return ctrState;
}

/** The images containerd has in `ns`: [{ ref, type, digest }] (`ctr images ls`). */
export function ctrImages({ ns } = {}) {
  return ctrText(['images', 'ls'], { ns })
    .split('\n')
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => {
      const [ref, type, digest] = l.trim().split(/\s+/);
      return { ref, type, digest };
    });
}

/**
 * Imports an archive with containerd's own importer (`ctr images import`; it takes
 * index.json when the archive has an oci-layout, else manifest.json) and unpacks it.
 * `args` are more import flags (--all-platforms, --base-name NAME, ...). Returns the refs
 * it named and its output.
 */
export function ctrImport(file, { ns, args = [] } = {}) {
  const out = ctrText(['images', 'import', ...snapshotterArgs(), ...args, file], { ns });
  const refs = [...out.matchAll(/^unpacking (\S+) \(/gm)].map((m) => m[1]);
  return { refs, out };
}

/** Reads a blob of containerd's content store. */
export function ctrContent(digest, { ns } = {}) {
  return ctr(['content', 'get', digest], { ns }).stdout;
}

/** The manifest of an image containerd has (for an index: its linux/amd64 manifest). */
export function ctrManifest(ref, { ns } = {}) {
  const img = ctrImages({ ns }).find((i) => i.ref === ref);
  if (!img) throw new Error(`containerd has no image ${ref}`);
  const m = JSON.parse(ctrContent(img.digest, { ns }));
  return m.manifests ? JSON.parse(ctrContent(platformManifest(m).digest, { ns })) : m;
}

function platformManifest(index) {
  const m = index.manifests.find((d) => d.platform?.os === 'linux' && d.platform?.architecture === 'amd64');
  if (!m) throw new Error(`no linux/amd64 manifest in ${JSON.stringify(index)}`);
  return m;
}

/**
 * The filesystem of an image as containerd mounts it (read-only, by its snapshotter),
 * as the record fscompare.mjs's treeOfTar makes of a `docker export`: GNU tar writes the
 * mounted tree as PAX with every xattr and numeric owners (hardlinks as one inode's
 * further names), and the mount is undone (`ctr images unmount --rm`) whatever happens.
 *
 * Nothing is ignored: a mount has none of the per-container files of `docker export`
 * (/dev, /proc, /sys are the image's own directories) and shows "/" itself. Only the
 * mtime of "/" is dropped: a layer tar seldom has an entry for "./", and then the root is
 * the top snapshot's directory, made when containerd unpacked the layer.
 */
export function mountTree(ref, { ns } = {}) {
  fs.mkdirSync(MOUNTS, { recursive: true });
  const dir = fs.mkdtempSync(path.join(MOUNTS, 'm-'));
  let tar;
  try {
    ctr(['images', 'mount', '--rw=false', ...snapshotterArgs(), ref, dir], { ns });
    tar = run('tar', [
      '--format=pax',
      '--xattrs',
      '--xattrs-include=*',
      '--numeric-owner',
      '--one-file-system',
      '-cf',
      '-',
      '-C',
      dir,
      '.',
    ]).stdout;
  } finally {
    // The snapshot is keyed by the directory: unmount --rm removes both (and succeeds when
    // the mount failed). The directory is removed only if empty, so never a mounted tree.
    const u = ctr(['images', 'unmount', '--rm', dir], { ns, check: false });
    if (mountsUnder(dir).length) throw new Error(`${dir} is still mounted: ${u.stderr}`);
    fs.rmdirSync(dir);
  }
  const tree = treeOfTar(tar, { ignoreDocker: false });
  const root = tree.get('/');
  if (root) delete root.mtime;
  return tree;
}

/** Pulls an image from the private registry into containerd (and unpacks it); returns its ref. */
export function ctrPull(target, { ns } = {}) {
  const ref = `${registry.address}/${target}`;
  ctr(['images', 'pull', '--plain-http', '-u', `${registry.user}:${registry.password}`, ...snapshotterArgs(), ref], {
    ns,
  });
  return ref;
}

// ------------------------------------------------------------------ the registry

/** The private registry: address (127.0.0.1:PORT), user, password, log, storage (set by useRegistry). */
export const registry = {};

/**
 * The setup of a test file that pushes, called at its top level: a fresh private registry
 * (empty storage, one login) is started before the file's tests and stopped after them,
 * by pid. Docker commands of dockerPush use a private DOCKER_CONFIG (never ~/.docker).
 * Returns `registry`.
 */
export function useRegistry() {
  const script = path.join(TESTS, 'support/registry.sh');
  let stop;
  before(() => {
    // One left running by an interrupted run is stopped: every push here starts empty.
    run('bash', [script, 'stop', REGISTRY_DIR], { check: false, timeout: 60000 });
    const out = run('bash', [script, 'start', REGISTRY_DIR], { timeout: 120000 }).stdout.toString();
    const v = (k) => out.match(new RegExp(`${k}=(\\S+)`))?.[1];
    Object.assign(registry, {
      address: v('REGISTRY_ADDRESS'),
      user: v('REGISTRY_USER'),
      password: v('REGISTRY_PASSWORD'),
      log: v('REGISTRY_LOG'),
      storage: v('REGISTRY_STORAGE'),
      dockerConfig: path.join(REGISTRY_DIR, 'docker-config'),
      dockerLoggedIn: false,
    });
    if (!registry.address || !registry.log) throw new Error(`registry.sh start printed: ${out}`);
    let stopped = false;
    stop = () => {
      if (stopped) return;
      stopped = true;
      run('bash', [script, 'stop', REGISTRY_DIR], { check: false, timeout: 60000 });
    };
    process.once('exit', stop);
  });
  after(() => stop?.());
  return registry;
}

/** Where the registry's log ends now: give it to pushedBytes to measure a push made by other means. */
export const registryLogMark = () => fs.statSync(registry.log).size;
const logSize = registryLogMark;

/** The requests the registry logged since byte `since` of its log: [{ method, uri, status }]. */
function requestsSince(since) {
  const text = fs.readFileSync(registry.log).subarray(since).toString();
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    const j = JSON.parse(line);
    if (j.msg !== 'response completed') continue;
    out.push({ method: j['http.request.method'], uri: j['http.request.uri'], status: j['http.response.status'] });
  }
  return out;
}

function blobSize(digest) {
  const hex = digest.replace('sha256:', '');
  return fs.statSync(path.join(registry.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data')).size;
}

/**
 * Reads a manifest back from the registry, as a client would (for an index or a manifest
 * list: its linux/amd64 manifest). Returns { mediaType, digest, manifest, raw }.
 */
export function registryManifest(repo, tagOrDigest) {
  const url = `http://${registry.address}/v2/${repo}/manifests/${tagOrDigest}`;
  const raw = run('curl', [
    '-sfS',
    '-u',
    `${registry.user}:${registry.password}`,
    '-H',
    `Accept: ${ACCEPT}`,
    url,
  ]).stdout;
  const manifest = JSON.parse(raw);
  if (manifest.manifests) return registryManifest(repo, platformManifest(manifest).digest);
  const digest = 'sha256:' + createHash('sha256').update(raw).digest('hex');
  return { mediaType: manifest.mediaType, digest, manifest, raw };
}

/**
 * What a push to REPO:TAG cost, from the registry's log since byte `since` (registryLogMark()
 * before the push):
 *   manifestBytes  the sizes of the blobs the pushed manifest names (config + layers)
 *   uploaded       the bytes of the blob uploads this push completed (PUT .../blobs/uploads/
 *                  ...?digest=, 201); blobs the registry had already, or mounted from another
 *                  repository, cost nothing
 *   uploads        how many blobs were uploaded
 * and the manifest read back.
 */
export async function pushedBytes(target, since) {
  const [repo, tag] = splitTarget(target);
  const manifestPut = (r) => r.method === 'PUT' && r.uri === `/v2/${repo}/manifests/${tag}` && r.status === 201;
  // The registry logs a request as it answers it: wait for the manifest's line.
  for (let i = 0; i < 100 && !requestsSince(since).some(manifestPut); i++) await sleep(50);
  const reqs = requestsSince(since);
  assert.ok(reqs.some(manifestPut), `the registry logged no PUT of the manifest ${target}`);
  const digests = new Set();
  for (const r of reqs) {
    if (r.method !== 'PUT' || r.status !== 201 || !r.uri.startsWith(`/v2/${repo}/blobs/uploads/`)) continue;
    const d = new URL(r.uri, 'http://registry').searchParams.get('digest');
    if (d) digests.add(d);
  }
  const m = registryManifest(repo, tag);
  const manifestBytes = m.manifest.config.size + m.manifest.layers.reduce((s, l) => s + l.size, 0);
  const uploaded = [...digests].reduce((s, d) => s + blobSize(d), 0);
  return { manifestBytes, uploaded, uploads: digests.size, manifest: m };
}

function splitTarget(target) {
  const i = target.lastIndexOf(':');
  if (i < 0 || target.slice(i).includes('/')) throw new Error(`push target ${target}: REPO:TAG expected`);
  return [target.slice(0, i), target.slice(i + 1)];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Pushes an image containerd has (`ref`, as ctr names it) to the private registry as
 * REPO:TAG (`ctr images push --plain-http`); returns pushedBytes of that push.
 */
export async function ctrPush(ref, target, { ns } = {}) {
  splitTarget(target);
  const since = logSize();
  ctr(
    [
      'images',
      'push',
      '--plain-http',
      '-u',
      `${registry.user}:${registry.password}`,
      `${registry.address}/${target}`,
      ref,
    ],
    {
      ns,
    },
  );
  return pushedBytes(target, since);
}

/**
 * Pushes an image of the private Docker engine to the private registry as REPO:TAG
 * (`docker push`: Docker takes a 127.0.0.1 registry as insecure, plain HTTP), logged in
 * with a private DOCKER_CONFIG; the registry's tag is removed from Docker afterwards.
 * Returns pushedBytes of that push.
 */
export async function dockerPush(ref, target) {
  splitTarget(target);
  const env = { DOCKER_CONFIG: registry.dockerConfig };
  if (!registry.dockerLoggedIn) {
    fs.mkdirSync(registry.dockerConfig, { recursive: true });
    docker(['login', '-u', registry.user, '--password-stdin', registry.address], { input: registry.password, env });
    registry.dockerLoggedIn = true;
  }
  const remote = `${registry.address}/${target}`;
  docker(['tag', ref, remote], { env });
  const since = logSize();
  try {
    docker(['push', '-q', remote], { env });
  } finally {
    docker(['rmi', remote], { env, check: false });
  }
  return pushedBytes(target, since);
}
