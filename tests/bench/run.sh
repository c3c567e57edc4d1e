#!/usr/bin/env bash
# `make bench`: squashes a ~1 GB image built by the real engine with
#   (a) this CLI            target/release/docker-squash -from <base diff_id> -i in.tar -o out.tar
#                           and the same with -no-verify (trusting the config's diff_ids)
#   (b) the PyPI squasher   docker-squash (python) -f <base image id> -t TAG IMAGE, in the engine
#   (c) the floor           cat in.tar >/dev/null  +  sha256sum of the squashed layer tar
#   (d) the wasm build in Node, when the npm package ships a bench script
#   (e) the page in headless Chromium (tests/bench/page.mjs), step by step, and the npm
#       package in Node step by step (tests/bench/node.mjs)
#   (f) registry -> registry (tests/bench/registry.sh) against skopeo copy and the engine
# and prints one table: wall time and peak RSS (GNU time '%e %M'), the ratios against the
# targets, our peak RSS on the 1 GB image and on a 2x one, and checks that the squashed
# image loads and runs. All tools squash the same layers: everything above the busybox
# base layer (the toolchain COPY, the app COPY, the app build RUN and the rm RUN).
#
# Its own dockerd lives in tests/.work/bench (stopped by pid on exit, even on failure).
# The images and their `docker save` tars are cached there, keyed by the content of
# tests/bench/build-image.sh, so only the first run builds (several minutes).
# Knobs (medians are reported): BENCH_REPEAT (runs of ours, the floor, wasm; default 5),
#        BENCH_ENGINE_REPEAT (docker save/load runs; 3), BENCH_PY_REPEAT (python runs; 3),
#        BENCH_SKIP_2X=1 (skip the 2x images).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
W=$ROOT/tests/.work/bench
R=$W/run                      # this run's scratch files and logs
CLI=$ROOT/target/release/docker-squash
REPEAT=${BENCH_REPEAT:-5}               # the cheap tar -> tar runs
ENGINE_REPEAT=${BENCH_ENGINE_REPEAT:-3} # docker save / load / the pipeline
PY_REPEAT=${BENCH_PY_REPEAT:-3}
PY_VERSION=1.2.2
KEY=$(sha256sum tests/bench/build-image.sh | cut -c1-16)
export DOCKER_BUILDKIT=0

