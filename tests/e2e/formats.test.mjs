// The same image in other archive formats squashes to the same filesystem: skopeo's
// oci-archive with gzip and with zstd layers, the docker-save tar compressed whole with
// gzip and zstd. And the output is taken by other tools: podman load, skopeo inspect.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  image,
  layersOf,
  load,
  readArchiveMeta,
  run,
  saved,
  sh,
  q,
  squashCli,
  useDocker,
  workDir,
} from '../support/e2e.mjs';
import { assertSameFilesystem } from '../support/roundtrip.mjs';
import { readTar } from '../support/tar.mjs';

const loaded = useDocker();

const IMAGES_TO_CONVERT = ['names', 'links', 'opaque', 'meta', 'special', 'handmade'];

/** The input archive in each format; made once per run. */
const CONVERSIONS = {
  'oci-archive, gzip layers (skopeo)': (src, dst) =>
    run('skopeo', ['copy', '-q', `docker-archive:${src}`, `oci-archive:${dst}`, '--dest-compress-format', 'gzip']),
  'oci-archive, zstd layers (skopeo)': (src, dst) =>
    run('skopeo', ['copy', '-q', `docker-archive:${src}`, `oci-archive:${dst}`, '--dest-compress-format', 'zstd']),
  'docker save | gzip -c': (src, dst) => sh(`gzip -c ${q(src)} > ${q(dst)}`),
  'docker save | zstd': (src, dst) => sh(`zstd -q -c ${q(src)} > ${q(dst)}`),
};

function converted(name, label) {
  const src = saved(image(name));
  const dst = path.join(workDir('formats'), `${path.basename(src, '.tar')}-${label.replace(/\W+/g, '_')}.tar`);
  if (!fs.existsSync(dst)) {
    CONVERSIONS[label](src, dst + '.part');
    fs.renameSync(dst + '.part', dst);
  }
  return dst;
}

