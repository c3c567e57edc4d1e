// The one writer of tar and image-archive bytes for the JS tests (the readers are in
// tar.mjs). It writes `docker save` archives (the 1.10-24 layout) without Docker: per layer
// a directory `<id>/` holding `layer.tar` (and, as Docker writes them, `VERSION` and
// `json`), then `<config digest>.json`, `manifest.json` and `repositories`. Big contents
// come from fill functions, so an archive of several GB streams to disk and is never held
// in memory.
//
//   writeDockerSave(file, { tag, steps: [{ createdBy, entries? }], ...layout })
//   entry: { name, type?: 'file'|'dir'|'symlink'|'hardlink', mode?, linkname?,
//            data?: Buffer|string, size?, fill?: (offset, buf) => void }
// Returns { diffIds, layerIds, configDigest, size }.

import { createHash } from 'node:crypto';
import fs from 'node:fs';

export const BLOCK = 512;
export const pad = (n) => (BLOCK - (n % BLOCK)) % BLOCK;
const MTIME = 1700000000;
const TYPES = { file: '0', hardlink: '1', symlink: '2', dir: '5' };
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

function octal(n, width) {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** A ustar header; a name over 100 bytes is split at a '/' into the prefix field. */
export function tarHeader({ name, size = 0, type = '0', mode, linkname = '', mtime = MTIME, uname = '' }) {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2); // not a directory's own trailing '/'
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155)
      throw new Error(`name too long for ustar: ${name}`);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(mode ?? (type === '5' ? 0o755 : 0o644), 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(mtime, 12), 136, 'latin1');
  h.fill(' ', 148, 156);
  h.write(type, 156, 'latin1');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.write(uname, 265, 32, 'latin1');
  h.write(uname, 297, 32, 'latin1');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return h;
}

// ------------------------------------------------------------------ contents

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
  const block = createHash('sha512').update(String(seed)).digest();
  const pattern = Buffer.alloc(1 << 20);
  for (let i = 0; i < pattern.length; i += 64) {
    createHash('sha512').update(block).update(String(i)).digest().copy(pattern, i);
  }
  return (offset, buf) => {
    for (let i = 0; i < buf.length; i += pattern.length) {
      const n = Math.min(pattern.length, buf.length - i);
      pattern.copy(buf, i, 0, n);
      buf.writeUInt32LE(((offset + i) / pattern.length) >>> 0, i); // each MB differs
    }
  };
}

const CHUNK = 4 << 20; // fills are called with chunks of this size, at offsets that are multiples of it

let pattern;
/** One 4 MB xorshift pattern for every file; each 4 MB block starts with its number and the seed. */
export function patternFill(seed) {
  if (!pattern) {
    pattern = Buffer.alloc(CHUNK);
    let x = 0x9e3779b9;
    for (let i = 0; i < pattern.length; i += 4) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      pattern.writeUInt32LE(x, i);
    }
  }
  return (offset, buf) => {
    for (let i = 0; i < buf.length; i += pattern.length) {
      pattern.copy(buf, i, 0, Math.min(pattern.length, buf.length - i));
      buf.writeUInt32LE((seed * 1000003 + (offset + i) / pattern.length) >>> 0, i);
    }
  };
}

// ------------------------------------------------------------------ layers

function entrySize(e) {
  if ((e.type ?? 'file') !== 'file') return 0;
  if (e.data !== undefined) return Buffer.byteLength(e.data);
  return e.size ?? 0;
}

/** Bytes of a layer tar made of these entries, end blocks included. */
function layerSize(entries) {
  return entries.reduce((n, e) => n + BLOCK + entrySize(e) + pad(entrySize(e)), 0) + 2 * BLOCK;
}

/** Streams a layer tar to `write`; returns its diff_id. */
function writeLayer(entries, write, uname) {
  const h = createHash('sha256');
  const put = (b) => {
    h.update(b);
    write(b);
  };
  const chunk = Buffer.alloc(CHUNK);
  for (const e of entries) {
    const type = e.type ?? 'file';
    const size = entrySize(e);
    put(tarHeader({ name: e.name, size, type: TYPES[type], mode: e.mode, linkname: e.linkname ?? '', uname }));
    if (e.data !== undefined) {
      put(Buffer.from(e.data));
    } else {
      for (let off = 0; off < size; off += chunk.length) {
        const part = chunk.subarray(0, Math.min(chunk.length, size - off));
        e.fill(off, part);
        put(part);
      }
    }
    put(Buffer.alloc(pad(size)));
  }
  put(Buffer.alloc(2 * BLOCK));
  return `sha256:${h.digest('hex')}`;
}

