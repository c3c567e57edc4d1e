#!/usr/bin/env python3
"""Prints, as JSON, every extended attribute of every path of an image as the kernel's
overlayfs shows it: mounts the image's layer directories (from `docker image inspect`
GraphDriver.Data: UpperDir over LowerDir) read-only as one overlay, walks it, unmounts.
`docker export` cannot be used for this: it writes only security.capability.

    overlay_xattrs.py MOUNTPOINT LAYERDIR_TOP:...:LAYERDIR_BOTTOM
Output: {"/path": {"user.x": "<hex>", ...}, ...} (paths as latin-1 of the bytes)
"""
import json
import os
import subprocess
import sys

mnt, lower = sys.argv[1], sys.argv[2]
os.makedirs(mnt, exist_ok=True)
dirs = lower.split(':')
if len(dirs) == 1:
    # overlayfs needs two layers at least; a single layer is its own merged view.
    root = dirs[0]
    mounted = False
else:
    subprocess.run(['mount', '-t', 'overlay', 'overlay', '-o', 'ro,lowerdir=' + lower, mnt], check=True)
    root = mnt
    mounted = True
try:
    out = {}
    rootb = os.fsencode(root)
    for d, subdirs, files in os.walk(rootb):
        for name in subdirs + files:
            p = os.path.join(d, name)
            rel = b'/' + os.path.relpath(p, rootb)
            attrs = {}
            for k in os.listxattr(p, follow_symlinks=False):
                if k.startswith('trusted.overlay.'):
                    continue
                attrs[k] = os.getxattr(p, k, follow_symlinks=False).hex()
            if attrs:
                out[rel.decode('latin-1')] = attrs
    print(json.dumps(out, sort_keys=True))
finally:
    if mounted:
        subprocess.run(['umount', mnt], check=True)
