#!/usr/bin/env bash
# Writes the build context of the test base image into DIR: a root filesystem tar made
# from Debian's busybox-static (deterministic: sorted, fixed mtimes and owners), and a
# Dockerfile `FROM scratch` + `ADD rootfs.tar /`, so that `docker history` shows
# `ADD file:… in /` as real base images do.
#   tests/images/base.sh DIR
set -euo pipefail
dir=${1:?DIR}
bb=$(command -v busybox)
rfs="$dir/rootfs"
rm -rf "$rfs"
mkdir -p "$rfs"/{bin,etc,tmp,root,proc,sys,dev,opt,usr/bin,usr/share/base/sub,var/empty}
cp "$bb" "$rfs/bin/busybox"
for a in $("$bb" --list); do
  [ "$a" = busybox ] || ln -s busybox "$rfs/bin/$a"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rfs/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$rfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rfs/etc/group"
echo 'docker-squash e2e base' >"$rfs/etc/motd"
for f in a b c; do echo "base $f" >"$rfs/usr/share/base/$f"; done
echo 'base sub' >"$rfs/usr/share/base/sub/s"
ln "$rfs/usr/share/base/a" "$rfs/usr/share/base/a-hardlink"
chmod 1777 "$rfs/tmp"
chmod 700 "$rfs/root"
tar --sort=name --mtime=@1500000000 --numeric-owner --owner=0 --group=0 --format=gnu \
  -C "$rfs" -cf "$dir/rootfs.tar" .
rm -rf "$rfs"
cat >"$dir/Dockerfile" <<'DOCKERFILE'
FROM scratch
ADD rootfs.tar /
CMD ["sh"]
DOCKERFILE
