#!/usr/bin/env bash
# Mount benchmark (design §10), side by side in one run:
#
#  1. Sequential read of a cached >= 500 MB version through the mount vs
#     reading its cache file directly (dd bs=1M), COUNT alternating
#     repetitions, once with FUSE passthrough and once with
#     --passthrough=false. Two regimes: cold (page cache dropped before
#     every read, both sides; needs root) and warm (file already in the
#     page cache, both sides).
#  2. cp of a ~200 MB parquet into the mount (validate, hash, upload into
#     the store folder, commit, push, all before close() returns) vs the
#     unavoidable work: "datomfs hash" of the file plus a plain cp into the
#     store folder. Each repetition copies new data (a new seed), the same
#     file on both sides.
#
#   bench/mount.sh                 # COUNT=5
#   COUNT=7 BIG_MB=600 bench/mount.sh
#
# Generated inputs are kept in $DATOMFS_BENCH_DIR; the project, store, cache
# and mount point are fresh each run and removed at the end. Whatever this
# script mounts is unmounted on exit, failure included.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
COUNT=${COUNT:-5}
BIG_MB=${BIG_MB:-520}
CP_MB=${CP_MB:-200}
export DATOMFS_BENCH_DIR=${DATOMFS_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/datomfs-bench}
PY=${PYTHON:-$REPO/.venv/bin/python}
BIG="$DATOMFS_BENCH_DIR/mount-big-${BIG_MB}mb-v1.parquet"

for tool in fusermount3 git dd bc; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install fuse3 git coreutils bc)" >&2; exit 1; }
done
"$PY" -c 'import pyarrow, numpy' 2>/dev/null || { echo "$PY lacks pyarrow/numpy: run scripts/setup.sh" >&2; exit 1; }

make -s build
DATOMFS=$REPO/bin/datomfs

WORK=$(mktemp -d "${TMPDIR:-/tmp}/datomfs-bench-mount.XXXXXX")
MNT=$WORK/mnt
MOUNT_PID=
export DATOMFS_CACHE=$WORK/cache

is_mounted() { awk -v d="$1" '$5 == d {found=1} END {exit !found}' /proc/self/mountinfo; }

unmount() {
  if [ -n "$MOUNT_PID" ]; then
    if is_mounted "$MNT"; then
      fusermount3 -u "$MNT" 2>/dev/null || kill -TERM "$MOUNT_PID" 2>/dev/null || true
    fi
    for _ in $(seq 100); do
      kill -0 "$MOUNT_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$MOUNT_PID" 2>/dev/null; then
      kill -KILL "$MOUNT_PID" 2>/dev/null || true
    fi
    wait "$MOUNT_PID" 2>/dev/null || true
    MOUNT_PID=
  fi
  if is_mounted "$MNT"; then
    fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
  fi
}

