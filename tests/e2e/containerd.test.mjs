// The output through containerd (the engine behind Docker 29's default image store) and a
// real registry: containerd's own importer takes the squashed archive under its tag, and
// its mount of the squashed image is the original's filesystem, for every rule image and
// squash point; containerd and Docker 20.10 push it to a registry, where it costs fewer
// bytes than the original, and it comes back from there with the same filesystem.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  RULE_IMAGES,
  exportTree,
  image,
  load,
  readArchiveMeta,
  run,
  saved,
  squashCli,
  useDocker,
  workDir,
} from '../support/e2e.mjs';
import { DOCKER_PER_CONTAINER, DOCKER_PER_CONTAINER_TREES, diffTrees } from '../support/fscompare.mjs';
import { fromArgs } from '../support/roundtrip.mjs';
import { maybeDecompress } from '../support/tar.mjs';
import {
  ctrImages,
  ctrImport,
  ctrManifest,
  ctrPull,
  ctrPush,
  dockerPush,
  mountTree,
  namespace,
  normalizeRef,
  useContainerd,
  useRegistry,
} from '../support/containerd.mjs';

const loaded = useDocker();
useContainerd();
useRegistry();

// What the writer is asked for: label -> extra CLI arguments. Every test below runs once per
// row (a third element, if given, is more `ctr images import` flags for that output). The
// default is the OCI layout, whose index.json containerd reads (and must, for zstd: on the
// manifest.json path it labels any compressed layer gzip); the Docker layout goes through
// containerd's manifest.json path.
const OUTPUTS = [
  ['the default output (OCI layout, auto: a plain tar from a classic docker save)', []],
  ['the Docker layout', ['-format', 'docker']],
  ['a gzip layer', ['-compress', 'gzip']],
  ['a zstd layer', ['-compress', 'zstd']],
];

/** The media type containerd must record for the new layer of `extra`'s output. */
function newLayerMediaType(extra) {
  if (extra.includes('docker')) return 'application/vnd.docker.image.rootfs.diff.tar';
  const c = extra[extra.indexOf('-compress') + 1];
  return `application/vnd.oci.image.layer.v1.tar${c === 'gzip' || c === 'zstd' ? `+${c}` : ''}`;
}

const IMAGES_TO_CHECK = ['whiteouts', 'opaque', 'links', 'special', 'meta', 'names', 'types', 'handmade'].filter(
  (n) => n === 'handmade' || RULE_IMAGES[n],
);

const STACK_LAYERS = 4; // tests/images/stack/Dockerfile: base + RUN + ADD + COPY

const MODES = [
  ['-from root', 'root'],
  ['default squash point', 'default'],
  ['-from a middle layer', 'middle'],
];

