#!/usr/bin/env bash
# Starts or stops a private Docker engine for the tests and the benchmark, on its own
# socket and data root, so it never touches (or needs) a system daemon.
#   tests/support/dockerd.sh start DIR   -> prints "export DOCKER_HOST=unix://DIR/docker.sock"
#   tests/support/dockerd.sh stop DIR    -> stops the daemon started in DIR (by pid)
# DOCKERD_STORAGE_DRIVER chooses the driver (default overlay2, falls back to vfs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pidfile.sh"
cmd=${1:?start|stop}
dir=${2:?directory}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock="$dir/docker.sock"
pidfile="$dir/dockerd.pid"

start_with() {
  local driver=$1
  rm -f "$sock"
  dockerd --data-root "$dir/root" --exec-root "$dir/exec" --pidfile "$pidfile" \
    -H "unix://$sock" --storage-driver="$driver" \
    --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
    >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 120); do
    if DOCKER_HOST="unix://$sock" docker version >/dev/null 2>&1; then return 0; fi
    if ! kill -0 $! 2>/dev/null; then return 1; fi
    sleep 0.5
  done
  kill $! 2>/dev/null || true
  return 1
}

case "$cmd" in
  start)
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null \
       && DOCKER_HOST="unix://$sock" docker version >/dev/null 2>&1; then
      echo "export DOCKER_HOST=unix://$sock"; exit 0
    fi
    driver=${DOCKERD_STORAGE_DRIVER:-overlay2}
    if ! start_with "$driver"; then
      echo "dockerd with $driver failed, trying vfs (log: $dir/dockerd.log)" >&2
      start_with vfs || { tail -20 "$dir/dockerd.log" >&2; exit 1; }
    fi
    echo "export DOCKER_HOST=unix://$sock"
    ;;
  stop)
    stop_pidfile "$pidfile" 30
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
