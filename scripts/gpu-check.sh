#!/usr/bin/env bash
# The GPU suite and the GPU benchmarks, in two halves:
#
#   bash scripts/gpu-check.sh build   # here (Rust toolchain, no GPU needed): builds the test
#                                     # binaries, the benchmark, the demo, the Python wheel and the
#                                     # Node addon, precompiles every kernel with NVRTC, and packs
#                                     # them into .device/bundle.tar.xz
#   bash scripts/gpu-check.sh run     # on the GPU machine (no Rust there), from the repository
#                                     # root with .device/ beside it: runs everything and writes
#                                     # logs and JSON under $OUT (default: ./gpu-out)
#
# `run` takes `[tests|bench|all]` (default all). A failure of one step is reported and the other
# steps still run; the exit status is that of the first failure. The local NVRTC for `build` comes
# from PyPI (`pip download nvidia-cuda-nvrtc`), found through $RILL_NVRTC_DIR.
set -uo pipefail
cd "$(dirname "$0")/.."
DEV=.device

build() {
    set -e
    rm -rf "$DEV/bundle" && mkdir -p "$DEV/bundle/bin" "$DEV/bundle/kernels"
    # Test binaries of rill-core (release: the GPU machine runs them, and the CPU reference
    # computations in the tests are faster optimized).
    # The integration tests (the library has no unit-test harness: `test = false`).
    cargo test --release -p rill-core --test '*' --no-run --message-format=json 2>/dev/null |
        python3 -c '
import json, sys, shutil
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        name = m["target"]["name"]
        shutil.copy(m["executable"], ".device/bundle/bin/test-" + ("lib" if m["target"]["kind"] == ["lib"] else name))
'
    cargo build --release -p rill-bench -p rill-demo -p rill-trace
    cp target/release/rill-bench target/release/rill-demo target/release/rill-trace "$DEV/bundle/bin/"
    # The driver's own per-call costs beside a rill op's (docs/benchmarks.md, the GPU section).
    cargo build --release -p rill-core --example gpu_driver_floor
    cp target/release/examples/gpu_driver_floor "$DEV/bundle/bin/"
    # A fork during the first matmuls, in fresh processes (issue 8: only many cores showed a hang).
    cargo build --release -p rill-bench --example fork_probe
    cp target/release/examples/fork_probe "$DEV/bundle/bin/"
    strip "$DEV"/bundle/bin/*
    # The Python wheel (abi3: imports on the GPU machine's Python 3.12).
    rm -rf target/wheels
    # Not --strip: that changes every crate's flags and compiles the core again. The package is
    # carried unpacked, its extension stripped (the GPU machine puts it on PYTHONPATH).
    .venv/bin/python -m maturin build --release --quiet --out target/wheels >/dev/null
    python3 -m zipfile -e target/wheels/*.whl "$DEV/bundle/site"
    strip "$DEV"/bundle/site/rill/*.so
    # The Node addon (release).
    cargo build --release -p rill-node
    cp target/release/librill_node.so "$DEV/bundle/rill.node"
    strip "$DEV/bundle/rill.node"
    # Every kernel, compiled for Hopper by NVRTC here, so the GPU machine spends no time on it.
    if [ -n "${RILL_NVRTC_DIR:-}" ]; then
        LD_LIBRARY_PATH="$RILL_NVRTC_DIR" RILL_KERNEL_CACHE="$PWD/$DEV/bundle/kernels" \
            "$DEV"/bundle/bin/test-gpu_kernels_compile --nocapture
    fi
    # One stream with a large window: the test binaries share most of their bytes.
    tar -C "$DEV" -cf - bundle | xz -9 -T2 --lzma2=preset=9,dict=256MiB >"$DEV/bundle.tar.xz"
    rm -rf "$DEV/bundle"
    # Node.js for the Node tests (the GPU machine has none): this machine's, compressed once.
    [ -f "$DEV/node.xz" ] || xz -9 -T2 -c "$(readlink -f "$(command -v node)")" >"$DEV/node.xz"
    ls -la "$DEV"
}

FAIL=0
step() {
    # step NAME COMMAND...: runs the command, logs to $OUT/NAME.log, records a failure.
    local name=$1
    shift
    echo "== $name"
    local t0=$SECONDS
    if timeout "${STEP_TIMEOUT:-300}" "$@" >"$LOGS/$name.log" 2>&1; then
        echo "   ok ($((SECONDS - t0)) s)"
    else
        local rc=$?
        echo "   FAILED rc=$rc ($((SECONDS - t0)) s); last lines:"
        tail -25 "$LOGS/$name.log" | sed 's/^/   | /'
        [ "$FAIL" = 0 ] && FAIL=$rc
    fi
}

run() {
    local what=${1:-all}
    OUT=${OUT:-$PWD/gpu-out}
    LOGS=/tmp/rill-logs
    rm -rf "$LOGS" && mkdir -p "$OUT" "$LOGS"
    local B=/tmp/rill-bundle
    rm -rf "$B" && mkdir -p "$B" && tar -C "$B" -xJf "$DEV/bundle.tar.xz"
    B=$B/bundle
    export RILL_KERNEL_CACHE=$B/kernels
    export PYTHONUNBUFFERED=1
    nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem,temperature.gpu --format=csv >"$OUT/gpu.txt" 2>&1
    nproc >>"$OUT/gpu.txt"
    cat "$OUT/gpu.txt"
    export PYTHONPATH=$B/site
    if [ "$what" = all ] || [ "$what" = tests ]; then
        step gpu-tests "$B/bin/test-gpu" --test-threads=4
        step gpu-memory "$B/bin/test-gpu_memory"
        step ops-on-gpu env RILL_DEFAULT_DEVICE=gpu "$B/bin/test-ops" --test-threads=8
        for t in scheduler graph_property errors memory trace stress_threads; do
            [ -x "$B/bin/test-$t" ] && step "$t-on-gpu" env RILL_DEFAULT_DEVICE=gpu "$B/bin/test-$t"
        done
        step python-seeds python3 -m pytest -q -rs -x tests/python/test_seeds.py tests/python/test_devices_streams.py
        step python-all python3 -m pytest -q -rs tests/python
        local node_bin
        node_bin=$(command -v node || true)
        if [ -z "$node_bin" ] && [ -f "$DEV/node.xz" ]; then
            xz -dc "$DEV/node.xz" >/tmp/node && chmod +x /tmp/node && node_bin=/tmp/node
        fi
        if [ -n "$node_bin" ]; then
            cp "$B/rill.node" node/rill.node
            step node-tests "$node_bin" --test node/test/*.test.mjs
        else
            echo "== node: not on this machine and not carried (skipped)" | tee "$LOGS/node-tests.log"
        fi
        step demo "$B/bin/rill-demo" "$LOGS/demo"
        cp "$LOGS/demo/timeline.svg" "$OUT/demo_timeline.svg" 2>/dev/null || true
        # 20 fresh processes, each forking during its first matmuls; each prints "... 0 hung, 0 failed".
        step fork-probe bash -c 'for i in $(seq 20); do RILL_DEFAULT_DEVICE=cpu RILL_PROBE_DEADLINE_S=10 \
            "$0" 1 | tail -1; done | tee /dev/stderr | grep -vc " 0 hung, 0 failed" | grep -qx 0' "$B/bin/fork_probe"
    fi
    if [ "$what" = all ] || [ "$what" = bench ]; then
        step driver-floor "$B/bin/gpu_driver_floor"
        grep '^{' "$LOGS/driver-floor.log" >"$OUT/driver_floor.json" && cat "$OUT/driver_floor.json"
        step bench-gpu python3 benchmarks/gpu.py --out "$OUT/gpu_bench.json"
        cat "$LOGS/bench-gpu.log"
        # Seed 004's captured loop, drawn: a CPU lane and a GPU lane that overlap.
        step seed004-svg "$B/bin/rill-trace" render "$OUT/seed004_trace.json" -o "$OUT/seed004_timeline.svg" \
            --title "seed 004: CPU decode / GPU compute"
        "$B/bin/rill-trace" summary "$OUT/seed004_trace.json" 2>&1 | tee "$LOGS/seed004-summary.log"
    fi
    # At most 8 files come back from the GPU machine: the logs travel as one archive.
    tar -C "$LOGS" -czf "$OUT/logs.tar.gz" .
    return $FAIL
}

case "${1:-}" in
    build) build ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 build | run [tests|bench|all]" >&2; exit 2 ;;
esac
