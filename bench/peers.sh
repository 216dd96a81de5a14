#!/usr/bin/env bash
# datomfs against its peers over S3, side by side in one run (issue 10):
# a Versity S3 gateway on loopback holds a ~1 GB, 10-column parquet version;
# each figure is the median of COUNT interleaved repetitions, page cache
# dropped and every client's own cache fresh before each (cold). Printed:
# seconds, MB fetched over loopback, and ratios.
#
#  A. Sequential read of the whole version (dd bs=1M): datomfs reader mount
#     (default prefetch), rclone mount (--vfs-cache-mode off and full),
#     s3fs, and the floor `rclone cat`; then in 32 KiB reads (dd bs=32k,
#     as sha256sum reads; tar reads 10 KiB) through datomfs and s3fs.
#  B. pyarrow reading 1 of the 10 columns, then all of them (pandas'
#     read_parquet of a table): through the datomfs reader mount vs
#     pyarrow's own S3 filesystem on the object, and pyarrow on the same
#     file on the local disk, cold too (pyarrow reads a file otherwise
#     than an S3 object: that row is what any file system costs it). Both
#     the whole command and read_table alone are timed: starting Python
#     and importing pyarrow from a cold page cache takes about a second,
#     the read a few tenths, and the import's swings would hide the
#     read's.
#  C. cp of the file into a developer mount on the S3 store (hash, upload,
#     commit, push before close() returns) vs the floor: `datomfs hash` of
#     the file, then pyarrow's S3 upload of it.
#
# PARTS="AB C" (default) picks the parts to run (A, B, AB, C).
#
# On a virtual machine that hands freed memory back to its host (free page
# reporting, as on the Firecracker VMs this was measured on), the first
# touch of memory after drop_caches can cost seconds: one pyarrow read of
# every column spent 0.7-6.7 s of system time zeroing fresh pages, run to
# run. A reader through any FUSE mount touches more memory (the mount's
# page cache), so its figures swing the most: compare medians of several
# repetitions, and builds within one run.
#
#   make bench-peers                    # COUNT=3 BIG_MB=1000
#   COUNT=5 BIG_MB=500 bench/peers.sh
#   DATOMFS=/tmp/datomfs-old PARTS=C bench/peers.sh   # another build
#
# rclone and s3fs are installed from Debian when missing (root). Inputs are
# kept in $DATOMFS_BENCH_DIR; everything else is made fresh and removed,
# and whatever is mounted is unmounted on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
COUNT=${COUNT:-3}
BIG_MB=${BIG_MB:-1000}
export DATOMFS_BENCH_DIR=${DATOMFS_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/datomfs-bench}
PY=${PYTHON:-$REPO/.venv/bin/python}
BIG="$DATOMFS_BENCH_DIR/peers-${BIG_MB}mb-10col-v1.parquet"

need=()
command -v rclone >/dev/null || need+=(rclone)
command -v s3fs >/dev/null || need+=(s3fs)
command -v bc >/dev/null || need+=(bc)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "need ${need[*]} (apt-get install ${need[*]})" >&2; exit 1; }
  echo "installing ${need[*]} from Debian" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
VERSITY=$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")
[ -x "$VERSITY" ] || { echo "versitygw missing: run scripts/install-tools.sh" >&2; exit 1; }
[ -w /proc/sys/vm/drop_caches ] || { echo "cold runs need root (drop_caches)" >&2; exit 1; }

# DATOMFS=path runs another build (an older one, to compare in the same
# conditions); by default this checkout's, built now.
if [ -z "${DATOMFS:-}" ]; then
  make -s build
  DATOMFS=$REPO/bin/datomfs
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/datomfs-peers.XXXXXX")
MOUNTS=()
PIDS=()

