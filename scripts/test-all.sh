#!/usr/bin/env bash
# The README's test command: every tier. Quick tier (plain `bun test`: unit, vectors, properties,
# in-process integration), then the end-to-end suite on the compiled binaries, then the heavy tier.
# Ends with one line "N passed, M failed" summing the tiers.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

run_tier() {
  local name=$1; shift
  echo "== $name"
  "$@" 2>&1 | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then echo "== $name failed (exit $rc)"; status=1; fi
}

run_tier "noise vectors" bun scripts/noise-vectors.ts
run_tier "quick tier (bun test)" bun test --timeout 60000
[ -x dist/openscope ] && [ -x dist/openscope-relay ] && [ -x dist/openscope-reflect-client ] || bun run build
if [ -d test/e2e ]; then run_tier "end-to-end (compiled binaries)" bun test --timeout 120000 --path-ignore-patterns='__none__' ./test/e2e; fi
run_tier "heavy tier" bash scripts/test-heavy.sh

pass=$(grep -Eo '^ *[0-9]+ pass$' "$log" | awk '{s+=$1} END {print s+0}')
fail=$(grep -Eo '^ *[0-9]+ fail$' "$log" | awk '{s+=$1} END {print s+0}')
echo "$pass passed, $fail failed"
exit $status
