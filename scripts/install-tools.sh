#!/usr/bin/env bash
# install-tools.sh installs the external tools the test suites need.
# It is idempotent: a tool already present at the wanted version is left alone.
#
#   scripts/install-tools.sh            # install what is missing
#   VERSITYGW_VERSION=v1.8.0 scripts/install-tools.sh
#
# Tools:
#   versitygw  Versity S3 gateway, the loopback S3 server used by store/s3 tests
#              and the end-to-end tests (internal/testenv.Versity).
set -euo pipefail

VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.8.0}"

gobin="$(go env GOBIN)"
if [ -z "$gobin" ]; then
	gobin="$(go env GOPATH)/bin"
fi
mkdir -p "$gobin"

# installed_version BIN prints the main module version recorded in a Go binary.
installed_version() {
	go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'
}

install_versitygw() {
	local bin="$gobin/versitygw"
	if [ -x "$bin" ] && [ "$(installed_version "$bin")" = "$VERSITYGW_VERSION" ]; then
		echo "versitygw $VERSITYGW_VERSION already installed at $bin"
		return
	fi
	echo "installing versitygw $VERSITYGW_VERSION into $gobin (takes a few minutes on 2 cores)"
	local start=$SECONDS
	# Build outside the project module so its go.mod is neither read nor changed.
	(cd / && GOFLAGS=-mod=mod GOBIN="$gobin" go install "github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}")
	echo "installed $("$bin" --version 2>/dev/null | head -n1 || echo versitygw) in $((SECONDS - start))s"
}

install_versitygw