log() { printf '== bench: %s\n' "$*" >&2; }
START=$(date +%s)
mkdir -p "$W" "$R"
rm -rf "${R:?}"/*
RES=$R/results.tsv            # name status wall_s rss_kb user_s sys_s
: >"$RES"
FAILURES=()
fail() { FAILURES+=("$*"); log "FAIL: $*"; }

for t in /usr/bin/time docker dockerd busybox pigz zstd; do
  command -v "$t" >/dev/null || { echo "bench: $t is missing (run: make setup)" >&2; exit 1; }
done

# ---- private engine ------------------------------------------------------------------
source tests/bench/registry.sh
stop_engine() { stop_registries; tests/support/dockerd.sh stop "$W" || true; }
trap stop_engine EXIT
trap 'exit 130' INT TERM
eval "$(tests/support/dockerd.sh start "$W")"
log "engine at $DOCKER_HOST"

# Images and tars of an older build-image.sh go, so the work dir doesn't grow.
for d in "$W"/cache/*; do
  [ -d "$d" ] && [ "$(basename "$d")" != "$KEY" ] && rm -rf "$d"
done
stale=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^bench-[a-z0-9]+:' | grep -v ":$KEY\$" || true)
[ -z "$stale" ] || docker rmi -f $stale >/dev/null || true
for img in bench-squashed bench-squashed2x bench-squashed2xb bench-py bench-wasm; do
  docker rmi -f "$img:$KEY" >/dev/null 2>&1 || true
done
docker container prune -f >/dev/null 2>&1 || true

# ---- the images ----------------------------------------------------------------------
t0=$(date +%s)
bash tests/bench/build-image.sh "$W" "$KEY"
build_s=$(( $(date +%s) - t0 ))
C=$W/cache/$KEY
IN=$C/in.tar IN2=$C/in2x.tar IN2B=$C/in2xb.tar
BASE_ID=$(cat "$C/base.id")

# The squash point: the first diff_id of the config (the busybox base layer), read from
# the saved archive itself, and the base image's id for the python tool.
manifest_field() { # tar jq-expr
  tar -xOf "$1" manifest.json | jq -r "$2"
}
config_of() { tar -xOf "$1" "$(manifest_field "$1" '.[0].Config')"; }
FROM=$(config_of "$IN" | jq -r '.rootfs.diff_ids[0]' | sed 's/^sha256://')
for t in "$IN2" "$IN2B"; do
  [ "$(config_of "$t" | jq -r '.rootfs.diff_ids[0]' | sed 's/^sha256://')" = "$FROM" ] \
    || fail "$t does not start with the same base layer as in.tar"
done
base_diff=$(docker image inspect -f '{{index .RootFS.Layers 0}}' "bench-base:$KEY" | sed 's/^sha256://')
[ "$FROM" = "$base_diff" ] || fail "diff_ids[0] of in.tar is not bench-base's layer"
n_layers=$(config_of "$IN" | jq '.rootfs.diff_ids | length')
n_hist=$(config_of "$IN" | jq '.history | length')
size_mb() { echo $(( $(stat -c %s "$1") / 1048576 )); }

# ---- measuring -----------------------------------------------------------------------
# measure NAME CMD... : runs CMD under GNU time, output to $R/NAME.log, appends to $RES.
measure() {
  local name=$1; shift
  local tf=$R/time.$name st=ok
  /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >>"$R/$name.log" 2>&1 || st="exit$?"
  local line; line=$(tail -1 "$tf")
  echo "$name $st $line" >>"$RES"
  log "$name: $st, $line (wall s, peak RSS KiB, user s, sys s)"
  [ "$st" = ok ]
}
# agg NAME FIELD : median wall / min wall / max rss / median user / median sys / runs / all-ok
agg() {
  awk -v n="$1" -v f="$2" '
    $1 == n { k++; w[k]=$3; r=($4>r?$4:r); u[k]=$5; s[k]=$6; if ($2 != "ok") bad=1; if (k == 1 || $3 < lo) lo = $3 }
    function med(a,   i,j,t) { for (i=1;i<=k;i++) for (j=i+1;j<=k;j++) if (a[j]<a[i]) { t=a[i]; a[i]=a[j]; a[j]=t }
                               return (k%2) ? a[(k+1)/2] : (a[k/2]+a[k/2+1])/2 }
    END {
      if (!k) { print "-"; exit }
      if (f=="wall") print med(w); else if (f=="min") print lo; else if (f=="rss") print r; else if (f=="user") print med(u);
      else if (f=="sys") print med(s); else if (f=="n") print k; else if (f=="ok") print (bad?"no":"yes")
    }' "$RES"
}
ok() { [ "$(agg "$1" ok)" = yes ]; }
# valid_output NAME TAR : a run that exited 0 without writing an archive is a failure.
valid_output() {
  if [ -s "$2" ] && tar -tf "$2" manifest.json >/dev/null 2>&1; then return 0; fi
  sed -i '$ s/^\([^ ]*\) ok /\1 no-output /' "$RES"
  echo "no archive with a manifest.json at $2" >>"$R/$1.log"
  return 1
}

# Warm the page cache so every tool reads the input from memory alike.
cat "$IN" "$IN2" "$IN2B" >/dev/null
ORIG_ID=$(docker image inspect -f '{{.Id}}' "bench-img:$KEY")

ours_ok=1
layer_tar=$R/squashed-layer.tar
# ours_run NAME IN OUT TAG [FLAG...] : one run of our CLI, tar -> tar
ours_run() {
  rm -f "$3"
  if [ ! -x "$CLI" ]; then
    echo "$1 missing 0 0 0 0" >>"$RES"; echo "$CLI is not built" >>"$R/$1.log"; return 1
  fi
  measure "$1" "$CLI" "${@:5}" -t "$4" -from "$FROM" -i "$2" -o "$3" && valid_output "$1" "$3"
}
# Drops one file's pages from the page cache (posix_fadvise DONTNEED; no global drop_caches).
evict() { dd if="$1" iflag=nocache count=0 status=none; }

# (a) ours and (c) the floor, warm cache, interleaved so that noise hits both alike.
for i in $(seq 1 "$REPEAT"); do
  measure floor_cat sh -c 'cat "$1" >/dev/null' _ "$IN" || true
  ours_run ours "$IN" "$R/out.tar" "bench-squashed:$KEY" || ours_ok=0
  ours_run ours_nv "$IN" "$R/out-nv.tar" "bench-squashed:$KEY" -no-verify || ours_ok=0
  if [ "$ours_ok" = 1 ] && [ ! -s "$layer_tar" ]; then
    last=$(manifest_field "$R/out.tar" '.[0].Layers[-1]')
    tar -xOf "$R/out.tar" "$last" >"$layer_tar" || { fail "cannot read the top layer of our output"; ours_ok=0; }
  fi
  if [ -s "$layer_tar" ]; then
    measure floor_sha sha256sum "$layer_tar" || true
    measure floor_verify python3 tests/bench/readhash.py --sha256 "$IN" "$layer_tar" || true
  fi
done
[ "$ours_ok" = 1 ] || fail "our CLI failed on the 1x image (log: $R/ours.log)"
if [ "$ours_ok" = 1 ]; then
  top_diff=$(config_of "$R/out.tar" | jq -r '.rootfs.diff_ids[-1]' | sed 's/^sha256://')
  real_diff=$(sha256sum "$layer_tar" | cut -c1-64)
  [ "$top_diff" = "$real_diff" ] || fail "the squashed layer's diff_id in the config ($top_diff) is not the sha256 of the layer ($real_diff)"
fi

# The new layer's compression: each codec on the same input, interleaved with its floor:
# reading and hashing the input (floor_verify, above) plus the reference tool compressing the
# squashed layer on every core (pigz -6, zstd -3 -T0). -format docker streams a plain layer
# with no temporary file, as before the OCI layout was the default.
NPROC=$(nproc)
for i in $(seq 1 "$REPEAT"); do
  ours_run ours_docker "$IN" "$R/out-docker.tar" "bench-squashed:$KEY" -format docker || ours_ok=0
  for c in gzip zstd; do
    ours_run "ours_$c" "$IN" "$R/out-$c.tar" "bench-squashed-$c:$KEY" -compress "$c" || ours_ok=0
  done
  if [ -s "$layer_tar" ]; then
    measure floor_pigz sh -c 'pigz -6 -p "$2" -c "$1" | wc -c >"$3"' _ "$layer_tar" "$NPROC" "$R/pigz.size" || true
    measure floor_zstd sh -c 'zstd -3 -T0 -q -c "$1" | wc -c >"$2"' _ "$layer_tar" "$R/zstd.size" || true
  fi
done
# new_layer_bytes OUT: the stored size of an output's new (top) layer.
new_layer_bytes() {
  local name; name=$(manifest_field "$1" '.[0].Layers[-1]')
  tar -tvf "$1" "$name" | awk '{ print $3 }'
}

# The same with in.tar evicted from the page cache before each run (the disk is the host's
# virtual disk, itself cached by the host: "cold" here means not in this kernel's cache).
for i in $(seq 1 "$REPEAT"); do
  evict "$IN"; measure cold_cat sh -c 'cat "$1" >/dev/null' _ "$IN" || true
  evict "$IN"; ours_run ours_cold "$IN" "$R/out-cold.tar" "bench-squashed:$KEY" || true
done
cat "$IN" >/dev/null
rm -f "$R/out-cold.tar"

# Where our time goes: one profiled run, when perf works here (not installed by setup).
PERF_TOP=
if [ "$ours_ok" = 1 ] && command -v perf >/dev/null \
   && perf record -q -o "$R/perf.data" "$CLI" -t "bench-squashed:$KEY" -from "$FROM" -i "$IN" -o "$R/out-perf.tar" >"$R/perf.log" 2>&1; then
  PERF_TOP=$(perf report -i "$R/perf.data" --stdio --no-children --sort sym 2>/dev/null \
    | awk '/^ +[0-9.]+%/ && n < 6 { sub(/\[[.k]\] /, ""); printf "%s%s %s", (n++ ? ", " : ""), $1, $2 }') || true
fi
rm -f "$R/out-perf.tar" "$R/perf.data"

# docker save / docker load: what ours needs around it to go engine -> engine like the
# python tool. The squashed image is removed before each load so its layer is imported.
for i in $(seq 1 "$ENGINE_REPEAT"); do
  measure save docker save -o "$R/saved.tar" "bench-img:$KEY" || fail "docker save"
  rm -f "$R/saved.tar"
  if [ "$ours_ok" = 1 ]; then
    docker rmi -f "bench-squashed:$KEY" >/dev/null 2>&1 || true
    measure load docker load -i "$R/out.tar" || fail "docker load of our output (log: $R/load.log)"
    # The one-liner from the CLI's description; the CLI spools stdin to a temp file.
    docker rmi -f "bench-squashed:$KEY" >/dev/null 2>&1 || true
    mkdir -p "$R/tmp"
    measure pipe env TMPDIR="$R/tmp" bash -c 'set -o pipefail; docker save "$1" | "$2" -t "$3" -from "$4" | docker load' \
      _ "bench-img:$KEY" "$CLI" "bench-squashed:$KEY" "$FROM" || fail "docker save | ours | docker load (log: $R/pipe.log)"
    docker rmi -f "bench-squashed:$KEY" >/dev/null 2>&1 || true
    measure pipe_nv env TMPDIR="$R/tmp" bash -c 'set -o pipefail; docker save "$1" | "$2" -no-verify -t "$3" -from "$4" | docker load' \
      _ "bench-img:$KEY" "$CLI" "bench-squashed:$KEY" "$FROM" || fail "docker save | ours -no-verify | docker load (log: $R/pipe_nv.log)"
  fi
done

# (b) python docker-squash, in a venv in the work dir.
PY=$W/venv/bin/docker-squash
py_ok=1
if [ "$("$PY" --version 2>/dev/null)" != "$PY_VERSION" ]; then
  log "installing docker-squash==$PY_VERSION from PyPI into $W/venv"
  { rm -rf "$W/venv" && python3 -m venv "$W/venv" && "$W/venv/bin/pip" install -q "docker-squash==$PY_VERSION"; } >"$R/pip.log" 2>&1 || py_ok=0
fi
if [ "$py_ok" = 1 ]; then
  mkdir -p "$R/tmp"
  for i in $(seq 1 "$PY_REPEAT"); do
    docker rmi -f "bench-py:$KEY" >/dev/null 2>&1 || true
    # Its default: docker save through the API, untar to a temp dir, squash, tar, docker load.
    measure python env TMPDIR="$R/tmp" "$PY" -f "$BASE_ID" -t "bench-py:$KEY" "bench-img:$KEY" || py_ok=0
    # The same writing the squashed image to a tar instead of loading it.
    rm -f "$R/py-out.tar"
    { measure python_tar env TMPDIR="$R/tmp" "$PY" -f "$BASE_ID" --load-image false \
        --output-path "$R/py-out.tar" "bench-img:$KEY" && valid_output python_tar "$R/py-out.tar"; } || py_ok=0
  done
  [ "$py_ok" = 1 ] || fail "python docker-squash failed (log: $R/python.log, $R/python_tar.log)"
else
  fail "could not install docker-squash==$PY_VERSION (log: $R/pip.log)"
fi
# Its phases, from the timestamps of its own log (last run).
py_phases() {
  awk '{ if (split($2, t, /[:,]/) == 4) s = t[1]*3600 + t[2]*60 + t[3] + t[4]/1000 }
       /docker-squash version/ { a = s } /Image saved!/ { b = s } /Squashing finished!/ { c = s } /INFO +Done/ { d = s }
       END { if (a && b && c && d) printf "save+untar %.1f s, squash %.1f s, tar+%s %.1f s", b-a, c-b, WHAT, d-c }' WHAT="$2" "$1"
}

# (d) wasm in Node, if the npm package has a bench script taking IN OUT [-from X].
WASM_SCRIPT=
for s in crates/wasm/js/bench.mjs crates/wasm/bench.mjs crates/wasm/js/bench.js tests/npm/bench.mjs tests/npm/bench.js; do
  [ -f "$s" ] && { WASM_SCRIPT=$s; break; }
done
if [ -z "$WASM_SCRIPT" ]; then
  WASM_SCRIPT=$(find crates/wasm tests/npm -path '*/node_modules' -prune -o -type f \
    \( -name 'bench*.mjs' -o -name 'bench*.js' \) -print 2>/dev/null | sort | head -1 || true)
