// Extended attributes survive squashing. `docker export` shows only security.capability
// (the squash tests compare that), so here the kernel's overlayfs is the judge: the layer
// directories Docker keeps for the original and for the squashed image are mounted as one
// overlay each, and every xattr of every path is compared.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { image, inspectImage, run, useDocker, workDir, IMAGES } from '../support/e2e.mjs';
import { squashAndLoad } from '../support/roundtrip.mjs';

const loaded = useDocker();

const SCRIPT = path.join(path.dirname(IMAGES), 'support/overlay_xattrs.py');

function xattrsOf(ref) {
  const img = inspectImage(ref);
  assert.equal(img.GraphDriver.Name, 'overlay2', 'this test reads overlay2 layer directories');
  const d = img.GraphDriver.Data;
  const dirs = [d.UpperDir, ...(d.LowerDir ? d.LowerDir.split(':') : [])].join(':');
  const mnt = workDir('mnt', img.Id.slice(7, 19));
  return JSON.parse(run('python3', [SCRIPT, mnt, dirs]).stdout.toString());
}

const hex = (s) => Buffer.from(s).toString('hex');

test('the hand-made image has the xattrs it was made with (else this test would prove nothing)', () => {
  const x = xattrsOf(image('handmade'));
  assert.equal(x['/x/user']?.['user.test'], hex('hello'));
  assert.equal(x['/x/user']?.['user.bin'], '00ff01');
  assert.equal(x['/x/change']?.['user.v'], hex('2'));
  assert.equal(x['/x/dir']?.['user.d'], hex('dirattr'));
  assert.ok(x['/x/cap']?.['security.capability']);
  assert.equal(x['/x/gone'], undefined);
});

for (const [label, mode] of [
  ['-from root', 'root'],
  ['-from a middle layer (xattr layers squashed)', { keep: 4 }],
  ['-from the first xattr layer', { keep: 5 }],
]) {
  test(`${label}: every xattr of every path is the original's`, () => {
    const orig = image('handmade');
    const tag = `e2e-sq-xattrs:${typeof mode === 'string' ? mode : `keep${mode.keep}`}`;
    loaded.push(tag);
    squashAndLoad(orig, mode, tag);
    assert.deepEqual(xattrsOf(tag), xattrsOf(orig));
  });
}
