// For every test image and every kind of squash point (-from root, the default, a layer in
// the middle), and every way of storing the output (the default: OCI layout, auto, which is
// a plain tar for a classic docker save; a gzip and a zstd new layer; the Docker layout):
// docker save -> docker-squash -> docker load gives an image whose filesystem, config,
// layers and history are what they must be, and the same output every time.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RULE_IMAGES, image, layersOf, load, squashCli, saved, useDocker, workDir } from '../support/e2e.mjs';
import {
  assertHistory,
  assertLayerCount,
  assertSameConfig,
  assertSameFilesystem,
  sha256File,
  squashAndLoad,
} from '../support/roundtrip.mjs';
import path from 'node:path';

const loaded = useDocker();

const STACK_LAYERS = 4; // tests/images/stack/Dockerfile: base + RUN + ADD + COPY

const MODES = [
  ['-from root', 'root'],
  ['default squash point', 'default'],
  ['-from a middle layer', 'middle'],
];

const OUTPUTS = [
  ['', []],
  [', -compress gzip', ['-compress', 'gzip']],
  [', -compress zstd', ['-compress', 'zstd']],
  [', -format docker', ['-format', 'docker']],
];

for (const name of [...Object.keys(RULE_IMAGES), 'handmade']) {
  describe(`${name} image`, () => {
    for (const [modeLabel, modeName] of MODES) {
      for (const [outLabel, extra] of OUTPUTS) {
        const label = `${modeLabel}${outLabel}`;
        const results = {};
        const roundTrip = () => {
          if (!results.value && !results.error) {
            try {
              const ref = image(name);
              const mode =
                modeName === 'middle' ? { keep: STACK_LAYERS + (RULE_IMAGES[name]?.middleKeep ?? 1) } : modeName;
              const tag = `e2e-sq-${name}:${modeName}${extra.join('').replace(/[^a-z0-9]+/g, '-')}`;
              loaded.push(tag);
              results.value = { orig: ref, mode, ...squashAndLoad(ref, mode, tag, extra) };
            } catch (e) {
              results.error = e;
            }
          }
          if (results.error) throw results.error;
          return results.value;
        };
        describe(label, () => {
          test("the squashed image's filesystem equals the original's", () => {
            const r = roundTrip();
            assertSameFilesystem(r.orig, r.ref);
          });
          test('docker inspect shows the same config (Env, Cmd, Labels, ...) except rootfs, history and id', () => {
            const r = roundTrip();
            assertSameConfig(r.orig, r.ref, r.meta.config);
          });
          test(modeName === 'root' ? 'one layer' : 'the kept layers, unchanged, and one squashed layer', () => {
            const r = roundTrip();
            if (modeName === 'root') assert.equal(r.keep, 0);
            if (modeName === 'default') assert.equal(r.keep, 1, "the base image's ADD file: layer is layer 0");
            assert.ok(r.keep < layersOf(r.orig).length, 'the squash point must leave layers to squash');
            assertLayerCount(r);
          });
          test('history: kept steps unchanged, one #(squash) step, every metadata step still listed', () => {
            assertHistory(roundTrip());
          });
          test('squashing again gives a byte-identical archive', () => {
            const r = roundTrip();
            const again = path.join(workDir('out'), `again-${name}-${modeName}${extra.join('')}.tar`);
            const args = ['-t', r.ref, ...extra];
            if (r.keep === 0) args.push('-from', 'root');
            else if (modeName !== 'default') args.push('-from', layersOf(r.orig)[r.keep - 1].slice(7, 19));
            squashCli([...args, '-i', saved(r.orig), '-o', again]);
            assert.equal(sha256File(again), sha256File(r.out));
          });
        });
      }
    }
  });
}

// Squashing from a middle layer is where deletions must stay whiteouts (or opaque markers)
// and hardlinks may point into kept layers: every squash point `inspect` offers for the
// trickiest images, by the id it prints, gives the original's filesystem and the layers
// it announced.
for (const name of ['whiteouts', 'opaque', 'types', 'links', 'names', 'sizes', 'handmade']) {
  describe(`${name} image, every squash point`, () => {
    let points;
    const pointsOf = () => {
      points ??= JSON.parse(squashCli(['inspect', '--json', saved(image(name))]).stdout).images[0].squashPoints;
      return points;
    };
    for (let keep = 1; keep < 12; keep++) {
      test(`-from layer ${keep - 1}, by the id inspect prints: the original's filesystem`, (t) => {
        const layers = layersOf(image(name));
        if (keep >= layers.length) {
          t.skip(`the image has ${layers.length} layers`);
          return;
        }
        const p = pointsOf().find((x) => x.layerIndex === keep - 1);
        assert.ok(p, `inspect offers no squash point at layer ${keep - 1}`);
        const tag = `e2e-sq-every-${name}:keep${keep}`;
        loaded.push(tag);
        const out = path.join(workDir('out'), `every-${name}-${keep}.tar`);
        squashCli(['-t', tag, '-from', p.from, '-i', saved(image(name)), '-o', out]);
        load(out);
        assert.equal(layersOf(tag).length, keep + 1);
        assert.equal(p.layersAfter, keep + 1);
        assert.deepEqual(layersOf(tag).slice(0, keep), layers.slice(0, keep));
        assertSameFilesystem(image(name), tag);
      });
    }
  });
}
