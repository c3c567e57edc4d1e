// A tar reader for the tests, written from the formats' specifications (POSIX ustar and
// pax, GNU long names, base-256 numbers) rather than taken from a library, because the
// tests need what libraries smooth over: names as raw bytes (non-UTF-8 names must not be
// folded into U+FFFD), every PAX record (SCHILY.xattr.* with binary values), and
// fractional PAX mtimes.
//
// readTar(buffer) -> [{ name, linkname (Buffers), type, mode, uid, gid, mtime, size,
//                       devmajor, devminor, xattrs: {key: Buffer}, pax: {key: Buffer},
//                       data: Buffer (a view of the content) }]
// `type` is the typeflag character ('0' regular, '1' hard link, '2' symlink, '3' char
// device, '4' block device, '5' directory, '6' fifo); '\0' and '7' are reported as '0'.

import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import zlib from 'node:zlib';

const BLOCK = 512;

function cstr(buf, off, len) {
  const b = buf.subarray(off, off + len);
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}

/** A numeric header field: octal text, or GNU base-256 when the high bit is set. */
function num(buf, off, len) {
  const b = buf.subarray(off, off + len);
  if (b[0] & 0x80) {
    // base-256, two's complement; the first byte's high bit is the marker.
    let v = BigInt(b[0] & 0x7f);
    const negative = (b[0] & 0x40) !== 0;
    if (negative) v = BigInt(b[0]) - 256n; // sign-extend the first byte
    for (let i = 1; i < b.length; i++) v = v * 256n + BigInt(b[i]);
    return Number(v);
  }
  const s = b.toString('latin1').replace(/\0.*$/s, '').trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/** PAX extended header records: "LEN key=value\n", values as Buffers (may be binary). */
export function parsePax(data) {
  const out = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.subarray(i, sp).toString('latin1'), 10);
    if (!(len > 0)) throw new Error(`bad PAX record length at ${i}`);
    const rec = data.subarray(sp + 1, i + len - 1); // without the trailing \n
    const eq = rec.indexOf(0x3d);
    const key = rec.subarray(0, eq).toString('utf8');
    out[key] = Buffer.from(rec.subarray(eq + 1));
    i += len;
  }
  return out;
}

function isZeroBlock(buf, off) {
  for (let i = off; i < off + BLOCK; i++) if (buf[i] !== 0) return false;
  return true;
}

export function maybeDecompress(buf) {
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return zlib.gunzipSync(buf, { maxOutputLength: 2 ** 32 });
  if (buf.length >= 4 && buf.readUInt32LE(0) === 0xfd2fb528) {
    if (typeof zlib.zstdDecompressSync === 'function') return zlib.zstdDecompressSync(buf);
    // Node before 22.15 has no zstd: the zstd command (installed by make setup) does it.
    const r = spawnSync('zstd', ['-dcq'], { input: buf, maxBuffer: 2 ** 31 - 1 });
    if (r.status !== 0) throw new Error(`zstd -d failed: ${r.error?.message || r.stderr}`);
    return r.stdout;
  }
  return buf;
}

export function readTar(input) {
  const buf = maybeDecompress(input);
  const entries = [];
  let off = 0;
  let globalPax = {};
  let pax = null;
  let longName = null;
  let longLink = null;
  while (off + BLOCK <= buf.length) {
    if (isZeroBlock(buf, off)) break;
    const h = off;
    const chk = num(buf, h + 148, 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : buf[h + i];
    if (sum !== chk) throw new Error(`tar header checksum mismatch at offset ${h}`);
    const typeRaw = String.fromCharCode(buf[h + 156] || 0x30);
    let size = num(buf, h + 124, 12);
    if (pax && pax.size !== undefined && typeRaw !== 'x' && typeRaw !== 'g') size = Number(pax.size.toString('latin1'));
    const dataStart = h + BLOCK;
    const data = buf.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (typeRaw === 'x') {
      pax = { ...(pax || {}), ...parsePax(data) };
      continue;
    }
    if (typeRaw === 'g') {
      globalPax = { ...globalPax, ...parsePax(data) };
      continue;
    }
    if (typeRaw === 'L') {
      longName = Buffer.from(cstr(data, 0, data.length));
      continue;
    }
    if (typeRaw === 'K') {
      longLink = Buffer.from(cstr(data, 0, data.length));
      continue;
    }
    const magic = buf.subarray(h + 257, h + 263).toString('latin1');
    let name = Buffer.from(cstr(buf, h, 100));
    if (magic.startsWith('ustar')) {
      const prefix = cstr(buf, h + 345, magic === 'ustar\u000000' ? 155 : 0);
      // GNU tar ("ustar  ") uses this space for atime/ctime; only POSIX ustar has a prefix.
      if (magic === 'ustar\u000000' && prefix.length) name = Buffer.concat([prefix, Buffer.from('/'), name]);
    }
    const rec = { ...globalPax, ...(pax || {}) };
    if (longName) name = longName;
    if (rec.path) name = rec.path;
    let linkname = Buffer.from(cstr(buf, h + 157, 100));
    if (longLink) linkname = longLink;
    if (rec.linkpath) linkname = rec.linkpath;
    const type = typeRaw === '\0' || typeRaw === '7' ? '0' : typeRaw;
    const xattrs = {};
    for (const [k, v] of Object.entries(rec)) {
      if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = v;
    }
    const numRec = (k, fallback) => (rec[k] !== undefined ? Number(rec[k].toString('latin1')) : fallback);
    entries.push({
      name,
      linkname,
      type,
      mode: num(buf, h + 100, 8),
      uid: numRec('uid', num(buf, h + 108, 8)),
      gid: numRec('gid', num(buf, h + 116, 8)),
      size,
      mtime: numRec('mtime', num(buf, h + 136, 12)),
      devmajor: num(buf, h + 329, 8),
      devminor: num(buf, h + 337, 8),
      xattrs,
      pax: rec,
      data,
    });
    pax = null;
    longName = null;
    longLink = null;
  }
  return entries;
}

/** A path as a printable, reversible string: bytes outside printable ASCII as \xNN. */
export function showName(buf) {
  let s = '';
  for (const b of buf)
    s += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return s;
}

/** Normalizes a tar path to "/a/b" form (no "./" prefix, no trailing slash), as a Buffer. */
export function normPath(buf) {
  let s = buf.toString('latin1');
  while (s.startsWith('./')) s = s.slice(2);
  if (s === '.') s = '';
  s = s.replace(/^\/+/, '').replace(/\/+$/, '');
  return Buffer.from('/' + s, 'latin1');
}

/** The member names of a plain tar file, in order (headers only; data is skipped). */
export function tarMemberNames(file) {
  const fd = fs.openSync(file, 'r');
  const h = Buffer.alloc(BLOCK);
  const names = [];
  try {
    for (let pos = 0; fs.readSync(fd, h, 0, BLOCK, pos) === BLOCK && h[0] !== 0;) {
      const field = (o, n) =>
        h
          .subarray(o, o + n)
          .toString('utf8')
          .replace(/\0.*$/s, '');
      const prefix = field(345, 155);
      names.push(prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
      const size = parseInt(field(124, 12).trim() || '0', 8);
      pos += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    }
  } finally {
    fs.closeSync(fd);
  }
  return names;
}