fi
wasm_state="not built"
wasm_run() {
  rm -f "$R/wasm-out.tar"
  measure wasm node "$WASM_SCRIPT" "$IN" "$R/wasm-out.tar" -from "$FROM" -t "bench-wasm:$KEY" \
    && valid_output wasm "$R/wasm-out.tar"
}
if [ -n "$WASM_SCRIPT" ] && command -v node >/dev/null; then
  wasm_state=ok
  if ! wasm_run; then
    if grep -q 'not built' "$R/wasm.log" && [ "${BENCH_BUILD_WASM:-1}" = 1 ]; then
      # The script exists but the npm package is not assembled yet: build it once.
      sed -i '$d' "$RES"
      log "the npm package is not built: make wasm (log: $R/make-wasm.log)"
      if make wasm >"$R/make-wasm.log" 2>&1; then
        wasm_run || wasm_state="failed ($WASM_SCRIPT, log: $R/wasm.log)"
      else
        wasm_state="not built (make wasm failed, log: $R/make-wasm.log)"
      fi
    else
      wasm_state="failed ($WASM_SCRIPT, log: $R/wasm.log)"
    fi
  fi
  if [ "$wasm_state" = ok ]; then
    for i in $(seq 2 "$REPEAT"); do wasm_run || { wasm_state="failed ($WASM_SCRIPT, log: $R/wasm.log)"; break; }; done
  fi
  if [ "$wasm_state" = ok ]; then
    WASM_GZIP=1
    for i in $(seq 1 "$REPEAT"); do
      for c in gzip zstd; do
        rm -f "$R/wasm-$c.tar"
        measure "wasm_$c" node "$WASM_SCRIPT" "$IN" "$R/wasm-$c.tar" -from "$FROM" -t "bench-squashed-$c:$KEY" -compress "$c" || true
      done
    done
  fi
  [ "$wasm_state" = ok ] || [ "${wasm_state#not built}" != "$wasm_state" ] || fail "wasm: $wasm_state"