is_mounted() { awk -v d="$1" '$5 == d {found=1} END {exit !found}' /proc/self/mountinfo; }
unmount_all() {
  for m in "${MOUNTS[@]}"; do
    is_mounted "$m" && { fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
  done
  MOUNTS=()
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  PIDS=()
}
cleanup() {
  unmount_all
  [ -n "${GW_PID:-}" ] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
lo_bytes() { cat /sys/class/net/lo/statistics/tx_bytes; }
wait_mounted() {
  for _ in $(seq 300); do is_mounted "$1" && return 0; sleep 0.05; done
  echo "mount $1 did not appear; log:" >&2; cat "$2" >&2; exit 1
}

# ---- the S3 server and the clients' configuration ----
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
KEY=bench$RANDOM$RANDOM
SECRET=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
mkdir -p "$WORK/s3"
ROOT_ACCESS_KEY=$KEY ROOT_SECRET_KEY=$SECRET "$VERSITY" --port "127.0.0.1:$PORT" --region us-east-1 posix "$WORK/s3" \
  >"$WORK/versity.log" 2>&1 &
GW_PID=$!
ENDPOINT=http://127.0.0.1:$PORT
unset AWS_CA_BUNDLE AWS_PROFILE
export AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_ENDPOINT_URL=$ENDPOINT AWS_REGION=us-east-1
export RCLONE_CONFIG=$WORK/rclone.conf # empty: the remote comes from the variables below
touch "$RCLONE_CONFIG"
export RCLONE_CONFIG_S3_TYPE=s3 RCLONE_CONFIG_S3_PROVIDER=Other RCLONE_CONFIG_S3_ENDPOINT=$ENDPOINT \
  RCLONE_CONFIG_S3_ACCESS_KEY_ID=$KEY RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=$SECRET RCLONE_CONFIG_S3_REGION=us-east-1 \
  RCLONE_CONFIG_S3_FORCE_PATH_STYLE=true RCLONE_S3_NO_CHECK_BUCKET=true
for _ in $(seq 100); do rclone lsd s3: >/dev/null 2>&1 && break; sleep 0.1; done
rclone mkdir s3:bench --s3-no-check-bucket=false
echo "$KEY:$SECRET" >"$WORK/s3fs.passwd"
chmod 600 "$WORK/s3fs.passwd"

# ---- input and project ----
mkdir -p "$DATOMFS_BENCH_DIR"
if [ ! -s "$BIG" ]; then
  echo "generating $BIG (${BIG_MB} MB, 10 float64 columns)" >&2
  "$PY" - "$BIG.tmp" "$BIG_MB" <<'EOF'
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
out, mb = sys.argv[1], int(sys.argv[2])
rows, chunk = mb * 1_000_000 // 80, 1_000_000
rng = np.random.default_rng(10)
schema = pa.schema([(f"c{i}", pa.float64()) for i in range(10)])
with pq.ParquetWriter(out, schema, compression="none", use_dictionary=False) as w:
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        w.write_table(pa.table({f"c{i}": rng.random(n) for i in range(10)}, schema=schema))
EOF
  mv "$BIG.tmp" "$BIG"
fi
SIZE=$(stat -c %s "$BIG")
git init -q --bare "$WORK/remote.git"
export DATOMFS_CACHE=$WORK/wcache
"$DATOMFS" init "$WORK/clone" --project BENCH --store s3://bench/proj/ --remote "$WORK/remote.git" >/dev/null
"$DATOMFS" write "$BIG" --table big -C "$WORK/clone" >/dev/null
VERSION=$("$DATOMFS" history big -C "$WORK/clone" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["version"][:8])')
KEYPATH=$(rclone lsf -R s3:bench/proj | grep '\.parquet$' | head -1)
OBJ=s3:bench/proj/$KEYPATH
echo "version big@$VERSION: $SIZE bytes at $OBJ" >&2

# run_read LABEL CMD...: one cold run; appends "seconds MB [read-seconds]"
# to $WORK/LABEL (read-seconds: what CMD prints, the time of its read
# alone, without starting Python and importing pyarrow from a cold disk).
run_read() {
  local label=$1; shift
  drop
  local b0 s e b1 out
  b0=$(lo_bytes); s=$(now)
  out=$("$@")
  e=$(now); b1=$(lo_bytes)
  echo "$(echo "$e - $s" | bc -l) $(echo "($b1 - $b0) / 1000000" | bc -l) $out" >>"$WORK/$label"
}

n=0
mount_datomfs() { # MNT: a reader mount with a fresh cache
  n=$((n + 1))
  mkdir -p "$1"
  "$DATOMFS" mount --store s3://bench/proj/ --project BENCH "$1" --cache "$WORK/dcache$n" --refresh 0 \
    >"$WORK/dmount$n.log" 2>&1 </dev/null &
  PIDS+=($!); MOUNTS+=("$1"); wait_mounted "$1" "$WORK/dmount$n.log"
}
mount_rclone() { # MNT MODE
  n=$((n + 1))
  mkdir -p "$1"
  rclone mount s3:bench "$1" --vfs-cache-mode "$2" --cache-dir "$WORK/rcache$n" --read-only \
    >"$WORK/rmount$n.log" 2>&1 </dev/null &
  PIDS+=($!); MOUNTS+=("$1"); wait_mounted "$1" "$WORK/rmount$n.log"
}
mount_s3fs() { # MNT
  mkdir -p "$1"
  s3fs bench "$1" -o url="$ENDPOINT" -o use_path_request_style -o passwd_file="$WORK/s3fs.passwd" -o ro
  MOUNTS+=("$1"); wait_mounted "$1" /dev/null
}

read_dd() { dd if="$1" of=/dev/null bs=1M status=none; }
read_dd32k() { dd if="$1" of=/dev/null bs=32k status=none; }
read_cat() { rclone cat "$1" >/dev/null; }
# The column readers print how long read_table took; COLS is "c3" (one
# column) or "" (all of them).
read_col() {
  "$PY" -c '
import sys, time, pyarrow.parquet as pq
s = time.monotonic(); assert pq.read_table(sys.argv[1], columns=sys.argv[2].split() or None).num_rows > 0; print(time.monotonic() - s)' "$1" "$COLS"
}
read_col_s3() {
  "$PY" - "$KEYPATH" "$COLS" <<'EOF'
import os, sys, time, pyarrow.fs as pafs, pyarrow.parquet as pq
fs = pafs.S3FileSystem(endpoint_override=os.environ["AWS_ENDPOINT_URL"], access_key=os.environ["AWS_ACCESS_KEY_ID"],
                       secret_key=os.environ["AWS_SECRET_ACCESS_KEY"], region="us-east-1", scheme="http")
s = time.monotonic()
assert pq.read_table("bench/proj/" + sys.argv[1], columns=sys.argv[2].split() or None, filesystem=fs).num_rows > 0
print(time.monotonic() - s)
EOF
}

PARTS=${PARTS:-AB C}
RUN_A=0 RUN_B=0 RUN_C=0
for part in $PARTS; do
  case $part in
  AB) RUN_A=1 RUN_B=1 ;;
  A) RUN_A=1 ;;
  B) RUN_B=1 ;;
  C) RUN_C=1 ;;
  *) echo "PARTS: unknown part $part (A, B, AB or C)" >&2; exit 2 ;;
  esac
