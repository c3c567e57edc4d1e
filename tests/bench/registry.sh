# Sourced by tests/bench/run.sh (uses its measure, log, fail, $CLI, $R, $W, $IN, $FROM):
# registry -> registry on the benchmark image, between two private registries A and B
# (Debian's docker-registry, tests/support/registry.sh), so that every byte really moves:
#   reg_skopeo   skopeo copy docker://A/img docker://B/…      the floor: the original moved
#   reg_ours     ours -from L -i docker://A/img -o docker://B/… (the new layer + kept ones)
#   reg_mount    ours -i docker://A/img -o docker://A/…         same registry: kept layers mounted
#   reg_engine   docker pull A/img; docker save | ours | docker load; docker push B/…
# The image is put into A once per run with skopeo (its layers gzip-compressed, as a
# registry holds them). B is a new, empty registry in every round: skopeo's blob-info cache
# and the engine's own push cache remember what an earlier round put there and mount it
# instead of sending it, which would make the floor a HEAD request.

stop_registries() {
  tests/support/registry.sh stop "$W/reg-a" >/dev/null 2>&1 || true
  tests/support/registry.sh stop "$W/reg-b" >/dev/null 2>&1 || true
}

# start_b: a new, empty registry B (its address in $b).
start_b() {
  tests/support/registry.sh stop "$W/reg-b" >/dev/null 2>&1 || true
  rm -rf "$W/reg-b"
  local started
  started=$(tests/support/registry.sh start "$W/reg-b") || { fail "registry B did not start"; return 1; }
  eval "$started"; b=$REGISTRY_ADDRESS
}

# registry_bench REPEAT: the rows above, REPEAT times each, interleaved.
registry_bench() {
  local n=$1 a b user pass cfg i creds started
  started=$(tests/support/registry.sh start "$W/reg-a") || { fail "registry A did not start"; return 1; }
  eval "$started"; a=$REGISTRY_ADDRESS
  start_b || return 1
  user=$REGISTRY_USER pass=$REGISTRY_PASSWORD creds="$REGISTRY_USER:$REGISTRY_PASSWORD"
  # One docker config for all: our CLI and the docker CLI log in from it.
  cfg=$R/docker-config
  mkdir -p "$cfg"
  local auth; auth=$(printf '%s:%s' "$user" "$pass" | base64 -w0)
  printf '{"auths":{"%s":{"auth":"%s"},"%s":{"auth":"%s"}}}\n' "$a" "$auth" "$b" "$auth" >"$cfg/config.json"
  log "registries at $a and $b; putting the image into $a"
  skopeo copy -q --dest-tls-verify=false --dest-creds "$creds" "docker-archive:$IN" "docker://$a/bench/img:1" \
    >"$R/reg-put.log" 2>&1 || { fail "skopeo copy of in.tar into the registry (log: $R/reg-put.log)"; return 1; }
  REG_IMG_MB=$(skopeo inspect --raw --tls-verify=false --creds "$creds" "docker://$a/bench/img:1" \
    | jq '[.layers[].size] | add / 1048576 | floor')
  for i in $(seq 1 "$n"); do
    if [ "$i" -gt 1 ]; then
      start_b || return 1
      printf '{"auths":{"%s":{"auth":"%s"},"%s":{"auth":"%s"}}}\n' "$a" "$auth" "$b" "$auth" >"$cfg/config.json"
    fi
    measure reg_skopeo skopeo copy -q --src-tls-verify=false --dest-tls-verify=false --src-creds "$creds" \
      --dest-creds "$creds" "docker://$a/bench/img:1" "docker://$b/bench/skopeo-$i:1" || fail "skopeo copy A -> B"
    measure reg_ours env DOCKER_CONFIG="$cfg" "$CLI" -from "$FROM" -i "docker://$a/bench/img:1" \
      -o "docker://$b/bench/ours-$i:sq" || fail "ours A -> B (log: $R/reg_ours.log)"
    measure reg_mount env DOCKER_CONFIG="$cfg" "$CLI" -from "$FROM" -i "docker://$a/bench/img:1" \
      -o "docker://$a/bench/sq-$i:sq" || fail "ours A -> A (log: $R/reg_mount.log)"
    docker rmi -f "$a/bench/img:1" "$b/bench/engine-$i:sq" >/dev/null 2>&1 || true
    measure reg_engine env DOCKER_CONFIG="$cfg" TMPDIR="$R/tmp" bash -c 'set -eo pipefail
      docker pull -q "$1/bench/img:1" >/dev/null
      docker save "$1/bench/img:1" | "$3" -from "$4" -t "$2/bench/engine-$5:sq" | docker load -q
      docker push -q "$2/bench/engine-$5:sq"' _ "$a" "$b" "$CLI" "$FROM" "$i" || fail "engine route (log: $R/reg_engine.log)"
    docker rmi -f "$a/bench/img:1" "$b/bench/engine-$i:sq" >/dev/null 2>&1 || true
  done
  # What each route sent to B (the last round's): the bytes of its layers there.
  REG_SENT=$(for r in "skopeo-$n:1" "ours-$n:sq"; do
    skopeo inspect --raw --tls-verify=false --creds "$creds" "docker://$b/bench/$r" | jq '[.layers[].size] | add / 1048576 | floor'
  done | tr '\n' ' ')
  grep -h '^docker-squash: blobs:' "$R/reg_mount.log" | tail -1 | sed 's/^docker-squash: //' >"$R/reg-mount-blobs.txt" || true
  stop_registries
}
