// The npm tests' archives, written by the one builder (../support/archive.mjs) in the
// layout these tests were written against, which some of them rely on (errors.test.mjs
// damages bytes 2048.. as the first layer's first content): only the members readers
// need, layer directories named from the file's path, a day between the layers.
//
//   writeArchive(path, { tag, layers: [[entry, ...], ...], createdBy?: [...] })
// with entries as ../support/archive.mjs takes them. Returns what writeDockerSave does.

import { createHash } from 'node:crypto';
import { noiseFill, writeDockerSave } from '../support/archive.mjs';

export function writeArchive(path, { tag = 'npmtest:latest', layers, createdBy }) {
  return writeDockerSave(path, {
    tag,
    steps: layers.map((entries, i) => ({ createdBy: createdBy?.[i] ?? `/bin/sh -c #(nop) step ${i}`, entries })),
    dockerExtras: false,
    layerId: (i) => createHash('sha256').update(`legacy ${path} ${i}`).digest('hex'),
    created: (i) => `2024-01-0${(i % 9) + 1}T00:00:00Z`,
    config: ({ history, rootfs }) => ({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'] },
      rootfs,
      history,
    }),
  });
}

/** A small image with whiteouts, an opaque dir, links and an overwrite: 3 layers. */
export function smallImage(path, tag = 'npmtest:small') {
  return writeArchive(path, {
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