done
COUNT_AB=0 COUNT_C=0
[ $((RUN_A + RUN_B)) -gt 0 ] && COUNT_AB=$COUNT
[ "$RUN_C" = 1 ] && COUNT_C=$COUNT
echo "A/B: $COUNT_AB cold repetitions, interleaved" >&2
for i in $(seq "$COUNT_AB"); do
  if [ "$RUN_A" = 1 ]; then
    run_read floor read_cat "$OBJ"
    mount_datomfs "$WORK/m-d"; run_read datomfs read_dd "$WORK/m-d/tables/big/@$VERSION.parquet"; unmount_all
    mount_rclone "$WORK/m-r" off; run_read rclone-off read_dd "$WORK/m-r/proj/$KEYPATH"; unmount_all
    mount_rclone "$WORK/m-rf" full; run_read rclone-full read_dd "$WORK/m-rf/proj/$KEYPATH"; unmount_all
    mount_s3fs "$WORK/m-s"; run_read s3fs read_dd "$WORK/m-s/proj/$KEYPATH"; unmount_all
    mount_datomfs "$WORK/m-d"; run_read datomfs-32k read_dd32k "$WORK/m-d/tables/big/@$VERSION.parquet"; unmount_all
    mount_s3fs "$WORK/m-s"; run_read s3fs-32k read_dd32k "$WORK/m-s/proj/$KEYPATH"; unmount_all
  fi
  if [ "$RUN_B" = 1 ]; then
    COLS=c3
    mount_datomfs "$WORK/m-d"; run_read datomfs-col read_col "$WORK/m-d/tables/big/@$VERSION.parquet"; unmount_all
    run_read pyarrow-col read_col_s3
    run_read local-col read_col "$BIG"
    COLS=
    mount_datomfs "$WORK/m-d"; run_read datomfs-all read_col "$WORK/m-d/tables/big/@$VERSION.parquet"; unmount_all
    run_read pyarrow-all read_col_s3
    run_read local-all read_col "$BIG"
  fi
  echo "  repetition $i done" >&2
done

