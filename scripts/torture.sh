#!/usr/bin/env bash
# The torture suite (e2e/torture_*_test.go), LONG: 8 writers x 25 writes
# over a local store and S3, 400 mutated inputs, a crash at every
# checkpoint, 50 writes through network faults. `make test` runs the same
# tests short. Prints the figures and
# what failed; the full log is kept.
#   DATOMFS_TORTURE=short scripts/torture.sh    # the short sizes
#   DATOMFS_TORTURE_SEED=N                      # replay a run's random choices
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$(go env GOPATH)/bin:$PATH"
export DATOMFS_TEST_PYTHON="$PWD/.venv/bin/python"
export DATOMFS_TORTURE="${DATOMFS_TORTURE:-long}"

log=$(mktemp "${TMPDIR:-/tmp}/datomfs-torture-XXXXXX.log")
start=$(date +%s)
status=0
go test -count=1 -timeout 3h -v -run '^TestTorture' ./e2e >"$log" 2>&1 || status=$?

# The tests' own lines (figures, seeds, failures with their indented
# continuation), not the gateway logs printed on failure.
awk '
  /^ *torture_[a-z]+_test\.go:[0-9]+:/ { keep = 1; print; next }
  /^ *[a-z_]+\.go:[0-9]+:/              { keep = 0; next }
  /^ *--- FAIL/                          { keep = 0; print; next }
  /^ *--- PASS/                          { keep = 0; if ($0 !~ /^        /) print; next }
  keep && /^        /                   { print; next }
  { keep = 0 }
' "$log"
echo "torture ($DATOMFS_TORTURE): $(( $(date +%s) - start )) s, exit $status; full log: $log"
exit $status
