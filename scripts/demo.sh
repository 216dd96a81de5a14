#!/usr/bin/env bash
# The main job on the embedded default: a local-folder store and a local bare
# git remote under ./demo, a study extract written as versions, then listed,
# read back and queried across versions. Safe to rerun (starts afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
D="$PWD/demo"
B="$PWD/bin/datomfs"
rm -rf "$D"
mkdir -p "$D"
export DATOMFS_CACHE="$D/cache"

git init -q --bare "$D/remote.git"
"$B" init "$D/study" --project STUDY_001 --store "$D/store" --remote "$D/remote.git"

echo "== cut-off 2026-01-31: first extract"
go run ./internal/studygen/gen -out "$D/extract-2026-01" -cutoff 2026-01-31 >/dev/null
for t in dm ex lb ae; do
  "$B" write "$D/extract-2026-01/$t.parquet" --table "$t" -C "$D/study" -m "$t cut 2026-01-31"
done

echo "== cut-off 2026-03-31: new cuts of lb, ae and dm"
go run ./internal/studygen/gen -out "$D/extract-2026-03" -cutoff 2026-03-31 >/dev/null
for t in lb ae dm; do
  "$B" write "$D/extract-2026-03/$t.parquet" --table "$t" -C "$D/study" -m "$t cut 2026-03-31"
done

echo "== a second engineer joins"
"$B" clone "$D/remote.git" "$D/study-b"
"$B" list -C "$D/study-b"
echo
"$B" history lb -C "$D/study-b"

first=$("$B" history lb -C "$D/study" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["version"][:8])')
"$B" read "lb@$first" -o "$D/lb-first.csv" -C "$D/study"
echo
echo "== SQL across versions"
"$B" query -C "$D/study" "SELECT _version, count(*) AS n FROM all_versions('lb') GROUP BY 1 ORDER BY 2" 
echo
echo "== what changed in lb between the two cuts"
"$B" diff lb "$first" -C "$D/study" --key USUBJID --key LBTESTCD --key LBDTC 2>&1 >/dev/null  # the summary (stderr); rows go to stdout
echo
echo "Demo project in $D/study (store $D/store, remote $D/remote.git)."
echo "Mount it:  sudo $B mount -C $D/study /mnt/datom"
