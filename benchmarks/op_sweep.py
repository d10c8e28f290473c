"""A sweep of ~40 common ops on 2048 x 2048 float32 on the CPU, to find the ones where rill lags:
rill against NumPy and PyTorch (and MLX when given), each engine in a process of its own, taking
turns round by round.

    .venv/bin/python benchmarks/op_sweep.py --rill .venv/bin/python --numpy .venv/bin/python \
        --torch /tmp/torchvenv/bin/python [--mlx .venv/bin/python] [--rounds 2] [--worst 10] \
        [--ops sort-1,argsort-1]

Prints, per op, the median over rounds of each round's median of 9 calls and rill's ratio to the
fastest reference that has the op; `--worst N` prints only the N largest ratios. A coarse tool
for finding outliers (it found `x ** 3` at 49x, erf at 9x, float16 conversion at 18x): measure
a finding again with a dedicated benchmark (unary.py, eager_chains.py) before and after a fix.
Values are not checked here; the dedicated benchmarks and the tests do that.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ENGINES = ["rill", "numpy", "torch", "mlx"]


def ops_for(engine):
    """{name: zero-argument function computing one result} for `engine`, and a `done` forcing it."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2048, 2048)).astype(np.float32)
    Y = rng.standard_normal((2048, 2048)).astype(np.float32)
    P = np.abs(X) + np.float32(0.1)
    I = rng.integers(0, 2048, 100000)
    Z = rng.standard_normal(1 << 22).astype(np.float32)
    if engine == "numpy":
        x, y, p, idx, z, lib, done = X, Y, P, I, Z, np, (lambda r: r)
        own = {
            "transpose_copy": lambda: np.ascontiguousarray(x.T),
            "softmax": lambda: (lambda e: e / e.sum(-1, keepdims=True))(
                np.exp(x - x.max(-1, keepdims=True))),
            "logsumexp": lambda: np.log(np.exp(x).sum(-1)),
            "sigmoid": lambda: 1 / (1 + np.exp(-x)),
            "concat": lambda: np.concatenate([x, y], 0),
            "argsort-1": lambda: np.argsort(x, -1, kind="stable"),
        }
    elif engine == "torch":
        import torch
        torch.set_grad_enabled(False)
        x, y, p, idx, z = (torch.from_numpy(v) for v in (X, Y, P, I, Z))
        lib, done = torch, (lambda r: r)
        own = {
            "transpose_copy": lambda: x.T.contiguous(),
            "softmax": lambda: torch.softmax(x, -1), "logsumexp": lambda: torch.logsumexp(x, -1),
            "sigmoid": lambda: torch.sigmoid(x), "erf": lambda: torch.erf(x),
            "concat": lambda: torch.cat([x, y], 0), "rsqrt": lambda: torch.rsqrt(p),
            "sort-1": lambda: torch.sort(x, -1)[0], "sort0": lambda: torch.sort(x, 0)[0],
            "sort1d": lambda: torch.sort(z)[0],
            "argsort-1": lambda: torch.sort(x, dim=-1, stable=True)[1],
        }
    else:
        import importlib
        lib = importlib.import_module("mlx.core" if engine == "mlx" else "rill.core")
        lib.set_default_device(lib.cpu)
        x, y, p, idx, z = (lib.array(v) for v in (X, Y, P, I, Z))
        lib.eval(x, y, p, idx, z)

        def done(r):
            lib.eval(r)
            return r
        own = {
            "transpose_copy": lambda: lib.contiguous(x.T) if hasattr(lib, "contiguous") else x.T + 0,
            "softmax": lambda: lib.softmax(x, -1), "logsumexp": lambda: lib.logsumexp(x, -1),
            "sigmoid": lambda: lib.sigmoid(x), "erf": lambda: lib.erf(x),
            "concat": lambda: lib.concatenate([x, y], 0), "rsqrt": lambda: lib.rsqrt(p),
            "argsort-1": lambda: lib.argsort(x, -1),
        }
    common = {
        "add": lambda: x + y, "div": lambda: x / y, "maximum": lambda: lib.maximum(x, y),
        "cmp": lambda: x > y, "neg": lambda: -x, "abs": lambda: lib.abs(x),
        "square": lambda: lib.square(x), "floor": lambda: lib.floor(x),
        "pow2": lambda: x ** 2, "pow3": lambda: x ** 3, "powhalf": lambda: p ** 0.5,
        "powxy": lambda: p ** y, "exp": lambda: lib.exp(x), "log": lambda: lib.log(p),
        "sqrt": lambda: lib.sqrt(p), "tanh": lambda: lib.tanh(x), "sin": lambda: lib.sin(x),
        "where": lambda: lib.where(x > 0, x, y), "clip": lambda: lib.clip(x, -0.5, 0.5),
        "sum-1": lambda: x.sum(-1), "sum0": lambda: x.sum(0), "max-1": lambda: x.max(-1),
        "mean": lambda: x.mean(), "var-1": lambda: x.var(-1),
        "argmax-1": lambda: lib.argmax(x, -1), "cumsum-1": lambda: lib.cumsum(x, -1),
        "sort-1": lambda: lib.sort(x, -1), "sort0": lambda: lib.sort(x, 0),
        "sort1d": lambda: lib.sort(z),
        "take0": lambda: x[idx % 2048], "mm512": lambda: x[:512, :512] @ y[:512, :512],
        "astype16": lambda: x.astype(lib.float16) if engine != "torch" else x.to(lib.float16),
    }
    return {**common, **own}, done


