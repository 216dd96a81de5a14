#!/usr/bin/env bash
# Runs every benchmark script of bench/ and prints medians and ratios against
# peers run side by side. Never part of the test suite: speed is measured here.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PWD/../.venv/bin:$(go env GOPATH)/bin:$PATH"
for s in hash.sh query.sh mount.sh rds.sh; do
  if [ -f "$s" ]; then
    echo "=== $s"
    bash "$s"
  fi
done
