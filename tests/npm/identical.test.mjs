// The npm package squashes byte for byte as the native CLI does, on real archives written
// by other tools (../shared/fixtures, when present) and on archives written here, for the
// default squash point, root, and every layer; where the CLI refuses, the package throws
// an Error with a code and the same message. `inspect` gives the same facts as
// `docker-squash inspect --json`.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import {
  requireBuild,
  loadPackage,
  workDir,
  nativeSquash,
  nativeInspect,
  fixtureArchives,
  concat,
  firstDiff,
  FIXTURES,
} from './helpers.mjs';
import { smallImage } from './archive.mjs';

let pkg;
let dir;
const generated = [];

before(async () => {
  requireBuild();
  pkg = await loadPackage();
  dir = workDir('identical');
  const small = path.join(dir, 'small.tar');
  smallImage(small);
  generated.push(small);
  const gz = path.join(dir, 'small.tar.gz');
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(small)));
  generated.push(gz);
  if (spawnSync('zstd', ['--version']).status === 0) {
    const zst = path.join(dir, 'small.tar.zst');
    assert.equal(spawnSync('zstd', ['-q', '-f', small, '-o', zst]).status, 0);
    generated.push(zst);
  }
});

/** Every squash the CLI can be asked for on this archive: default, root, each layer. */
function variants(archive) {
  const facts = nativeInspect(archive);
  if (facts.error) return [{ label: 'default', opts: {}, flags: [] }];
  const info = JSON.parse(facts.json);
  const out = [];
  for (const img of info.images) {
    const pick = info.images.length > 1 ? { image: img.id } : {};
    const pickFlags = info.images.length > 1 ? ['-image', img.id] : [];
    out.push({ label: `image ${img.index}, default`, opts: { ...pick }, flags: [...pickFlags] });
    out.push({
      label: `image ${img.index}, root`,
      opts: { ...pick, from: 'root' },
      flags: [...pickFlags, '-from', 'root'],
    });
    for (const h of img.history) {
      if (!h.layer) continue;
      const id = h.layer.id.slice(0, 12);
      out.push({
        label: `image ${img.index}, from ${id}`,
        opts: { ...pick, from: id, tag: 'squashed:npm' },
        flags: [...pickFlags, '-from', id, '-t', 'squashed:npm'],
      });
    }
  }
  // Several images and no choice: the CLI's refusal is compared too.
  if (info.images.length > 1) out.push({ label: 'no image chosen', opts: {}, flags: [] });
  return out;
}

async function compareSquashes(t, archive) {
  const out = path.join(dir, 'native-out.tar');
  for (const v of variants(archive)) {
    const native = nativeSquash(archive, v.flags, out);
    let result;
    let error;
    try {
      result = await pkg.squash(archive, v.opts);
    } catch (e) {
      error = e;
    }
    if (native.status === 0) {
      assert.ifError(error);
      const ours = concat(result.chunks);
      const at = firstDiff(ours, native.bytes);
      assert.ok(
        at === -1,
        `${path.basename(archive)} (${v.label}): the package's output differs from the CLI's at byte ${at} (sizes ${ours.length} / ${native.bytes.length})`,
      );
      assert.equal(result.report.outputBytes, native.bytes.length);
    } else {
      assert.ok(
        error,
        `${path.basename(archive)} (${v.label}): the CLI failed (${native.stderr.trim()}) but the package did not`,
      );
      assert.ok(error instanceof Error, 'an Error is thrown');
      assert.match(String(error.code), /^[A-Z_]+$/, 'the error has a code');
      assert.equal(`docker-squash: ${error.message}\n`, native.stderr, `${v.label}: same message as the CLI`);
    }
  }
}

async function compareInspect(archive) {
  const native = nativeInspect(archive);
  let facts;
  let error;
  try {
    facts = await pkg.inspect(archive);
  } catch (e) {
    error = e;
  }
  if (native.error) {
    assert.ok(error, `the CLI's inspect failed (${native.error}) but the package's did not`);
    assert.match(String(error.code), /^[A-Z_]+$/);
    assert.equal(error.message, native.error);
  } else {
    assert.ifError(error);
    const want = JSON.parse(native.json);
    const magic = fs.readFileSync(archive).subarray(0, 4);
    const compressed = magic[0] === 0x1f ? 'gzip' : magic[0] === 0x28 && magic[1] === 0xb5 ? 'zstd' : null;
    if (compressed) {
      // Both name the file's own compression (the native CLI decompresses while spooling).
      assert.equal(want.compression, compressed);
      assert.equal(facts.compression, compressed);
      assert.equal(`${JSON.stringify(facts, null, 2)}\n`, `${JSON.stringify(want, null, 2)}\n`);
    } else {
      // As JSON values (serde writes the score 1 as `1.0`, JavaScript as `1`), in order.
      assert.equal(`${JSON.stringify(facts, null, 2)}\n`, `${JSON.stringify(want, null, 2)}\n`);
    }
  }
}

test('archives written here: same bytes as the native CLI, every squash point', async (t) => {
  for (const a of generated) {
    await t.test(path.basename(a), async (t2) => {
      await compareSquashes(t2, a);
      await compareInspect(a);
    });
  }
});

