#!/usr/bin/env bash
# One call on a lent GPU machine, around scripts/gpu-check.sh: bash scripts/gpu-call.sh DEADLINE_S tests|node|bench
#
# Carried beside the working tree (all ignored by git): .device/bundle.tar.xz (gpu-check.sh build),
# optionally .device/newsite.tar.xz (a release wheel built after the bundle, unpacked under site/
# and packed with xz: the Python package the run uses instead of the bundle's), and .whl/ (real MLX, safetensors and gguf wheels for
# Python 3.12, `pip download` as the device README says). Installs the wheels, runs the tests (or
# the CPU and GPU benchmarks), and stops by the deadline whatever happens, the logs packed under
# $OUT (a lent machine returns at most 8 files). NODE_RUNS=n (tests): the Node suite n more times.
set -u
deadline=$1 what=$2
T0=$SECONDS
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
export OUT=${OUT:-$PWD/gpu-out} PYTHONUNBUFFERED=1
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
mkdir -p "$OUT"
# NODE_RUNS=n: the Node suite n more times as CI runs it (`node --test`), each with a fresh copy of
# the bundle's own kernel cache (the suite before filled the shared one), so fused kernels compile
# in the background again: how Node's exit crash showed (runs Q-R). With scripts/debug/crashbt.so
# carried in .device/, a crashing or killed child leaves every thread's stack in the archive.
# $1: a folder holding bundle/kernels.
node_runs() {
    local r nl=/tmp/node-runs node
    node=$(command -v node || echo /tmp/node)
    [ "${NODE_RUNS:-0}" -gt 0 ] || return 0
    mkdir -p $nl
    local pre=()
    [ -f .device/crashbt.so ] && pre=(env CRASHBT_DIR=$nl CRASHBT_KEEP=1
        NODE_OPTIONS=--disable-wasm-trap-handler LD_PRELOAD=$PWD/.device/crashbt.so)
    for r in $(seq "$NODE_RUNS"); do
        rm -rf /tmp/kn && cp -r "$1/bundle/kernels" /tmp/kn
        RILL_KERNEL_CACHE=/tmp/kn timeout -s KILL 90 "${pre[@]}" "$node" --test \
            node/test/*.test.mjs >$nl/node$r.log 2>&1
        echo "node run $r: rc=$? $(grep -E '^# (pass|fail)' $nl/node$r.log | tr '\n' ' ')"
    done
    tar -C $nl -czf "$OUT/node_runs.tar.gz" .
}
if [ "$what" = tests ]; then
    job() {
        if [ -f .device/newsite.tar.xz ]; then
            mkdir -p /tmp/new && tar -C /tmp/new -xJf .device/newsite.tar.xz
            export RILL_SITE=/tmp/new/site
        fi
        STEP_TIMEOUT=240 PYTEST_TIMEOUT=300 bash scripts/gpu-check.sh run tests
        [ "${NODE_RUNS:-0}" -gt 0 ] || return 0
        mkdir -p /tmp/kb && tar -C /tmp/kb -xJf .device/bundle.tar.xz bundle/kernels
        node_runs /tmp/kb
    }
elif [ "$what" = node ]; then
    # The Node suite alone, for when the bundle and node.xz together pass a call's 64 MiB carry:
    # carry .device/node.xz and .device/node-bundle.tar.xz (gpu-check.sh build: the bundle's
    # addon and kernel cache), and leave node.xz out of the `tests` call (its Node step skips).
    job() {
        mkdir -p /tmp/kb && tar -C /tmp/kb -xJf .device/node-bundle.tar.xz
        [ -x /tmp/node ] || { xz -dc .device/node.xz >/tmp/node && chmod +x /tmp/node; }
        cp /tmp/kb/bundle/rill.node node/rill.node
        nvidia-smi --query-gpu=name --format=csv,noheader
        local t0=$SECONDS
        RILL_KERNEL_CACHE=/tmp/kb/bundle/kernels timeout -s KILL 120 /tmp/node --test \
            node/test/*.test.mjs >/tmp/node-suite.log 2>&1
        echo "node suite: rc=$? in $((SECONDS - t0)) s $(grep -E '^# (pass|fail)' /tmp/node-suite.log | tr '\n' ' ')"
        mkdir -p /tmp/rill-logs && cp /tmp/node-suite.log /tmp/rill-logs/
        node_runs /tmp/kb
    }
else
    job() {
        # The many-core CPU figures first (issue 14), then the GPU benchmarks (issue 9), all with
        # the working tree's wheel (newsite.tar.xz, which has the CUDA backend too).
        if [ -f .device/newsite.tar.xz ]; then
            mkdir -p /tmp/new && tar -C /tmp/new -xJf .device/newsite.tar.xz
        else
            mkdir -p /tmp/new && tar -C /tmp/new -xJf .device/bundle.tar.xz && mv /tmp/new/bundle/site /tmp/new/site
        fi
        export PYTHONPATH=/tmp/new/site:/tmp/site
        nproc
        # PARTS picks what runs (default: everything), e.g. PARTS="gpu streams-fused".
        local parts=" ${PARTS:-matmul streams unary gpu} "
        if [[ $parts == *" matmul "* ]]; then
            echo "== api_ops matmul (16 cores)"
            timeout 100 python3 benchmarks/api_ops.py --rill python3 --torch python3 --ops matmul --rounds 5 --iters 7 2>&1
        fi
        if [[ $parts == *" streams "* ]]; then
            echo "== streams (16 cores)"
            timeout 170 python3 benchmarks/streams.py --n 1,2,4,8,16 --kinds ew,mm128 --rounds 1 --runs 3 --profile --json "$OUT/streams.json" 2>&1
        fi
        if [[ $parts == *" streams-fused "* ]]; then
            # rill alone, its lazy chains fused on the CPU too (RILL_AUTO_FUSE=all), then not.
            echo "== streams, CPU auto-fusion on (16 cores)"
            RILL_AUTO_FUSE=all timeout 80 python3 benchmarks/streams.py --engines rill --n 1,4,16 --kinds ew,mm128 --rounds 1 --runs 3 2>&1
            echo "== streams, CPU auto-fusion off (16 cores)"
            RILL_AUTO_FUSE=off timeout 80 python3 benchmarks/streams.py --engines rill --n 1,4,16 --kinds ew,mm128 --rounds 1 --runs 3 2>&1
        fi
        if [[ $parts == *" streams-per-core "* ]]; then
            # N streams counted in chains of one thread each (issue 14's 0.8 N; streams.py doc).
            echo "== streams, per core (16 cores)"
            # --ceiling: N processes of one chain each beside it (the machine's own bound);
            # --profile: op times, how busy the streams were, how long Python took to build.
            timeout 300 python3 benchmarks/streams.py --n 1,2,4,8,16 --kinds ew,mm128 --rounds 1 --runs 3 --per-core --ceiling --profile --json "$OUT/streams_per_core.json" 2>&1
        fi
        if [[ $parts == *" streams-async "* ]]; then
            # Each chain started with async_eval as soon as it is built (both engines).
            echo "== streams, per core, async_eval per chain (16 cores)"
            timeout 300 python3 benchmarks/streams.py --n 1,2,4,8,16 --kinds ew,mm128 --rounds 1 --runs 3 --per-core --async-eval --json "$OUT/streams_async.json" 2>&1
        fi
        if [[ $parts == *" streams-ab "* ]]; then
            # An older wheel (.device/oldsite.tar.xz, packed like newsite) against this run's,
            # alternating in one run: the machine's speed drifts between calls, so a change to
            # the per-op cost is read only side by side. Eval at the end, then async_eval.
            mkdir -p /tmp/old && tar -C /tmp/old -xJf .device/oldsite.tar.xz
            local ab=(--engines old,new --path old=/tmp/old/site --path new=/tmp/new/site
                --n 1,4,16 --kinds ew,mm128 --rounds 3 --runs 3 --per-core)
            echo "== streams, old and new wheels, per core (16 cores)"
            timeout 200 python3 benchmarks/streams.py "${ab[@]}" --profile --json "$OUT/streams_ab.json" 2>&1
            echo "== streams, old and new wheels, async_eval per chain (16 cores)"
            timeout 200 python3 benchmarks/streams.py "${ab[@]}" --async-eval --json "$OUT/streams_ab_async.json" 2>&1
        fi
        if [[ $parts == *" unary "* ]]; then
            echo "== unary (16 cores)"
            timeout 90 python3 benchmarks/unary.py --rill python3 --numpy python3 --torch python3 --rounds 3 2>&1
        fi
        [[ $parts == *" gpu "* ]] || return 0
        echo "== gpu.py"
        timeout 240 python3 benchmarks/gpu.py --out "$OUT/gpu_bench.json" 2>&1
    }
fi
job > "$OUT/summary.txt" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null && [ $((SECONDS - T0)) -lt "$deadline" ]; do sleep 2; done
kill -0 $pid 2>/dev/null && echo "!! deadline $deadline s reached: stopped" >>"$OUT/summary.txt"
[ -f "$OUT/logs.tar.gz" ] || tar -C /tmp/rill-logs -czf "$OUT/logs.tar.gz" . 2>/dev/null
cat "$OUT/summary.txt"
echo "total $((SECONDS - T0)) s"