cleanup() {
  unmount
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mount_project ARGS...: datomfs mount as its own process (stdout and
# stderr to files: nothing may hold our pipes); waits until the mount is
# there and sets PT_STATE to what it logged about passthrough.
PT_STATE=
mount_project() {
  mkdir -p "$MNT"
  "$DATOMFS" -v mount -C "$WORK/clone" "$MNT" --foreground --refresh 0 --cache "$DATOMFS_CACHE" "$@" \
    >"$WORK/mount.out" 2>"$WORK/mount.log" </dev/null &
  MOUNT_PID=$!
  for _ in $(seq 200); do
    is_mounted "$MNT" && break
    kill -0 "$MOUNT_PID" 2>/dev/null || { cat "$WORK/mount.log" >&2; echo "datomfs mount failed" >&2; exit 1; }
    sleep 0.05
  done
  is_mounted "$MNT" || { cat "$WORK/mount.log" >&2; echo "mount did not appear" >&2; exit 1; }
  PT_STATE=$(grep -o 'passthrough=[a-z]*' "$WORK/mount.log" | head -1 || true)
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }

CAN_DROP=0
if [ -w /proc/sys/vm/drop_caches ] && sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then
  CAN_DROP=1
fi
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# read_mbps FILE COLD: MB/s of one sequential read.
read_mbps() {
  [ "$2" = 1 ] && drop
  local s e
  s=$(now)
  dd if="$1" of=/dev/null bs=1M status=none
  e=$(now)
  echo "$(stat -L -c %s "$1") / 1000000 / ($e - $s)" | bc -l
}

# ---- inputs and project ----
mkdir -p "$DATOMFS_BENCH_DIR"
if [ ! -s "$BIG" ]; then
  echo "generating $BIG (${BIG_MB} MB)" >&2
  "$PY" bench/mkparquet.py "$BIG.tmp" "$BIG_MB" 1 && mv "$BIG.tmp" "$BIG"
fi
git init -q --bare "$WORK/remote.git"
"$DATOMFS" init "$WORK/clone" --project BENCH --store "$WORK/store" --remote "$WORK/remote.git" >/dev/null
"$DATOMFS" write "$BIG" --table big -C "$WORK/clone" >/dev/null

# ---- 1. reads ----
declare -A RESULT
for mode in passthrough no-passthrough; do
  flag=--passthrough=true
  [ "$mode" = no-passthrough ] && flag=--passthrough=false
  mount_project "$flag"
  state=$PT_STATE
  file="$MNT/tables/big/$(basename "$(readlink "$MNT/tables/big/current.parquet")")" # @<id>.parquet
  dd if="$file" of=/dev/null bs=1M status=none # cached now (read once)
  cachefile=$(find "$DATOMFS_CACHE/objects" -name '*.parquet' -size "$(stat -L -c %s "$file")c" | head -1)
  [ -n "$cachefile" ] || { echo "no cache file for the version" >&2; exit 1; }
  if ! cmp -s "$file" "$cachefile"; then echo "mount and cache file differ" >&2; exit 1; fi
  echo "$mode: mount reports $state; $(basename "$file") -> $cachefile" >&2
  regimes=warm
  [ "$CAN_DROP" = 1 ] && regimes="cold warm"
  for regime in $regimes; do
    cold=0
    [ "$regime" = cold ] && cold=1
    m=() d=()
    for i in $(seq "$COUNT"); do
      if [ $((i % 2)) = 1 ]; then
        m+=("$(read_mbps "$file" $cold)"); d+=("$(read_mbps "$cachefile" $cold)")
      else
        d+=("$(read_mbps "$cachefile" $cold)"); m+=("$(read_mbps "$file" $cold)")
      fi
    done
    RESULT[$mode,$regime,mount]=$(printf '%s\n' "${m[@]}" | median)
    RESULT[$mode,$regime,direct]=$(printf '%s\n' "${d[@]}" | median)
    RESULT[$mode,$regime,state]=$state
  done
  unmount
done

# ---- 2. cp into the mount vs hash + plain copy ----
mount_project --passthrough=true
cpm=() base=()
src=$WORK/cp-src.parquet
for i in $(seq "$COUNT"); do
  "$PY" bench/mkparquet.py "$src" "$CP_MB" $((100 + i))
  cat "$src" >/dev/null # both sides start with the source in the page cache
  baseline() {
    local s e
    s=$(now)
    "$DATOMFS" hash "$src" >/dev/null
    cp "$src" "$WORK/store/plain-copy.parquet"
    sync -f "$WORK/store/plain-copy.parquet" # the mount's upload is durable before close() returns
    e=$(now)
    rm -f "$WORK/store/plain-copy.parquet"
    echo "$e - $s" | bc -l
  }
  intomount() {
    local s e
    s=$(now)
    cp "$src" "$MNT/tables/cp.parquet"
    e=$(now)
    echo "$e - $s" | bc -l
  }
  if [ $((i % 2)) = 1 ]; then
    cpm+=("$(intomount)"); base+=("$(baseline)")
  else
    base+=("$(baseline)"); cpm+=("$(intomount)")
  fi
done
n=$(find "$MNT/tables/cp" -name '@*.parquet' | wc -l)
unmount
[ "$n" = "$COUNT" ] || { echo "expected $COUNT versions of cp, found $n" >&2; exit 1; }
size_cp=$(stat -c %s "$src")

# ---- report ----
printf '\nfile: %s (%.1f MB), %d repetitions, %d cores, kernel %s\n' "$BIG" \
  "$(echo "$(stat -c %s "$BIG")/1000000" | bc -l)" "$COUNT" "$(nproc)" "$(uname -r)"
[ "$CAN_DROP" = 1 ] || echo "(not root: page cache not dropped, warm reads only)"
printf '%-16s %-5s %-22s %12s %12s %8s\n' mode cache "mount state" "mount MB/s" "direct MB/s" ratio
for mode in passthrough no-passthrough; do
  for regime in cold warm; do
    [ -n "${RESULT[$mode,$regime,mount]:-}" ] || continue
    mm=${RESULT[$mode,$regime,mount]} dd_=${RESULT[$mode,$regime,direct]}
    printf '%-16s %-5s %-22s %12.1f %12.1f %8.3f\n' "$mode" "$regime" "${RESULT[$mode,$regime,state]}" "$mm" "$dd_" \
      "$(echo "$mm / $dd_" | bc -l)"
  done
done
cm=$(printf '%s\n' "${cpm[@]}" | median)
cb=$(printf '%s\n' "${base[@]}" | median)
printf '\ncp of a %.1f MB parquet (median of %d, new data each time; %s versions of cp written)\n' \
  "$(echo "$size_cp/1000000" | bc -l)" "$COUNT" "${n:-?}"
printf '%-44s %8.3f s\n' "cp into the mount (close() = published)" "$cm"
printf '%-44s %8.3f s\n' "datomfs hash + cp into the store folder" "$cb"
printf 'ratio unavoidable / mount (goal 1.0):        %.3f\n' "$(echo "$cb / $cm" | bc -l)"
