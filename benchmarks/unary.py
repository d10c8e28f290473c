"""exp, tanh, sigmoid, sin, cos, log, erf, x ** 3 and a chain over 4 Mi float32 on the CPU: rill against NumPy and real MLX (and
PyTorch when given), each engine in a process of its own, taking turns round by round.

    .venv/bin/python benchmarks/unary.py --rill .venv/bin/python --mlx .venv/bin/python \
        --numpy .venv/bin/python [--torch /tmp/torchvenv/bin/python] --rounds 5 [--ops sin,cos]

Prints the median over rounds of each round's median of 15 calls, and rill's ratio to each
reference (below 1: rill is faster). The engines' results are checked against float64 NumPy
(relative error; absolute for sin and cos, whose values cross zero).
"""
import argparse
import math
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

OPS = ["exp", "tanh", "sigmoid", "sin", "cos", "log", "erf", "pow3", "chain"]
# NumPy has no erf: its column shows "-" there.
# `chain` is sin(1.5 x + 0.5) * exp(-x^2): one fused kernel under `compile` in rill and MLX, an
# expression of whole-array ops in NumPy and PyTorch.
# Bounded by 1 and crossing zero: their error is measured in absolute terms.
# erf too: MLX's is off by up to 3.7% relative near zero (its ulp column below shows it).
ABSOLUTE = {"sin", "cos", "chain", "erf"}
N = 1 << 22