/** The compression of the layers of an OCI archive, as its blobs' magic numbers say. */
function layerCompressions(file) {
  const entries = readTar(fs.readFileSync(file));
  const blob = (d) => entries.find((e) => e.name.toString() === `blobs/sha256/${d.slice(7)}`).data;
  const index = JSON.parse(entries.find((e) => e.name.toString() === 'index.json').data);
  const manifest = JSON.parse(blob(index.manifests[0].digest));
  return manifest.layers.map((l) => {
    const b = blob(l.digest);
    if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    if (b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  });
}

for (const label of Object.keys(CONVERSIONS)) {
  describe(`input: ${label}`, () => {
    if (label.startsWith('oci')) {
      test('the converted archive has the layer compression it should', () => {
        const want = label.includes('zstd') ? 'zstd' : 'gzip';
        assert.deepEqual([...new Set(layerCompressions(converted('links', label)))], [want]);
      });
    }
    for (const name of IMAGES_TO_CONVERT) {
      for (const mode of ['root', 'default']) {
        test(`${name}, ${mode === 'root' ? '-from root' : 'default squash point'}: the same filesystem as the original`, () => {
          const input = converted(name, label);
          const tag = `e2e-fmt-${name}:${label.replace(/\W+/g, '-').replace(/^-|-$/g, '')}-${mode}`;
          const out = path.join(workDir('out'), `fmt-${name}-${tag.split(':')[1]}.tar`);
          squashCli(['-t', tag, ...(mode === 'root' ? ['-from', 'root'] : []), '-i', input, '-o', out]);
          // auto: the new layer is stored as the layers it replaces were.
          const want = label.startsWith('oci') ? (label.includes('zstd') ? 'zstd' : 'gzip') : 'none';
          assert.equal(layerCompressions(out).at(-1), want, 'the new layer keeps the compression of its input');
          loaded.push(tag);
          load(out);
          assert.equal(layersOf(tag).length, mode === 'root' ? 1 : 2);
          assertSameFilesystem(image(name), tag);
        });
      }
    }
  });
}

/** podman with its own storage under `root` (vfs: no mounts), never the machine's. */
const podmanIn = (root) => (args) =>
  run('podman', [
    '--root',
    path.join(root, 'root'),
    '--runroot',
    path.join(root, 'run'),
    '--storage-driver',
    'vfs',
    ...args,
  ]);

describe('other tools take the output', () => {
  const outOf = (name, compress = 'auto') => {
    const out = path.join(workDir('out'), `tools-${name}-${compress}.tar`);
    const args = ['-t', `e2e-tools-${name}:sq`, '-compress', compress, '-i', saved(image(name)), '-o', out];
    if (!fs.existsSync(out)) squashCli(args);
    return out;
  };

  for (const compress of ['none', 'gzip', 'zstd']) {
    test(`-compress ${compress}: podman load, skopeo inspect docker-archive: and oci-archive: read the OCI layout`, () => {
      const out = outOf('config', compress);
      const meta = readArchiveMeta(out);
      assert.equal(layerCompressions(out).at(-1), compress);
      const podman = podmanIn(workDir(`podman-${compress}`));
      assert.match(
        podman(['load', '-i', out]).stdout.toString(),
        /Loaded image: (localhost\/|docker\.io\/library\/)?e2e-tools-config:sq/,
      );
      const info = JSON.parse(podman(['image', 'inspect', 'e2e-tools-config:sq']).stdout)[0];
      assert.deepEqual(info.RootFS.Layers, meta.config.rootfs.diff_ids);
      podman(['rmi', '-f', 'e2e-tools-config:sq']);
      const index = JSON.parse(meta.byName.get('index.json').data);
      const manifest = JSON.parse(meta.byName.get(`blobs/sha256/${index.manifests[0].digest.slice(7)}`).data);
      const oci = JSON.parse(run('skopeo', ['inspect', `oci-archive:${out}`]).stdout);
      assert.deepEqual(
        oci.Layers,
        manifest.layers.map((l) => l.digest),
        'oci-archive: the blobs of the manifest',
      );
      const raw = run('skopeo', ['inspect', '--raw', `oci-archive:${out}`]).stdout;
      assert.deepEqual(JSON.parse(raw), manifest, 'oci-archive: the manifest written, with its media types');
      const ociConfig = JSON.parse(run('skopeo', ['inspect', '--config', `oci-archive:${out}`]).stdout);
      assert.deepEqual(ociConfig.rootfs, meta.config.rootfs);
      const docker = JSON.parse(run('skopeo', ['inspect', '--config', `docker-archive:${out}`]).stdout);
      assert.deepEqual(docker.rootfs, meta.config.rootfs);
    });
  }

  test('podman load takes it, with its tag, layers and config', () => {
    const podman = podmanIn(workDir('podman'));
    const out = outOf('config');
    const said = podman(['load', '-i', out]).stdout.toString();
    assert.match(said, /Loaded image: (localhost\/|docker\.io\/library\/)?e2e-tools-config:sq/);
    const info = JSON.parse(podman(['image', 'inspect', 'e2e-tools-config:sq']).stdout)[0];
    const meta = readArchiveMeta(out);
    assert.deepEqual(info.RootFS.Layers, meta.config.rootfs.diff_ids);
    assert.deepEqual(info.Config.Env, meta.config.config.Env);
    assert.deepEqual(info.Config.Cmd, meta.config.config.Cmd);
    podman(['rmi', '-f', 'e2e-tools-config:sq']);
  });

  test('skopeo inspect docker-archive: reads it, and its config is the one written', () => {
    const out = outOf('config');
    const meta = readArchiveMeta(out);
    const info = JSON.parse(run('skopeo', ['inspect', `docker-archive:${out}`]).stdout);
    assert.deepEqual(info.Layers, meta.config.rootfs.diff_ids);
    assert.deepEqual(info.Env, meta.config.config.Env);
    const cfg = JSON.parse(run('skopeo', ['inspect', '--config', `docker-archive:${out}`]).stdout);
    // skopeo shows the config converted to the OCI schema: the fields both schemas have.
    assert.deepEqual(cfg.rootfs, meta.config.rootfs);
    assert.equal(cfg.history.length, meta.config.history.length);
    for (const k of [
      'Env',
      'Cmd',
      'Entrypoint',
      'WorkingDir',
      'User',
      'ExposedPorts',
      'Volumes',
      'Labels',
      'StopSignal',
    ]) {
      assert.deepEqual(cfg.config[k], meta.config.config[k], k);
    }
    // And skopeo can copy it on: to an OCI archive the CLI reads back.
    const oci = path.join(workDir('out'), 'tools-config-oci.tar');
    fs.rmSync(oci, { force: true });
    run('skopeo', ['copy', '-q', `docker-archive:${out}`, `oci-archive:${oci}`]);
    const again = JSON.parse(squashCli(['inspect', '--json', oci]).stdout);
    assert.deepEqual(
      again.images[0].history.filter((h) => h.layer).map((h) => h.layer.diffId),
      meta.config.rootfs.diff_ids,
    );
  });
});
