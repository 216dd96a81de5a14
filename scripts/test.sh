#!/usr/bin/env bash
# The whole test suite: format, vet, unit and integration tests (real FUSE,
# real S3 gateway, real git remotes, real Python and R readers), and short
# fuzz runs. CI runs exactly this through `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$(go env GOPATH)/bin:$PATH"
export DATOMFS_TEST_PYTHON="$PWD/.venv/bin/python"
# pyiceberg and pyspark for e2e/iceberg_engines_test.go (scripts/setup.sh)
export DATOMFS_ENGINES_PYTHON="$PWD/.venv-engines/bin/python"

unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then
  echo "gofmt needed:"; echo "$unformatted"; exit 1
fi
go vet ./...
go test -race -count=1 -timeout 30m ./...

# Short fuzz runs (the committed corpora already ran as seeds above).
# Budgets are counts, not durations: with a duration, Go 1.26's fuzz
# coordinator can report its own deadline as a failure when a worker is
# still busy as it expires (go.dev/issue/75804, fixed in Go 1.27), which a
# loaded machine hits. A count includes the corpus's baseline runs.
# FuzzHashParquet bounds the minimization of new inputs itself (TestMain in
# versions/identity/fuzz_test.go), or the fuzzer stalls minimizing.
go test -run '^$' -fuzz '^FuzzHashParquet$' -fuzztime 10000x ./versions/identity
# FuzzParse's new inputs are minimized 30 times at most, not for 60 s each:
# on a loaded machine a few minimizations outlast the run.
go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 300000x -fuzzminimizetime 30x ./versions/datomjson
