"""exp, tanh and sigmoid over 4 Mi float32 on the CPU: rill against NumPy and real MLX (and
PyTorch when given), each engine in a process of its own, taking turns round by round.

    .venv/bin/python benchmarks/unary.py --rill .venv/bin/python --mlx .venv/bin/python \
        --numpy .venv/bin/python [--torch /tmp/torchvenv/bin/python] --rounds 5

Prints the median over rounds of each round's median of 15 calls, and rill's ratio to each
reference (below 1: rill is faster). The engines' results are checked against float64 NumPy.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

OPS = ["exp", "tanh", "sigmoid"]
N = 1 << 22


def worker(engine):
    x = np.random.default_rng(0).standard_normal(N).astype(np.float32) * 4
    if engine == "numpy":
        fns = {"exp": lambda: np.exp(x), "tanh": lambda: np.tanh(x),
               "sigmoid": lambda: 1 / (1 + np.exp(-x))}
        version = f"NumPy {np.__version__}"
    elif engine == "torch":
        import torch
        xt = torch.from_numpy(x)
        fns = {"exp": lambda: torch.exp(xt), "tanh": lambda: torch.tanh(xt),
               "sigmoid": lambda: torch.sigmoid(xt)}
        version = f"PyTorch {torch.__version__}"
    else:
        if engine == "rill":
            import rill.core as mx
            version = f"rill {mx.__version__}"
        else:
            import mlx.core as mx
            version = f"MLX {mx.__version__}"
        mx.set_default_device(mx.cpu)
        a = mx.array(x)
        mx.eval(a)

        def run(f):
            def call():
                y = f(a)
                mx.eval(y)
                return y
            return call
        fns = {"exp": run(mx.exp), "tanh": run(mx.tanh), "sigmoid": run(mx.sigmoid)}
    ref = {"exp": np.exp(x.astype(np.float64)), "tanh": np.tanh(x.astype(np.float64)),
           "sigmoid": 1 / (1 + np.exp(-x.astype(np.float64)))}
    out = {"version": version}
    for op in OPS:
        f = fns[op]
        y = np.asarray(f(), dtype=np.float64)
        err = float(np.max(np.abs(y - ref[op]) / (np.abs(ref[op]) + 1e-30)))
        # Warm-up calls: the first calls in a process may fault in fresh pages for outputs
        # that later calls take from the allocator's cache.
        for _ in range(3):
            f()
        times = []
        for _ in range(15):
            start = time.perf_counter()
            f()
            times.append((time.perf_counter() - start) * 1e3)
        out[op] = {"ms": statistics.median(times), "rel_err": err}
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for e in ("rill", "mlx", "numpy", "torch"):
        p.add_argument(f"--{e}")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--worker")
    args = p.parse_args()
    if args.worker:
        worker(args.worker)
        return
    engines = [e for e in ("rill", "mlx", "numpy", "torch") if getattr(args, e)]
    ms = {e: {op: [] for op in OPS} for e in engines}
    info = {}
    for r in range(args.rounds):
        order = engines[r % len(engines):] + engines[:r % len(engines)]
        for e in order:
            done = subprocess.run([getattr(args, e), os.path.abspath(__file__), "--worker", e],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"{e} failed:\n{done.stderr}")
            res = json.loads(done.stdout.strip().splitlines()[-1])
            info[e] = res
            for op in OPS:
                ms[e][op].append(res[op]["ms"])
    for e in engines:
        for op in OPS:
            if info[e][op]["rel_err"] > 1e-5:
                sys.exit(f"{e} {op}: relative error {info[e][op]['rel_err']:.2e} against float64")
    med = {e: {op: statistics.median(ms[e][op]) for op in OPS} for e in engines}
    refs = [e for e in engines if e != "rill"]
    print("| op, 4 Mi float32 | " + " | ".join(info[e]["version"] + " ms" for e in engines)
          + "".join(f" | rill / {info[e]['version'].split()[0]}" for e in refs) + " |")
    print("|" + "---|" * (1 + len(engines) + len(refs)))
    for op in OPS:
        print(f"| {op} | " + " | ".join(f"{med[e][op]:.2f}" for e in engines)
              + "".join(f" | {med['rill'][op] / med[e][op]:.2f}x" for e in refs) + " |")
    print(f"\n{args.rounds} rounds, median of 15 calls each; max relative error against float64: "
          + ", ".join(f"{e} {max(info[e][op]['rel_err'] for op in OPS):.1e}" for e in engines))


if __name__ == "__main__":
    main()
