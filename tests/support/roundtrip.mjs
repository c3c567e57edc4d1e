// The round trip of the squash tests and what they compare:
//   docker save IMG -> docker-squash -> docker load -> docker create + docker export.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  dockerText,
  exportTree,
  inspectImage,
  layersOf,
  load,
  readArchiveMeta,
  saved,
  squashCli,
  workDir,
} from './e2e.mjs';
import { diffTrees } from './fscompare.mjs';

export function sha256File(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The `-from` argument of a mode: 'root', 'default' (no flag) or { keep: n } (keep n layers). */
export function fromArgs(ref, mode) {
  if (mode === 'root') return ['-from', 'root'];
  if (mode === 'default') return [];
  const layers = layersOf(ref);
  // The id as `inspect` prints it: the diff_id's hex; a 12-character prefix of it.
  return ['-from', layers[mode.keep - 1].replace('sha256:', '').slice(0, 12)];
}

/** The config history of an image, read from its `docker save` archive. */
export function configOf(ref) {
  return readArchiveMeta(saved(ref)).config;
}

/** How many layers the default squash point keeps: up to the first `ADD file:` layer. */
export function defaultKeep(config) {
  let layer = 0;
  for (const h of config.history) {
    if (h.empty_layer) continue;
    layer++;
    if ((h.created_by || '').includes('ADD file:')) return layer;
  }
  return 0;
}

/**
 * Squashes `ref` in `mode` to a file and loads it under `tag`. Returns what the tests look
 * at: the output file, its manifest/config, the loaded image ref, the layers kept.
 */
export function squashAndLoad(ref, mode, tag, extra = []) {
  const dir = workDir('out');
  const label = typeof mode === 'string' ? mode : `keep${mode.keep}`;
  const out = path.join(dir, `${tag.replace(/[/:]/g, '_')}-${label}.tar`);
  fs.rmSync(out, { force: true });
  const input = saved(ref);
  squashCli(['-t', tag, ...fromArgs(ref, mode), ...extra, '-i', input, '-o', out]);
  const meta = readArchiveMeta(out);
  load(out);
  const origConfig = configOf(ref);
  const keep = mode === 'root' ? 0 : mode === 'default' ? defaultKeep(origConfig) : mode.keep;
  return { out, input, meta, ref: tag, keep, origConfig };
}

/** Asserts that the filesystem of `squashed` equals that of `orig`. */
export function assertSameFilesystem(orig, squashed) {
  const a = exportTree(orig);
  const b = exportTree(squashed);
  const d = diffTrees(a, b);
  assert.deepEqual(d, [], `filesystems differ (${orig} vs ${squashed}):\n${d.join('\n')}`);
}

// What `docker inspect` shows that is not the image's config, or that squashing changes by
// design: the id and tags, the layers (RootFS) and their sizes, the local parent, the
// storage driver's data.
const NOT_CONFIG = [
  'Id',
  'RepoTags',
  'RepoDigests',
  'Parent',
  'RootFS',
  'Size',
  'VirtualSize',
  'GraphDriver',
  'Metadata',
];

export function assertSameConfig(orig, squashed, squashedConfig) {
  const a = inspectImage(orig);
  const b = inspectImage(squashed);
  for (const k of NOT_CONFIG) {
    delete a[k];
    delete b[k];
  }
  // `docker inspect` shows as Comment the config's "comment" or, when there is none, the
  // comment of the last history entry (moby api/server/router/image: getImagesByName), so
  // it follows the history, which squashing changes by design.
  if (!squashedConfig.comment && squashedConfig.history?.length) {
    const last = squashedConfig.history[squashedConfig.history.length - 1].comment || '';
    assert.equal(b.Comment, last, 'Comment shown by docker inspect');
    a.Comment = last;
  }
  const d = jsonDiff(a, b);
  assert.deepEqual(d, [], `docker inspect differs beyond Id/RepoTags/RootFS/Size/Parent:\n${d.join('\n')}`);
}

/** Differences between two JSON values, one line per differing leaf: "path: a -> b". */
export function jsonDiff(a, b, at = '') {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const obj = (v) => v && typeof v === 'object';
  if (!obj(a) || !obj(b) || Array.isArray(a) !== Array.isArray(b)) {
    return [`${at || '.'}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`];
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.flatMap((k) => jsonDiff(a[k], b[k], `${at}.${k}`));
}

/** The history checks; `r` is a squashAndLoad result. */
export function assertHistory(r) {
  const orig = r.origConfig.history;
  const hist = r.meta.config.history;
  const layers = r.meta.config.rootfs.diff_ids;
  assert.equal(hist.filter((h) => !h.empty_layer).length, layers.length, 'history entries with layers != layers');
  const squashes = hist.filter((h) => (h.created_by || '').startsWith('#(squash) from '));
  assert.equal(squashes.length, 1, `one #(squash) entry expected:\n${JSON.stringify(hist, null, 1)}`);
  assert.ok(!squashes[0].empty_layer, 'the #(squash) entry must have a layer');
  const from = squashes[0].created_by.slice('#(squash) from '.length);
  if (r.keep === 0) assert.equal(from, 'root');
  else {
    const keptTop = r.meta.config.rootfs.diff_ids[r.keep - 1].replace('sha256:', '');
    assert.ok(from.length >= 12 && keptTop.startsWith(from), `#(squash) from ${from}: not the kept layer ${keptTop}`);
  }
  // The kept layers' entries, unchanged and in order, before the squash entry.
  const keptOrig = [];
  let n = 0;
  for (const h of orig) {
    if (!h.empty_layer) {
      if (n++ >= r.keep) break;
      keptOrig.push(h);
    }
  }
  const before = hist.slice(0, hist.indexOf(squashes[0])).filter((h) => !h.empty_layer);
  assert.deepEqual(before, keptOrig, "kept layers' history entries changed");
  // Every metadata step (empty_layer) of the original is still there, in order, still empty.
  const emptyOrig = orig.filter((h) => h.empty_layer).map((h) => h.created_by);
  const emptyNew = hist.filter((h) => h.empty_layer).map((h) => h.created_by);
  assert.deepEqual(emptyNew, emptyOrig, 'metadata steps lost, added or reordered');
  // And `docker history` of the loaded image lists them.
  const listed = dockerText(['history', '--no-trunc', '--format', '{{.CreatedBy}}', r.ref]).split('\n');
  for (const c of emptyOrig) assert.ok(listed.includes(c), `docker history lacks ${c}`);
}

export function assertLayerCount(r) {
  const expected = r.keep + 1;
  assert.equal(r.meta.config.rootfs.diff_ids.length, expected, 'diff_ids in the config');
  assert.equal(r.meta.manifest[0].Layers.length, expected, 'layers in manifest.json');
  assert.equal(layersOf(r.ref).length, expected, 'layers docker loaded');
  // The kept layers are the original's, byte for byte (same diff_ids).
  assert.deepEqual(layersOf(r.ref).slice(0, r.keep), r.origConfig.rootfs.diff_ids.slice(0, r.keep));
}
