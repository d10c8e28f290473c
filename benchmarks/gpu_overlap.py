"""How much two GPU streams can gain on two independent chains of small kernels, and how much of
that rill gets.

The chain is the GPU issue's (and ../shared/anchors/gpu_anchor.py's): 200 steps of
`y = (y @ A) * 0.01` with A of n x n, for n = 128, 256, 512 float32 (TF32 off) and 512 bfloat16.

- The device's ceiling: PyTorch records each chain as a CUDA graph (one per stream) and replays
  them, so no host work is left between kernels; two graphs replayed on one stream, then on two
  streams at once. What the second stream gains there is what the kernels themselves can overlap
  on the GPU (cuBLAS's and cuBLASLt's kernels, chosen by their own heuristics).
- rill: the two chains built and evaluated as users write them, on one stream, then on two.

Each engine runs in a process of its own; figures are medians of 7 runs.

    python3 benchmarks/gpu_overlap.py --out gpu_overlap.json
"""

import argparse
import json
import subprocess
import sys
import time

SIZES = [(128, "float32"), (256, "float32"), (512, "float32"), (512, "bfloat16")]
STEPS = 200


def med(f, sync, n=7):
    f()
    sync()
    ts = []
    for _ in range(n):
        sync()
        t = time.perf_counter()
        f()
        sync()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[n // 2]


def bench_torch():
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    sync = torch.cuda.synchronize
    R = {}

    def chain(a, k):
        y = a
        for _ in range(k):
            y = (y @ a) * 0.01
        return y

    for lib in ("cublas", "cublaslt"):
        torch.backends.cuda.preferred_blas_library(lib)
        for n, dt in SIZES:
            a = torch.randn(n, n, device="cuda", dtype=getattr(torch, dt))
            streams = [torch.cuda.Stream(), torch.cuda.Stream()]
            graphs = []
            for s in streams:
                with torch.cuda.stream(s):
                    chain(a, 3)  # warm up cuBLAS on this stream before recording
                sync()
                g = torch.cuda.CUDAGraph()
                with torch.cuda.graph(g, stream=s):
                    chain(a, STEPS)
                graphs.append(g)

            def one_stream():
                graphs[0].replay()
                graphs[1].replay()

            def two_streams():
                for g, s in zip(graphs, streams):
                    with torch.cuda.stream(s):
                        g.replay()

            t1, t2 = med(one_stream, sync), med(two_streams, sync)
            R[f"{lib} {n} {dt}"] = {"one_stream_ms": t1 * 1e3, "two_streams_ms": t2 * 1e3,
                                    "speedup": t1 / t2}
    return R


def bench_rill():
    import rill.core as mx

    R = {}
    s1, s2 = mx.new_stream(mx.gpu), mx.new_stream(mx.gpu)

    def chain(a, s):
        y = a
        with mx.stream(s):
            for _ in range(STEPS):
                y = mx.matmul(y, a) * 0.01
        return y

    for n, dt in SIZES:
        a = mx.random.normal((n, n)).astype(getattr(mx, dt))
        mx.eval(a)
        t1 = med(lambda: mx.eval(chain(a, s1), chain(a, s1)), lambda: None)
        t2 = med(lambda: mx.eval(chain(a, s1), chain(a, s2)), lambda: None)
        R[f"rill {n} {dt}"] = {"one_stream_ms": t1 * 1e3, "two_streams_ms": t2 * 1e3,
                               "speedup": t1 / t2}
    return R


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--engine", choices=["torch", "rill"])
    p.add_argument("--out")
    args = p.parse_args()
    if args.engine:
        print(json.dumps(bench_torch() if args.engine == "torch" else bench_rill()))
        return
    R = {}
    for engine in ("torch", "rill"):
        out = subprocess.run([sys.executable, __file__, "--engine", engine], check=True,
                             capture_output=True, text=True).stdout
        R.update(json.loads(out.strip().splitlines()[-1]))
    print(f"| chain | one stream, ms | two streams, ms | speed-up |")
    print("|---|---|---|---|")
    for k, v in R.items():
        print(f"| {k} | {v['one_stream_ms']:.2f} | {v['two_streams_ms']:.2f} | {v['speedup']:.2f}x |")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(R, f, indent=1)


if __name__ == "__main__":
    main()
