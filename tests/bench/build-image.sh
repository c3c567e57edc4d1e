#!/usr/bin/env bash
# Builds the benchmark images with the real engine (legacy builder, no network) and saves
# them to tars. Called by tests/bench/run.sh with DOCKER_HOST already pointing at the
# bench's private dockerd:
#   tests/bench/build-image.sh WORKDIR KEY
# KEY is the hash of this file: images are tagged with it and the tars cached under
# WORKDIR/cache/KEY, so a second run with an unchanged file builds nothing.
#
# Images (all FROM one busybox base so that the squash point is the same everywhere):
#   bench-base:KEY   FROM scratch, ADD rootfs.tar / (Debian's busybox-static), CMD
#   bench-img:KEY    base + ~1 GB image:
#                      LABEL, ENV                       (metadata, empty layers)
#                      COPY toolchain/ /opt/toolchain/  (~930 MB: the rustup toolchain's
#                                                        bin+lib - librustc_driver, libLLVM,
#                                                        rlibs - its std/alloc/core_arch HTML
#                                                        docs, /usr/include, /usr/lib/gcc:
#                                                        ~26k files, 3 of 60-200 MB)
#                      COPY app/ /app/                  (a static C binary built here)
#                      RUN  build the app from the toolchain (copies rlibs, docs, MANIFEST)
#                      RUN  rm -rf most of the toolchain (whiteouts + an opaque dir)
#                      WORKDIR, EXPOSE, CMD             (metadata)
#   bench-img2x:KEY  the same with one more ~1 GB layer (RUN cp -a the toolchain), removed
#                    again by the rm step: a ~2 GB image, twice the bytes and the files.
#   bench-img2xb:KEY the same with one more ~1 GB layer of 3 big files (RUN cat the two
#                    largest libraries into /opt/blobN), removed again by the rm step:
#                    twice the bytes, the same number of files.
# Outputs: WORKDIR/cache/KEY/{in.tar,in2x.tar,in2xb.tar,base.id}
set -euo pipefail
W=${1:?workdir}
KEY=${2:?key}
cache="$W/cache/$KEY"
export DOCKER_BUILDKIT=0