fi
# The script's own timer (squash call only, without node's start and the wasm compile).
wasm_inner=$(grep -h '^wall_s=' "$R/wasm.log" 2>/dev/null | sed 's/wall_s=//' | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }')

# Ours on the 2x images: does peak memory stay flat as the image doubles?
if [ "${BENCH_SKIP_2X:-0}" != 1 ]; then
  for v in 2x 2xb; do
    in=$IN2; [ $v = 2xb ] && in=$IN2B
    cat "$in" >/dev/null
    for i in $(seq 1 "$REPEAT"); do
      measure "floor_cat$v" sh -c 'cat "$1" >/dev/null' _ "$in" || true
      ours_run "ours$v" "$in" "$R/out$v.tar" "bench-squashed$v:$KEY" \
        || { fail "our CLI failed on the $v image (log: $R/ours$v.log)"; break; }
    done
  done
fi

# ---- checks: the squashed images load, run, and hold the same files as the original -----
# A listing of every path with type, mode, owner, size and md5 (mtimes left out).
LIST='cd / && find . -xdev ! -path ./etc/hostname ! -path ./etc/hosts ! -path ./etc/resolv.conf \
  ! -path ./.dockerenv ! -path ./proc ! -path ./sys ! -path ./dev | sort | while read -r p; do
  if [ -L "$p" ]; then echo "$p L $(readlink "$p")";
  elif [ -f "$p" ]; then echo "$p F $(stat -c "%a %u %g %s" "$p") $(md5sum <"$p" | cut -c1-32)";
  elif [ -d "$p" ]; then echo "$p D $(stat -c "%a %u %g" "$p")";
  else echo "$p O $(stat -c "%F %a %u %g" "$p")"; fi; done'
listing() { # image file
  docker run --rm --network none --pull=never --entrypoint /bin/sh "$1" -c "$LIST" >"$2" 2>"$2.err"
}
CHECKS=()
check() { # description command...
  if "${@:2}" >>"$R/checks.log" 2>&1; then CHECKS+=("ok    $1"); else CHECKS+=("FAIL  $1"); fail "check: $1"; fi
}
layers_of() { docker image inspect -f '{{len .RootFS.Layers}}' "$1"; }
same_listing() { listing "$1" "$R/list-$2.txt" && cmp -s "$R/list-orig.txt" "$R/list-$2.txt" \
  || { diff "$R/list-orig.txt" "$R/list-$2.txt" | head -20; return 1; }; }
runs_app() { docker run --rm --network none --pull=never "$1" | tee -a "$R/checks.log" | grep -q '^bench-app ok'; }
if listing "bench-img:$KEY" "$R/list-orig.txt"; then
  n_files=$(wc -l <"$R/list-orig.txt")
  if [ "$ours_ok" = 1 ] && ok load; then
    check "ours: docker load took out.tar" docker image inspect "bench-squashed:$KEY"
    check "ours: loaded image has 2 layers (base + squashed), was $n_layers" test "$(layers_of "bench-squashed:$KEY")" = 2
    check "ours: container runs the app (bench-app ok)" runs_app "bench-squashed:$KEY"
    check "ours: same files, modes, owners, contents as the original ($n_files paths)" same_listing "bench-squashed:$KEY" ours
    check "ours -no-verify: the same bytes as ours" cmp -s "$R/out.tar" "$R/out-nv.tar"
    check "ours: CMD, WORKDIR, ENV kept" test "$(docker image inspect -f '{{json .Config.Cmd}} {{.Config.WorkingDir}} {{index .Config.Env 0}}' "bench-squashed:$KEY")" \
      = "$(docker image inspect -f '{{json .Config.Cmd}} {{.Config.WorkingDir}} {{index .Config.Env 0}}' "bench-img:$KEY")"
  fi
  for v in 2x 2xb; do
    if [ "${BENCH_SKIP_2X:-0}" != 1 ] && ok "ours$v"; then
      check "ours $v: docker load + container runs the app" \
        sh -c "docker load -i '$R/out$v.tar' && docker run --rm --network none --pull=never 'bench-squashed$v:$KEY' | grep '^bench-app ok'"
    fi
  done
  if [ "$py_ok" = 1 ]; then
    check "python: loaded image has 2 layers" test "$(layers_of "bench-py:$KEY")" = 2
    check "python: container runs the app" runs_app "bench-py:$KEY"
    check "python: same files as the original" same_listing "bench-py:$KEY" py
  fi
  if [ "$wasm_state" = ok ] && [ "$ours_ok" = 1 ]; then
    check "wasm: same layers (diff_ids) as the native output" test "$(config_of "$R/wasm-out.tar" | jq -c '.rootfs.diff_ids')" \
      = "$(config_of "$R/out.tar" | jq -c '.rootfs.diff_ids')"
    check "wasm: docker load + container runs the app" \
      sh -c "docker load -i '$R/wasm-out.tar' && docker run --rm --network none --pull=never 'bench-wasm:$KEY' | grep '^bench-app ok'"
  fi
  check "the original bench-img:$KEY still names the original image" \
    test "$(docker image inspect -f '{{.Id}}' "bench-img:$KEY")" = "$ORIG_ID"
