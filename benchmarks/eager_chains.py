"""Elementwise chains written eagerly (no `compile`) on the CPU: rill, whose scheduler fuses lazy
chains when they are evaluated, against rill with that off (RILL_AUTO_FUSE=off), real MLX, NumPy
(and PyTorch when given), each engine in a process of its own, taking turns round by round.

    .venv/bin/python benchmarks/eager_chains.py --rill .venv/bin/python --mlx .venv/bin/python \
        --numpy .venv/bin/python [--torch /tmp/torchvenv/bin/python] --rounds 3

Cases: `tiny` (10 000 chained `y + 1` on one element, one eval: µs per op), `tanh8` (8 steps
of tanh(0.9 y + 0.1) over 4 Mi float32, 24 ops), `trig` (sin(1.5 x + 0.5) * exp(-x^2) over 4 Mi),
`bias` (maximum(x + b, 0) * 2 over 2048 x 2048 with b one row), `small` (200 steps of
sin(1.01 y + A) over 256 x 256), `rowsq` (((x - b)^2).sum(-1) over 2048 x 2048, b one row),
`tanhsum` ((tanh(0.5 x) * x).sum() over 4 Mi: a chain ending in a reduction). Prints the median over rounds of each round's median, and rill's
ratio to each other engine (below 1: rill is faster). Results are checked against float64 NumPy.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

CASES = ["tiny", "tanh8", "trig", "bias", "small", "rowsq", "tanhsum"]
ENGINES = ["rill", "rill_off", "mlx", "numpy", "torch"]


def inputs():
    rng = np.random.default_rng(0)
    return {
        "x": rng.standard_normal(1 << 22).astype(np.float32),
        "m": rng.standard_normal((2048, 2048)).astype(np.float32),
        "b": rng.standard_normal(2048).astype(np.float32),
        "a": (rng.standard_normal((256, 256)) * 0.5).astype(np.float32),
    }


def cases(lib, arr, done, d):
    """The cases written against an array library `lib` (its `tanh`, `sin`, `exp`, `maximum`),
    `arr` turning NumPy data into its arrays, `done` forcing a result."""
    x, m, b, a = arr(d["x"]), arr(d["m"]), arr(d["b"]), arr(d["a"])
    one = arr(np.ones(1, np.float32))
    zero = arr(np.zeros(1, np.float32))

    def tiny():
        y = one
        for _ in range(10000):
            y = y + 1
        return done(y)

    def tanh8():
        y = x
        for _ in range(8):
            y = lib.tanh(y * 0.9 + 0.1)
        return done(y)

    def small():
        y = a
        for _ in range(200):
            y = lib.sin(y * 1.01 + a)
        return done(y)

    return {
        "tiny": tiny,
        "tanh8": tanh8,
        "trig": lambda: done(lib.sin(x * 1.5 + 0.5) * lib.exp(-x * x)),
        "bias": lambda: done(lib.maximum(m + b, zero) * 2),
        "small": small,
        "rowsq": lambda: done(((m - b) ** 2).sum(-1)),
        "tanhsum": lambda: done((lib.tanh(x * 0.5) * x).sum()),
    }


def reference(d):
    f = {k: v.astype(np.float64) for k, v in d.items()}
    y = f["x"]
    for _ in range(8):
        y = np.tanh(y * np.float32(0.9) + np.float32(0.1))
    s = f["a"]
    for _ in range(200):
        s = np.sin(s * np.float32(1.01) + f["a"])
    return {"tiny": np.full(1, 10001.0), "tanh8": y,
            "trig": np.sin(f["x"] * 1.5 + 0.5) * np.exp(-f["x"] * f["x"]),
            "bias": np.maximum(f["m"] + f["b"], 0) * 2, "small": s,
            "rowsq": ((f["m"] - f["b"]) ** 2).sum(-1),
            "tanhsum": (np.tanh(f["x"] * 0.5) * f["x"]).sum()}


def worker(engine, names):
    d = inputs()
    if engine == "numpy":
        fns = cases(np, lambda v: v, lambda y: y, d)
        version = f"NumPy {np.__version__}"
    elif engine == "torch":
        import torch
        torch.set_grad_enabled(False)
        fns = cases(torch, torch.from_numpy, lambda y: y, d)
        version = f"PyTorch {torch.__version__}"
    else:
        if engine == "mlx":
            import mlx.core as mx
            version = f"MLX {mx.__version__}"
        else:
            import rill.core as mx
            version = f"rill {mx.__version__}" + (" unfused" if engine == "rill_off" else "")
        mx.set_default_device(mx.cpu)

        def arr(v):
            a = mx.array(v)
            mx.eval(a)
            return a

        def done(y):
            mx.eval(y)
            return y
        fns = cases(mx, arr, done, d)
    ref = reference(d)
    out = {"version": version}
    for name in names:
        f = fns[name]
        got = np.asarray(f(), dtype=np.float64)
        err = float(np.max(np.abs(got - ref[name]) / (np.abs(ref[name]) + 1)))
        for _ in range(2):
            f()
        times = []
        for _ in range(7):
            start = time.perf_counter()
            f()
            times.append(time.perf_counter() - start)
        t = statistics.median(times)
        out[name] = {"value": t / 10000 * 1e6 if name == "tiny" else t * 1e3, "err": err}
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for e in ENGINES:
        if e != "rill_off":
            p.add_argument(f"--{e}")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--worker")
    args = p.parse_args()
    names = args.cases.split(",")
    if any(c not in CASES for c in names):
        p.error(f"--cases: each of {names} should be one of {CASES}")
    if args.worker:
        worker(args.worker, names)
        return
    python = {e: getattr(args, e, None) for e in ENGINES}
    python["rill_off"] = args.rill
    engines = [e for e in ENGINES if python[e]]
    got = {e: {c: [] for c in names} for e in engines}
    info = {}
    for r in range(args.rounds):
        for e in engines[r % len(engines):] + engines[:r % len(engines)]:
            env = dict(os.environ, RILL_AUTO_FUSE="off" if e == "rill_off" else "all")
            run = subprocess.run([python[e], os.path.abspath(__file__), "--worker", e,
                                  "--cases", args.cases], capture_output=True, text=True,
                                 check=False, env=env)
            if run.returncode != 0:
                sys.exit(f"{e} failed:\n{run.stderr}")
            res = json.loads(run.stdout.strip().splitlines()[-1])
            info[e] = res
            for c in names:
                got[e][c].append(res[c]["value"])
    # MLX's float32 sum of 4 Mi elements is off by ~4e-3 relative (rill's, NumPy's and PyTorch's
    # by < 1e-6): it is timed all the same, and its error printed below the table.
    tol = {"tanhsum": 1e-2}
    for e in engines:
        for c in names:
            if info[e][c]["err"] > tol.get(c, 1e-4):
                sys.exit(f"{e} {c}: error {info[e][c]['err']:.2e} against float64")
    med = {e: {c: statistics.median(got[e][c]) for c in names} for e in engines}
    refs = [e for e in engines if e != "rill"]
    label = {e: info[e]["version"] for e in engines}
    print("| case (tiny: µs per op; others: ms) | " + " | ".join(label[e] for e in engines)
          + "".join(f" | rill / {label[e]}" for e in refs) + " |")
    print("|" + "---|" * (1 + len(engines) + len(refs)))
    for c in names:
        print(f"| {c} | " + " | ".join(f"{med[e][c]:.3g}" for e in engines)
              + "".join(f" | {med['rill'][c] / med[e][c]:.2f}x" for e in refs) + " |")
    print(f"\n{args.rounds} rounds, median of 7 calls each; largest error against float64: "
          + ", ".join(f"{label[e]} {max(info[e][c]['err'] for c in names):.1e}" for e in engines))


if __name__ == "__main__":
    main()
