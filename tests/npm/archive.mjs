// Writes image archives as `docker save` (1.10-24 layout) does, without Docker: a tar of
// `<id>/layer.tar` per layer, `<config digest>.json`, `manifest.json` and `repositories`.
// Layers are given as lists of entries; big file contents come from a generator, so an
// archive of several GB is written in a stream and never held in memory.
//
//   writeDockerSave(path, { tag, layers: [[entry, ...], ...], createdBy?: [...] })
//   entry: { name, type?: 'file'|'dir'|'symlink'|'hardlink', mode?, data?: Buffer|string,
//            size?, fill?: (offset, buf) => void, linkname? }
// Returns { diffIds, configDigest, size }.

import crypto from 'node:crypto';
import fs from 'node:fs';

const BLOCK = 512;
const padded = (n) => Math.ceil(n / BLOCK) * BLOCK;

function octal(n, width) {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** A ustar header (names up to 100 bytes, or 255 with the prefix field). */
export function tarHeader({ name, size = 0, mode = 0o644, type = '0', linkname = '', mtime = 1700000000 }) {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 1);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155)
      throw new Error(`name too long for ustar: ${name}`);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(mtime, 12), 136, 'latin1');
  h.fill(' ', 148, 156);
  h.write(type, 156, 'latin1');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return h;
}

const TYPES = { file: '0', hardlink: '1', symlink: '2', dir: '5' };

function entrySize(e) {
  if ((e.type ?? 'file') !== 'file') return 0;
  if (e.data !== undefined) return Buffer.byteLength(e.data);
  return e.size ?? 0;
}

/** Bytes of a layer tar made of these entries. */
function layerSize(entries) {
  return entries.reduce((n, e) => n + BLOCK + padded(entrySize(e)), 0) + 2 * BLOCK;
}

/** Streams a layer tar to `write`, hashing it. */
function writeLayer(entries, write) {
  const h = crypto.createHash('sha256');
  const put = (b) => {
    h.update(b);
    write(b);
  };
  const chunk = Buffer.alloc(4 << 20);
  for (const e of entries) {
    const type = e.type ?? 'file';
    const size = entrySize(e);
    put(
      tarHeader({
        name: e.name,
        size,
        type: TYPES[type],
        mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644),
        linkname: e.linkname ?? '',
      }),
    );
    if (e.data !== undefined) {
      put(Buffer.from(e.data));
    } else {
      for (let off = 0; off < size; off += chunk.length) {
        const part = chunk.subarray(0, Math.min(chunk.length, size - off));
        e.fill(off, part);
        put(part);
      }
    }
    if (padded(size) > size) put(Buffer.alloc(padded(size) - size));
  }
  put(Buffer.alloc(2 * BLOCK));
  return `sha256:${h.digest('hex')}`;
}

/** Fills with bytes that do not compress (a counter through AES would do; this is faster). */
export function noiseFill(seed) {
  return (offset, buf) => {
    // xorshift per 8 bytes, keyed by position: the same bytes for the same offset.
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let x = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + BigInt(offset));
    let i = 0;
    for (; i + 8 <= buf.length; i += 8) {
      x ^= x << 13n;
      x = BigInt.asUintN(64, x);
      x ^= x >> 7n;
      x ^= x << 17n;
      x = BigInt.asUintN(64, x);
      dv.setBigUint64(i, x, true);
    }
    for (; i < buf.length; i++) buf[i] = (i * 131 + seed) & 0xff;
  };
}

/** Fast incompressible-enough filler for big files: random bytes once, repeated with a twist. */
export function bigFill(seed) {
  const block = crypto.createHash('sha512').update(String(seed)).digest();
  const pattern = Buffer.alloc(1 << 20);
  for (let i = 0; i < pattern.length; i += 64) {
    crypto.createHash('sha512').update(block).update(String(i)).digest().copy(pattern, i);
  }
  return (offset, buf) => {
    for (let i = 0; i < buf.length; i += pattern.length) {
      const n = Math.min(pattern.length, buf.length - i);
      pattern.copy(buf, i, 0, n);
      buf.writeUInt32LE(((offset + i) / pattern.length) >>> 0, i); // each MB differs
    }
  };
}

