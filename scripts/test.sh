#!/usr/bin/env bash
# Every test of rill: the Rust workspace, then the Python package (built and installed into a
# virtual environment of its own, .venv, made here on first use), then the Node package.
#
# Builds, in this order (docs/ci.md says where the time goes and why there are no more):
#   1. one `cargo clippy` of the whole workspace (a check build: metadata only);
#   2. one optimised build in the `ci` profile (release, with debug assertions and overflow
#      checks) for the host's triple, shared by the tests (which also make rill-c's C libraries
#      for the C API's test, scripts/test-c-api.sh), the Python extension (maturin) and the Node
#      addon (@napi-rs/cli): all three resolve the same features (scripts/check-shared-build.sh
#      fails if they stop doing so), so rill-core is compiled once for them.
#
# RILL_REQUIRE_MLX=1 (set by .ci/run) makes a missing real MLX an error instead of skipped tests.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUIRE_MLX="${RILL_REQUIRE_MLX:-0}"

# Each section prints the seconds since the start, and every cargo build writes its report
# (`--timings`) to target/cargo-timings/: where a run's time went (docs/ci.md).
START=$(date +%s)
section() { echo "== [$(($(date +%s) - START))s] $*"; }

if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
    echo "the Node tests need Node.js 20 or later on PATH (found: $(node --version 2>/dev/null || echo none))" >&2
    exit 1
fi

section "Python: the virtual environment (.venv)"
# First, because clippy checks the Python extension too, and pyo3 needs the interpreter.
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# safetensors and gguf (llama.cpp's package): test_io.py and test_io_gguf.py read and write files
# with the reference packages.
.venv/bin/python -m pip install --quiet "maturin>=1.16,<2" "numpy>=1.24" "pytest>=8" "safetensors>=0.4" \
    "gguf>=0.19" "pillow>=10"
# Real MLX, for the tests that compare behaviour with it. Without it those tests skip (pytest -rs
# lists them) unless RILL_REQUIRE_MLX is set, where its absence fails the run here and in pytest.
if ! .venv/bin/python -m pip install --quiet "mlx[cpu]==0.32.4"; then
    if [ "$REQUIRE_MLX" != 0 ]; then
        echo 'RILL_REQUIRE_MLX is set and "mlx[cpu]==0.32.4" could not be installed' >&2
        exit 1
    fi
    echo "mlx[cpu] could not be installed: the comparisons with real MLX will be skipped"
fi
export PYO3_PYTHON="$PWD/.venv/bin/python"
# The shared build: its profile and the host's triple named explicitly, as @napi-rs/cli always does
# (cargo keeps the builds of an explicit target apart, in target/<triple>/<profile>, and all three
# must land in the same place). scripts/test-c-api.sh and scripts/build-node.sh read these too.
export RILL_BUILD_PROFILE=ci
RILL_BUILD_TARGET=$(rustc -vV | sed -n 's/^host: //p')
export RILL_BUILD_TARGET
shared=(--profile "$RILL_BUILD_PROFILE" --target "$RILL_BUILD_TARGET")

section "Rust: formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet --timings -- -D warnings
# rill-core's library has no test harness (`test = false`: it would compile the crate a second
# time, docs/ci.md), so a `#[cfg(test)]` module in its sources would never run: refuse one.
if grep -rlE '^\s*#\[cfg\(test\)\]' crates/rill-core/src; then
    echo "rill-core's tests belong in crates/rill-core/tests/ (internals/ for private pieces): its" \
        "library has no unit-test harness, so the module(s) above would never run" >&2
    exit 1
fi

section "Rust: tests"
# First, that the three users of the shared build resolve the same features (builds nothing).
bash scripts/check-shared-build.sh
# rill-python is a Python extension: it is built by maturin and tested by pytest below.
# rill-node has no Rust tests (`test = false`): it is tested from Node below.
cargo test "${shared[@]}" --workspace --exclude rill-python --timings
# The GPU tests pass without checking anything where there is no GPU: say so out loud. The same
# package selection as above: `-p rill-core` alone resolves other features for shared crates and
# compiled rill-core a second time (about 7 minutes of CI's CPU, docs/ci.md).
cargo test -q "${shared[@]}" --workspace --exclude rill-python --test gpu --test gpu_memory --test gpu_kernels_compile -- --nocapture 2>&1 |
    grep -E "SKIPPED|test result" || true
# NVRTC needs no GPU: with PyPI's copy of the library, the background compiler's exit while NVRTC
# compiles (backend/cuda/background.rs, rule 6) and the compile of the fused kernels' modules run
# here instead of being skipped.
if .venv/bin/python -m pip install --quiet "nvidia-cuda-nvrtc==13.0.88"; then
    nvrtc_lib="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/nvidia/cu13/lib"
    LD_LIBRARY_PATH="$nvrtc_lib" RILL_KERNEL_ONLY=fused/ cargo test -q "${shared[@]}" --workspace \
        --exclude rill-python --test internals --test gpu_kernels_compile -- background_compile \
        every_kernel_module_compiles
else
    echo "SKIPPED: nvidia-cuda-nvrtc could not be installed; the NVRTC tests above were skipped"
fi

section "C API: the C test program, linked against rill-c from the test build, and under valgrind"
# Builds nothing: the library came with the test build above (same profile, same features).
bash scripts/test-c-api.sh

section "Python: build the wheel (on the shared build), check its size, install it into .venv"
rm -rf target/wheels
.venv/bin/python -m maturin build "${shared[@]}" --quiet --timings --out target/wheels
bash scripts/check-wheel.sh target/wheels/*.whl
.venv/bin/python -m pip install --quiet --force-reinstall --no-deps target/wheels/*.whl

section "Python: tests"
RILL_REQUIRE_MLX="$REQUIRE_MLX" .venv/bin/python -m pytest -q -rs tests/python

section "Node: build the addon (npm, on the shared build) and run the tests"
bash scripts/build-node.sh
node --test node/test/*.test.mjs
section "done"
