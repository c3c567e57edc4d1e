#!/usr/bin/env bash
# Starts or stops a private registry (Debian's docker-registry: distribution 2.8) for the
# tests, on 127.0.0.1 and a free port, with its own storage, htpasswd login and access log,
# so it never touches (or needs) the package's system service or its port 5000. A new
# registry starts with empty storage and log.
#   tests/support/registry.sh start DIR   -> prints
#       export REGISTRY_ADDRESS=127.0.0.1:PORT REGISTRY_USER=... REGISTRY_PASSWORD=...
#       export REGISTRY_LOG=DIR/registry.log REGISTRY_STORAGE=DIR/storage
#   tests/support/registry.sh stop DIR    -> stops the registry started in DIR (by pid)
# Plain HTTP on 127.0.0.1: Docker takes loopback registries as insecure by itself, ctr
# needs --plain-http.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pidfile.sh"
cmd=${1:?start|stop}
dir=${2:?directory}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pidfile="$dir/registry.pid"
user=e2e
password=e2e-secret

answers() { # the v2 endpoint asks for the login: 401
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$1/v2/")" = 401 ]
}

print() {
  echo "export REGISTRY_ADDRESS=$1 REGISTRY_USER=$user REGISTRY_PASSWORD=$password"
  echo "export REGISTRY_LOG=$dir/registry.log REGISTRY_STORAGE=$dir/storage"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$cmd" in
  start)
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && [ -f "$dir/address" ] \
       && answers "$(cat "$dir/address")"; then
      print "$(cat "$dir/address")"; exit 0
    fi
    # A new registry starts empty: what a push uploads is then what it measures.
    rm -rf "$dir/storage"
    : >"$dir/registry.log"
    htpasswd -Bbn "$user" "$password" >"$dir/htpasswd"
    for _attempt in 1 2 3; do
      addr="127.0.0.1:$(free_port)"
      cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: json
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: $addr
auth:
  htpasswd:
    realm: e2e-registry
    path: $dir/htpasswd
EOF
      # The JSON log holds the access log too: one line per request, with its method,
      # URL, status and the sizes of request and response.
      # The registry takes REGISTRY_* variables as overrides of its config: not the ones
      # this script prints (a caller that started one registry may start a second).
      env -u REGISTRY_ADDRESS -u REGISTRY_USER -u REGISTRY_PASSWORD -u REGISTRY_LOG -u REGISTRY_STORAGE \
        docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 &
      pid=$!
      echo "$pid" >"$pidfile"
      for _ in $(seq 1 80); do
        if answers "$addr"; then echo "$addr" >"$dir/address"; print "$addr"; exit 0; fi
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.25
      done
      kill "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    done
    echo "the registry did not start (log: $dir/registry.log)" >&2
    tail -20 "$dir/registry.log" >&2
    exit 1
    ;;
  stop)
    stop_pidfile "$pidfile" 15
    rm -f "$dir/address"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
