# Sourced by the daemon scripts (dockerd.sh, containerd.sh, registry.sh): stops the process
# a pid file names, by its pid only (never by name: other daemons may run on the machine).
# stop_pidfile PIDFILE [SECONDS]: SIGTERM, up to SECONDS (15) for it to end, then SIGKILL.
stop_pidfile() {
  local pidfile=$1 tries=$((${2:-15} * 4)) pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$tries"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}
