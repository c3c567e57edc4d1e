#!/usr/bin/env python3
"""Assembles by hand an image that Dockerfiles cannot make: layers with extended attributes
(Docker's builder drops every xattr but security.capability when it diffs a layer) and an
explicit opaque-directory marker. It takes a `docker save` archive of the base image and
writes a docker-archive (Docker 1.10-24 layout) of base + four layers, for `docker load`.

    handmade.py BASE_SAVE.tar OUT.tar REPO:TAG

Final state of what the layers make (tests check it against the engine):
  /x/cap      security.capability (cap_net_bind_service+ep)
  /x/user     user.test=hello, user.bin=00ff01 (binary)
  /x/both     user.a=1, security.capability
  /x/change   user.v=2 (layer 2 replaces the file that had user.v=1)
  /x/dir/     directory with user.d=dirattr, holding /x/dir/f
  /x/gone     deleted by layer 2 (it had user.z)
  /usr/share/base/  made opaque by layer 1: only `fresh` is left of it
Between the two, the empty layer twice (the same diff_id twice in rootfs.diff_ids).
"""
import hashlib
import io
import json
import struct
import sys
import tarfile

MTIME = 1600000000

# vfs_cap_data, revision 2: magic | effective flag, then permitted/inheritable pairs.
CAP_NET_BIND_SERVICE = 10
CAP = struct.pack('<IIIII', 0x02000000 | 0x1, 1 << CAP_NET_BIND_SERVICE, 0, 0, 0)

XATTRS = {
    '/x/cap': {'security.capability': CAP},
    '/x/user': {'user.test': b'hello', 'user.bin': b'\x00\xff\x01'},
    '/x/both': {'user.a': b'1', 'security.capability': CAP},
    '/x/change': {'user.v': b'2'},
    '/x/dir': {'user.d': b'dirattr'},
}


def pax_value(b):
    # tarfile writes str values; bytes that are not UTF-8 survive through surrogateescape
    # (it then marks the header hdrcharset=BINARY, as POSIX says).
    return b.decode('utf-8', 'surrogateescape')


def add(tf, name, kind='file', data=b'', mode=0o644, xattrs=None, linkname=''):
    ti = tarfile.TarInfo(name)
    ti.mtime = MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ''
    ti.mode = mode
    if kind == 'dir':
        ti.type = tarfile.DIRTYPE
    elif kind == 'symlink':
        ti.type = tarfile.SYMTYPE
        ti.linkname = linkname
    else:
        ti.type = tarfile.REGTYPE
        ti.size = len(data)
    if xattrs:
        ti.pax_headers = {'SCHILY.xattr.' + k: pax_value(v) for k, v in xattrs.items()}
    tf.addfile(ti, io.BytesIO(data) if kind == 'file' else None)


# Every layer holds the parent directories of its entries, as layers that Docker writes do:
# `docker load` makes a missing parent with the time of the load, which would make the
# image's own mtimes differ from one load to the next.
def layer(build):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tf:
        build(tf)
    return buf.getvalue()


def layer1(tf):
    add(tf, 'x', 'dir', mode=0o755)
    add(tf, 'x/cap', data=b'cap\n', mode=0o755, xattrs=XATTRS['/x/cap'])
    add(tf, 'x/user', data=b'user\n', xattrs=XATTRS['/x/user'])
    add(tf, 'x/both', data=b'both\n', mode=0o750, xattrs=XATTRS['/x/both'])
    add(tf, 'x/change', data=b'v1\n', xattrs={'user.v': b'1'})
    add(tf, 'x/gone', data=b'gone\n', xattrs={'user.z': b'z'})
    add(tf, 'x/dir', 'dir', mode=0o711, xattrs=XATTRS['/x/dir'])
    add(tf, 'x/dir/f', data=b'f\n')
    add(tf, 'usr', 'dir', mode=0o755)
    add(tf, 'usr/share', 'dir', mode=0o755)
    add(tf, 'usr/share/base', 'dir', mode=0o755)
    add(tf, 'usr/share/base/.wh..wh..opq', data=b'', mode=0o644)
    add(tf, 'usr/share/base/fresh', data=b'fresh\n')


def layer2(tf):
    add(tf, 'x', 'dir', mode=0o755)
    add(tf, 'x/change', data=b'v2\n', xattrs=XATTRS['/x/change'])
    add(tf, 'x/.wh.gone', data=b'', mode=0o644)


# The empty layer (a tar of two zero blocks, sha256:5f70bf18…) that real images often
# hold several times, so one diff_id names two layers.
EMPTY = bytes(1024)


def main():
    base_path, out_path, tag = sys.argv[1:4]
    with tarfile.open(base_path) as base:
        members = {m.name: base.extractfile(m).read() for m in base.getmembers() if m.isfile()}
    manifest = json.loads(members['manifest.json'])[0]
    config = json.loads(members[manifest['Config']])
    files = {}
    layers = list(manifest['Layers'])
    for p in layers:
        files[p] = members[p]
    steps = [
        (layer(layer1), 'xattrs and an opaque directory'),
        (EMPTY, 'an empty layer'),
        (EMPTY, 'the same empty layer again'),
        (layer(layer2), 'replace and delete files with xattrs'),
    ]
    for i, (data, what) in enumerate(steps):
        digest = hashlib.sha256(data).hexdigest()
        path = f'{i}{digest[1:]}/layer.tar'
        files[path] = data
        layers.append(path)
        config['rootfs']['diff_ids'].append('sha256:' + digest)
        config['history'].append({
            'created': f'2020-09-13T12:26:4{i}Z',
            'created_by': f'handmade.py: {what}',
        })
    config['created'] = '2020-09-13T12:26:43Z'
    config_bytes = json.dumps(config, separators=(',', ':')).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + '.json'
    files[config_name] = config_bytes
    files['manifest.json'] = json.dumps([{'Config': config_name, 'RepoTags': [tag], 'Layers': layers}]).encode()
    with tarfile.open(out_path, 'w', format=tarfile.PAX_FORMAT) as out:
        for name in sorted(files):
            ti = tarfile.TarInfo(name)
            ti.size = len(files[name])
            ti.mtime = MTIME
            out.addfile(ti, io.BytesIO(files[name]))


if __name__ == '__main__':
    main()
