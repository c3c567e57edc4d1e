#!/usr/bin/env bash
# No source file of the product is longer than MAX lines (450): a longer one holds more
# than one concept and is split by concern (ARCHITECTURE.md says where each belongs).
set -euo pipefail
cd "$(dirname "$0")/../.."
max=${MAX:-450}
long=$(find crates/*/src crates/wasm/js web -type f \( -name '*.rs' -o -name '*.mjs' -o -name '*.js' -o -name '*.ts' \) \
  -not -path 'web/pkg/*' -print0 | xargs -0 wc -l | awk -v max="$max" '$2 != "total" && $1 > max { print "  " $2 ": " $1 " lines" }')
if [ -n "$long" ]; then
  echo "source files longer than $max lines (split them by concern):"
  echo "$long"
  exit 1
fi
