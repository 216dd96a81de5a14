#!/usr/bin/env bash
# The headline on the embedded default: a local-folder store and a local bare
# git remote under ./demo, a study extract written as versions, the project
# mounted, a new cut copied into tables/lb/, the mounted versions read from
# pandas and R, SQL across the versions, unmount. Where FUSE is not available
# it says so and shows the rest through the CLI. Safe to rerun (starts afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
D="$PWD/demo"
B="$PWD/bin/datomfs"
M="$D/mnt"
PY="$PWD/.venv/bin/python"
[ -x "$PY" ] || PY=python3

# A mount left over from an earlier run would keep ./demo busy.
if [ -d "$M" ] && grep -qs " $M fuse" /proc/mounts; then fusermount3 -u "$M" 2>/dev/null || true; fi
rm -rf "$D"
mkdir -p "$D"
export DATOMFS_CACHE="$D/cache"

mounted=
cleanup() {
  if [ -n "$mounted" ]; then fusermount3 -u "$M" 2>/dev/null || true; fi
}
trap cleanup EXIT

# FUSE: the device, fusermount3 and a mount that actually comes up.
fuse_ok=
# DATOMFS_DEMO_NO_FUSE=1 shows the path taken without it.
if [ -z "${DATOMFS_DEMO_NO_FUSE:-}" ] && [ -e /dev/fuse ] && command -v fusermount3 >/dev/null 2>&1; then fuse_ok=1; fi

git init -q --bare "$D/remote.git"
"$B" init "$D/study" --project STUDY_001 --store "$D/store" --remote "$D/remote.git"

echo
echo "== cut-off 2026-01-31: first extract"
go run ./internal/studygen/gen -out "$D/extract-2026-01" -cutoff 2026-01-31 >/dev/null
for t in dm ex lb ae; do
  "$B" write "$D/extract-2026-01/$t.parquet" --table "$t" -C "$D/study" -m "$t cut 2026-01-31"
done

echo
echo "== freeze the January cut: datomfs tag jan-lock"
"$B" tag jan-lock -m "January data cut" -C "$D/study"

echo
echo "== cut-off 2026-03-31: new cuts of ae and dm"
go run ./internal/studygen/gen -out "$D/extract-2026-03" -cutoff 2026-03-31 >/dev/null
for t in ae dm; do
  "$B" write "$D/extract-2026-03/$t.parquet" --table "$t" -C "$D/study" -m "$t cut 2026-03-31"
done

first=$("$B" history lb -C "$D/study" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[-1]["version"][:8])')

if [ -n "$fuse_ok" ]; then
  echo
  echo "== mount the project at $M"
  mkdir -p "$M"
  if "$B" mount --daemon --log-file "$D/mount.log" -C "$D/study" "$M"; then
    mounted=1
  else
    echo "(the mount did not come up; see $D/mount.log — showing the rest without it)"
    fuse_ok=
  fi
else
  echo
  echo "== FUSE is not available here (no /dev/fuse or no fusermount3): no mount."
  echo "   The same steps through the CLI instead."
fi

echo
if [ -n "$fuse_ok" ]; then
  echo "\$ ls $M/tables/lb/"
  ls "$M/tables/lb/"
  echo
  echo "== the new lb cut: cp extract-2026-03/lb.parquet $M/tables/lb/"
  cp "$D/extract-2026-03/lb.parquet" "$M/tables/lb/"   # close = pull, write, push
  echo "\$ ls $M/tables/lb/"
  ls "$M/tables/lb/"
  echo "(the mount's publish log, $D/mount.log:)"
  grep -i "publish" "$D/mount.log" | tail -n 1 || true
  first_parquet="$M/tables/lb/@$first.parquet"
  first_csv="$M/tables/lb/@$first.csv"
  current_parquet="$M/tables/lb/current.parquet"
  current_rds="$M/tables/lb/current.rds"
