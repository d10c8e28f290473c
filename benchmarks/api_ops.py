"""conv2d, fast.scaled_dot_product_attention, fast.rms_norm and a 2048 matmul: rill against real
MLX and PyTorch on the CPU (issue 10's benchmark; the matmul is issue 14's).

Each engine runs in a process of its own (an OpenBLAS or OpenMP pool keeps spinning after a
call and would slow whatever runs next in a shared process), and the engines take turns: one
process per engine per round, the order rotated every round. A process builds the inputs from
the same seed, warms each op up, then times ``--iters`` calls one by one (each ending when the
result is computed); the table gives, per engine and op, the median over the rounds of each
round's median, and the ratios. The outputs' sums are compared across engines first, so the
engines are seen to compute the same thing.

    python benchmarks/api_ops.py --rill PY --mlx PY --torch PY [--rounds 5] [--iters 10]
        [--ops conv2d,sdpa,rms_norm,matmul]

Each PY is the interpreter that has that engine (rill on its PYTHONPATH); leave one out to skip
that engine. `--ops` picks the ops (default: the first three; MLX's CPU matmul is a reference
BLAS, seconds per 2048 product, so leave MLX out when timing `matmul`).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

SEED = 20261203

#: (name, description) of the benchmarked ops, in table order.
OPS = [
    ("conv2d", "conv2d, 3x3, batch 8, 56x56, 64->64 channels, padding 1"),
    ("sdpa", "fast.scaled_dot_product_attention, 1x8 heads x 1024 x 64"),
    ("rms_norm", "fast.rms_norm, 4096x4096"),
    ("matmul", "matmul, 2048x2048 float32"),
]
DEFAULT_OPS = "conv2d,sdpa,rms_norm"


def inputs():
    """The same float32 inputs for every engine, channels-last for conv2d (MLX's layout)."""
    rng = np.random.default_rng(SEED)
    f = np.float32
    return {
        "conv_x": rng.standard_normal((8, 56, 56, 64)).astype(f),
        "conv_w": (rng.standard_normal((64, 3, 3, 64)) / 24).astype(f),
        "q": rng.standard_normal((1, 8, 1024, 64)).astype(f),
        "k": rng.standard_normal((1, 8, 1024, 64)).astype(f),
        "v": rng.standard_normal((1, 8, 1024, 64)).astype(f),
        "norm_x": rng.standard_normal((4096, 4096)).astype(f),
        "norm_w": rng.standard_normal(4096).astype(f),
        # Positive, so the checksum (a sum of 4 Mi products) is far from zero.
        "mm_a": rng.random((2048, 2048)).astype(f),
        "mm_b": rng.random((2048, 2048)).astype(f),
    }


def mlx_like_ops(mx):
    """The three ops for rill or MLX (the same API), each returning an evaluated array."""
    data = {k: mx.array(v) for k, v in inputs().items()}
    mx.eval(list(data.values()))
    scale = 1.0 / 8.0

    def conv2d():
        out = mx.conv2d(data["conv_x"], data["conv_w"], padding=1)
        mx.eval(out)
        return out

    def sdpa():
        out = mx.fast.scaled_dot_product_attention(data["q"], data["k"], data["v"], scale=scale)
        mx.eval(out)
        return out

    def rms_norm():
        out = mx.fast.rms_norm(data["norm_x"], data["norm_w"], 1e-5)
        mx.eval(out)
        return out

    def matmul():
        out = data["mm_a"] @ data["mm_b"]
        mx.eval(out)
        return out

    return {"conv2d": conv2d, "sdpa": sdpa, "rms_norm": rms_norm, "matmul": matmul}


def torch_ops():
    import torch
    import torch.nn.functional as F

    data = {k: torch.from_numpy(v) for k, v in inputs().items()}
    # PyTorch's layout is channels-first: the same values, permuted.
    x = data["conv_x"].permute(0, 3, 1, 2).contiguous()
    w = data["conv_w"].permute(0, 3, 1, 2).contiguous()
    rms = getattr(F, "rms_norm", None)

    def conv2d():
        with torch.inference_mode():
            return F.conv2d(x, w, padding=1).permute(0, 2, 3, 1)

    def sdpa():
        with torch.inference_mode():
            return F.scaled_dot_product_attention(data["q"], data["k"], data["v"], scale=0.125)

    def rms_norm():
        with torch.inference_mode():
            if rms is not None:
                return rms(data["norm_x"], (4096,), data["norm_w"], 1e-5)
            xx = data["norm_x"]
            return xx * torch.rsqrt(xx.pow(2).mean(-1, keepdim=True) + 1e-5) * data["norm_w"]

    def matmul():
        with torch.inference_mode():
            return data["mm_a"] @ data["mm_b"]

    return {"conv2d": conv2d, "sdpa": sdpa, "rms_norm": rms_norm, "matmul": matmul}


def worker(engine, iters, warmup, wanted):
    """Times every op in this process and prints {op: {"ms": median, "sum": checksum}}."""
    if engine == "rill":
        import rill.core as mx
        # The CPU comparison, also on a machine with a GPU (rill's default device there).
        mx.set_default_device(mx.cpu)
        ops = mlx_like_ops(mx)
        version = f"rill {mx.__version__}"
    elif engine == "mlx":
        import mlx.core as mx
        mx.set_default_device(mx.cpu)
        ops = mlx_like_ops(mx)
        version = f"MLX {mx.__version__}"
    else:
        import torch
        ops = torch_ops()
        version = f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"
    result = {"version": version}
    for name, f in ops.items():
        if name not in wanted:
            continue
        out = None
        for _ in range(warmup):
            out = f()
        times = []
        for _ in range(iters):
            start = time.perf_counter()
            out = f()
            times.append((time.perf_counter() - start) * 1e3)
        total = float(np.asarray(out, dtype=np.float64).sum())
        result[name] = {"ms": statistics.median(times), "sum": total}
    print(json.dumps(result))


def run_round(interpreters, order, iters, warmup, wanted):
    out = {}
    for engine in order:
        cmd = [interpreters[engine], os.path.abspath(__file__), "--worker", engine,
               "--iters", str(iters), "--warmup", str(warmup), "--ops", ",".join(wanted)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"{engine} failed:\n{done.stderr}")
        out[engine] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rill")
    p.add_argument("--mlx")
    p.add_argument("--torch")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--ops", default=DEFAULT_OPS)
    p.add_argument("--worker", choices=["rill", "mlx", "torch"])
    args = p.parse_args()
    known = [op for op, _ in OPS]
    wanted = args.ops.split(",")
    if any(op not in known for op in wanted):
        p.error(f"--ops: each of {wanted} should be one of {known}")
    if args.worker:
        worker(args.worker, args.iters, args.warmup, wanted)
        return
    selected = [(op, d) for op, d in OPS if op in wanted]
    interpreters = {e: getattr(args, e) for e in ("rill", "mlx", "torch") if getattr(args, e)}
    engines = list(interpreters)
    per_round = {e: {op: [] for op, _ in selected} for e in engines}
    sums, versions = {}, {}
    for r in range(args.rounds):
        order = engines[r % len(engines):] + engines[:r % len(engines)]
        result = run_round(interpreters, order, args.iters, args.warmup, wanted)
        for e in engines:
            versions[e] = result[e]["version"]
            for op, _ in selected:
                per_round[e][op].append(result[e][op]["ms"])
                sums.setdefault(op, {})[e] = result[e][op]["sum"]
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(
            f"{e} " + "/".join(f"{result[e][op]['ms']:.1f}" for op, _ in selected) for e in order),
            file=sys.stderr)
    for op, by_engine in sums.items():
        values = list(by_engine.values())
        scale = max(abs(v) for v in values) or 1.0
        if max(values) - min(values) > 1e-3 * scale:
            sys.exit(f"the engines disagree on {op}: {by_engine}")
    ms = {e: {op: statistics.median(per_round[e][op]) for op, _ in selected} for e in engines}
    header = "| op | " + " | ".join(f"{versions[e]} ms" for e in engines)
    ratios = [e for e in engines if e != "rill"] if "rill" in engines else []
    header += "".join(f" | rill / {versions[e].split()[0]}" for e in ratios) + " |"
    print(header)
    print("|" + "---|" * (1 + len(engines) + len(ratios)))
    for op, description in selected:
        row = f"| {description} | " + " | ".join(f"{ms[e][op]:.2f}" for e in engines)
        row += "".join(f" | {ms['rill'][op] / ms[e][op]:.2f}x" for e in ratios) + " |"
        print(row)
    print(f"\n{args.rounds} rounds x {args.iters} timed calls after {args.warmup} warm-up calls "
          "per op; median of the per-round medians. A ratio above 1 means rill is slower.")


if __name__ == "__main__":
    main()