def worker(engine, ops):
    x = np.random.default_rng(0).standard_normal(N).astype(np.float32) * 4
    # log's argument: positive, from 0.01 up, 1 among them.
    pos = np.abs(x) + np.float32(0.01)
    if engine == "numpy":
        fns = {"exp": lambda: np.exp(x), "tanh": lambda: np.tanh(x),
               "sigmoid": lambda: 1 / (1 + np.exp(-x)), "sin": lambda: np.sin(x),
               "cos": lambda: np.cos(x), "log": lambda: np.log(pos), "pow3": lambda: x ** 3,
               "chain": lambda: np.sin(x * 1.5 + 0.5) * np.exp(-x * x)}
        version = f"NumPy {np.__version__}"
    elif engine == "torch":
        import torch
        xt, pt = torch.from_numpy(x), torch.from_numpy(pos)
        fns = {"exp": lambda: torch.exp(xt), "tanh": lambda: torch.tanh(xt),
               "sigmoid": lambda: torch.sigmoid(xt), "sin": lambda: torch.sin(xt),
               "cos": lambda: torch.cos(xt), "log": lambda: torch.log(pt), "pow3": lambda: xt ** 3,
               "erf": lambda: torch.erf(xt),
               "chain": lambda: torch.sin(xt * 1.5 + 0.5) * torch.exp(-xt * xt)}
        version = f"PyTorch {torch.__version__}"
    else:
        if engine == "rill":
            import rill.core as mx
            version = f"rill {mx.__version__}"
        else:
            import mlx.core as mx
            version = f"MLX {mx.__version__}"
        mx.set_default_device(mx.cpu)
        a, ap = mx.array(x), mx.array(pos)
        mx.eval(a, ap)

        def run(f, arg=a):
            def call():
                y = f(arg)
                mx.eval(y)
                return y
            return call
        fns = {op: run(getattr(mx, op)) for op in OPS if op not in ("chain", "log", "pow3")}
        fns["log"] = run(mx.log, ap)
        fns["pow3"] = run(lambda v: v ** 3)
        fns["chain"] = run(mx.compile(lambda v: mx.sin(v * 1.5 + 0.5) * mx.exp(-v * v)))
    x64 = x.astype(np.float64)
    ref = {"exp": np.exp(x64), "tanh": np.tanh(x64), "sigmoid": 1 / (1 + np.exp(-x64)),
           "sin": np.sin(x64), "cos": np.cos(x64), "log": np.log(pos.astype(np.float64)),
           "pow3": x64 ** 3, "erf": np.frompyfunc(math.erf, 1, 1)(x64).astype(np.float64),
           "chain": np.sin(x64 * 1.5 + 0.5) * np.exp(-x64 * x64)}
    out = {"version": version}
    for op in ops:
        if op not in fns:
            continue
        f = fns[op]
        y = np.asarray(f(), dtype=np.float64)
        scale = 1.0 if op in ABSOLUTE else np.abs(ref[op]) + 1e-30
        err = float(np.max(np.abs(y - ref[op]) / scale))
        # Error in units in the last place of the float32 result, and how often the result is
        # not the correctly rounded one.
        # (Not for the chain: its float32 steps each round, so float64 is no ulp reference.)
        rounded = ref[op].astype(np.float32)
        ulp = np.spacing(np.abs(rounded)).astype(np.float64)
        ulps = None if op == "chain" else float(np.max(np.abs(y - ref[op]) / ulp))
        off = None if op == "chain" else float(np.mean(y.astype(np.float32) != rounded))
        # Warm-up calls: the first calls in a process may fault in fresh pages for outputs
        # that later calls take from the allocator's cache.
        for _ in range(3):
            f()
        times = []
        for _ in range(15):
            start = time.perf_counter()
            f()
            times.append((time.perf_counter() - start) * 1e3)
        out[op] = {"ms": statistics.median(times), "rel_err": err, "ulp": ulps, "off": off}
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for e in ("rill", "mlx", "numpy", "torch"):
        p.add_argument(f"--{e}")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--ops", default=",".join(OPS))
    p.add_argument("--worker")
    args = p.parse_args()
    ops = args.ops.split(",")
    if any(op not in OPS for op in ops):
        p.error(f"--ops: each of {ops} should be one of {OPS}")
    if args.worker:
        worker(args.worker, ops)
        return
    engines = [e for e in ("rill", "mlx", "numpy", "torch") if getattr(args, e)]
    ms = {e: {op: [] for op in ops} for e in engines}
    info = {}
    for r in range(args.rounds):
        order = engines[r % len(engines):] + engines[:r % len(engines)]
        for e in order:
            done = subprocess.run([getattr(args, e), os.path.abspath(__file__), "--worker", e,
                                   "--ops", args.ops],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"{e} failed:\n{done.stderr}")
            res = json.loads(done.stdout.strip().splitlines()[-1])
            info[e] = res
            for op in ops:
                ms[e][op].append(res[op]["ms"] if op in res else float("nan"))
    for e in engines:
        for op in ops:
            if op in info[e] and info[e][op]["rel_err"] > 1e-5:
                sys.exit(f"{e} {op}: error {info[e][op]['rel_err']:.2e} against float64")
    med = {e: {op: statistics.median(ms[e][op]) for op in ops} for e in engines}
    refs = [e for e in engines if e != "rill"]
    print("| op, 4 Mi float32 | " + " | ".join(info[e]["version"] + " ms" for e in engines)
          + "".join(f" | rill / {info[e]['version'].split()[0]}" for e in refs) + " |")
    print("|" + "---|" * (1 + len(engines) + len(refs)))
    for op in ops:
        def cell(v, fmt, unit=""):
            return "-" if math.isnan(v) else format(v, fmt) + unit
        print(f"| {op} | " + " | ".join(cell(med[e][op], ".2f") for e in engines)
              + "".join(" | " + cell(med['rill'][op] / med[e][op], ".2f", "x") for e in refs)
              + " |")
    print(f"\n{args.rounds} rounds, median of 15 calls each; max error against float64: "
          + ", ".join(f"{e} {max(info[e][op]['rel_err'] for op in ops if op in info[e]):.1e}"
                      for e in engines))
    print("\n| op: largest error in ulp / share not correctly rounded | "
          + " | ".join(info[e]["version"] for e in engines) + " |")
    print("|" + "---|" * (1 + len(engines)))
    for op in ops:
        if op != "chain":
            print(f"| {op} | " + " | ".join(f"{info[e][op]['ulp']:.2f} / {info[e][op]['off']:.1e}"
                                            if op in info[e] else "-" for e in engines) + " |")


if __name__ == "__main__":
    main()
