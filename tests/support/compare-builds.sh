#!/usr/bin/env bash
# Proves a change writes the same bytes as an earlier build: stands in for the CLI
# (DOCKER_SQUASH_BIN=tests/support/compare-builds.sh), runs the build under test with the
# caller's arguments and input, passes its output and status on, then runs BASELINE_BIN
# with the same arguments and input and records in COMPARE_LOG any difference in the
# exit status, stdout or the file written with -o.
#
#   BASELINE_BIN=/path/to/old/docker-squash COMPARE_LOG=/tmp/compare.log \
#   DOCKER_SQUASH_BIN=$PWD/tests/support/compare-builds.sh \
#   bash -c 'cd tests && node --test --test-concurrency=1 e2e/'
#
# Every squash of the end-to-end suite (and of ../shared/fixtures) then runs twice; the
# log has one line per call: "same" or "DIFFERENT", with the arguments.
set -u
new=${NEW_BIN:-$(dirname "$0")/../../target/release/docker-squash}
old=${BASELINE_BIN:?set BASELINE_BIN to the build to compare with}
log=${COMPARE_LOG:-/tmp/compare-builds.log}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

args=("$@")
out=""
stdin_used=1
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
  -o | --output) out=${args[i + 1]:-} ;;
  -i | --input) [ "${args[i + 1]:-}" != "-" ] && stdin_used=0 ;;
  esac
done
# Any command but a squash (inspect, --help, a bad flag) reads no stdin unless "-i -".
[ -t 0 ] && stdin_used=0
if [ "$stdin_used" = 1 ]; then cat >"$tmp/stdin"; else : >"$tmp/stdin"; fi

"$new" "$@" <"$tmp/stdin" >"$tmp/new.out" 2>"$tmp/new.err"
status=$?
cat "$tmp/new.out"
cat "$tmp/new.err" >&2
if [ -n "$out" ] && [ "$out" != "-" ] && [ -f "$out" ]; then cp "$out" "$tmp/new.file"; fi

# The baseline writes to its own file, so the caller's -o holds the new build's output.
old_args=("$@")
for ((i = 0; i < ${#old_args[@]}; i++)); do
  case "${old_args[i]}" in -o | --output) [ "${old_args[i + 1]:-}" != "-" ] && old_args[i + 1]="$tmp/old.file" ;; esac
done
"$old" "${old_args[@]}" <"$tmp/stdin" >"$tmp/old.out" 2>"$tmp/old.err"
old_status=$?

verdict=same
why=""
[ "$status" = "$old_status" ] || { verdict=DIFFERENT; why+=" status $status vs $old_status;"; }
cmp -s "$tmp/new.out" "$tmp/old.out" || { verdict=DIFFERENT; why+=" stdout differs;"; }
if [ -f "$tmp/new.file" ] || [ -f "$tmp/old.file" ]; then
  cmp -s "$tmp/new.file" "$tmp/old.file" 2>/dev/null || { verdict=DIFFERENT; why+=" -o file differs;"; }
fi
printf '%s%s %s\n' "$verdict" "$why" "$*" >>"$log"
exit "$status"
