# The two commands: `make demo` (set up, build, run the main job on a local
# store and a local bare git remote) and `make test` (the whole suite, with
# the torture suite short). `make torture` runs the torture suite long and
# prints its figures.
GO  ?= go
BIN := bin/datomfs

.PHONY: all setup build demo test torture bench bench-peers man clean

all: build

setup:
	bash scripts/setup.sh

build:
	$(GO) build -o $(BIN) ./cmd/datomfs

demo: setup build
	bash scripts/demo.sh

test: setup
	bash scripts/test.sh

torture: setup
	bash scripts/torture.sh

bench: setup
	bash bench/run.sh

# datomfs against rclone, s3fs and pyarrow over a loopback S3 gateway
# (1 GB, cold; installs rclone and s3fs from Debian when missing).
bench-peers: setup
	bash bench/peers.sh

# Man pages from the commands' own help, into man/ (man -l man/datomfs.1).
man: build
	$(BIN) man --dir man

clean:
	rm -rf bin demo man
