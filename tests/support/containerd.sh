#!/usr/bin/env bash
# Starts or stops a private containerd for the tests, on its own sockets, root and state
# directories, so it never touches (or needs) a system daemon.
#   tests/support/containerd.sh start DIR   -> prints "export CONTAINERD_ADDRESS=DIR/containerd.sock"
#   tests/support/containerd.sh stop DIR    -> stops the daemon started in DIR (by pid)
# Only the content store, the images and the snapshotters are used (ctr images
# import/mount/push): the CRI plugin, which wants a CNI setup, and the snapshotters that
# need what the machine lacks (aufs, btrfs, zfs, devmapper) are disabled: overlayfs stays.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pidfile.sh"
cmd=${1:?start|stop}
dir=${2:?directory}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock="$dir/containerd.sock"
pidfile="$dir/containerd.pid"

up() { ctr -a "$sock" version >/dev/null 2>&1; }

case "$cmd" in
  start)
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && up; then
      echo "export CONTAINERD_ADDRESS=$sock"; exit 0
    fi
    cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$sock"

[ttrpc]
  address = "$dir/containerd-ttrpc.sock"

[debug]
  address = "$dir/containerd-debug.sock"
  level = "info"

[metrics]
  address = ""
EOF
    rm -f "$sock" "$dir/containerd-ttrpc.sock" "$dir/containerd-debug.sock"
    containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
    pid=$!
    echo "$pid" >"$pidfile"
    for _ in $(seq 1 120); do
      if up; then echo "export CONTAINERD_ADDRESS=$sock"; exit 0; fi
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      sleep 0.25
    done
    kill "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    echo "containerd did not start (log: $dir/containerd.log)" >&2
    tail -20 "$dir/containerd.log" >&2
    exit 1
    ;;
  stop)
    stop_pidfile "$pidfile" 15
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
