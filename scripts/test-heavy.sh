#!/usr/bin/env bash
# The heavy tier: stress, fuzz, kill trials, HAProxy scale-out. Needs the compiled binaries.
# Before each release, run this and `bun run mutants` (scripts/mutants.ts: mutation testing of the
# security core, ≥ 95% of test/mutants/mutants.ts killed, no stale anchors; see README "Quick start").
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x dist/openscope ] && [ -x dist/openscope-relay ] && [ -x dist/openscope-reflect-client ] || bun run build
if compgen -G "test/heavy/*.test.ts" >/dev/null; then
  bun test --path-ignore-patterns='__none__' --timeout 600000 ./test/heavy
else
  echo "heavy tier: no tests yet"
fi
