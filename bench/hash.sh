#!/usr/bin/env bash
# Hashing benchmark: data_sha (datom-cv1) of a >= 200 MB parquet file versus
# plain SHA-256 of the same bytes (Go and sha256sum). Prints medians and ratios.
#
#   bench/hash.sh            # 5 runs each
#   COUNT=9 bench/hash.sh
#
# The generated file is kept in $DATOMFS_BENCH_DIR (default: a cache dir) so
# that reruns skip the generation.
set -euo pipefail

cd "$(dirname "$0")/.."
COUNT=${COUNT:-5}
export DATOMFS_BENCH_DIR=${DATOMFS_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/datomfs-bench}
FILE="$DATOMFS_BENCH_DIR/hash-bench-v1.parquet"

command -v sha256sum >/dev/null || { echo "sha256sum not found: install coreutils" >&2; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "benchmark file: $FILE (generated on first run)" >&2
go test -run '^$' -bench 'BenchmarkHashParquet|BenchmarkSHA256File' -benchtime 1x -count "$COUNT" ./bench/ | tee "$out" >&2

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# MB/s column of each benchmark line
mbps() { grep -E "^$1(-[0-9]+)? " "$out" | awk '{for (i=1;i<=NF;i++) if ($(i)=="MB/s") print $(i-1)}' | median; }

size=$(stat -c %s "$FILE")
hash_all=$(mbps "BenchmarkHashParquet/workers=$(nproc)")
hash_one=$(mbps "BenchmarkHashParquet/workers=1")
go_sha=$(mbps "BenchmarkSHA256File")

# sha256sum: median wall time over COUNT runs (file is in the page cache)
times=()
for _ in $(seq "$COUNT"); do
  s=$(date +%s.%N); sha256sum "$FILE" >/dev/null; e=$(date +%s.%N)
  times+=("$(echo "$e - $s" | bc -l)")
done
sum_s=$(printf '%s\n' "${times[@]}" | median)
coreutils=$(echo "$size / 1000000 / $sum_s" | bc -l)

printf '\nfile: %s (%.1f MB, %d cores)\n' "$FILE" "$(echo "$size/1000000" | bc -l)" "$(nproc)"
printf '%-34s %10s\n' "median of $COUNT runs" "MB/s"
printf '%-34s %10.1f\n' "data_sha, $(nproc) workers" "$hash_all"
printf '%-34s %10.1f\n' "data_sha, 1 worker" "$hash_one"
printf '%-34s %10.1f\n' "SHA-256 (Go, SHA256File)" "$go_sha"
printf '%-34s %10.1f\n' "sha256sum" "$coreutils"
printf 'ratio data_sha / SHA-256 (Go):      %.3f\n' "$(echo "$hash_all / $go_sha" | bc -l)"
printf 'ratio data_sha / sha256sum:         %.3f\n' "$(echo "$hash_all / $coreutils" | bc -l)"
printf 'parallel speed-up (%d vs 1 worker): %.2f\n' "$(nproc)" "$(echo "$hash_all / $hash_one" | bc -l)"