// ------------------------------------------------------------------ archives

const isoSeconds = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * Writes a `docker save` archive to `file`. `tag` ('repo:tag') goes into RepoTags and
 * `repositories`; without one there is neither. A step without `entries` is a
 * metadata-only step (empty_layer). The layout, by default what Docker writes:
 *   dockerExtras  <id>/VERSION and <id>/json beside each layer.tar, "root" as the owner
 *                 name, a newline after `repositories`; false: only what readers need
 *   layerId(i, step)  the name of step i's layer directory
 *   created(i)        step i's creation time (the image's is the last step's)
 *   config({ created, history, rootfs })  the image config
 */
export function writeDockerSave(
  file,
  {
    tag,
    steps,
    dockerExtras = true,
    layerId = (i, step) => sha256(`${tag}/${i}/${step.createdBy}`),
    created = (i) => isoSeconds(Date.UTC(2024, 0, 1) + 60000 * (i + 1)),
    config = (c) => ({
      architecture: 'amd64',
      os: 'linux',
      created: c.created,
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Cmd: ['sh'],
        WorkingDir: '/app',
      },
      history: c.history,
      rootfs: c.rootfs,
    }),
  },
) {
  const uname = dockerExtras ? 'root' : '';
  const fd = fs.openSync(file, 'w');
  let size = 0;
  const write = (b) => {
    for (let done = 0; done < b.length;) done += fs.writeSync(fd, b, done, b.length - done);
    size += b.length;
  };
  const member = (name, data) => {
    write(tarHeader({ name, size: data.length, uname }));
    write(data);
    write(Buffer.alloc(pad(data.length)));
  };
  const diffIds = [];
  const layerIds = [];
  const history = [];
  let configHex;
  try {
    steps.forEach((step, i) => {
      const when = created(i);
      if (!step.entries) {
        history.push({ created: when, created_by: step.createdBy, empty_layer: true });
        return;
      }
      history.push({ created: when, created_by: step.createdBy });
      const id = layerId(i, step);
      layerIds.push(id);
      write(tarHeader({ name: `${id}/`, type: '5', uname }));
      if (dockerExtras) member(`${id}/VERSION`, Buffer.from('1.0'));
      const tarSize = layerSize(step.entries);
      write(tarHeader({ name: `${id}/layer.tar`, size: tarSize, uname }));
      diffIds.push(writeLayer(step.entries, write, uname));
      write(Buffer.alloc(pad(tarSize)));
      if (dockerExtras) {
        const json = { id, created: when, container_config: { Cmd: [step.createdBy] }, os: 'linux' };
        member(`${id}/json`, Buffer.from(JSON.stringify(json)));
      }
    });
    const rootfs = { type: 'layers', diff_ids: diffIds };
    const configBytes = Buffer.from(JSON.stringify(config({ created: created(steps.length - 1), history, rootfs })));
    configHex = sha256(configBytes);
    const layers = layerIds.map((id) => `${id}/layer.tar`);
    const manifest = [{ Config: `${configHex}.json`, RepoTags: tag ? [tag] : null, Layers: layers }];
    member(`${configHex}.json`, configBytes);
    member('manifest.json', Buffer.from(JSON.stringify(manifest)));
    if (tag) {
      const colon = tag.lastIndexOf(':');
      const repos = { [tag.slice(0, colon)]: { [tag.slice(colon + 1)]: layerIds.at(-1) } };
      member('repositories', Buffer.from(JSON.stringify(repos) + (dockerExtras ? '\n' : '')));
    }
    write(Buffer.alloc(2 * BLOCK));
  } finally {
    fs.closeSync(fd);
  }
  return { diffIds, layerIds, configDigest: `sha256:${configHex}`, size };
}