test('real archives of ../shared/fixtures: same bytes and facts as the native CLI', async (t) => {
  const archives = fixtureArchives();
  if (archives.length === 0) {
    t.skip(`no fixtures at ${FIXTURES}`);
    return;
  }
  for (const a of archives) {
    await t.test(path.relative(FIXTURES, a), async (t2) => {
      await compareSquashes(t2, a);
      await compareInspect(a);
    });
  }
});

test('the input kinds give the same bytes: path, Uint8Array, ArrayBuffer, Blob, source object', async () => {
  const archive = generated[0];
  const bytes = fs.readFileSync(archive);
  const want = concat((await pkg.squash(archive, { from: 'root' })).chunks);
  const inputs = {
    Uint8Array: new Uint8Array(bytes),
    ArrayBuffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    Blob: new Blob([bytes]),
    'file: URL': new URL(`file://${archive}`),
    'fileSource()': pkg.fileSource(archive),
    '{ size, readAt } returning short reads': {
      size: bytes.length,
      readAt: (o, l) => bytes.subarray(o, o + Math.min(l, 1000)),
    },
  };
  for (const [kind, input] of Object.entries(inputs)) {
    const got = concat((await pkg.squash(input, { from: 'root' })).chunks);
    assert.ok(got.equals(want), `${kind}: different output`);
  }
});

test("the host SHA-256 (Node's crypto, the default in Node) and the wasm's own give the same bytes", async () => {
  const archive = generated[0];
  const viaNode = concat((await pkg.squash(archive, { from: 'root' })).chunks);
  const viaWasm = concat((await pkg.squash(archive, { from: 'root', sha256: null })).chunks);
  assert.ok(viaNode.equals(viaWasm));
  let made = 0;
  const { createHash } = await import('node:crypto');
  const counted = concat(
    (
      await pkg.squash(archive, {
        from: 'root',
        sha256: () => {
          made++;
          return createHash('sha256');
        },
      })
    ).chunks,
  );
  assert.ok(counted.equals(viaWasm));
  assert.ok(made >= 4, `the given SHA-256 is used for every layer and the new one (${made} made)`);
  // A wrong digest is caught as such: the layers no longer match their diff_ids.
  const wrong = () => ({ update() {}, digest: () => new Uint8Array(32) });
  await assert.rejects(pkg.squash(archive, { sha256: wrong }), (e) => e.code === 'DIGEST_MISMATCH');
  const boom = new Error('no hashing today');
  await assert.rejects(
    pkg.inspect(archive, {
      sha256: () => {
        throw boom;
      },
    }),
    (e) => e === boom,
  );
  await assert.rejects(pkg.squash(archive, { sha256: () => ({}) }), (e) => e.code === 'BAD_ARGUMENT');
});

test('verify: false gives the same bytes and facts, hashes only the new layer, and lets a damaged squashed layer through', async () => {
  for (const archive of generated) {
    const want = concat((await pkg.squash(archive)).chunks);
    const got = concat((await pkg.squash(archive, { verify: false })).chunks);
    assert.ok(got.equals(want), `${path.basename(archive)}: verify: false changed the output`);
    assert.deepEqual(await pkg.inspect(archive, { verify: false }), await pkg.inspect(archive));
  }
  const { createHash } = await import('node:crypto');
  let made = 0;
  await pkg.squash(generated[0], {
    verify: false,
    sha256: () => {
      made++;
      return createHash('sha256');
    },
  });
  assert.equal(made, 1, 'only the new layer is hashed');
  // `new tool` lives in the top layer, which the default squash point squashes.
  const bad = Buffer.from(fs.readFileSync(generated[0]));
  const at = bad.indexOf('new tool\n');
  assert.ok(at > 0);
  bad[at] = 'N'.charCodeAt(0);
  await assert.rejects(pkg.squash(bad), (e) => e.code === 'DIGEST_MISMATCH' && /layer 2/.test(e.message));
  const trusted = concat((await pkg.squash(bad, { verify: false })).chunks);
  assert.ok(trusted.includes('New tool\n'), 'the damaged content is squashed as it is');
  await assert.rejects(
    pkg.squash(generated[0], { verify: 'no' }),
    (e) => e.code === 'BAD_ARGUMENT' && /options.verify/.test(e.message),
  );
});

test('squashToFile writes the same bytes, atomically, and onChunk gets 4 MB chunks', async () => {
  const archive = generated[0];
  const want = concat((await pkg.squash(archive)).chunks);
  const out = path.join(dir, 'to-file.tar');
  const report = await pkg.squashToFile(archive, out);
  assert.ok(fs.readFileSync(out).equals(want));
  assert.equal(report.outputBytes, want.length);
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary file left',
  );
  const sizes = [];
  const r = await pkg.squash(archive, { onChunk: (c) => sizes.push(c.length) });
  assert.deepEqual(r.chunks, [], 'chunks go to onChunk, not into the result');
  assert.equal(
    sizes.reduce((a, b) => a + b, 0),
    want.length,
  );
  assert.ok(
    sizes.slice(0, -1).every((n) => n === 4 << 20),
    'every chunk but the last is 4 MB',
  );
  // transientChunks: views into the wasm memory, copied here before onChunk returns.
  const copies = [];
  await pkg.squash(archive, { transientChunks: true, onChunk: (c) => copies.push(Buffer.from(c)) });
  assert.ok(Buffer.concat(copies).equals(want), 'transientChunks: same bytes');
});
