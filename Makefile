# One build for Rust (maturin -> nexus._native), Cython (engine/) and Python (nexus/).
# `make demo` and `make test` each create or refresh .venv/, build in release mode, then run.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(abspath $(BIN)):$(PATH)
DEPS_STAMP := $(VENV)/.deps-stamp

.PHONY: all build demo test test-native test-stubs test-python bench prereqs aeron-deps postgres clean distclean mexc-proto

all: build

prereqs:
	@PYTHON=$(PYTHON) scripts/check-prereqs.sh

$(BIN)/python: | prereqs
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Build tools first (bounded in requirements-build.txt), refreshed when it changes.
$(DEPS_STAMP): requirements-build.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-build.txt
	touch $@

# The Aeron C client and media driver are compiled from the rusteron crates' sources inside the
# native crate (cmake 3.30+ from PyPI via requirements-build.txt, on PATH from the venv; libclang
# for bindgen, libbsd and uuid from Debian packages: installed here when missing).
aeron-deps:
	@scripts/ensure-aeron-build-deps.sh

# maturin builds native/ into nexus/_native*.so (release) and installs the package in
# editable mode with its bounded dependencies from pyproject.toml (+ the dev extra);
# setup.py then compiles the Cython engine in place.
build: prereqs aeron-deps $(DEPS_STAMP)
	$(BIN)/maturin develop --release --extras dev
	$(BIN)/python setup.py --quiet build_ext --inplace
	@$(BIN)/python -c "import nexus.record, engine" || { echo "nexus: build finished but the modules do not import"; exit 1; }
	@test -x $(BIN)/nexus || { echo "nexus: the CLI entry point was not installed"; exit 1; }

# MEXC's published protocol-buffer schemas (github.com/mexcdevelop/websocket-proto, kept in
# nexus/venues/mexc/proto/) compiled to the committed nexus/venues/mexc/pb/*_pb2.py (grpcio-tools,
# dev extra); the generated absolute imports are made package-relative, and the files register in
# the package's own descriptor pool (pb/__init__.py: POOL), so that a library registering MEXC's
# files under the same names in protobuf's default pool (ccxt does) can share the process.
mexc-proto: build
	$(BIN)/python -m grpc_tools.protoc -I nexus/venues/mexc/proto --python_out=nexus/venues/mexc/pb \
		nexus/venues/mexc/proto/*.proto
	sed -i -E 's/^import ([A-Za-z0-9]+_pb2) as /from . import \1 as /' nexus/venues/mexc/pb/*_pb2.py
	sed -i -E 's/_descriptor_pool\.Default\(\)\.AddSerializedFile\(/_descriptor_pool_POOL.AddSerializedFile(/; s/^(_sym_db = _symbol_database\.Default\(\))$$/\1\nfrom . import POOL as _descriptor_pool_POOL/' \
		nexus/venues/mexc/pb/*_pb2.py

# The main job on its embedded default: the venue simulator in-process, five venues live in
# the terminal view for 20 seconds (a gap on binance-spot at 8 s shows a resync).
demo: build
	$(BIN)/nexus run --sim --duration 20 --fault gap:binance-spot:8

test: build postgres test-native test-stubs test-python

# The broker tests start their own PostgreSQL server in a temporary directory; this installs
# the server binaries from Debian packages when they are missing.
postgres:
	@scripts/ensure-postgres.sh

test-native: aeron-deps $(DEPS_STAMP)
	cargo test --release --quiet -p nexus-native
	cargo test --release --quiet -p nexus-native --features aeron --lib core::aeron

# The stubs shipped with the compiled modules (nexus/_native.pyi, engine/*.pyi) against the
# modules, by mypy's stubtest (a few seconds).
test-stubs:
	$(BIN)/python scripts/check_stubs.py

test-python:
	$(BIN)/python -m pytest tests -q

# The peers (NautilusTrader, hftbacktest, cryptofeed, ccxt) are benchmark baselines only: the
# `bench` extra of pyproject.toml, installed here by itself (its requirement lines read from
# pyproject.toml, so the package is not rebuilt). If one does not install, `nexus bench peers`
# (and `nexus bench book`) say so in their output.
bench: build postgres
	$(BIN)/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['bench']))" > $(VENV)/bench-requirements.txt
	-$(BIN)/python -m pip install --quiet -r $(VENV)/bench-requirements.txt
	$(BIN)/python -m pytest bench -q --benchmark-only --benchmark-columns=min,median,max,ops
	$(BIN)/nexus bench ring
	$(BIN)/nexus bench book
	$(BIN)/nexus bench agg
	$(BIN)/nexus bench flow
	$(BIN)/nexus bench feeds
	$(BIN)/nexus bench broker
	$(BIN)/nexus bench risk
	$(BIN)/nexus bench exec
	$(BIN)/nexus bench peers
	$(BIN)/nexus bench aeron

clean:
	rm -rf build target engine/*.c engine/*.so engine/params.pxd nexus/_native*.so .pytest_cache .benchmarks

distclean: clean
	rm -rf $(VENV)
