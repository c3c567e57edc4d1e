// Real archives written by other tools (../shared/fixtures, described in its README.md;
// read in place, never copied into tests/): `inspect` reads every one that is an image,
// refuses the others with one message, and every image Docker itself can load squashes
// to the same filesystem. Skipped when the folder is absent.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, FIXTURES, docker, layersOf, load, q, sh, squashCli, useDocker, workDir } from '../support/e2e.mjs';
import { assertSameFilesystem } from '../support/roundtrip.mjs';

const present = fs.existsSync(path.join(FIXTURES, 'README.md'));
const skip = present ? false : `${FIXTURES} is absent`;

// Fixtures that hold no image (looked at by hand): the CLI must refuse them cleanly.
const NOT_IMAGES = new Set([
  'go-containerregistry/crane__content.tar', // a filesystem tar (crane export), no manifest
  'go-containerregistry/v1_tarball__content.tar', // the same
  'go-containerregistry/v1_tarball__null_manifest.tar', // manifest.json is `null`
  'regclient/layer-wh.tar', // README: "a bare layer"
  'go-containerregistry/layout_test_gc_image_unknown_mediatype', // one descriptor of an unknown type, its blob absent
  'go-containerregistry/layout_test_index_media_type', // a Helm chart artifact (helm config media type)
  'stereoscope/valid_manifest', // its only manifest blob is empty (0 bytes)
]);

function walk(dir, rel = '') {
  const out = [];
  for (const e of fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) {
      if (fs.existsSync(path.join(dir, r, 'oci-layout')) || fs.existsSync(path.join(dir, r, 'index.json')))
        out.push({ rel: r, folder: true });
      else out.push(...walk(dir, r));
    } else if (e.name.endsWith('.tar')) out.push({ rel: r, folder: false });
  }
  return out;
}

const entries = present ? walk(FIXTURES) : [];

const loaded = present ? useDocker() : []; // without fixtures every test is skipped: no Docker

function dockerIdOf(ref) {
  return JSON.parse(docker(['image', 'inspect', ref]).stdout)[0].Id;
}

/** `inspect --json` of a fixture; OCI layout folders are streamed in as a tar on stdin. */
function inspectFixture(e, { check = true } = {}) {
  const abs = path.join(FIXTURES, e.rel);
  if (e.folder) return sh(`tar -C ${q(abs)} -cf - . | ${q(BIN)} inspect --json -`, { check });
  return squashCli(['inspect', '--json', abs], { check });
}

describe('real archives from other tools', { skip }, () => {
  test('there are fixtures to read', () => assert.ok(entries.length > 20, `${entries.length} found`));

  for (const e of entries) {
    if (NOT_IMAGES.has(e.rel)) {
      test(`${e.rel}: not an image archive - one message, non-zero exit`, () => {
        const r = inspectFixture(e, { check: false });
        assert.equal(r.status, 1, `exit status ${r.status} signal ${r.signal}\n${r.stderr}`);
        assert.equal(r.stdout.length, 0);
        assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('docker-squash:')).length, 1, r.stderr);
      });
      continue;
    }
    describe(e.rel + (e.folder ? ' (OCI layout folder, as a tar on stdin)' : ''), () => {
      let info;
      test('inspect --json reads it: images, layers with diff_ids, history, a default squash point', () => {
        info = JSON.parse(inspectFixture(e).stdout);
        assert.ok(info.images.length >= 1);
        for (const img of info.images) {
          assert.match(
            img.id,
            /^sha256:[0-9a-f]{64}$/,
            'report.rs: ImageInfo.id is "the `sha256:` digest of its config"',
          );
          const layers = img.history.filter((h) => h.layer).map((h) => h.layer);
          assert.ok(layers.length >= 1, 'at least one layer');
          layers.forEach((l, i) => {
            assert.equal(l.index, i);
            assert.match(l.diffId, /^sha256:[0-9a-f]{64}$/);
            assert.ok(l.diffId.slice(7).startsWith(l.id), `id ${l.id} is the diff_id's hex`);
          });
          assert.equal(img.squashPoints[0].from, 'root');
          assert.equal(img.squashPoints.length, layers.length);
          assert.ok(img.defaultFrom.reason.length > 0);
        }
      });

      if (e.folder) return;
      test('each linux/amd64 image Docker can load squashes (-from root and default) to the same filesystem', (t) => {
        info ??= JSON.parse(inspectFixture(e).stdout);
        const abs = path.join(FIXTURES, e.rel);
        const amd64 = info.images.filter((i) => i.platform === 'linux/amd64');
        if (!amd64.length) {
          t.skip(`no linux/amd64 image (${info.images.map((i) => i.platform)})`);
          return;
        }
        const l = docker(['load', '-i', abs], { check: false });
        if (l.status !== 0) {
          t.skip(`docker load refuses it: ${l.stderr.trim()}`);
          return;
        }
        // What docker loaded: for one image, the ref docker names (its id for pre-1.10
        // archives is not the archive's); for several, their ids (config digests).
        const said = l.stdout.toString().match(/Loaded image(?: ID)?: (\S+)/g) || [];
        const slug = e.rel.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
        for (const img of amd64) {
          // By id: several fixtures share tags, so a tag may name another file's image.
          // (docker loads a pre-1.10 archive silently, under its tags.)
          let orig = img.id;
          if (info.images.length === 1 && said.length === 1) orig = dockerIdOf(said[0].split(': ')[1]);
          else if (info.images.length === 1 && said.length === 0 && img.tags.length) orig = dockerIdOf(img.tags[0]);
          for (const mode of ['root', 'default']) {
            const tag = `e2e-fx-${slug}:${img.index}-${mode}`;
            const file = path.join(workDir('fixtures'), `${slug}-${img.index}-${mode}.tar`);
            const select = info.images.length > 1 ? ['-image', img.id.slice(7, 19)] : [];
            squashCli(['-t', tag, ...select, ...(mode === 'root' ? ['-from', 'root'] : []), '-i', abs, '-o', file]);
            loaded.push(tag);
            load(file);
            if (mode === 'root') assert.equal(layersOf(tag).length, 1);
            assertSameFilesystem(orig, tag);
          }
        }
      });
    });
  }
});
