// The command line: pipes, tags, -from ids as `inspect` prints them, -image, errors.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN,
  docker,
  image,
  inspectImage,
  layersOf,
  load,
  q,
  readArchiveMeta,
  saved,
  sh,
  squashCli,
  squashPiped,
  WASM_BIN,
  useDocker,
  workDir,
} from '../support/e2e.mjs';
import { assertSameFilesystem, sha256File } from '../support/roundtrip.mjs';
import { readTar } from '../support/tar.mjs';

const loaded = useDocker();

/** One error message: one `docker-squash:` line (details may follow it), no usage text. */
function assertOneMessage(stderr) {
  const starts = stderr.split('\n').filter((l) => l.startsWith('docker-squash:'));
  assert.equal(starts.length, 1, `one message expected, got:\n${stderr}`);
  assert.ok(stderr.startsWith('docker-squash:'), stderr);
  assert.doesNotMatch(stderr, /Usage:/, 'a bad value is not a usage error');
}

const out = (name) => {
  const f = path.join(workDir('cli'), name);
  fs.rmSync(f, { force: true });
  return f;
};

describe('pipes', () => {
  test('docker save X | docker-squash -t T | docker load', () => {
    const src = image('links');
    loaded.push('e2e-pipe:plain');
    const r = sh(`docker save ${q(src)} | ${q(BIN)} -t e2e-pipe:plain | docker load`);
    assert.match(r.stdout.toString(), /Loaded image: e2e-pipe:plain/);
    assert.equal(layersOf('e2e-pipe:plain').length, 2);
    assertSameFilesystem(src, 'e2e-pipe:plain');
  });

  test('docker save X | gzip | docker-squash -from root | docker load', () => {
    const src = image('names');
    loaded.push('e2e-pipe:gzip');
    sh(`docker save ${q(src)} | gzip -c | ${q(BIN)} -from root -t e2e-pipe:gzip | docker load`);
    assert.equal(layersOf('e2e-pipe:gzip').length, 1);
    assertSameFilesystem(src, 'e2e-pipe:gzip');
  });

  test('docker save X | npx docker-squash-wasm -t T | docker load (the npm bin in a real pipe)', () => {
    const src = image('links');
    loaded.push('e2e-pipe:npm');
    const r = sh(`docker save ${q(src)} | ${q(process.execPath)} ${q(WASM_BIN)} -t e2e-pipe:npm | docker load`);
    assert.match(r.stdout.toString(), /Loaded image: e2e-pipe:npm/);
    assert.equal(layersOf('e2e-pipe:npm').length, 2);
    assertSameFilesystem(src, 'e2e-pipe:npm');
  });

  test('docker save X | gzip | npx docker-squash-wasm -from root | docker load', () => {
    const src = image('names');
    loaded.push('e2e-pipe:npm-gzip');
    sh(
      `docker save ${q(src)} | gzip -c | ${q(process.execPath)} ${q(WASM_BIN)} -from root -t e2e-pipe:npm-gzip | docker load`,
    );
    assert.equal(layersOf('e2e-pipe:npm-gzip').length, 1);
    assertSameFilesystem(src, 'e2e-pipe:npm-gzip');
  });

  test('stdout and -o give the same bytes; -verbose talks on stderr only', () => {
    const input = saved(image('whiteouts'));
    const viaStdout = squashPiped(input, ['-t', 'e2e-pipe:same', '-verbose']);
    assert.ok(viaStdout.stderr.length > 0, '-verbose says something');
    const file = out('same.tar');
    squashCli(['-t', 'e2e-pipe:same', '-i', input, '-o', file]);
    assert.ok(viaStdout.stdout.equals(fs.readFileSync(file)), 'stdout bytes differ from the -o file');
  });
});

