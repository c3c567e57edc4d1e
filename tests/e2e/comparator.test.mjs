// The tools of the other tests are checked first: the filesystem comparator is stable (two
// containers of one image compare equal) yet sees what it must, and each test image really
// exercises the rule it is for (its layers hold whiteouts, opaque markers, hardlinks, ...),
// so that a squash test passing means something.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RULE_IMAGES,
  docker,
  dockerText,
  exportTree,
  image,
  readArchiveMeta,
  saved,
  useDocker,
} from '../support/e2e.mjs';
import {
  DOCKER_PER_CONTAINER,
  DOCKER_PER_CONTAINER_TREES,
  DOCKER_UNSTABLE_DIR_MTIMES,
  diffTrees,
  treeOfTar,
} from '../support/fscompare.mjs';
import { readTar } from '../support/tar.mjs';

useDocker(); // it loads no image of its own

function exportOnce(ref, opts) {
  const cid = dockerText(['create', '--pull=never', '--network', 'none', ref, '/e2e-never-run']);
  try {
    return treeOfTar(docker(['export', cid]).stdout, opts);
  } finally {
    docker(['rm', '-f', cid], { check: false });
  }
}

describe('filesystem comparator', () => {
  test('two containers of one image export the same tree', async () => {
    const ref = image('config');
    const a = exportOnce(ref);
    await new Promise((r) => setTimeout(r, 1100)); // a different second for the per-container mtimes
    const b = exportOnce(ref);
    assert.deepEqual(diffTrees(a, b), []);
  });

  test('what it ignores is exactly what docker makes per container', async () => {
    const ref = image('config');
    const a = exportOnce(ref, { ignoreDocker: false });
    await new Promise((r) => setTimeout(r, 1100));
    const b = exportOnce(ref, { ignoreDocker: false });
    const differing = [...new Set(diffTrees(a, b, { max: 1000 }).map((l) => l.split(':')[0]))];
    assert.ok(differing.length > 0, "two containers made a second apart should differ in docker's own files");
    const explained = (p) =>
      DOCKER_PER_CONTAINER.includes(p) ||
      DOCKER_UNSTABLE_DIR_MTIMES.includes(p) ||
      DOCKER_PER_CONTAINER_TREES.some((t) => p === t || p.startsWith(t + '/'));
    assert.deepEqual(
      differing.filter((p) => !explained(p)),
      [],
    );
    // And each directory whose mtime is ignored does change (else it should be compared).
    for (const d of DOCKER_UNSTABLE_DIR_MTIMES) assert.notEqual(a.get(d).mtime, b.get(d).mtime, d);
  });

  test('it sees added, deleted and changed files, modes, owners, mtimes and hardlink groups', () => {
    const d = diffTrees(exportTree(image('base')), exportTree(image('links')), { max: 1000 });
    assert.ok(
      d.some((l) => l.startsWith('/h/a: only in squashed')),
      d.join('\n'),
    );
    assert.ok(
      d.some((l) => l.startsWith('/usr/share/base/a: sha256')),
      d.join('\n'),
    );
    assert.ok(
      d.some((l) => l.startsWith('/usr/share/base/a: links')),
      d.join('\n'),
    );
    const m = diffTrees(exportTree(image('stack')), exportTree(image('meta')), { max: 1000 });
    assert.ok(
      m.some((l) => l.startsWith('/usr/share/base/a: mode original="0644" squashed="0000"')),
      m.join('\n'),
    );
    assert.ok(
      m.some((l) => l.startsWith('/etc/motd: uid')),
      m.join('\n'),
    );
  });

  test('hardlinks: groups as overlayfs leaves them; a link keeps the content its target had', () => {
    const t = exportTree(image('links'));
    assert.deepEqual(t.get('/h/a').links, ['/h/a', '/h/c']);
    assert.equal(t.get('/h/b').links, undefined, '/h/b lost its link when /h/a was copied up');
    assert.equal(t.get('/h/b').sha256, t.get('/h/a').sha256);
    assert.deepEqual(t.get('/h/y').links, ['/h/y', '/h/z']);
    assert.equal(t.get('/h/x').mode, '0700');
    assert.equal(t.get('/h/y').mode, '0644');
    assert.deepEqual(t.get('/h/d-link').links, ['/h/d-link', '/h/d-link2']);
    assert.equal(t.get('/h/d'), undefined);
    assert.notEqual(t.get('/h/t').sha256, t.get('/h/t-link').sha256, 'the link keeps the OLD content');
    assert.equal(t.get('/h/t-link').size, 4);
    assert.equal(t.get('/h/r-link').size, 2, 'recreated target: the link keeps the old content');
    assert.equal(t.get('/h/r').size, 4);
    assert.equal(t.get('/h/of').size, 3, 'a link into a directory made opaque later survives');
    assert.equal(t.get('/o/f'), undefined);
  });
});

