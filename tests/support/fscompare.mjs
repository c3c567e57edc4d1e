// The filesystem comparator: what a container of an image sees, as `docker export` writes
// it, reduced to one record per path, and the differences between two such trees.
//
// Per path: type, mode (permission bits with setuid/setgid/sticky), uid, gid, mtime, size,
// sha256 of the content, symlink target, device major/minor, xattrs (PAX SCHILY.xattr.*),
// and hardlink groups. `docker export` writes a hardlink entry for every further name of an
// inode it has already written; which name comes first depends on walk order, so the tree
// records the *grouping* (the set of names that share an inode), not the names chosen, and
// every name of a group gets the group's content and attributes.

import { createHash } from 'node:crypto';
import { readTar, normPath, showName } from './tar.mjs';

// What Docker itself makes for every container, so it differs between any two containers
// of the same image and says nothing about the image (daemon/initlayer and the runtime):
//   /etc/hosts, /etc/hostname, /etc/resolv.conf  empty files of the init layer
//   /etc/mtab                                    symlink to /proc/mounts, made when absent
//   /.dockerenv                                  empty marker file
//   /dev, /proc, /sys and all below               mount points and /dev/console, pts, shm
// and the mtime (only the mtime) of /etc, the directory holding some of them: the
// init layer creates its entries at container-creation time, and overlayfs shows the
// upper directory's mtime (/dev's entries are ignored whole). `docker export` writes no
// entry for "/" itself, and it shows /etc with the init layer's mode and owner (0755, root)
// whatever the image has: those are the same in every container, so they are compared, but
// an image's own /etc mode cannot be seen this way. tests/e2e/comparator.test.mjs checks
// that this list is enough: two containers of one image compare equal.
export const DOCKER_PER_CONTAINER = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/mtab', '/.dockerenv'];
export const DOCKER_PER_CONTAINER_TREES = ['/dev', '/proc', '/sys'];
export const DOCKER_UNSTABLE_DIR_MTIMES = ['/etc'];

function ignored(p) {
  if (DOCKER_PER_CONTAINER.includes(p)) return true;
  return DOCKER_PER_CONTAINER_TREES.some((t) => p === t || p.startsWith(t + '/'));
}

const TYPE_NAMES = { 0: 'file', 2: 'symlink', 3: 'chardev', 4: 'blockdev', 5: 'dir', 6: 'fifo' };

/**
 * Builds the tree of a tar (a `docker export`): Map from path (latin1-decoded bytes, so
 * non-UTF-8 names stay distinct and reversible) to a record.
 */
export function treeOfTar(buf, { ignoreDocker = true } = {}) {
  const entries = readTar(buf);
  const tree = new Map();
  const links = []; // [name, target] of hardlink entries
  for (const e of entries) {
    const p = normPath(e.name).toString('latin1');
    if (ignoreDocker && ignored(p)) continue;
    if (e.type === '1') {
      links.push([p, normPath(e.linkname).toString('latin1')]);
      continue;
    }
    const rec = {
      type: TYPE_NAMES[e.type] || `type-${e.type}`,
      mode: (e.mode & 0o7777).toString(8).padStart(4, '0'),
      uid: e.uid,
      gid: e.gid,
      mtime: e.mtime,
    };
    if (e.type === '0') {
      rec.size = e.data.length;
      rec.sha256 = createHash('sha256').update(e.data).digest('hex');
    }
    if (e.type === '2') rec.target = showName(e.linkname);
    if (e.type === '3' || e.type === '4') rec.dev = `${e.devmajor}:${e.devminor}`;
    const xk = Object.keys(e.xattrs).sort();
    if (xk.length) rec.xattrs = Object.fromEntries(xk.map((k) => [k, e.xattrs[k].toString('hex')]));
    if (ignoreDocker && DOCKER_UNSTABLE_DIR_MTIMES.includes(p) && e.type === '5') delete rec.mtime;
    tree.set(p, rec);
  }
  // Hardlinks: union the names of one inode into a group; every name gets the record of
  // the entry that carried the content.
  const groupOf = new Map();
  for (const [name, target] of links) {
    const base = tree.get(target);
    if (!base)
      throw new Error(
        `hardlink ${showName(Buffer.from(name, 'latin1'))} -> missing ${showName(Buffer.from(target, 'latin1'))}`,
      );
    const g = groupOf.get(target) || [target];
    g.push(name);
    groupOf.set(target, g);
    groupOf.set(name, g);
  }
  for (const [name, g] of groupOf) {
    const first = g[0];
    const rec = { ...tree.get(first), links: g.map((n) => showName(Buffer.from(n, 'latin1'))).sort() };
    tree.set(name, rec);
    if (name === first) tree.set(first, rec);
  }
  return tree;
}

/** Differences between two trees, as readable lines; empty when they are the same. */
export function diffTrees(a, b, { labelA = 'original', labelB = 'squashed', max = 60 } = {}) {
  const out = [];
  const keys = new Set([...a.keys(), ...b.keys()]);
  for (const k of [...keys].sort()) {
    const show = showName(Buffer.from(k, 'latin1'));
    const ra = a.get(k);
    const rb = b.get(k);
    if (!ra) {
      out.push(`${show}: only in ${labelB} (${JSON.stringify(rb)})`);
      continue;
    }
    if (!rb) {
      out.push(`${show}: only in ${labelA} (${JSON.stringify(ra)})`);
      continue;
    }
    const fields = new Set([...Object.keys(ra), ...Object.keys(rb)]);
    for (const f of fields) {
      const va = JSON.stringify(ra[f]);
      const vb = JSON.stringify(rb[f]);
      if (va !== vb) out.push(`${show}: ${f} ${labelA}=${va} ${labelB}=${vb}`);
    }
  }
  if (out.length > max) return [...out.slice(0, max), `... and ${out.length - max} more`];
  return out;
}

export function treeStats(tree) {
  const s = {};
  for (const r of tree.values()) s[r.type] = (s[r.type] || 0) + 1;
  s.hardlinked = [...tree.values()].filter((r) => r.links).length;
  s.withXattrs = [...tree.values()].filter((r) => r.xattrs).length;
  return s;
}
