#!/usr/bin/env bash
# SQL layer benchmarks (design §10): an aggregate through the query Engine vs
# plain DuckDB on the same local parquet file (ratio of medians), and opening
# a project of 1,000 tables x 20 versions then running one query.
# Usage: bench/query.sh [COUNT]   (iterations per benchmark, default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-15}"
go test ./bench -run '^$' -bench 'BenchmarkQuery' -benchtime "${n}x" -timeout 30m |
	tee /dev/stderr |
	awk '/^BenchmarkQuery/ {
		name = $1; sub(/-[0-9]+$/, "", name); line = name ":"
		for (i = 3; i < NF; i += 2) if ($(i+1) != "ns/op") line = line " " $(i+1) "=" $i
		print line
	}'