/** Facts about every layer of an image's `docker save` archive. */
function layerFacts(ref) {
  const { byName, manifest } = readArchiveMeta(saved(ref));
  const facts = {
    whiteouts: [],
    opaque: [],
    hardlinks: 0,
    chardev: 0,
    blockdev: 0,
    fifo: 0,
    symlink: 0,
    longest: 0,
    exactly100: 0,
    nonUtf8: 0,
    xattrs: new Set(),
    bigIds: 0,
    mtimes: [],
    specialModes: 0,
    typesByPath: new Map(),
  };
  manifest[0].Layers.forEach((l, i) => {
    for (const e of readTar(byName.get(l).data)) {
      const name = e.name.toString('latin1').replace(/\/$/, '');
      const base = name.split('/').pop();
      if (base === '.wh..wh..opq') facts.opaque.push(`${i}:${name}`);
      else if (base.startsWith('.wh.')) facts.whiteouts.push(`${i}:${name}`);
      else {
        const types = facts.typesByPath.get(name) || new Set();
        types.add(e.type);
        facts.typesByPath.set(name, types);
      }
      if (e.type === '1') facts.hardlinks++;
      if (e.type === '2') facts.symlink++;
      if (e.type === '3') facts.chardev++;
      if (e.type === '4') facts.blockdev++;
      if (e.type === '6') facts.fifo++;
      facts.longest = Math.max(facts.longest, e.name.length);
      if (e.name.length === 100) facts.exactly100++;
      if (e.name.toString('utf8').includes('\ufffd')) facts.nonUtf8++;
      for (const k of Object.keys(e.xattrs)) facts.xattrs.add(k);
      if (e.uid > 2097151 || e.gid > 2097151) facts.bigIds++;
      if (e.mode & 0o7000) facts.specialModes++;
      facts.mtimes.push(e.mtime);
    }
  });
  return facts;
}

describe('the test images exercise their rules', () => {
  test('every test image builds, each rule image has layers of its own above the stack', () => {
    for (const name of Object.keys(RULE_IMAGES)) {
      const ref = image(name);
      assert.ok(readArchiveMeta(saved(ref)).manifest[0].Layers.length > 5, name);
    }
  });
  test("whiteouts: file and directory whiteouts, of own and base layers' files", () => {
    const f = layerFacts(image('whiteouts'));
    for (const p of ['w/a', 'w/gone', 'w/recreated', 'w/redir', 'usr/share/base/b', 'bin/vi', 'etc/motd']) {
      const [dir, b] = [p.split('/').slice(0, -1).join('/'), p.split('/').pop()];
      assert.ok(
        f.whiteouts.some((w) => w.endsWith(`${dir}/.wh.${b}`)),
        `${p}: ${f.whiteouts}`,
      );
    }
  });
  test('opaque: opaque markers, nested and repeated', () => {
    const f = layerFacts(image('opaque'));
    const paths = f.opaque.map((o) => o.split(':')[1]);
    assert.ok(paths.includes('op/a/.wh..wh..opq') && paths.includes('op/.wh..wh..opq'), f.opaque.join(' '));
    assert.ok(paths.filter((p) => p === 'op/a/b/.wh..wh..opq').length >= 1, f.opaque.join(' '));
    assert.ok(new Set(paths).size < paths.length, `some directory made opaque twice: ${f.opaque}`);
    assert.ok(paths.includes('usr/share/base/.wh..wh..opq'), f.opaque.join(' '));
  });
  test('types: paths that change type between layers', () => {
    const f = layerFacts(image('types'));
    for (const p of ['t/d2f', 't/f2d', 't/f2l', 't/l2d', 't/l2f', 't/f2p', 't/d2l', 't/back', 'usr/share/base/a']) {
      assert.ok((f.typesByPath.get(p)?.size ?? 0) >= 2, `${p}: ${[...(f.typesByPath.get(p) || [])]}`);
    }
  });
  test('meta: setuid/setgid/sticky modes, ids beyond ustar, mtimes before 1970 and after 2242', () => {
    const f = layerFacts(image('meta'));
    assert.ok(f.specialModes >= 4, `special modes: ${f.specialModes}`);
    assert.ok(f.bigIds >= 1);
    assert.ok(
      f.mtimes.some((m) => m < 0),
      'an mtime before 1970',
    );
    assert.ok(
      f.mtimes.some((m) => m > 8 ** 11),
      'an mtime beyond 11 octal digits',
    );
  });
  test('links: hardlink entries in layers', () => {
    assert.ok(layerFacts(image('links')).hardlinks >= 5);
  });
  test('special: character and block devices, fifos', () => {
    const f = layerFacts(image('special'));
    assert.ok(f.chardev >= 3 && f.blockdev >= 2 && f.fifo >= 2, JSON.stringify(f));
  });
  test('names: longer than 255 bytes, exactly 100 bytes, not UTF-8', () => {
    const f = layerFacts(image('names'));
    assert.ok(f.longest > 600, `longest ${f.longest}`);
    assert.ok(f.exactly100 >= 1);
    assert.ok(f.nonUtf8 >= 3);
    assert.ok(
      f.whiteouts.some((w) => w.length > 255 + 2),
      'a whiteout of a name longer than 250 bytes',
    );
  });
  test('handmade: xattrs (user.* and security.capability) and an explicit opaque marker', () => {
    const f = layerFacts(image('handmade'));
    for (const k of ['user.test', 'user.bin', 'security.capability', 'user.v', 'user.d']) assert.ok(f.xattrs.has(k), k);
    assert.ok(f.opaque.some((o) => o.endsWith('usr/share/base/.wh..wh..opq')));
  });
});
