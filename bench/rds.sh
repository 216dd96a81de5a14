#!/usr/bin/env bash
# .rds rendition benchmark: a ~1 GB version (bench/mkrdsinput.py: int64,
# double, int32, Date, POSIXct, factor, text) rendered as .rds
#
#  1. by `datomfs read T -o x.rds`, COUNT times: median wall time and
#     median max RSS (/usr/bin/time), next to `datomfs hash` of the same
#     file (the other full pass over a version);
#  2. through the mount: the first read of @<id>.rds (made on that read),
#     then a second read (cached), and the mount process's peak RSS
#     (VmHWM) after both;
#  3. by R: readRDS() of the rendition (base R only), its wall time, and
#     spot checks against pyarrow (rows, sum of code mod 2^16 (exact in a
#     double), factor levels, tzone).
#
#   bench/rds.sh                 # COUNT=3, RDS_MB=1000
#   COUNT=5 RDS_MB=300 bench/rds.sh
#
# The generated input is kept in $DATOMFS_BENCH_DIR; the project, store,
# cache, outputs and mount point are fresh and removed at the end. Whatever
# this script mounts is unmounted on exit, failure included.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
COUNT=${COUNT:-3}
RDS_MB=${RDS_MB:-1000}
export DATOMFS_BENCH_DIR=${DATOMFS_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/datomfs-bench}
PY=${PYTHON:-$REPO/.venv/bin/python}
IN="$DATOMFS_BENCH_DIR/rds-${RDS_MB}mb-v1.parquet"

for tool in fusermount3 git bc Rscript /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install fuse3 git bc r-base-core time)" >&2; exit 1; }
done
"$PY" -c 'import pyarrow, numpy' 2>/dev/null || { echo "$PY lacks pyarrow/numpy: run scripts/setup.sh" >&2; exit 1; }

make -s build
DATOMFS=$REPO/bin/datomfs

WORK=$(mktemp -d "${TMPDIR:-/tmp}/datomfs-bench-rds.XXXXXX")
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

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }

# timed CMD...: runs CMD under /usr/bin/time; sets T_WALL (s) and T_RSS (MiB).
timed() {
  /usr/bin/time -f '%e %M' -o "$WORK/time.out" "$@"
  read -r T_WALL T_RSS_KB <"$WORK/time.out"
  T_RSS=$(echo "$T_RSS_KB / 1024" | bc -l)
}

mkdir -p "$DATOMFS_BENCH_DIR"
if [ ! -s "$IN" ]; then
  echo "generating $IN (${RDS_MB} MB)" >&2
  "$PY" bench/mkrdsinput.py "$IN.tmp" "$RDS_MB" 1 && mv "$IN.tmp" "$IN"
fi
git init -q --bare "$WORK/remote.git"
"$DATOMFS" init "$WORK/clone" --project BENCH --store "$WORK/store" --remote "$WORK/remote.git" >/dev/null
"$DATOMFS" write "$IN" --table big -C "$WORK/clone" >/dev/null 2>&1

# ---- 1. CLI ----
walls=() rss=() hwalls=() hrss=()
for _ in $(seq "$COUNT"); do
  rm -f "$WORK/out.rds"
  timed "$DATOMFS" read big -o "$WORK/out.rds" -C "$WORK/clone" 2>/dev/null
  walls+=("$T_WALL") rss+=("$T_RSS")
  timed "$DATOMFS" hash "$IN" >/dev/null
  hwalls+=("$T_WALL") hrss+=("$T_RSS")
done
rds_size=$(stat -c %s "$WORK/out.rds")

# ---- 2. mount ----
mkdir -p "$MNT"
"$DATOMFS" -v mount -C "$WORK/clone" "$MNT" --foreground --refresh 0 >"$WORK/mount.out" 2>"$WORK/mount.log" </dev/null &
MOUNT_PID=$!
for _ in $(seq 200); do
  is_mounted "$MNT" && break
  kill -0 "$MOUNT_PID" 2>/dev/null || { cat "$WORK/mount.log" >&2; echo "datomfs mount failed" >&2; exit 1; }
  sleep 0.05
