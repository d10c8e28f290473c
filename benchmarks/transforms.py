"""Issue 11's benchmarks: a chain of 8 elementwise ops plus a sum on a 4096x4096 float32 array
(plain, and under compile), one memory pass (the sum alone) as the floor, and `value_and_grad` of
a 4-layer MLP step; rill against real MLX (and PyTorch for the eager chain and the MLP step).

Each engine runs in a process of its own and the engines take turns round by round (an OpenBLAS or
OpenMP pool keeps spinning after a call and would slow whatever runs next in a shared process).
A process builds the same inputs from one seed, warms each case up, then times ``--iters`` calls,
each ending when its result is computed; the table gives the median over rounds of each round's
median. The engines' results are compared first.

    python benchmarks/transforms.py --rill PY --mlx PY --torch PY [--rounds 3] [--iters 5]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

SEED = 20261204
CASES = [
    ("pass", "x.sum() alone, 4096x4096 float32 (one memory pass)"),
    ("chain", "8 elementwise ops + sum, 4096x4096, plain"),
    ("chain_compiled", "8 elementwise ops + sum, 4096x4096, compiled"),
    ("mlp", "value_and_grad of a 4-layer MLP step (batch 256, 512 wide)"),
]


def data():
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((4096, 4096)).astype(np.float32)
    sizes = [512, 512, 512, 512, 10]
    params = {}
    for i in range(4):
        params[f"w{i}"] = (rng.standard_normal((sizes[i], sizes[i + 1])) / np.sqrt(sizes[i])).astype(np.float32)
        params[f"b{i}"] = np.zeros(sizes[i + 1], np.float32)
    xb = rng.standard_normal((256, 512)).astype(np.float32)
    yb = rng.integers(0, 10, 256).astype(np.int32)
    return x, params, xb, yb


def chain(m, x):
    t = x * 1.1
    t = t + 0.3
    t = m.tanh(t)
    t = t * t
    t = t - 0.5
    t = m.exp(t)
    t = t * 0.9
    t = m.abs(t)
    return t.sum()


def mlx_like(mx):
    x, params, xb, yb = data()
    x = mx.array(x)
    params = {k: mx.array(v) for k, v in params.items()}
    xb, yb = mx.array(xb), mx.array(yb)

    def loss(p, xs, ys):
        h = xs
        for i in range(3):
            h = mx.maximum(h @ p[f"w{i}"] + p[f"b{i}"], 0.0)
        logits = h @ p["w3"] + p["b3"]
        picked = mx.take_along_axis(logits, ys[:, None], axis=-1).squeeze(-1)
        return mx.mean(mx.logsumexp(logits, axis=-1) - picked)

    step = mx.value_and_grad(loss)
    compiled = mx.compile(lambda a: chain(mx, a))

    def run(f):
        def go():
            out = f()
            mx.eval(out)
            return out
        return go

    def mlp():
        value, grads = step(params, xb, yb)
        return [value] + [grads[k] for k in sorted(grads)]

    return {
        "pass": run(lambda: x.sum()),
        "chain": run(lambda: chain(mx, x)),
        "chain_compiled": run(lambda: compiled(x)),
        "mlp": run(mlp),
    }


def torch_cases():
    import torch

    x, params, xb, yb = data()
    x = torch.from_numpy(x)
    params = {k: torch.from_numpy(v).requires_grad_() for k, v in params.items()}
    xb, yb = torch.from_numpy(xb), torch.from_numpy(yb).long()

    def mlp():
        for p in params.values():
            p.grad = None
        h = xb
        for i in range(3):
            h = torch.relu(h @ params[f"w{i}"] + params[f"b{i}"])
        logits = h @ params["w3"] + params["b3"]
        loss = torch.nn.functional.cross_entropy(logits, yb)
        loss.backward()
        return [loss.detach()] + [params[k].grad for k in sorted(params)]

    return {"pass": lambda: x.sum(), "chain": lambda: chain(torch, x), "mlp": mlp}


def checksum(out):
    items = out if isinstance(out, list) else [out]
    return float(sum(np.asarray(o.detach() if hasattr(o, "detach") else o, dtype=np.float64).sum()
                     for o in items))


def worker(engine, iters, warmup):
    if engine == "torch":
        import torch
        cases = torch_cases()
        version = f"PyTorch {torch.__version__.split('+')[0]}"
    else:
        import importlib
        mx = importlib.import_module("rill.core" if engine == "rill" else "mlx.core")
        if engine == "mlx":
            mx.set_default_device(mx.cpu)
        cases = mlx_like(mx)
        version = f"{'rill' if engine == 'rill' else 'MLX'} {mx.__version__}"
    result = {"version": version}
    for name, f in cases.items():
        out = None
        for _ in range(warmup):
            out = f()
        times = []
        for _ in range(iters):
            start = time.perf_counter()
            out = f()
            times.append((time.perf_counter() - start) * 1e3)
        result[name] = {"ms": statistics.median(times), "sum": checksum(out)}
    print(json.dumps(result))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for e in ("rill", "mlx", "torch"):
        p.add_argument(f"--{e}")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--worker", choices=["rill", "mlx", "torch"])
    args = p.parse_args()
    if args.worker:
        worker(args.worker, args.iters, args.warmup)
        return
    interpreters = {e: getattr(args, e) for e in ("rill", "mlx", "torch") if getattr(args, e)}
    engines = list(interpreters)
    per_round, sums, versions = {e: {} for e in engines}, {}, {}
    for r in range(args.rounds):
        order = engines[r % len(engines):] + engines[:r % len(engines)]
        for e in order:
            cmd = [interpreters[e], os.path.abspath(__file__), "--worker", e, "--iters",
                   str(args.iters), "--warmup", str(args.warmup)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"{e} failed:\n{done.stderr}")
            res = json.loads(done.stdout.strip().splitlines()[-1])
            versions[e] = res.pop("version")
            for case, v in res.items():
                per_round[e].setdefault(case, []).append(v["ms"])
                sums.setdefault(case, {})[e] = v["sum"]
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    for case, by in sums.items():
        vals = list(by.values())
        if max(vals) - min(vals) > 2e-3 * max(abs(v) for v in vals):
            print(f"note: the engines disagree on {case}: {by}", file=sys.stderr)
    print("| case | " + " | ".join(f"{versions[e]} ms" for e in engines) + " | rill / MLX | rill / PyTorch |")
    print("|" + "---|" * (3 + len(engines)))
    for case, desc in CASES:
        ms = {e: statistics.median(per_round[e][case]) for e in engines if case in per_round[e]}
        cells = " | ".join(f"{ms[e]:.1f}" if e in ms else "-" for e in engines)
        ratio = lambda o: f"{ms['rill'] / ms[o]:.2f}x" if "rill" in ms and o in ms else "-"
        print(f"| {desc} | {cells} | {ratio('mlx')} | {ratio('torch')} |")


if __name__ == "__main__":
    main()
