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
# `run` takes `[rust|python|tests|bench|all]` (default all; tests = rust + python). A failure of one step is reported and the other
# steps still run; the exit status is that of the first failure. The local NVRTC for `build` comes
# from PyPI (`pip download nvidia-cuda-nvrtc`), found through $RILL_NVRTC_DIR.
set -uo pipefail
cd "$(dirname "$0")/.."
DEV=.device
# The test binaries `run` runs with the GPU as the default device (after test-gpu, test-gpu_memory
# and test-ops); `build` packs only these (the bundle and the wheels must fit in one carry).
GPU_SUITES="scheduler graph_property errors memory trace stress_threads transforms fusion auto_fusion"

build() {
    set -e
    rm -rf "$DEV/bundle" && mkdir -p "$DEV/bundle/bin" "$DEV/bundle/kernels"
    # Everything in one release build of rill-core for the host's triple: the test binaries
    # (release: the GPU machine runs them, and the CPU reference computations in the tests are
    # faster optimized), the benchmark, the demo, the trace tool, the examples, the Python wheel
    # and the Node addon all resolve the same features (scripts/check-shared-build.sh), so one
    # build of rill-core serves them all (a package selection of its own would build it again).
    local host rel
    host=$(rustc -vV | sed -n 's/^host: //p')
    rel="target/$host/release"
    cargo test --release --target "$host" --workspace --exclude rill-python --tests --no-run \
        --message-format=json 2>/dev/null |
        python3 -c '
import json, sys, shutil
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"] \
            and "/rill-core/" in m["target"]["src_path"]:
        shutil.copy(m["executable"], ".device/bundle/bin/test-" + m["target"]["name"])
'
    cargo build --release --target "$host" --workspace --exclude rill-python --lib --bins --examples
    cp "$rel/rill-demo" "$rel/rill-trace" "$DEV/bundle/bin/"
    # The driver's own per-call costs beside a rill op's (docs/benchmarks.md, the GPU section),
    # and a fork during the first matmuls, in fresh processes (issue 8: only many cores showed a
    # hang).
    cp "$rel/examples/gpu_driver_floor" "$rel/examples/fork_probe" "$DEV/bundle/bin/"
    # The C API's test program (crates/rill-c/tests/c/seed000.c), against the release library,
    # which it finds beside itself: seed 000 through the C ABI with the real GPU.
    cp "$rel/librill_c.so" "$DEV/bundle/bin/"
    cc -std=c11 -O1 -Wall -Wextra -Werror -Iinclude crates/rill-c/tests/c/seed000.c \
        -o "$DEV/bundle/bin/c-seed000" -L"$rel" -lrill_c -Wl,-rpath,'$ORIGIN' -lm -pthread
    rm -rf "$DEV/unstripped" && cp -r "$DEV/bundle/bin" "$DEV/unstripped"
    strip "$DEV"/bundle/bin/*
    # The Python wheel (abi3: imports on the GPU machine's Python 3.12), carried unpacked, its
    # extension stripped (the GPU machine puts it on PYTHONPATH).
    rm -rf target/wheels
    .venv/bin/python -m maturin build --release --target "$host" --quiet --out target/wheels >/dev/null
    python3 -m zipfile -e target/wheels/*.whl "$DEV/bundle/site"
    strip "$DEV"/bundle/site/rill/*.so
    # The Node addon (release), from the same build.
    cp "$rel/librill_node.so" "$DEV/bundle/rill.node"
    strip "$DEV/bundle/rill.node"
    # Every kernel, compiled for Hopper by NVRTC here, so the GPU machine spends no time on it.
    if [ -n "${RILL_NVRTC_DIR:-}" ]; then
        LD_LIBRARY_PATH="$RILL_NVRTC_DIR" RILL_KERNEL_CACHE="$PWD/$DEV/bundle/kernels" \
            "$DEV"/bundle/bin/test-gpu_kernels_compile --nocapture
    fi
    # Only what `run` runs travels (unstripped copies stay in $DEV/unstripped, for reading a
    # crash's addresses with addr2line).
    local keep=" gpu gpu_memory ops $GPU_SUITES "
    for t in "$DEV"/bundle/bin/test-*; do
        [[ $keep == *" ${t##*/test-} "* ]] || rm "$t"
    done
    # One stream with a window as large as the whole tar (~650 MiB): the test binaries share most
    # of their bytes. With a 256 MiB window the bundle and node.xz passed a call's 64 MiB carry
    # (39.1 MB against 36.4 MB; ~7 minutes on 2 cores).
    tar -C "$DEV" -cf - bundle | xz -9e -T1 --lzma2=preset=9e,dict=768MiB >"$DEV/bundle.tar.xz"
    # The addon and the kernel cache alone, for a call that runs only the Node suite
    # (`gpu-call.sh node`) where the bundle and node.xz together pass a call's carry.
    tar -C "$DEV" -cf - bundle/rill.node bundle/kernels | xz -9 -T2 >"$DEV/node-bundle.tar.xz"
    rm -rf "$DEV/bundle"
    # Node.js for the Node tests (the GPU machine has none): this machine's, stripped and
    # compressed once (86 MB, 21.8 MB packed: 2 MB less than unstripped, which the carry needed).
    if [ ! -f "$DEV/node.xz" ]; then
        strip -o "$DEV/node.stripped" "$(readlink -f "$(command -v node)")"
        xz -9e -T2 --lzma2=preset=9e,dict=128MiB -c "$DEV/node.stripped" >"$DEV/node.xz"
        rm "$DEV/node.stripped"
    fi
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
    # What the caller put on the path (real MLX, for the comparisons) stays after the wheel.
    # RILL_SITE: a Python package built after the bundle (an unpacked wheel), used instead of its own.
    export PYTHONPATH=${RILL_SITE:-$B/site}${PYTHONPATH:+:$PYTHONPATH}
    # `tests` is `rust` then `python`: two calls of their own where one call's time is short.
    if [ "$what" = all ] || [ "$what" = tests ] || [ "$what" = rust ]; then
        step gpu-tests "$B/bin/test-gpu" --test-threads=4
        step gpu-memory "$B/bin/test-gpu_memory"
        step ops-on-gpu env RILL_DEFAULT_DEVICE=gpu "$B/bin/test-ops" --test-threads=8
        for t in $GPU_SUITES; do
            [ -x "$B/bin/test-$t" ] && step "$t-on-gpu" env RILL_DEFAULT_DEVICE=gpu "$B/bin/test-$t"
        done
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
        step c-api "$B/bin/c-seed000"
        step demo "$B/bin/rill-demo" "$LOGS/demo"
        cp "$LOGS/demo/timeline.svg" "$OUT/demo_timeline.svg" 2>/dev/null || true
        # 20 fresh processes, each forking during its first matmuls; each prints "... 0 hung, 0 failed".
        step fork-probe bash -c 'for i in $(seq 20); do RILL_DEFAULT_DEVICE=cpu RILL_PROBE_DEADLINE_S=10 \
            "$0" 1 | tail -1; done | tee /dev/stderr | grep -vc " 0 hung, 0 failed" | grep -qx 0' "$B/bin/fork_probe"
    fi
    if [ "$what" = all ] || [ "$what" = tests ] || [ "$what" = python ]; then
        step python-seeds python3 -m pytest -q -rs -x tests/python/test_seeds.py tests/python/test_devices_streams.py \
            tests/python/test_dlpack_gpu.py
        STEP_TIMEOUT=${PYTEST_TIMEOUT:-480} step python-all python3 -m pytest -q -rs -p no:cacheprovider tests/python
    fi
    if [ "$what" = all ] || [ "$what" = bench ]; then
        step driver-floor "$B/bin/gpu_driver_floor"
        grep '^{' "$LOGS/driver-floor.log" >"$OUT/driver_floor.json" && cat "$OUT/driver_floor.json"
        step bench-gpu python3 benchmarks/gpu.py --out "$OUT/gpu_bench.json"
        cat "$LOGS/bench-gpu.log"
        # A 1 GiB safetensors file to the CPU and to the GPU (needs the safetensors package, and
        # real MLX for its row).
        step bench-load python3 benchmarks/load.py --gpu --rounds 3 --out "$OUT/load.json"
        cat "$LOGS/bench-load.log"
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
    *) echo "usage: $0 build | run [rust|python|tests|bench|all]" >&2; exit 2 ;;
esac
