"""How much two GPU streams can gain on two independent chains of small kernels, and how much of
that rill gets.

The chain is the GPU issue's (and ../shared/anchors/gpu_anchor.py's): 200 steps of
`y = (y @ A) * 0.01` with A of n x n, for n = 128, 256, 512 float32 (TF32 off) and 512 bfloat16.

- The device's ceiling: PyTorch records each chain as a CUDA graph (one per stream) and replays
  them, so no host work is left between kernels; two graphs replayed on one stream, then on two
  streams at once. What the second stream gains there is what the kernels themselves can overlap
  on the GPU (cuBLAS's and cuBLASLt's kernels, chosen by their own heuristics).
- rill: the two chains built and evaluated as users write them, on one stream, then on two.
- `--engine lt` (a probe, not part of the default run): the same graphs with the product made by
  cuBLASLt directly (ctypes), once with each of its heuristic's first algorithms, and once with
  the matmul descriptor's SM_COUNT_TARGET at half the device's SMs (cuBLASLt's own knob for a
  product that shares the GPU with another stream). It shows which kernels two streams can run
  side by side, and at what cost to one stream alone.

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


def replay_pair(torch, graphs, streams):
    """Two recorded chains replayed one after the other on one stream, then on a stream each."""

    def one_stream():
        graphs[0].replay()
        graphs[1].replay()

    def two_streams():
        for g, s in zip(graphs, streams):
            with torch.cuda.stream(s):
                g.replay()

    sync = torch.cuda.synchronize
    t1, t2 = med(one_stream, sync), med(two_streams, sync)
    return {"one_stream_ms": t1 * 1e3, "two_streams_ms": t2 * 1e3, "speedup": t1 / t2}


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

            R[f"{lib} {n} {dt}"] = replay_pair(torch, graphs, streams)
    return R


def bench_lt(top=8):
    """cuBLASLt by hand (ctypes), inside PyTorch's CUDA graphs: see the module doc."""
    import ctypes

    import torch

    sync = torch.cuda.synchronize
    lt = None
    for name in ("libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"):
        try:
            lt = ctypes.CDLL(name)
            break
        except OSError:
            pass
    if lt is None:
        import glob
        import os

        import nvidia

        hits = glob.glob(os.path.join(os.path.dirname(nvidia.__path__[0] + "/"), "*",
                                      "lib", "libcublasLt.so*"))
        lt = ctypes.CDLL(sorted(hits)[-1])
    vp, u64, i64 = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64

    def ok(status, what):
        if status != 0:
            raise RuntimeError(f"cuBLASLt {what}: status {status}")

    class Heur(ctypes.Structure):
        _fields_ = [("algo", ctypes.c_uint64 * 8), ("ws", ctypes.c_size_t),
                    ("state", ctypes.c_int), ("waves", ctypes.c_float),
                    ("reserved", ctypes.c_int * 4)]

    handle = vp()
    ok(lt.cublasLtCreate(ctypes.byref(handle)), "create")
    sms = torch.cuda.get_device_properties(0).multi_processor_count
    ws_bytes = 32 << 20
    R = {"sms": sms}
    for n, dt in SIZES:
        ty = {"float32": 0, "bfloat16": 14}[dt]
        a = torch.randn(n, n, device="cuda", dtype=getattr(torch, dt))

        def desc_with(target):
            d = vp()
            ok(lt.cublasLtMatmulDescCreate(ctypes.byref(d), 68, 0), "desc")  # 32F compute/scale
            if target:
                t = ctypes.c_int32(target)
                ok(lt.cublasLtMatmulDescSetAttribute(d, 15, ctypes.byref(t), ctypes.c_size_t(4)),
                   "sm target")
            return d

        lay = vp()
        ok(lt.cublasLtMatrixLayoutCreate(ctypes.byref(lay), ty, u64(n), u64(n), i64(n)), "layout")
        pref = vp()
        ok(lt.cublasLtMatmulPreferenceCreate(ctypes.byref(pref)), "pref")
        wsz = ctypes.c_uint64(ws_bytes)
        ok(lt.cublasLtMatmulPreferenceSetAttribute(pref, 1, ctypes.byref(wsz),
                                                     ctypes.c_size_t(8)), "pref ws")

        def heuristics(desc, k):
            res = (Heur * k)()
            got = ctypes.c_int(0)
            ok(lt.cublasLtMatmulAlgoGetHeuristic(handle, desc, lay, lay, lay, lay, pref, k, res,
                                                 ctypes.byref(got)), "heuristic")
            return [res[i] for i in range(got.value)]

        def config(h):
            out = {}
            for key, attr, size in (("id", 0, 4), ("tile", 1, 4), ("splitk", 2, 4),
                                    ("reduction", 3, 4), ("stages", 6, 4), ("cluster", 8, 2)):
                buf = ctypes.c_uint32(0)
                wrote = ctypes.c_size_t(0)
                lt.cublasLtMatmulAlgoConfigGetAttribute(ctypes.byref(h.algo), attr,
                                                        ctypes.byref(buf), ctypes.c_size_t(size),
                                                        ctypes.byref(wrote))
                out[key] = buf.value
            out["waves"] = round(h.waves, 3)
            return out

        alpha, beta = ctypes.c_float(1.0), ctypes.c_float(0.0)
        streams = [torch.cuda.Stream(), torch.cuda.Stream()]
        wss = [torch.empty(ws_bytes, dtype=torch.uint8, device="cuda") for _ in streams]

        def variant(desc, h):
            def product(y, s, ws):
                d = torch.empty_like(y)
                # Row-major y @ a is column-major a' @ y': A = a, B = y, D = d.
                ok(lt.cublasLtMatmul(handle, desc, ctypes.byref(alpha), vp(a.data_ptr()), lay,
                                     vp(y.data_ptr()), lay, ctypes.byref(beta),
                                     vp(d.data_ptr()), lay, vp(d.data_ptr()), lay,
                                     ctypes.byref(h.algo), vp(ws.data_ptr()), u64(ws_bytes),
                                     vp(s.cuda_stream)), "matmul")
                return d

            graphs = []
            for s, ws in zip(streams, wss):
                with torch.cuda.stream(s):
                    y = a
                    for _ in range(3):
                        y = product(y, s, ws) * 0.01
                sync()
                g = torch.cuda.CUDAGraph()
                with torch.cuda.graph(g, stream=s):
                    y = a
                    for _ in range(STEPS):
                        y = product(y, s, ws) * 0.01
                graphs.append(g)

            return {**replay_pair(torch, graphs, streams), **config(h)}

        plain = desc_with(0)
        rows = {}
        for i, h in enumerate(heuristics(plain, top)):
            try:
                rows[f"algo{i}"] = variant(plain, h)
            except RuntimeError as e:
                rows[f"algo{i}"] = {"error": str(e)}
        for target in (sms // 2, sms // 4):
            d = desc_with(target)
            hs = heuristics(d, 1)
            if hs:
                rows[f"sm_target{target}"] = variant(d, hs[0])
        R[f"lt {n} {dt}"] = rows
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
    p.add_argument("--engine", choices=["torch", "rill", "lt"])
    p.add_argument("--out")
    args = p.parse_args()
    if args.engine:
        bench = {"torch": bench_torch, "rill": bench_rill, "lt": bench_lt}[args.engine]
        print(json.dumps(bench()))
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
