#!/usr/bin/env bash
# Every test of rill: the Rust workspace, then the Python package (built and installed into a
# virtual environment of its own, .venv, made here on first use), then the Node package.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Rust: formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --exclude rill-python --all-targets --quiet -- -D warnings

echo "== Rust: tests"
# rill-python is a Python extension: it is linted, built by maturin and tested by pytest below.
# rill-node has no Rust tests (`test = false`): it is tested from Node below.
cargo test --workspace --exclude rill-python
# The GPU tests pass without checking anything where there is no GPU: say so out loud.
cargo test -q -p rill-core --test gpu --test gpu_memory --test gpu_kernels_compile -- --nocapture 2>&1 |
    grep -E "SKIPPED|test result" || true

echo "== Python: build and install rill into .venv"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "maturin>=1.16,<2" "numpy>=1.24" "pytest>=8"
# Real MLX, for the tests that compare behaviour with it; they skip where it cannot be installed.
.venv/bin/python -m pip install --quiet "mlx[cpu]==0.32.4" ||
    echo "mlx[cpu] could not be installed: the comparisons with real MLX will be skipped"
PYO3_PYTHON="$PWD/.venv/bin/python" cargo clippy -p rill-python --all-targets --quiet -- -D warnings
.venv/bin/python -m pip install --quiet --force-reinstall --no-deps .

echo "== Python: tests"
.venv/bin/python -m pytest -q tests/python

echo "== Node: build the addon and run the tests"
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
    echo "the Node tests need Node.js 20 or later on PATH (found: $(node --version 2>/dev/null || echo none))" >&2
    exit 1
fi
bash scripts/build-node.sh
node --test node/test/