else
  fail "cannot list the original image's files (log: $R/list-orig.txt.err)"
fi
if [ -n "${WASM_GZIP:-}" ]; then
  for c in gzip zstd; do
    check "wasm -compress $c: byte-identical to the native output" cmp -s "$R/wasm-$c.tar" "$R/out-$c.tar"
  done
fi

# ---- what a push costs through containerd (Docker 29's image store) --------------------
# The image as Docker 29 saves it (OCI, gzip layers: made with skopeo), squashed by default
# (auto keeps gzip), each imported into a private containerd and pushed with ctr to a
# private registry; the bytes are the sizes of the blobs each pushed manifest names (what
# a fresh registry receives), against gzip -6 of the squashed image's layers.
PUSHED=
stop_push() { tests/support/containerd.sh stop "$W/ctr" || true; tests/support/registry.sh stop "$W/registry" || true; }
push_bench() {
  local oci=$C/in-oci-gzip.tar
  [ -s "$oci" ] || skopeo copy -q "docker-archive:$IN" "oci-archive:$oci.part:bench-orig:$KEY" --dest-compress-format gzip \
    && mv -f "$oci.part" "$oci" 2>/dev/null || [ -s "$oci" ] || return 1
  eval "$(tests/support/containerd.sh start "$W/ctr")" || return 1
  eval "$(tests/support/registry.sh start "$W/registry")" || return 1
  local sq=$R/out-oci-auto.tar
  "$CLI" -t "bench-sq:$KEY" -from "$FROM" -i "$oci" -o "$sq" -verbose >"$R/push-squash.log" 2>&1 || return 1
  local c="ctr -a $CONTAINERD_ADDRESS -n bench"
  $c images import --base-name docker.io/library/bench-orig --digests "$oci" >"$R/push.log" 2>&1 || return 1
  $c images import "$sq" >>"$R/push.log" 2>&1 || return 1
  local orig_ref; orig_ref=$($c images ls -q | grep -m1 '^docker.io/library/bench-orig') || return 1
  $c images push --plain-http -u "$REGISTRY_USER:$REGISTRY_PASSWORD" "$REGISTRY_ADDRESS/bench/app:orig" "$orig_ref" >>"$R/push.log" 2>&1 \
    || { $c images tag "$orig_ref" "$REGISTRY_ADDRESS/bench/app:orig" >>"$R/push.log" 2>&1 \
         && $c images push --plain-http -u "$REGISTRY_USER:$REGISTRY_PASSWORD" "$REGISTRY_ADDRESS/bench/app:orig" >>"$R/push.log" 2>&1; } || return 1
  $c images tag "docker.io/library/bench-sq:$KEY" "$REGISTRY_ADDRESS/bench/app:sq" >>"$R/push.log" 2>&1 || return 1
  $c images push --plain-http -u "$REGISTRY_USER:$REGISTRY_PASSWORD" "$REGISTRY_ADDRESS/bench/app:sq" >>"$R/push.log" 2>&1 || return 1
  pushed() { curl -s -u "$REGISTRY_USER:$REGISTRY_PASSWORD" \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY_ADDRESS/v2/bench/app/manifests/$1" | jq '[.config.size] + [.layers[].size] | add'; }
  local po ps ref
  po=$(pushed orig); ps=$(pushed sq)
  ref=$(python3 - "$sq" <<'PY'
import json, sys, tarfile, zlib, gzip, io
t = tarfile.open(sys.argv[1])
m = json.load(t.extractfile("manifest.json"))[0]
total = 0
for name in m["Layers"]:
    raw = t.extractfile(name).read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    total += len(c.compress(raw)) + len(c.flush())
print(total)
PY
)
  PUSHED="$ps $po $ref $(grep -o 'stored as [a-z]* level [0-9]*' "$R/push-squash.log" | head -1)"
}
if command -v ctr >/dev/null && command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
  push_bench || fail "pushing through containerd (log: $R/push.log)"
  stop_push
fi

# ---- registry -> registry (tests/bench/registry.sh) -------------------------------------
REG_STATE="not run (needs docker-registry and skopeo)"
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null && [ "$ours_ok" = 1 ]; then
  mkdir -p "$R/tmp"
  REG_STATE=ok
  registry_bench "$ENGINE_REPEAT" || REG_STATE="failed (logs: $R/reg_*.log)"
fi

# ---- the page in headless Chromium (tests/bench/page.mjs) -----------------------------
# The squash from root as the page runs it (the package's browser entry in a worker, the
# File read with FileReaderSync), step by step, alternating with the native CLI on the
# same file and options; for the classic archive and for the OCI gzip one (Docker 29's).
page_bench() { # input json
  (cd tests && node bench/page.mjs "$1" "${BENCH_PAGE_REPEAT:-3}") >"$2" 2>>"$R/page.log"
}
PAGE_STATE="not run (needs /usr/bin/chromium, tests/node_modules and make wasm)"
if [ -x /usr/bin/chromium ] && [ -d tests/node_modules/playwright-core ] && [ -s web/pkg/browser.mjs ]; then
  log "the page in Chromium"
  PAGE_STATE=ok
  page_bench "$IN" "$R/page.json" || { PAGE_STATE="failed (log: $R/page.log)"; fail "page: $PAGE_STATE"; }
  if [ "$PAGE_STATE" = ok ] && [ -s "$C/in-oci-gzip.tar" ]; then
    page_bench "$C/in-oci-gzip.tar" "$R/page-oci.json" || fail "page, OCI gzip input (log: $R/page.log)"
  fi
fi

# ---- the npm package in Node, step by step (tests/bench/node.mjs) ----------------------
NODE_STATE="not run (needs make wasm)"
if [ -s "$(sed -n '/^\[npm\]/,/^\[/s/^package-dir *= *"\([^"]*\)".*/\1/p' wasm-pack.toml)/node.mjs" ]; then
  log "the npm package in Node, step by step"
  NODE_STATE=ok
  (cd tests && node bench/node.mjs "$IN" "${BENCH_NODE_REPEAT:-3}") >"$R/node.json" 2>>"$R/node.log" ||
    { NODE_STATE="failed (log: $R/node.log)"; fail "node steps: $NODE_STATE"; }
fi

for img in bench-squashed bench-squashed2x bench-squashed2xb bench-py bench-wasm; do docker rmi -f "$img:$KEY" >/dev/null 2>&1 || true; done
# A tool that re-tagged the original would break the next run's cache: put it back.
[ "$(docker image inspect -f '{{.Id}}' "bench-img:$KEY" 2>/dev/null)" = "$ORIG_ID" ] || docker tag "$ORIG_ID" "bench-img:$KEY"

# ---- the table -------------------------------------------------------------------------
FMT='%-48s %7s %7s %7s %7s %7s %4s  %s\n'
row() { # label name [note]
  local w m r u s n
  w=$(agg "$2" wall); m=$(agg "$2" min); r=$(agg "$2" rss); u=$(agg "$2" user); s=$(agg "$2" sys); n=$(agg "$2" n)
  if [ "$w" = - ]; then printf "$FMT" "$1" - - - - - 0 "${3:-}${3:+; }not run"; return; fi
  ok "$2" || { printf "$FMT" "$1" FAILED - - - - "$n" "see $R/$2.log"; return; }
  printf '%-48s %7.2f %7.2f %7d %7.2f %7.2f %4s  %s\n' "$1" "$w" "$m" "$((r / 1024))" "$u" "$s" "$n" "${3:-}"
}
wall() { ok "$1" && agg "$1" wall || echo -; }
rss_mib() { ok "$1" && echo $(( $(agg "$1" rss) / 1024 )) || echo -; }
sum_wall() { local t=0 v; for n in "$@"; do v=$(wall "$n"); [ "$v" != - ] || { echo -; return; }; t=$(awk -v a="$t" -v b="$v" 'BEGIN { print a + b }'); done; echo "$t"; }
ratio() { { [ "$1" = - ] || [ "$2" = - ]; } && { echo -; return; }; awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "-" }'; }
verdict() { # value op target
  [ "$1" = - ] && { echo "n/a"; return; }
  if awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN { exit !(op == "<=" ? a <= b : a >= b) }'; then echo "meets target ($2 $3)"; else echo "MISSES target ($2 $3)"; fi
}
floor=$(sum_wall floor_cat floor_sha)
floor_cold=$(sum_wall cold_cat floor_sha)
ours=$(wall ours)
layer_mb=$([ -s "$layer_tar" ] && size_mb "$layer_tar" || echo "?")
fmt_s() { [ "$1" = - ] && echo - || printf '%.2f' "$1"; }

{
echo
echo "docker-squash bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, dockerd $(docker version -f '{{.Server.Version}}' 2>/dev/null), commit $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- crates 2>/dev/null || echo '+dirty crates/')"
echo "image bench-img:$KEY  in.tar $(size_mb "$IN") MiB, $n_layers layers ($n_hist history steps);" \
     "image step took ${build_s}s (cached when 0-1 s)"
echo "squash point (all tools): keep layer 1, the busybox base; squash layers 2-5: COPY toolchain (~1 GB, 26k files), COPY app, RUN build app, RUN rm -rf toolchain"
echo "  ours -from $FROM  (diff_id of layer 1 in the config, as inspect prints it)"
echo "  python -f ${BASE_ID#sha256:}  (image id of bench-base, the FROM image)"
echo "  result: 2 layers; squashed layer $layer_mb MiB$( [ "$ours_ok" = 1 ] && echo ", our out.tar $(size_mb "$R/out.tar") MiB")"
echo "  times: median of runs; RSS: peak of the measured process (max over runs); warm page cache unless 'cold'"
echo
printf "$FMT" "" "wall s" "min s" "RSS MiB" "user s" "sys s" "runs" ""
echo "tar -> tar"
row "(a) ours  -from L -i in.tar -o out.tar" ours
row "    ours -no-verify (trusts the diff_ids)" ours_nv "reads the layers' headers only"
row "    ours, in.tar evicted from page cache" ours_cold
row "(c) floor: cat in.tar >/dev/null" floor_cat "floor = cat + sha256sum = $(fmt_s "$floor") s"
row "         + sha256sum of squashed layer ($layer_mb MiB)" floor_sha "coreutils sha256sum"
row "    cat in.tar, evicted from page cache" cold_cat "cold floor = $(fmt_s "$floor_cold") s"
row "    floor + verify: read+sha256 all of in.tar" floor_verify "tests/bench/readhash.py (OpenSSL SHA-256), + layer: least a verifying squash needs"
if [ "$wasm_state" = "not built" ]; then
  printf '%-48s %s\n' "(d) wasm: not built" "(no bench script in crates/wasm or tests/npm)"
elif [ "${wasm_state#not built}" != "$wasm_state" ]; then
  printf '%-48s %s\n' "(d) wasm: $wasm_state" ""
else
  row "(d) wasm in node: $WASM_SCRIPT" wasm "$( [ "$wasm_state" = ok ] && echo "its own timer (squash call only): ${wasm_inner:-?} s" || echo "$wasm_state")"
fi
row "    python docker-squash --output-path, no load" python_tar "engine -> tar: $(py_phases "$R/python_tar.log" write)"
page_rows() { # json label
  [ -s "$1" ] || { printf '%-48s %s\n' "    $2" "$PAGE_STATE"; return; }
  jq -r --arg l "$2" '"    \($l): the page \(.steps.page.ms / 1000) s, \(.steps.page.mbps) MB/s; CLI \(.cliMs / 1000) s; page / CLI \(.steps.page.vsCli) from the click, \(.steps["page-from-drop"].vsCli) from the drop; claiming 8 cores \(.steps["page-8-cores"].vsCli); 1 core \(.steps["page-1-core"].vsCli)  (\(.rounds) alternating runs)",
    "      steps: " + ([.steps | to_entries[] | "\(.key) \(.value.ms / 1000) s"] | join(", ")) + "; wasm memory peak \(.wasmMemoryPeak / 1048576 | floor) MiB"' "$1"
}
echo "(e) the page in headless Chromium (tests/bench/page.mjs; -from root -compress none; steps: one worker)"
page_rows "$R/page.json" "classic in.tar"
page_rows "$R/page-oci.json" "OCI gzip (Docker 29's save)"
echo "(e') the npm package in Node, step by step (tests/bench/node.mjs; -from root -compress none)"
if [ -s "$R/node.json" ]; then
  jq -r '"    classic in.tar: CLI \(.cliMs / 1000) s; " + ([.steps | to_entries[] | "\(.key) \(.value.ms / 1000) s (\(.value.vsCli)x)"] | join(", ")) + "  (\(.rounds) alternating runs)"' "$R/node.json"
else
  printf '%-48s %s\n' "    classic in.tar" "$NODE_STATE"
fi
echo "the new layer's compression (tar -> tar; the squashed layer is $layer_mb MiB as a tar)"
gz_mib() { [ -s "$1" ] && awk '{ printf "%.1f", $1 / 1048576 }' "$1" || echo "?"; }
nl_mib() { [ -s "$1" ] && awk -v b="$(new_layer_bytes "$1")" 'BEGIN { printf "%.1f", b / 1048576 }' || echo "?"; }
row "    ours (auto: none for this input), OCI layout" ours "the plain layer is staged in a temp file (its digest names its blob)"
row "    ours -format docker (streamed, no temp file)" ours_docker ""
row "    ours -compress gzip" ours_gzip "new layer $(nl_mib "$R/out-gzip.tar") MiB"
row "    ours -compress zstd" ours_zstd "new layer $(nl_mib "$R/out-zstd.tar") MiB"
row "    floor: pigz -6 -p $NPROC of the squashed layer" floor_pigz "$(gz_mib "$R/pigz.size") MiB"
row "    floor: zstd -3 -T0 of the squashed layer" floor_zstd "$(gz_mib "$R/zstd.size") MiB"
[ -z "${WASM_GZIP:-}" ] || row "    wasm in node -compress gzip" wasm_gzip ""
[ -z "${WASM_GZIP:-}" ] || row "    wasm in node -compress zstd" wasm_zstd ""
echo "engine -> engine"
row "(b) python docker-squash $PY_VERSION -f ID -t TAG" python "$(py_phases "$R/python.log" load)"
row "    docker save | ours | docker load" pipe "our CLI spools stdin to a temp file"
row "    docker save | ours -no-verify | docker load" pipe_nv ""
row "    docker save -o in.tar" save "RSS: docker CLI; dockerd does the work"
row "    docker load -i out.tar (ours)" load "RSS: docker CLI; dockerd does the work"
printf "$FMT" "    save + ours + load (sum of medians)" "$(fmt_s "$(sum_wall save ours load)")" - - - - - ""
echo "registry -> registry (two private registries, so every byte moves; the image holds ${REG_IMG_MB:-?} MiB of gzip layers)"
if [ "$REG_STATE" = ok ]; then
  read -r sent_skopeo sent_ours <<<"${REG_SENT:-? ?}"
  row "(f) floor: skopeo copy A -> B (the original)" reg_skopeo "$sent_skopeo MiB of layers at B"
  row "    ours -from L -i docker://A -o docker://B" reg_ours "$sent_ours MiB of layers at B"
  row "    ours A -> A (kept layers mounted)" reg_mount "$(cat "$R/reg-mount-blobs.txt" 2>/dev/null)"
  row "    docker pull; save | ours | load; docker push" reg_engine "the pipe through the engine"
else
  printf '%-48s %s\n' "(f) registry -> registry" "$REG_STATE"
fi
echo "scaling"
row "(a) ours, 2x image: +1 GB layer of 26k files" ours2x "in2x.tar $(size_mb "$IN2") MiB"
row "    cat in2x.tar" floor_cat2x ""
row "(a) ours, 2x image: +1 GB layer of 3 files" ours2xb "in2xb.tar $(size_mb "$IN2B") MiB"
row "    cat in2xb.tar" floor_cat2xb ""
echo
RF='%-52s %7s  %s\n'
r=$(ratio "$ours" "$floor");             printf "$RF" "ours / floor" "$r" "$(verdict "$r" '<=' 1.5)"
r=$(ratio "$(sum_wall floor_verify)" "$floor"); printf "$RF" "  least for a verifying squash: (floor+verify)/floor" "$r" "(SHA-256 of every input byte, which verifying diff_ids needs)"
r=$(ratio "$(wall ours_nv)" "$floor");   printf "$RF" "ours -no-verify / floor" "$r" "$(verdict "$r" '<=' 1.5)"
ours_min=$( ok ours && agg ours min || echo -)
floor_min=$( ok floor_cat && ok floor_sha && awk -v a="$(agg floor_cat min)" -v b="$(agg floor_sha min)" 'BEGIN { print a + b }' || echo -)
r=$(ratio "$ours_min" "$floor_min");    printf "$RF" "ours / floor, best runs" "$r" "(info: min of each)"
r=$(ratio "$(wall ours_cold)" "$floor_cold"); printf "$RF" "ours / floor, cold page cache" "$r" "(info)"
r=$(ratio "$ours" "$(sum_wall floor_verify)"); printf "$RF" "ours / (floor + hashing all input)" "$r" "(info: ours verifies every layer's diff_id)"
r=$(ratio "$(wall python_tar)" "$ours");  printf "$RF" "python (engine -> tar) / ours (tar -> tar)" "$r" "$(verdict "$r" '>=' 5)"
r=$(ratio "$(wall python_tar)" "$(wall ours_nv)"); printf "$RF" "python (engine -> tar) / ours -no-verify" "$r" "$(verdict "$r" '>=' 5)"
r=$(ratio "$(wall python)" "$(wall pipe)"); printf "$RF" "python / (docker save | ours | docker load)" "$r" "$(verdict "$r" '>=' 5) (same work, engine -> engine)"
r=$(ratio "$(wall python)" "$(wall pipe_nv)"); printf "$RF" "python / (save | ours -no-verify | load)" "$r" "$(verdict "$r" '>=' 5)"
r=$(ratio "$(wall python)" "$(wall save)"); printf "$RF" "  ceiling engine -> engine: python / docker save" "$r" "(both tools wait for the engine's docker save)"
r=$(ratio "$(wall python)" "$(sum_wall save ours load)"); printf "$RF" "python / (save + ours + load)" "$r" "(info)"
if [ "$wasm_state" != ok ]; then printf "$RF" "wasm / native" - "wasm: $wasm_state"
else r=$(ratio "$(wall wasm)" "$ours"); printf "$RF" "wasm / native" "$r" "$(verdict "$r" '<=' 2.5)"; fi
for j in page page-oci; do
  [ -s "$R/$j.json" ] || continue
  r=$(jq -r '.steps.page.vsCli' "$R/$j.json"); printf "$RF" "page / native ($j)" "$r" "$(verdict "$r" '<=' 4)"
done
r=$(ratio "$(wall ours_gzip)" "$(sum_wall floor_verify floor_pigz)"); printf "$RF" "ours -compress gzip / (floor+verify + pigz -6)" "$r" "$(verdict "$r" '<=' 1.3)"
r=$(ratio "$(wall ours_zstd)" "$(sum_wall floor_verify floor_zstd)"); printf "$RF" "ours -compress zstd / (floor+verify + zstd -T0)" "$r" "(info)"
printf "$RF" "peak RSS MiB: gzip / zstd" "$(rss_mib ours_gzip) / $(rss_mib ours_zstd)" "$(verdict "$(rss_mib ours_gzip)" '<=' 100); zstd $(verdict "$(rss_mib ours_zstd)" '<=' 100)"
if [ -s "$R/pigz.size" ] && [ -s "$R/out-gzip.tar" ]; then
  r=$(ratio "$(new_layer_bytes "$R/out-gzip.tar")" "$(cat "$R/pigz.size")"); printf "$RF" "new layer gzip bytes / pigz -6 bytes" "$r" "$(verdict "$r" '<=' 1.1)"
fi
if [ -s "$R/zstd.size" ] && [ -s "$R/out-zstd.tar" ]; then
  r=$(ratio "$(new_layer_bytes "$R/out-zstd.tar")" "$(cat "$R/zstd.size")"); printf "$RF" "new layer zstd bytes / zstd -3 bytes" "$r" "(info: one frame per 4 MiB)"
fi
[ -z "${WASM_GZIP:-}" ] || { r=$(ratio "$(wall wasm_gzip)" "$(wall ours_gzip)"); printf "$RF" "wasm gzip / native gzip" "$r" "(info)"; }
if [ -n "${PUSHED:-}" ]; then
  read -r ps po ref how <<<"$PUSHED"
  r=$(ratio "$ps" "$po"); printf "$RF" "pushed through containerd: squashed / original" "$r" "$ps / $po bytes (OCI gzip input; auto: $how)"
  r=$(ratio "$ps" "$ref"); printf "$RF" "  squashed pushed / gzip -6 of its layers" "$r" "$(verdict "$r" '<=' 1.1) ($ref bytes)"
fi
printf "$RF" "ours peak RSS MiB: 1x / 2x files+bytes / 2x bytes" "$(rss_mib ours) / $(rss_mib ours2x) / $(rss_mib ours2xb)" \
  "2x/1x = $(ratio "$(rss_mib ours2x)" "$(rss_mib ours)") / $(ratio "$(rss_mib ours2xb)" "$(rss_mib ours)") (flat = 1.00)"
printf "$RF" "ours wall 2x/1x: files+bytes / bytes" "$(ratio "$(wall ours2x)" "$ours") / $(ratio "$(wall ours2xb)" "$ours")" "(input ~2x larger)"
if [ "$REG_STATE" = ok ]; then
  r=$(ratio "$(wall reg_ours)" "$(wall reg_skopeo)"); printf "$RF" "registry: ours A -> B / skopeo copy A -> B" "$r" "(info: ours also pulls, squashes and compresses the new layer)"
  r=$(ratio "$(wall reg_engine)" "$(wall reg_ours)"); printf "$RF" "registry: engine route / ours" "$r" "(info: pull + save + load + push, against no daemon)"
fi
[ -z "$PERF_TOP" ] || printf '%s\n' "where ours spends its time (perf, 1 run): $PERF_TOP"
echo
echo "checks:"
[ ${#CHECKS[@]} -gt 0 ] && printf '  %s\n' "${CHECKS[@]}" || echo "  (none ran)"
if [ ${#FAILURES[@]} -gt 0 ]; then
  echo "failures:"; printf '  %s\n' "${FAILURES[@]}"
fi
echo "logs: $R   total bench time: $(( $(date +%s) - START ))s"
} | tee "$R/table.txt"

[ ${#FAILURES[@]} -eq 0 ]