describe('tags', () => {
  test('without -t the image keeps its own tags (all of them)', () => {
    const src = image('special');
    const tags = ['e2e-keep:one', 'e2e-keep/two:2'];
    for (const t of tags) docker(['tag', src, t]);
    loaded.push(...tags);
    const input = out('keep-in.tar');
    docker(['save', '-o', input, ...tags]);
    const file = out('keep-out.tar');
    squashCli(['-from', 'root', '-i', input, '-o', file]);
    assert.deepEqual([...readArchiveMeta(file).manifest[0].RepoTags].sort(), [...tags].sort());
    const { tags: said } = load(file);
    assert.deepEqual(said.sort(), [...tags].sort());
    for (const t of tags) {
      assert.equal(layersOf(t).length, 1, `${t} is the squashed image`);
      assert.notEqual(inspectImage(t).Id, inspectImage(src).Id);
    }
  });

  test("-t names the result: in manifest.json and index.json (containerd's full name and the tag)", () => {
    const file = out('tagged.tar');
    squashCli(['-t', 'example.com:5000/team/app:v1.2', '-i', saved(image('meta')), '-o', file]);
    const meta = readArchiveMeta(file);
    assert.deepEqual(meta.manifest[0].RepoTags, ['example.com:5000/team/app:v1.2']);
    const index = JSON.parse(meta.byName.get('index.json').data);
    assert.deepEqual(index.manifests[0].annotations, {
      'io.containerd.image.name': 'example.com:5000/team/app:v1.2',
      'org.opencontainers.image.ref.name': 'v1.2',
    });
    assert.equal(meta.byName.get('repositories'), undefined, 'the OCI layout has no repositories file');
  });

  test('-t names the result in repositories too, in the Docker layout', () => {
    const file = out('tagged-docker.tar');
    squashCli(['-t', 'example.com:5000/team/app:v1.2', '-format', 'docker', '-i', saved(image('meta')), '-o', file]);
    const meta = readArchiveMeta(file);
    assert.deepEqual(meta.manifest[0].RepoTags, ['example.com:5000/team/app:v1.2']);
    const repos = JSON.parse(meta.byName.get('repositories').data);
    assert.deepEqual(Object.keys(repos), ['example.com:5000/team/app']);
    assert.deepEqual(Object.keys(repos['example.com:5000/team/app']), ['v1.2']);
  });

  test('-t without a tag means :latest', () => {
    const file = out('latest.tar');
    squashCli(['-t', 'e2e-latest', '-i', saved(image('meta')), '-o', file]);
    assert.deepEqual(readArchiveMeta(file).manifest[0].RepoTags, ['e2e-latest:latest']);
  });

  const BAD_TAGS = [
    'Upper/Case:1',
    'two words',
    'name:bad tag',
    'name:',
    `name:${'x'.repeat(129)}`,
    'name:-dash',
    '/leading',
    'a//b',
  ];
  for (const bad of BAD_TAGS) {
    test(`a bad tag (${JSON.stringify(bad.length > 30 ? bad.slice(0, 30) + '…' : bad)}) is one clear error: non-zero exit, no output file`, () => {
      const file = out('bad-tag.tar');
      const r = squashCli(['-t', bad, '-i', saved(image('meta')), '-o', file], { check: false });
      assert.notEqual(r.status, 0);
      assertOneMessage(r.stderr);
      assert.match(r.stderr, /tag|reference|invalid/i);
      assert.equal(fs.existsSync(file), false, 'no output file');
      assert.deepEqual(
        fs.readdirSync(path.dirname(file)).filter((f) => f.startsWith('bad-tag')),
        [],
        'no temporary file left',
      );
      const viaStdout = squashPiped(saved(image('meta')), ['-t', bad], { check: false });
      assert.notEqual(viaStdout.status, 0);
      assert.equal(viaStdout.stdout.length, 0, 'nothing on stdout');
    });
  }
});