done
RDS=$(ls "$MNT"/tables/big/@*.rds | head -1)
s=$(now); cat "$RDS" >/dev/null; e=$(now); first=$(echo "$e - $s" | bc -l)
s=$(now); cat "$RDS" >/dev/null; e=$(now); second=$(echo "$e - $s" | bc -l)
mount_hwm=$(awk '/VmHWM/ {print $2/1024}' "/proc/$MOUNT_PID/status")
cmp -s "$RDS" "$WORK/out.rds" && same=yes || same=NO

# ---- 3. R ----
cat >"$WORK/read.R" <<'RS'
args <- commandArgs(trailingOnly = TRUE)
t0 <- proc.time()[["elapsed"]]
d <- readRDS(args[1])
el <- proc.time()[["elapsed"]] - t0
cat(sprintf("%.2f %d %.0f %s %s %s %s\n", el, nrow(d), sum(as.numeric(d$code %% 65536L)),
  paste(levels(d$arm), collapse = "|"), attr(d$taken, "tzone"), class(d$visit), class(d$id)))
RS
timed Rscript "$WORK/read.R" "$RDS" >"$WORK/r.out"
r_wall=$T_WALL r_rss=$T_RSS
read -r r_read r_rows r_sum r_levels r_tz r_visit r_id <"$WORK/r.out"
read -r p_rows p_sum p_levels <<<"$("$PY" -c '
import sys, pyarrow.parquet as pq, pyarrow.compute as pc
t = pq.read_table(sys.argv[1], columns=["code", "arm"])
print(t.num_rows, pc.sum(pc.bit_wise_and(t["code"], 65535).cast("int64")).as_py(), "|".join(t["arm"].chunk(0).dictionary.to_pylist()))' "$IN")"
unmount

printf '\nversion: %s (%.1f MB parquet, %s rows); rendition %.1f MB (.rds, gzip)\n' \
  "$IN" "$(echo "$(stat -c %s "$IN")/1000000" | bc -l)" "$p_rows" "$(echo "$rds_size/1000000" | bc -l)"
printf '%-44s %10s %12s\n' "median of $COUNT runs" "seconds" "max RSS MiB"
printf '%-44s %10.2f %12.0f\n' "datomfs read big -o x.rds" "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${rss[@]}" | median)"
printf '%-44s %10.2f %12.0f\n' "datomfs hash (same file, for scale)" "$(printf '%s\n' "${hwalls[@]}" | median)" "$(printf '%s\n' "${hrss[@]}" | median)"
printf '%-44s %10.2f\n' "mount: first read of @<id>.rds (makes it)" "$first"
printf '%-44s %10.2f\n' "mount: second read (cached)" "$second"
printf '%-44s %10s %12.0f\n' "mount process peak (VmHWM)" "" "$mount_hwm"
printf '%-44s %10.2f %12.0f\n' "Rscript readRDS() (whole process)" "$r_wall" "$r_rss"
printf 'mount bytes == CLI bytes: %s\n' "$same"
printf 'R: readRDS %.2f s, %s rows, sum(code mod 2^16) %s, levels(arm) %s, tzone %s, visit %s, id %s\n' \
  "$r_read" "$r_rows" "$r_sum" "$r_levels" "$r_tz" "$r_visit" "$r_id"
printf 'pyarrow:             %s rows, sum(code mod 2^16) %s, dictionary %s\n' "$p_rows" "$p_sum" "$p_levels"
[ "$r_rows" = "$p_rows" ] && [ "$r_sum" = "$p_sum" ] && [ "$r_levels" = "$p_levels" ] && [ "$same" = yes ] ||
  { echo "MISMATCH between R and pyarrow, or mount and CLI" >&2; exit 1; }