const slug = (s) =>
  s
    .replace(/[^a-z0-9]+/gi, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();

/** Runs `f` once; later calls return (or throw) what the first did. */
function once(f) {
  let r;
  return () => {
    r ??= (() => {
      try {
        return { value: f() };
      } catch (error) {
        return { error };
      }
    })();
    if (r.error) throw r.error;
    return r.value;
  };
}

const memo = new Map();
const cached = (key, f) => {
  if (!memo.has(key)) memo.set(key, once(f));
  return memo.get(key)();
};

/** The original image imported into containerd from its `docker save`: its ref there. */
const importedOriginal = (name) =>
  cached(`orig:${name}`, () => {
    const ref = normalizeRef(image(name));
    const { refs } = ctrImport(saved(image(name)));
    assert.ok(refs.includes(ref), `ctr import of the docker save named ${refs.join(', ')}, not ${ref}`);
    return ref;
  });

const originalTree = (name) => cached(`tree:${name}`, () => mountTree(importedOriginal(name)));

/** Squashes `name` with the output's arguments; returns the archive, its tag and what it holds. */
function squash(name, modeName, [label, extra]) {
  const ref = image(name);
  const mode = modeName === 'middle' ? { keep: STACK_LAYERS + (RULE_IMAGES[name]?.middleKeep ?? 1) } : modeName;
  const tag = `e2e-ctr-${name}:${modeName}-${slug(label)}`;
  const out = path.join(workDir('out'), `ctr-${name}-${modeName}-${slug(label)}.tar`);
  squashCli(['-t', tag, ...fromArgs(ref, mode), ...extra, '-i', saved(ref), '-o', out]);
  return { out, tag, meta: readArchiveMeta(out) };
}

/** The new (top) layer of an archive the CLI wrote, as a tar. */
function newLayerTar(meta) {
  return maybeDecompress(meta.byName.get(meta.manifest[0].Layers.at(-1)).data);
}

/** Bytes of `gzip -6` of `data` (zlib's deflate at level 6, as gzip's). */
const gzip6 = (data) => zlib.gzipSync(data, { level: 6 }).length;

/** The sha256 digest of the config an archive written by the CLI holds. */
function configDigest(meta) {
  const data = meta.byName.get(meta.manifest[0].Config).data;
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** Paths under which an overlay's own bookkeeping would show if it leaked. */
function overlayXattrs(tree) {
  const out = [];
  for (const [p, r] of tree) {
    for (const k of Object.keys(r.xattrs || {})) if (k.startsWith('trusted.overlay.')) out.push(`${p}: ${k}`);
  }
  return out;
}

describe('the comparator: containerd mounts', () => {
  test('two mounts of one image compare equal; an image and its base differ', () => {
    const a = originalTree('whiteouts');
    const again = mountTree(importedOriginal('whiteouts'));
    assert.deepEqual(diffTrees(a, again), []);
    assert.notDeepEqual(diffTrees(a, mountTree(importedOriginal('stack'))), []);
  });

  test("a mount shows the image's deletions, opaque directories and hardlinks as a container sees them", () => {
    const w = originalTree('whiteouts');
    assert.ok(w.has('/w/b') && !w.has('/w/a') && !w.has('/w/gone') && !w.has('/w/tmp'));
    assert.equal(w.get('/w/recreated').size, 'again\n'.length);
    const o = originalTree('opaque');
    assert.ok(o.has('/op/a/again') && !o.has('/op/a/f') && !o.has('/op/keep/k'));
    const l = originalTree('links');
    // `ln /h/a /h/c` and `chmod 700 /h/x` in later layers copied /h/a and /h/x up: /h/b and
    // /h/y, /h/z stay in the lower layer, no longer names of the same inode.
    assert.deepEqual(l.get('/h/c').links, ['/h/a', '/h/c']);
    assert.deepEqual(l.get('/h/z').links, ['/h/y', '/h/z']);
    assert.equal(l.get('/h/x').links, undefined);
    assert.equal(l.get('/h/b').links, undefined);
    // Every xattr shows (docker export shows only security.capability): tests/images/handmade.py.
    const h = originalTree('handmade');
    assert.equal(h.get('/x/user')?.xattrs?.['user.test'], Buffer.from('hello').toString('hex'));
    assert.equal(h.get('/x/user')?.xattrs?.['user.bin'], '00ff01');
    assert.ok(h.get('/x/cap')?.xattrs?.['security.capability']);
    assert.ok(!h.has('/x/gone'));
    for (const t of [w, o, l, h]) assert.deepEqual(overlayXattrs(t), [], 'trusted.overlay.* xattrs show');
  });

  // docker export (fscompare.mjs) and a containerd mount are two views of one image: they
  // must agree, bar what Docker adds to every container, "/" (export has no entry for it)
  // and /etc's mode and mtime (export shows the init layer's).
  for (const name of ['whiteouts', 'opaque', 'links', 'special', 'meta', 'names', 'types']) {
    test(`${name}: containerd's mount of the original shows what docker export shows`, () => {
      const m = new Map(originalTree(name));
      m.delete('/');
      for (const p of [...m.keys()]) {
        const dockerOwn = DOCKER_PER_CONTAINER_TREES.some((t) => p === t || p.startsWith(t + '/'));
        if (dockerOwn || DOCKER_PER_CONTAINER.includes(p)) m.delete(p);
      }
      const e = new Map(exportTree(image(name)));
      for (const t of [m, e]) t.set('/etc', { ...t.get('/etc'), mode: 'init layer', mtime: undefined });
      const d = diffTrees(e, m, { labelA: 'docker export', labelB: 'containerd mount' });
      assert.deepEqual(d, [], d.join('\n'));
    });
  }
});

for (const output of OUTPUTS) {
  const [label, , importArgs = []] = output;
  describe(`containerd imports ${label}`, () => {
    for (const name of IMAGES_TO_CHECK) {
      for (const [modeLabel, modeName] of MODES) {
        const run = once(() => {
          const s = squash(name, modeName, output);
          const { refs, out } = ctrImport(s.out, { args: importArgs });
          return { ...s, refs, importOut: out, ref: normalizeRef(s.tag) };
        });
        describe(`${name}, ${modeLabel}`, () => {
          test('ctr images import names it by the tag given with -t, with the config and layers the archive holds', (t) => {
            const r = run();
            assert.deepEqual(r.refs, [r.ref], `ctr import said:\n${r.importOut}`);
            assert.ok(
              ctrImages().some((i) => i.ref === r.ref),
              `ctr images ls lacks ${r.ref}`,
            );
            const m = ctrManifest(r.ref);
            assert.equal(m.config.digest, configDigest(r.meta), "the manifest's config is the archive's");
            assert.equal(m.layers.length, r.meta.manifest[0].Layers.length, 'layers in the manifest');
            if (modeName === 'root') assert.equal(m.layers.at(-1).mediaType, newLayerMediaType(output[1]));
            t.diagnostic(`${m.mediaType}; layers: ${[...new Set(m.layers.map((l) => l.mediaType))].join(', ')}`);
          });
          test("its mount is the original's filesystem", () => {
            const r = run();
            const a = originalTree(name);
            const b = mountTree(r.ref);
            assert.deepEqual(overlayXattrs(b), [], 'trusted.overlay.* xattrs show in the squashed image');
            const d = diffTrees(a, b);
            assert.deepEqual(d, [], `filesystems differ (${name} vs ${r.tag}):\n${d.join('\n')}`);
          });
        });
      }
    }
  });
}

// The registry: the image with the most deleted and overwritten bytes (tests/images/
// sizes.Dockerfile: 20 MB files copied, overwritten and truncated, a 3 MB file deleted)
// pushed as it was built and squashed, to one repository, as an application's new tag is.
const PUSHED = 'sizes';
const REPO = 'e2e/sizes';

const pushedOriginal = () => cached('push:orig', () => ctrPush(importedOriginal(PUSHED), `${REPO}:original`));

for (const output of OUTPUTS) {
  const [label, , importArgs = []] = output;
  describe(`a registry, ${label}`, () => {
    const squashed = once(() => {
      const s = squash(PUSHED, 'default', output);
      ctrImport(s.out, { args: importArgs });
      return { ...s, ref: normalizeRef(s.tag) };
    });

    test('ctr push: the squashed image costs the registry fewer bytes than the original', async (t) => {
      const orig = await pushedOriginal();
      // A fresh registry: the original's push uploads every blob its manifest names.
      assert.equal(orig.uploaded, orig.manifestBytes, 'the original push uploads what its manifest names');
      const sq = await ctrPush(squashed().ref, `${REPO}:squashed-${slug(label)}`);
      t.diagnostic(
        `original: ${orig.manifestBytes} bytes in its manifest, ${orig.uploaded} uploaded (${orig.uploads} blobs); ` +
          `squashed: ${sq.manifestBytes} in its manifest, ${sq.uploaded} uploaded (${sq.uploads} blobs)`,
      );
      assert.ok(
        sq.manifestBytes < orig.manifestBytes,
        `squashed ${sq.manifestBytes} >= original ${orig.manifestBytes}`,
      );
      assert.ok(sq.uploaded < orig.uploaded, `squashed push uploaded ${sq.uploaded} >= original's ${orig.uploaded}`);
      assert.ok(sq.uploaded <= sq.manifestBytes);
      assert.equal(sq.manifest.manifest.config.digest, configDigest(squashed().meta));
      assert.equal(sq.manifest.manifest.layers.length, squashed().meta.manifest[0].Layers.length);
      if (output[1].includes('-compress')) {
        // A compressed new layer costs the registry about what gzip -6 of its tar would.
        const pushed = sq.manifest.manifest.layers.at(-1).size;
        const reference = gzip6(newLayerTar(squashed().meta));
        t.diagnostic(`new layer: ${pushed} bytes pushed; gzip -6 of its tar: ${reference}`);
        assert.ok(pushed <= 1.1 * reference, `the new layer pushed ${pushed} bytes, over 1.1 × gzip -6 (${reference})`);
      }
    });

    test('docker push (Docker 20.10) of the loaded squash succeeds; pulled back by containerd, it mounts the original filesystem', async (t) => {
      const s = squashed();
      load(s.out);
      loaded.push(s.tag);
      const target = `${REPO}-docker:squashed-${slug(label)}`;
      const pushed = await dockerPush(s.tag, target);
      const m = pushed.manifest.manifest;
      t.diagnostic(`docker push: ${pushed.manifest.mediaType}, ${pushed.manifestBytes} bytes, ${pushed.uploads} blobs`);
      assert.equal(m.config.digest, configDigest(s.meta), 'the pushed config is the archive’s (the image id)');
      assert.equal(m.layers.length, s.meta.manifest[0].Layers.length, 'layers in the pushed manifest');
      // Blobs an earlier row pushed (the same layers: Docker gzips them the same way) are
      // not uploaded again, so this push may upload nothing.
      assert.ok(pushed.manifestBytes > 0);
      // Into a namespace of its own, so that containerd fetches every blob from the registry.
      const ns = namespace('pull');
      const ref = ctrPull(target, { ns });
      const d = diffTrees(originalTree(PUSHED), mountTree(ref, { ns }));
      assert.deepEqual(d, [], `pulled back from the registry, the filesystem differs:\n${d.join('\n')}`);
    });
  });
}

// The image as Docker 29's containerd store saves it (an OCI archive with gzip layers; made
// here with skopeo): the default squash keeps the new layer gzip, so the squashed image
// pushes far fewer bytes than the original, and no more than gzip -6 of its layers would.
describe('a registry, an image saved as Docker 29 saves it (OCI, gzip layers): the default squash', () => {
  const ociInput = once(() => {
    const out = path.join(workDir('out'), 'ctr-sizes-oci-gzip.tar');
    const src = saved(image(PUSHED));
    run('skopeo', ['copy', '-q', `docker-archive:${src}`, `oci-archive:${out}`, '--dest-compress-format', 'gzip']);
    return out;
  });

  test('auto keeps gzip; the push costs fewer bytes than the original and about what gzip -6 gives', async (t) => {
    const input = ociInput();
    ctrImport(input, { args: ['--base-name', 'docker.io/library/e2e-ctr-oci-original', '--digests'] });
    const imported = ctrImages().find((i) => i.ref.startsWith('docker.io/library/e2e-ctr-oci-original'));
    assert.ok(imported, 'the OCI input imports');
    const orig = await ctrPush(imported.ref, `${REPO}-oci:original`);
    const tag = 'e2e-ctr-oci-squashed:1';
    const out = path.join(workDir('out'), 'ctr-sizes-oci-squashed.tar');
    const r = squashCli(['-t', tag, '-verbose', '-i', input, '-o', out]);
    assert.match(r.stderr, /new layer stored as gzip level 6: .*auto: the squashed layers were gzip-compressed/);
    const meta = readArchiveMeta(out);
    ctrImport(out);
    const sq = await ctrPush(normalizeRef(tag), `${REPO}-oci:squashed`);
    const reference = meta.manifest[0].Layers.reduce(
      (sum, l) => sum + gzip6(maybeDecompress(meta.byName.get(l).data)),
      0,
    );
    t.diagnostic(
      `original ${orig.manifestBytes} bytes (${orig.uploads} blobs), squashed ${sq.manifestBytes} (${sq.uploads} blobs), ` +
        `gzip -6 of the squashed layers: ${reference}`,
    );
    assert.ok(sq.manifestBytes < orig.manifestBytes, `squashed ${sq.manifestBytes} >= original ${orig.manifestBytes}`);
    const layerBytes = sq.manifest.manifest.layers.reduce((sum, l) => sum + l.size, 0);
    assert.ok(layerBytes <= 1.1 * reference, `layers pushed ${layerBytes} bytes, over 1.1 × gzip -6 (${reference})`);
    assert.equal(sq.manifest.manifest.layers.at(-1).mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  });
});
