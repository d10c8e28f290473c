"""rill on the GPU side by side with PyTorch: the figures of the GPU issue.

Each engine runs in a process of its own (another library's worker threads or allocator must not
distort the other's timings), in alternating rounds; each figure is the median over the rounds of
each round's median. Prints a table and writes JSON (--out).

    python3 benchmarks/gpu.py --out gpu_bench.json [--rounds 2]

Figures (the anchors are ../shared/anchors/gpu_anchor.py's):
- tiny op (a 1-element add) chained 10 000 times, one eval at the end: us per op
- the same with an eval after each op: us per op
- add and sum of 2^28 float32: GB/s (bytes read + written)
- matmul 8192^3 bfloat16 and float32 (TF32 off): TFLOP/s
- two chains of 200 small kernels (512x512 matmul, scale) on one stream vs two: speed-up
- a 512 MiB host-to-device copy on one stream while matmuls run on another:
  efficiency = max(copy, compute) / both (1.0 = the copy is completely hidden)
- seed 004's loop (CPU stream prepares batches, GPU stream computes) under a capture: the
  overlap of the two lanes (rill only; writes seed004_trace.json beside --out)
- issue 11's chain (8 elementwise ops and a sum over 4096x4096 float32): plain and compiled
  (rill: `mx.compile`, one fused kernel; PyTorch: eager, and `torch.compile` where it works),
  with the sum alone as one memory pass; and 100 tiny ops in a compiled function, per op
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def med(f, n=10, warm=2):
    for _ in range(warm):
        f()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[len(ts) // 2]


# Issue 11's chain, the same code as on the CPU (8 elementwise ops and a sum).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transforms import chain as chain8  # noqa: E402


def tiny100(y):
    for _ in range(100):
        y = y + 1
    return y


def bench_torch():
    import torch

    R = {}
    d = torch.device("cuda")
    sync = torch.cuda.synchronize
    torch.backends.cuda.matmul.allow_tf32 = False
    x = torch.ones(1, device=d)

    def chain():
        y = x
        for _ in range(10000):
            y = y + 1
        sync()

    R["tiny_chain_us"] = med(chain, 5) / 10000 * 1e6

    def each():
        y = x
        for _ in range(1000):
            y = y + 1
            sync()

    R["tiny_eval_each_us"] = med(each, 5) / 1000 * 1e6
    n = 1 << 28
    a = torch.rand(n, device=d)
    b = torch.rand(n, device=d)
    R["add_GBps"] = 12 * n / med(lambda: (torch.add(a, b), sync())) / 1e9
    R["sum_GBps"] = 4 * n / med(lambda: (a.sum(), sync())) / 1e9
    del a, b
    for dt, name in ((torch.bfloat16, "bf16"), (torch.float32, "f32")):
        m = 8192
        A = torch.randn(m, m, device=d, dtype=dt)
        B = torch.randn(m, m, device=d, dtype=dt)
        R[f"matmul_{name}_TFLOPs"] = 2 * m**3 / med(lambda: (A @ B, sync())) / 1e12
        del A, B
    A = torch.randn(512, 512, device=d)
    s1, s2 = torch.cuda.Stream(), torch.cuda.Stream()

    def chains(ss):
        ys = []
        for s in ss:
            with torch.cuda.stream(s):
                y = A
                for _ in range(200):
                    y = (y @ A) * 0.01
                ys.append(y)
        sync()

    t1 = med(lambda: chains([s1, s1]), 5)
    t2 = med(lambda: chains([s1, s2]), 5)
    R["two_chains_one_stream_ms"] = t1 * 1e3
    R["two_chains_two_streams_ms"] = t2 * 1e3
    R["two_streams_speedup"] = t1 / t2
    h = torch.empty(1 << 27, dtype=torch.float32).pin_memory()
    g = torch.empty(1 << 27, dtype=torch.float32, device=d)
    A = torch.randn(4096, 4096, device=d)

    def copy():
        g.copy_(h, non_blocking=True)

    def compute():
        for _ in range(6):
            A @ A

    tc = med(lambda: (copy(), sync()))
    tm = med(lambda: (compute(), sync()))

    def both():
        with torch.cuda.stream(s1):
            copy()
        with torch.cuda.stream(s2):
            compute()
        sync()

    tb = med(both)
    R["copy_ms"], R["compute_ms"], R["both_ms"] = tc * 1e3, tm * 1e3, tb * 1e3
    R["copy_GBps"] = 4 * (1 << 27) / tc / 1e9
    R["overlap_efficiency"] = max(tc, tm) / tb
    # The same copy from pageable memory, as rill's (a NumPy array's bytes): the driver stages it.
    hp = torch.rand(1 << 27, dtype=torch.float32)
    R["copy_pageable_GBps"] = 4 * (1 << 27) / med(lambda: (g.copy_(hp), sync())) / 1e9
    del h, hp, g, A
    x = torch.randn(4096, 4096, device=d)
    R["chain_pass_ms"] = med(lambda: (x.sum(), sync())) * 1e3
    R["chain_plain_ms"] = med(lambda: (chain8(torch, x), sync())) * 1e3
    try:
        compiled = torch.compile(lambda v: chain8(torch, v))
        compiled(x)
        R["chain_compiled_ms"] = med(lambda: (compiled(x), sync())) * 1e3
        tiny = torch.compile(tiny100)
        t1 = torch.ones(1, device=d)
        tiny(t1)
        R["tiny_compiled_us_per_op"] = med(lambda: (tiny(t1), sync()), 20) / 100 * 1e6
    except Exception as e:  # torch.compile needs a working Triton; say why it is missing
        R["compile_error"] = f"{type(e).__name__}: {str(e)[:200]}"
    return R


def bench_rill(out_dir):
    import rill.core as mx

    R = {}
    assert mx.is_available(mx.gpu), "rill sees no GPU"
    R["device"] = mx.device_info(mx.gpu)["device_name"]
    x = mx.ones((1,))
    mx.eval(x)

    def chain():
        y = x
        for _ in range(10000):
            y = y + 1
        mx.eval(y)

    # Lazy chains fused when evaluated, GPU streams included (scheduler/auto_fuse.rs; rill's
    # default fuses CPU streams only until a GPU run confirms it). The first evaluation of a new
    # chain runs its ops one by one while the fused program's kernel compiles in the background;
    # later ones run fused nodes of 32 ops. Then the same with fusion off.
    fusion = getattr(mx, "set_auto_fusion", None)
    if fusion:
        old_fusion = fusion("off")
        R["tiny_chain_unfused_us"] = med(chain, 5) / 10000 * 1e6
        fusion("all")
        t = time.perf_counter()
        chain()
        R["tiny_chain_first_us"] = (time.perf_counter() - t) / 10000 * 1e6
    R["tiny_chain_us"] = med(chain, 5) / 10000 * 1e6
    if fusion:
        fusion(old_fusion)

    def each():
        y = x
        for _ in range(1000):
            y = y + 1
            mx.eval(y)

    R["tiny_eval_each_us"] = med(each, 5) / 1000 * 1e6
    n = 1 << 28
    a = mx.random.uniform(shape=(n,))
    b = mx.random.uniform(shape=(n,))
    mx.eval(a, b)
    R["add_GBps"] = 12 * n / med(lambda: mx.eval(a + b)) / 1e9
    R["sum_GBps"] = 4 * n / med(lambda: mx.eval(a.sum())) / 1e9
    del a, b
    for dt, name in ((mx.bfloat16, "bf16"), (mx.float32, "f32")):
        m = 8192
        A = mx.random.normal((m, m)).astype(dt)
        B = mx.random.normal((m, m)).astype(dt)
        mx.eval(A, B)
        R[f"matmul_{name}_TFLOPs"] = 2 * m**3 / med(lambda: mx.eval(A @ B)) / 1e12
        del A, B
    A = mx.random.normal((512, 512))
    mx.eval(A)
    s1, s2 = mx.new_stream(mx.gpu), mx.new_stream(mx.gpu)

    def chain_on(s):
        # Both ops of each step on `s`, as the PyTorch side runs both under `torch.cuda.stream(s)`
        # (a bare `* 0.01` would go to the default stream and tie the two chains together there).
        y = A
        with mx.stream(s):
            for _ in range(200):
                y = mx.matmul(y, A) * 0.01
        return y

    t1 = med(lambda: mx.eval(chain_on(s1), chain_on(s1)), 5)
    t2 = med(lambda: mx.eval(chain_on(s1), chain_on(s2)), 5)
    R["two_chains_one_stream_ms"] = t1 * 1e3
    R["two_chains_two_streams_ms"] = t2 * 1e3
    R["two_streams_speedup"] = t1 / t2
    # Where the time goes (not a figure of the issue): the same runs under a capture, whose GPU
    # lanes hold the kernels' device times. GPU-busy time near the wall time means the GPU is the
    # limit; far below it, the host is.
    for tag, (a_s, b_s) in (("one", (s1, s1)), ("two", (s1, s2))):
        path = os.path.join(out_dir, f"two_chains_{tag}_stream_trace.json")
        with mx.capture(path) as cap:
            t = time.perf_counter()
            mx.eval(chain_on(a_s), chain_on(b_s))
            wall = time.perf_counter() - t
        summ = cap.summary
        R[f"diag_two_chains_{tag}_wall_ms"] = wall * 1e3
        R[f"diag_two_chains_{tag}_gpu_busy_ms"] = [
            st["busy_us"] / 1e3 for st in summ["streams"] if "cpu" not in str(st["device"]).lower()
        ]
        with open(path) as f:
            events = json.load(f)
        events = events.get("traceEvents", events) if isinstance(events, dict) else events
        per_op = {}
        for e in events:
            if e.get("ph") == "X" and e.get("cat") == "op":
                c = per_op.setdefault(e["name"], [0, 0.0])
                c[0] += 1
                c[1] += e["dur"]
        R[f"diag_two_chains_{tag}_device_us_per_op"] = {k: v[1] / v[0] for k, v in per_op.items()}
    # The same tiny chain on a CPU stream: what a GPU op costs beyond the runtime's own path.
    s_c = mx.new_stream(mx.cpu)
    xc = mx.ones((1,), stream=s_c)
    mx.eval(xc)

    def chain_cpu():
        y = xc
        with mx.stream(s_c):
            for _ in range(10000):
                y = y + 1
        mx.eval(y)

    # Op by op, as the GPU chain's unfused figure runs.
    old_fusion = fusion("off") if fusion else None
    R["tiny_chain_cpu_stream_us"] = med(chain_cpu, 5) / 10000 * 1e6
    if fusion:
        fusion(old_fusion)
    # Host to device: every GPU op on a host array copies it (once); fresh host arrays each time.
    host = np.random.default_rng(0).random(1 << 27, dtype=np.float32)
    B4 = mx.random.normal((4096, 4096))
    mx.eval(B4)

    def fresh():
        h = mx.array(host)
        mx.eval(h)
        return h

    def timed(f, setup, n=8):
        ts = []
        for i in range(n + 2):
            arg = setup()
            t = time.perf_counter()
            f(arg)
            if i >= 2:
                ts.append(time.perf_counter() - t)
        ts.sort()
        return ts[len(ts) // 2]

    def copy(h):
        mx.eval(mx.multiply(h, 1.0, stream=s1))

    def compute(_):
        mx.eval(*[mx.matmul(B4, B4, stream=s2) for _ in range(6)])

    def both(h):
        mx.eval(mx.multiply(h, 1.0, stream=s1), *[mx.matmul(B4, B4, stream=s2) for _ in range(6)])

    tc = timed(copy, fresh)
    tm = timed(compute, lambda: None)
    tb = timed(both, fresh)
    R["copy_ms"], R["compute_ms"], R["both_ms"] = tc * 1e3, tm * 1e3, tb * 1e3
    R["copy_GBps"] = 4 * (1 << 27) / tc / 1e9
    R["overlap_efficiency"] = max(tc, tm) / tb
    # Seed 004's loop: the CPU stream prepares batch i+1 while the GPU stream computes batch i.
    s_cpu, s_gpu = mx.new_stream(mx.cpu), mx.new_stream(mx.gpu)
    w = mx.random.normal((1024, 1024))
    mx.eval(w)
    raw = [mx.array(np.random.default_rng(i).random((256, 1024), dtype=np.float32)) for i in range(12)]

    def decode(r):
        with mx.stream(s_cpu):
            return mx.tanh(mx.exp(mx.sin(r) * 0.5) - 1.0)

    def model_forward(batch):
        y = batch
        for _ in range(8):
            y = mx.tanh(mx.matmul(y, w) * 0.03)
        return y

    trace = os.path.join(out_dir, "seed004_trace.json")
    with mx.capture(trace) as cap:
        losses = []
        nxt = decode(raw[0])
        mx.async_eval(nxt)
        for i in range(len(raw)):
            batch = nxt
            if i + 1 < len(raw):
                nxt = decode(raw[i + 1])
                mx.async_eval(nxt)
            with mx.stream(s_gpu):
                loss = mx.mean(model_forward(batch) ** 2)
            mx.async_eval(loss)
            losses.append(loss)
        mx.eval(losses)
    summ = cap.summary
    R["seed004_summary"] = summ
    x = mx.random.normal((4096, 4096))
    mx.eval(x)
    R["chain_pass_ms"] = med(lambda: mx.eval(x.sum())) * 1e3
    R["chain_plain_ms"] = med(lambda: mx.eval(chain8(mx, x))) * 1e3
    compiled = mx.compile(lambda v: chain8(mx, v))
    mx.eval(compiled(x))
    R["chain_compiled_ms"] = med(lambda: mx.eval(compiled(x))) * 1e3
    # Fusion changes no value: the compiled sum is the plain one bit for bit (recorded, not
    # asserted, so a difference still leaves the timings).
    R["chain_compiled_minus_plain"] = compiled(x).item() - chain8(mx, x).item()
    tiny = mx.compile(tiny100)
    t1 = mx.ones((1,))
    mx.eval(tiny(t1))
    R["tiny_compiled_us_per_op"] = med(lambda: mx.eval(tiny(t1)), 20) / 100 * 1e6
    return R


def run_engine(engine, out_dir):
    # The per-engine results go to a scratch folder: only the merged JSON belongs beside --out.
    scratch = tempfile.mkdtemp(prefix="rill-gpu-bench-")
    cmd = [sys.executable, __file__, "--engine", engine, "--out", os.path.join(scratch, f"_{engine}.json")]
    cmd += ["--trace-dir", out_dir]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"{engine} failed:\n{r.stdout}\n{r.stderr}", file=sys.stderr)
        return None
    with open(os.path.join(scratch, f"_{engine}.json")) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="gpu_bench.json")
    ap.add_argument("--engine")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--trace-dir", help="where the rill engine writes seed004_trace.json")
    args = ap.parse_args()
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if args.engine:
        r = bench_torch() if args.engine == "torch" else bench_rill(args.trace_dir or out_dir)
        with open(args.out, "w") as f:
            json.dump(r, f, indent=1, default=str)
        return
    rounds = {"rill": [], "torch": []}
    for _ in range(args.rounds):
        for engine in ("rill", "torch"):
            r = run_engine(engine, out_dir)
            if r is not None:
                rounds[engine].append(r)
    result = {}
    for engine, rs in rounds.items():
        merged = {}
        for k in rs[0] if rs else []:
            vals = [r[k] for r in rs if isinstance(r.get(k), (int, float))]
            merged[k] = float(np.median(vals)) if vals else rs[-1][k]
        result[engine] = merged
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1, default=str)
    rill, torch = result.get("rill", {}), result.get("torch", {})
    print(f"{'figure':32s} {'rill':>12s} {'torch':>12s} {'rill/torch':>10s}")
    for k in sorted(set(rill) | set(torch)):
        a, b = rill.get(k), torch.get(k)
        if isinstance(a, float) or isinstance(b, float):
            ratio = a / b if isinstance(a, float) and isinstance(b, float) and b else float("nan")
            fa = f"{a:12.3f}" if isinstance(a, float) else f"{'-':>12s}"
            fb = f"{b:12.3f}" if isinstance(b, float) else f"{'-':>12s}"
            print(f"{k:32s} {fa} {fb} {ratio:10.3f}")
    if "seed004_summary" in rill:
        print("seed 004 capture summary:", json.dumps(rill["seed004_summary"], default=str)[:2000])


if __name__ == "__main__":
    main()