log() { printf '== bench: %s\n' "$*" >&2; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

images="bench-base bench-img bench-img2x bench-img2xb"
have_all() { local i; for i in $images; do have_image "$i:$KEY" || return 1; done; }
if have_all && [ -s "$cache/in.tar" ] && [ -s "$cache/in2x.tar" ] && [ -s "$cache/in2xb.tar" ] \
   && [ -s "$cache/base.id" ]; then
  exit 0
fi

mkdir -p "$cache"
if ! have_all; then
  ctx="$W/ctx-$KEY"
  rm -rf "$ctx"
  mkdir -p "$ctx/base" "$ctx/main/toolchain" "$ctx/main/app/bin"

  # --- base: a busybox rootfs --------------------------------------------------------
  bb=$(command -v busybox)
  rfs="$ctx/rootfs"
  mkdir -p "$rfs"/{bin,etc,tmp,root,proc,sys,dev,usr/bin,opt}
  cp "$bb" "$rfs/bin/busybox"
  for a in $("$bb" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$rfs/bin/$a"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$rfs/etc/passwd"
  echo 'root:x:0:' >"$rfs/etc/group"
  echo 'docker-squash bench base' >"$rfs/etc/motd"
  chmod 1777 "$rfs/tmp"
  tar --numeric-owner --owner=0 --group=0 -C "$rfs" -cf "$ctx/base/rootfs.tar" .
  cat >"$ctx/base/Dockerfile" <<'EOF'
FROM scratch
ADD rootfs.tar /
CMD ["sh"]
EOF
  log "building bench-base:$KEY"
  docker build -q --network none -t "bench-base:$KEY" "$ctx/base" >&2

  # --- toolchain: real trees from this machine --------------------------------------
  sysroot=$(rustc --print sysroot)
  tc="$ctx/main/toolchain"
  log "copying the toolchain from $sysroot and /usr/include into the build context"
  cp -a "$sysroot/bin" "$tc/bin"
  cp -a "$sysroot/lib" "$tc/lib"
  rm -rf "$tc/lib/rustlib/wasm32-unknown-unknown"
  html="$sysroot/share/doc/rust/html"
  mkdir -p "$tc/share/doc/rust/html/core"
  cp -a "$html/std" "$html/alloc" "$tc/share/doc/rust/html/"
  [ ! -d "$html/static.files" ] || cp -a "$html/static.files" "$tc/share/doc/rust/html/"
  cp -a "$html/core/core_arch" "$tc/share/doc/rust/html/core/"
  cp -a /usr/include "$tc/include"
  [ ! -d /usr/lib/gcc ] || cp -a /usr/lib/gcc "$tc/lib/gcc"
  log "toolchain: $(du -sh "$tc" | cut -f1), $(find "$tc" -type f | wc -l) files"

  # --- the app: a static binary, checked when a container from the squashed image runs
  cat >"$ctx/main/app/app.c" <<'EOF'
#include <stdio.h>
#include <sys/stat.h>
int main(void) {
  struct stat st;
  FILE *f = fopen("/app/MANIFEST", "r");
  if (!f) { perror("/app/MANIFEST"); return 1; }
  int n = 0, c;
  while ((c = fgetc(f)) != EOF) if (c == '\n') n++;
  fclose(f);
  const char *gone[] = {"/opt/toolchain/lib", "/opt/toolchain/bin", "/opt/toolchain-b", "/opt/blob1",
                        "/opt/toolchain/share/doc", "/opt/toolchain/include/linux"};
  for (unsigned i = 0; i < sizeof gone / sizeof *gone; i++)
    if (stat(gone[i], &st) == 0) { fprintf(stderr, "%s should be deleted\n", gone[i]); return 1; }
  const char *kept[] = {"/opt/toolchain/share/README", "/opt/toolchain/include/stdio.h",
                        "/app/lib", "/app/share", "/bin/sh"};
  for (unsigned i = 0; i < sizeof kept / sizeof *kept; i++)
    if (stat(kept[i], &st) != 0) { fprintf(stderr, "%s missing\n", kept[i]); return 1; }
  printf("bench-app ok: %d manifest entries\n", n);
  return 0;
}
EOF
  gcc -static -O2 -o "$ctx/main/app/bin/app" "$ctx/main/app/app.c"
  cat >"$ctx/main/app/build.sh" <<'EOF'
#!/bin/sh
# The app's "build": takes what it needs from the toolchain before the toolchain goes.
set -e
mkdir -p /app/lib /app/share /app/include
cp /opt/toolchain/lib/rustlib/x86_64-unknown-linux-gnu/lib/libstd-*.rlib \
   /opt/toolchain/lib/rustlib/x86_64-unknown-linux-gnu/lib/liballoc-*.rlib /app/lib/
cp -r /opt/toolchain/share/doc/rust/html/std/collections /app/share/
cp /opt/toolchain/include/zlib.h /opt/toolchain/include/stdio.h /app/include/ 2>/dev/null || true
cd /app && find lib share include bin -type f -exec sha256sum {} + | sort -k2 >MANIFEST
EOF
  chmod +x "$ctx/main/app/build.sh"

  # Both Dockerfiles share their first steps, so the 2x build reuses the toolchain layer.
  head='FROM bench-base:'"$KEY"'
LABEL org.opencontainers.image.title="docker-squash bench" bench.key="'"$KEY"'"
ENV TOOLCHAIN=/opt/toolchain PATH=/opt/toolchain/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY toolchain/ /opt/toolchain/'
  tail='COPY app/ /app/
RUN /app/build.sh
RUN rm -rf /opt/toolchain/lib /opt/toolchain/bin /opt/toolchain/share /opt/toolchain-b /opt/blob* \
 && find /opt/toolchain/include -mindepth 1 -maxdepth 1 ! -name "std*.h" -exec rm -rf {} + \
 && mkdir -p /opt/toolchain/share && echo "docs removed" >/opt/toolchain/share/README \
 && echo "squashed by the bench" >>/etc/motd
WORKDIR /app
EXPOSE 8080
CMD ["/app/bin/app"]'
  printf '%s\n%s\n' "$head" "$tail" >"$ctx/main/Dockerfile"
  printf '%s\nRUN cp -a /opt/toolchain /opt/toolchain-b\n%s\n' "$head" "$tail" >"$ctx/main/Dockerfile.2x"
  printf '%s\nRUN for i in 1 2 3; do cat /opt/toolchain/lib/libLLVM* /opt/toolchain/lib/librustc_driver* >/opt/blob$i; done\n%s\n' \
    "$head" "$tail" >"$ctx/main/Dockerfile.2xb"
  # Only the main Dockerfile's inputs go in the context.
  printf 'Dockerfile*\n' >"$ctx/main/.dockerignore"

  log "building bench-img:$KEY (sends ~1 GB of context)"
  docker build -q --network none -t "bench-img:$KEY" "$ctx/main" >&2
  log "building bench-img2x:$KEY"
  docker build -q --network none -t "bench-img2x:$KEY" -f "$ctx/main/Dockerfile.2x" "$ctx/main" >&2
  log "building bench-img2xb:$KEY"
  docker build -q --network none -t "bench-img2xb:$KEY" -f "$ctx/main/Dockerfile.2xb" "$ctx/main" >&2
  rm -rf "$ctx"
  rm -f "$cache/in.tar" "$cache/in2x.tar" "$cache/in2xb.tar"
fi

docker image inspect -f '{{.Id}}' "bench-base:$KEY" >"$cache/base.id"
for v in img:in img2x:in2x img2xb:in2xb; do
  img="bench-${v%%:*}:$KEY" out="$cache/${v#*:}.tar"
  if [ ! -s "$out" ]; then
    log "docker save $img"
    docker save -o "$out.tmp" "$img"
    mv "$out.tmp" "$out"
  fi
done