def worker(engine, wanted):
    fns, done = ops_for(engine)
    out = {}
    for name, f in fns.items():
        if wanted and name not in wanted:
            continue
        try:
            done(f())
        except Exception:  # an op this engine does not have under that name
            continue
        times = []
        for _ in range(9):
            start = time.perf_counter()
            done(f())
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times) * 1e3
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for e in ENGINES:
        p.add_argument(f"--{e}")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--worst", type=int, default=0)
    p.add_argument("--ops", default="", help="comma-separated op names (default: all)")
    p.add_argument("--worker")
    args = p.parse_args()
    wanted = set(filter(None, args.ops.split(",")))
    if args.worker:
        worker(args.worker, wanted)
        return
    engines = [e for e in ENGINES if getattr(args, e)]
    if "rill" not in engines or len(engines) < 2:
        p.error("give --rill and at least one reference")
    ms = {e: {} for e in engines}
    for r in range(args.rounds):
        for e in engines[r % len(engines):] + engines[:r % len(engines)]:
            run = subprocess.run([getattr(args, e), os.path.abspath(__file__), "--worker", e,
                                  "--ops", args.ops],
                                 capture_output=True, text=True, check=False)
            if run.returncode != 0:
                sys.exit(f"{e} failed:\n{run.stderr}")
            for op, t in json.loads(run.stdout.strip().splitlines()[-1]).items():
                ms[e].setdefault(op, []).append(t)
    med = {e: {op: statistics.median(v) for op, v in ms[e].items()} for e in engines}
    refs = [e for e in engines if e != "rill"]
    rows = []
    for op, t in med["rill"].items():
        best = min((med[e][op] for e in refs if op in med[e]), default=None)
        rows.append((t / best if best else float("nan"), op))
    rows.sort(key=lambda r: -r[0] if r[0] == r[0] else 0)
    if args.worst:
        rows = rows[:args.worst]
    print("| op, 2048 x 2048 float32 (sort1d: 4 Mi) | " + " | ".join(f"{e} ms" for e in engines)
          + " | rill / fastest reference |")
    print("|" + "---|" * (len(engines) + 2))
    for ratio, op in rows:
        cells = [f"{med[e][op]:.2f}" if op in med[e] else "-" for e in engines]
        print(f"| {op} | " + " | ".join(cells) + f" | {ratio:.2f}x |")
    print(f"\n{args.rounds} rounds, median of 9 calls each, each engine in its own process")


if __name__ == "__main__":
    main()