describe('-from and inspect', () => {
  test('inspect --json agrees with docker: id, tags, diff_ids, history', () => {
    const ref = image('config');
    const info = JSON.parse(squashCli(['inspect', '--json', saved(ref)]).stdout);
    assert.equal(info.images.length, 1);
    const img = info.images[0];
    assert.equal(img.id, inspectImage(ref).Id);
    assert.deepEqual(img.tags, [ref]);
    assert.equal(img.platform, 'linux/amd64');
    assert.deepEqual(
      img.history.filter((h) => h.layer).map((h) => h.layer.diffId),
      layersOf(ref),
    );
    const config = readArchiveMeta(saved(ref)).config;
    assert.deepEqual(
      img.history.map((h) => h.createdBy),
      config.history.map((h) => h.created_by),
    );
    assert.deepEqual(
      img.history.map((h) => h.emptyLayer),
      config.history.map((h) => !!h.empty_layer),
    );
    assert.equal(img.defaultFrom.layerIndex, 0);
  });

  test('every squash point inspect lists works as -from, with the layer count it announced', () => {
    const ref = image('whiteouts');
    const input = saved(ref);
    const info = JSON.parse(squashCli(['inspect', '--json', input]).stdout).images[0];
    const layers = layersOf(ref);
    assert.equal(info.squashPoints.length, layers.length, 'root and every layer but the top');
    for (const p of info.squashPoints) {
      const file = out('point.tar');
      squashCli(['-from', p.from, '-i', input, '-o', file]);
      const meta = readArchiveMeta(file);
      assert.equal(meta.config.rootfs.diff_ids.length, p.layersAfter, `-from ${p.from}`);
      const keep = p.layerIndex === null ? 0 : p.layerIndex + 1;
      assert.deepEqual(meta.config.rootfs.diff_ids.slice(0, keep), layers.slice(0, keep), `-from ${p.from}`);
    }
  });

  test('-from takes a full diff_id, with or without sha256:, and --from= and -from= forms', () => {
    const ref = image('types');
    const input = saved(ref);
    const layer = layersOf(ref)[2];
    const results = [
      ['-from', layer],
      ['-from', layer.slice(7)],
      [`--from=${layer.slice(7, 20)}`],
      [`-from=${layer.slice(7, 20)}`],
    ].map((args) => {
      const file = out('from.tar');
      squashCli([...args, '-t', 'e2e-from:x', '-i', input, '-o', file]);
      return sha256File(file);
    });
    assert.equal(new Set(results).size, 1, 'all forms give the same output');
    const file = out('from.tar');
    squashCli(['-from', layer.slice(7, 20), '-t', 'e2e-from:x', '-i', input, '-o', file]);
    assert.equal(readArchiveMeta(file).config.rootfs.diff_ids.length, 4);
  });

  test('-from an id that is no layer of the image is an error, and no output file', () => {
    const file = out('nolayer.tar');
    const r = squashCli(['-from', 'deadbeef0000', '-i', saved(image('types')), '-o', file], { check: false });
    assert.notEqual(r.status, 0);
    assertOneMessage(r.stderr);
    assert.match(r.stderr, /deadbeef0000/);
    assert.equal(fs.existsSync(file), false);
  });
});

describe('archives with several images', () => {
  test('inspect lists both; -image picks one by tag; the result is that image', () => {
    const a = image('links');
    const b = image('special');
    const input = out('two-in.tar');
    docker(['save', '-o', input, a, b]);
    const info = JSON.parse(squashCli(['inspect', '--json', input]).stdout);
    assert.deepEqual(info.images.map((i) => i.tags[0]).sort(), [a, b].sort());
    const file = out('two-out.tar');
    squashCli(['-image', b, '-from', 'root', '-t', 'e2e-two:special', '-i', input, '-o', file]);
    loaded.push('e2e-two:special');
    load(file);
    assertSameFilesystem(b, 'e2e-two:special');
  });
});

describe('damaged input', () => {
  test('a layer whose bytes do not match its diff_id is an error, not a squashed image', () => {
    const src = saved(image('links'));
    const buf = Buffer.from(fs.readFileSync(src));
    const { manifest } = readArchiveMeta(src);
    const top = manifest[0].Layers[manifest[0].Layers.length - 1];
    const entry = readTar(buf).find((e) => e.name.toString() === top);
    // Flip one byte of a file's content inside the layer (past its first header).
    const inner = readTar(entry.data).find((e) => e.type === '0' && e.data.length > 0);
    buf[inner.data.byteOffset - buf.byteOffset] ^= 0x01;
    const input = out('corrupt-in.tar');
    fs.writeFileSync(input, buf);
    // The damage is in the tar data, so the layer still parses: only the digest can tell.
    const file = out('corrupt-out.tar');
    const r = squashCli(['-from', 'root', '-i', input, '-o', file], { check: false });
    assert.notEqual(r.status, 0, 'must fail');
    assert.match(r.stderr, /diff_?id|digest|sha256|checksum/i);
    assert.equal(fs.existsSync(file), false);
  });

  test('a truncated archive is an error, and no output file', () => {
    const src = fs.readFileSync(saved(image('links')));
    const input = out('truncated-in.tar');
    fs.writeFileSync(input, src.subarray(0, Math.floor(src.length * 0.6)));
    const file = out('truncated-out.tar');
    const r = squashCli(['-i', input, '-o', file], { check: false });
    assert.notEqual(r.status, 0);
    assert.ok(r.stderr.trim().length > 0);
    assert.equal(fs.existsSync(file), false);
  });
});