else
  echo "== the new lb cut: datomfs write extract-2026-03/lb.parquet --table lb"
  "$B" write "$D/extract-2026-03/lb.parquet" --table lb -C "$D/study" -m "lb cut 2026-03-31"
  "$B" read "lb@$first" -o "$D/lb-first.parquet" -C "$D/study"
  "$B" read "lb@$first" -o "$D/lb-first.csv" -C "$D/study"
  "$B" read lb -o "$D/lb-current.parquet" -C "$D/study"
  "$B" read lb -o "$D/lb-current.rds" -C "$D/study"
  first_parquet="$D/lb-first.parquet"
  first_csv="$D/lb-first.csv"
  current_parquet="$D/lb-current.parquet"
  current_rds="$D/lb-current.rds"
fi

echo
echo "== pandas reads the first version and the current one"
"$PY" - "$first_parquet" "$current_parquet" <<'PYEOF'
import sys
import pandas as pd
first, current = (pd.read_parquet(p) for p in sys.argv[1:3])
print(f"{sys.argv[1]}: {len(first)} rows")
print(f"{sys.argv[2]}: {len(current)} rows")
print("new subjects in the current cut:", len(set(current["USUBJID"]) - set(first["USUBJID"])))
PYEOF

echo
if command -v Rscript >/dev/null 2>&1; then
  echo "== R reads the first version's CSV rendition"
  Rscript -e 'f <- commandArgs(TRUE)[1]; lb <- read.csv(f); cat(f, ": ", nrow(lb), " rows\n", sep = ""); print(head(table(lb$LBTESTCD)))' "$first_csv"
  echo "== R reads the current version typed, without arrow: readRDS() of its .rds rendition"
  Rscript -e 'f <- commandArgs(TRUE)[1]; lb <- readRDS(f); cat(f, ":\n", sep = ""); str(lb)' "$current_rds"
else
  echo "== R: Rscript is not installed; read.csv(\"$first_csv\") reads the same rows"
fi

echo
echo "== SQL across versions"
"$B" query -C "$D/study" "SELECT _version, count(*) AS n FROM all_versions('lb') GROUP BY 1 ORDER BY 2"
echo
echo "== what changed in lb between the two cuts"
"$B" diff lb "$first" -C "$D/study" --key USUBJID --key LBTESTCD --key LBDTC 2>&1 >/dev/null  # the summary (stderr); rows go to stdout

echo
echo "== the tagged cut, months later: every table as it was at jan-lock"
"$B" query -C "$D/study" --at jan-lock "SELECT count(*) AS ae_rows_at_lock FROM ae"
"$B" diff --from jan-lock -C "$D/study"

echo
echo "== a second engineer joins"
"$B" clone "$D/remote.git" "$D/study-b"
"$B" list -C "$D/study-b"
echo
"$B" history lb -C "$D/study-b"

if [ -n "$mounted" ]; then
  echo
  echo "== unmount: fusermount3 -u $M"
  fusermount3 -u "$M"
  mounted=
fi

sudo=
if [ "$(id -u)" != 0 ]; then sudo="sudo "; fi
echo
echo "Demo project in $D/study (store $D/store, remote $D/remote.git). Next:"
echo "  $B list -C $D/study"
echo "  $B query -C $D/study                 # the SQL shell"
if [ -n "$fuse_ok" ]; then
  echo "  mkdir -p $M && $B mount --daemon -C $D/study $M"
  echo "  ls $M/tables/lb/ ; fusermount3 -u $M"
else
  if ! command -v fusermount3 >/dev/null 2>&1; then
    echo "  ${sudo}apt-get install fuse3            # fusermount3, then:"
  fi
  if [ ! -e /dev/fuse ]; then
    echo "  # /dev/fuse is missing (in a container: docker run --device /dev/fuse --cap-add SYS_ADMIN ...), then:"
  fi
  echo "  mkdir -p $M && $B mount --daemon -C $D/study $M"
fi