# C: cp into a developer mount vs hash + upload. Each copy goes into a
# mount with an empty cache, as new data would: the same bytes already
# cached would spare the mount keeping its copy.
echo "C: $COUNT_C copies in" >&2
mount_writer() { # I
  mkdir -p "$WORK/m-w"
  "$DATOMFS" mount -C "$WORK/clone" "$WORK/m-w" --cache "$WORK/wcache$1" --refresh 0 >>"$WORK/wmount.log" 2>&1 </dev/null &
  PIDS+=($!); MOUNTS+=("$WORK/m-w"); wait_mounted "$WORK/m-w" "$WORK/wmount.log"
}
# The floor: the hash, then pyarrow's S3 upload of the file (rclone's
# multipart uploads to this gateway take 30 s or more per GB with 8 MiB
# parts: no floor).
upload_s3() {
  "$PY" - "$BIG" "$1" <<'EOF'
import os, sys, pyarrow.fs as pafs
fs = pafs.S3FileSystem(endpoint_override=os.environ["AWS_ENDPOINT_URL"], access_key=os.environ["AWS_ACCESS_KEY_ID"],
                       secret_key=os.environ["AWS_SECRET_ACCESS_KEY"], region="us-east-1", scheme="http")
pafs.copy_files(sys.argv[1], "bench/floor/" + sys.argv[2] + ".parquet", destination_filesystem=fs)
EOF
}
floor_cp() { "$DATOMFS" hash "$BIG" >/dev/null && upload_s3 "$1"; }
for i in $(seq "$COUNT_C"); do
  cat "$BIG" >/dev/null # both sides start from the page cache
  mount_writer "$i"
  s=$(now); cp "$BIG" "$WORK/m-w/tables/cp$i.parquet"; e=$(now)
  echo "$(echo "$e - $s" | bc -l)" >>"$WORK/cp"
  unmount_all
  cat "$BIG" >/dev/null
  s=$(now); floor_cp "$i"; e=$(now)
  echo "$(echo "$e - $s" | bc -l)" >>"$WORK/cpfloor"
done
unmount_all

med() { awk -v c="$2" '{print $c}' "$WORK/$1" | median; }
printf '\n%-34s %9s %9s %12s\n' "cold, ${SIZE} bytes (median of $COUNT)" seconds MB "vs floor"
if [ "$RUN_A" = 1 ]; then
for l in floor datomfs rclone-off rclone-full s3fs; do
  printf '%-34s %9.2f %9.0f %11.2fx\n' "A. dd  $l" "$(med $l 1)" "$(med $l 2)" "$(echo "$(med $l 1) / $(med floor 1)" | bc -l)"
done
for l in datomfs s3fs; do
  printf '%-34s %9.2f %9.0f %11.2fx\n' "A. dd bs=32k  $l" "$(med $l-32k 1)" "$(med $l-32k 2)" "$(echo "$(med $l-32k 1) / $(med floor 1)" | bc -l)"
done
echo "throughput: datomfs $(echo "$(med floor 1) / $(med datomfs 1)" | bc -l | cut -c1-4)x the rclone-cat floor, $(echo "$(med s3fs 1) / $(med datomfs 1)" | bc -l | cut -c1-4)x s3fs; in 32 KiB reads $(echo "$(med s3fs-32k 1) / $(med datomfs-32k 1)" | bc -l | cut -c1-4)x s3fs"
fi
if [ "$RUN_B" = 1 ]; then
for k in col all; do
  what="1 of 10 columns"; [ $k = all ] && what="all 10 columns"
  printf '%-34s %9.2f %9.0f   (read_table alone: %.2f s)\n' "B. $what, pyarrow on S3" "$(med pyarrow-$k 1)" "$(med pyarrow-$k 2)" "$(med pyarrow-$k 3)"
  printf '%-34s %9.2f %9.0f   (read_table alone: %.2f s)\n' "B. $what, datomfs mount" "$(med datomfs-$k 1)" "$(med datomfs-$k 2)" "$(med datomfs-$k 3)"
  printf '%-34s %9.2f %9s   (read_table alone: %.2f s)\n' "B. $what, local disk file" "$(med local-$k 1)" - "$(med local-$k 3)"
  printf '%-34s %.2fx time (%.2fx read_table alone), %.2fx bytes\n' "B. datomfs vs pyarrow" \
    "$(echo "$(med datomfs-$k 1) / $(med pyarrow-$k 1)" | bc -l)" "$(echo "$(med datomfs-$k 3) / $(med pyarrow-$k 3)" | bc -l)" \
    "$(echo "$(med datomfs-$k 2) / $(med pyarrow-$k 2)" | bc -l)"
done
fi
if [ "$COUNT_C" -gt 0 ]; then
printf '%-34s %9.2f %9s %11.2fx\n' "C. cp into the S3 mount" "$(med cp 1)" - "$(echo "$(med cp 1) / $(med cpfloor 1)" | bc -l)"
printf '%-34s %9.2f\n' "C. floor: hash, then pyarrow upload" "$(med cpfloor 1)"
fi