/** Writes a `docker save` archive. */
export function writeDockerSave(path, { tag = 'npmtest:latest', layers, createdBy }) {
  const fd = fs.openSync(path, 'w');
  const write = (b) => {
    let done = 0;
    while (done < b.length) done += fs.writeSync(fd, b, done, b.length - done);
  };
  try {
    const diffIds = [];
    const names = [];
    layers.forEach((entries, i) => {
      const size = layerSize(entries);
      const dir = crypto.createHash('sha256').update(`legacy ${path} ${i}`).digest('hex');
      write(tarHeader({ name: `${dir}/`, type: '5', mode: 0o755 }));
      write(tarHeader({ name: `${dir}/layer.tar`, size }));
      diffIds.push(writeLayer(entries, write));
      if (padded(size) > size) write(Buffer.alloc(padded(size) - size));
      names.push(`${dir}/layer.tar`);
    });
    const history = layers.map((_, i) => ({
      created: `2024-01-0${(i % 9) + 1}T00:00:00Z`,
      created_by: createdBy?.[i] ?? `/bin/sh -c #(nop) step ${i}`,
    }));
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history,
      }),
    );
    const configHex = crypto.createHash('sha256').update(config).digest('hex');
    const files = [
      [`${configHex}.json`, config],
      ['manifest.json', Buffer.from(JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [tag], Layers: names }]))],
      [
        'repositories',
        Buffer.from(JSON.stringify({ [tag.split(':')[0]]: { [tag.split(':')[1]]: names.at(-1).split('/')[0] } })),
      ],
    ];
    for (const [name, data] of files) {
      write(tarHeader({ name, size: data.length }));
      write(data);
      if (padded(data.length) > data.length) write(Buffer.alloc(padded(data.length) - data.length));
    }
    write(Buffer.alloc(2 * BLOCK));
  } finally {
    fs.closeSync(fd);
  }
  return { size: fs.statSync(path).size };
}

/** A small image with whiteouts, an opaque dir, links and an overwrite: 3 layers. */
export function smallImage(path, tag = 'npmtest:small') {
  return writeDockerSave(path, {
    tag,
    createdBy: ['/bin/sh -c #(nop) ADD file:0123abcd in / ', '/bin/sh -c echo two', '/bin/sh -c echo three'],
    layers: [
      [
        { name: 'etc/', type: 'dir' },
        { name: 'etc/hosts', data: '127.0.0.1 localhost\n' },
        { name: 'bin/', type: 'dir' },
        { name: 'bin/tool', data: 'x'.repeat(5000), mode: 0o755 },
        { name: 'bin/alias', type: 'symlink', linkname: 'tool' },
        { name: 'var/', type: 'dir' },
        { name: 'var/cache/', type: 'dir' },
        { name: 'var/cache/a', data: 'a'.repeat(3000) },
        { name: 'var/cache/b', data: 'b'.repeat(100) },
      ],
      [
        { name: 'app/', type: 'dir' },
        { name: 'app/big.bin', size: 300000, fill: noiseFill(7) },
        { name: 'app/hard', type: 'hardlink', linkname: 'app/big.bin' },
        { name: 'etc/.wh.hosts', data: '' },
        { name: 'var/cache/.wh..wh..opq', data: '' },
        { name: 'var/cache/c', data: 'c'.repeat(10) },
      ],
      [
        { name: 'app/big.bin', data: 'overwritten\n' },
        { name: 'bin/tool', data: 'new tool\n', mode: 0o755 },
        { name: 'notes.txt', data: 'hello\n' },
      ],
    ],
  });
}
