#!/usr/bin/env bash
# Installs everything the build and the test suite need on a fresh Debian
# machine (as root, as CI runs): FUSE, rsync and R from Debian, a Python venv
# with pinned readers, and the pinned Go tools. Idempotent: a second run only
# checks.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v fusermount3 >/dev/null 2>&1 || need_apt+=(fuse3)
command -v rsync >/dev/null 2>&1 || need_apt+=(rsync)
command -v Rscript >/dev/null 2>&1 || need_apt+=(r-base-core)
command -v git >/dev/null 2>&1 || need_apt+=(git)
# digest: SHA-256 for the R implementation of datom-cv1 in the .rds tests.
{ command -v Rscript >/dev/null 2>&1 && Rscript -e 'quit(status = !requireNamespace("digest", quietly = TRUE))' >/dev/null 2>&1; } || need_apt+=(r-cran-digest)
# Java and Maven: Spark reads the Iceberg metadata in the engine tests.
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Python readers used by the interop tests, pinned in requirements-test.txt.
if [ ! -x .venv/bin/python ] || ! cmp -s requirements-test.txt .venv/.requirements 2>/dev/null; then
  echo "setup: python venv (.venv) from requirements-test.txt"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
  cp requirements-test.txt .venv/.requirements
fi

# Engines that read the Iceberg metadata (e2e/iceberg_engines_test.go):
# pyiceberg and pyspark in their own venv, pinned in requirements-engines.txt,
# and the Iceberg Spark runtime that matches that pyspark, from Maven Central.
if [ ! -x .venv-engines/bin/python ] || ! cmp -s requirements-engines.txt .venv-engines/.requirements 2>/dev/null; then
  echo "setup: python venv (.venv-engines) from requirements-engines.txt"
  python3 -m venv .venv-engines
  .venv-engines/bin/pip install -q --disable-pip-version-check -r requirements-engines.txt
  cp requirements-engines.txt .venv-engines/.requirements
fi
# The AWS bundle gives Spark Iceberg's S3FileIO (S3 stores).
iceberg_version=1.10.1
for jar in iceberg-spark-runtime-3.5_2.12 iceberg-aws-bundle; do
  if [ ! -s ".engines/jars/$jar-$iceberg_version.jar" ]; then
    echo "setup: $jar $iceberg_version (Maven Central) into .engines/jars"
    rm -f .engines/jars/"$jar"-*.jar
    mvn -q -B dependency:copy "-Dartifact=org.apache.iceberg:$jar:$iceberg_version" -DoutputDirectory=.engines/jars
  fi
done

# Pinned Go tools (S3 gateway for the integration tests).
bash scripts/install-tools.sh
echo "setup: ok"
