"""Loading a 1 GB safetensors file: rill's `mx.load` beside real MLX's and the `safetensors`
package's, to the CPU and (where there is a GPU) to the GPU beside PyTorch through
`safetensors.torch.load_file(device="cuda")`.

The file holds 16 float32 tensors of 64 MiB each (1 GiB), written once by the `safetensors`
package; every timing reads it from the page cache (the first read of each round is not timed).
Two figures per engine, medians over rounds, each engine in a process of its own:

- `load`: the call returns arrays the caller can use (rill and MLX memory-map and read lazily,
  the package reads every byte into NumPy arrays);
- `load+read`: the same, then every byte read once (a sum of every tensor, on the device the
  arrays are on), so engines that defer the reading pay for it here.

    python3 benchmarks/load.py [--rounds 5] [--engines rill,mlx,st] [--gpu] [--out load.json]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

TENSORS = 16
ELEMS = 16 * 1024 * 1024  # 64 MiB of float32 each


def write_file(path):
    import numpy as np
    from safetensors.numpy import save_file

    rng = np.random.default_rng(7)
    save_file({f"t{i:02d}": rng.standard_normal(ELEMS, dtype=np.float32) for i in range(TENSORS)},
              path)


def run_engine(engine, path):
    """One round in this process: (load seconds, load+read seconds, checksum)."""
    if engine in ("rill", "rill-gpu"):
        import rill.core as mx

        kw = {"stream": mx.new_stream(mx.gpu)} if engine == "rill-gpu" else {}

        def load():
            d = mx.load(path, **kw)
            mx.eval(*d.values())
            return d

        def read(d):
            return float(sum(mx.sum(v, stream=kw.get("stream")).item() for v in d.values()))
    elif engine == "mlx":
        import mlx.core as mx

        def load():
            d = mx.load(path)
            mx.eval(*d.values())
            return d

        def read(d):
            return float(sum(mx.sum(v).item() for v in d.values()))
    elif engine == "st":
        from safetensors.numpy import load_file

        def load():
            return load_file(path)

        def read(d):
            return float(sum(v.sum(dtype="float64") for v in d.values()))
    elif engine == "torch-gpu":
        import torch
        from safetensors.torch import load_file

        def load():
            d = load_file(path, device="cuda")
            torch.cuda.synchronize()
            return d

        def read(d):
            return float(sum(v.sum().item() for v in d.values()))
    else:
        raise SystemExit(f"unknown engine {engine}")
    t0 = time.perf_counter()
    d = load()
    t1 = time.perf_counter()
    total = read(d)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t0, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--engines", default="rill,mlx,st")
    ap.add_argument("--gpu", action="store_true", help="also rill-gpu and torch-gpu")
    ap.add_argument("--out")
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.engine:
        print(json.dumps(run_engine(a.engine, a.path)))
        return
    engines = a.engines.split(",") + (["rill-gpu", "torch-gpu"] if a.gpu else [])
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "weights.safetensors")
        write_file(path)
        size = os.path.getsize(path)
        results = {e: [] for e in engines}
        sums = {}
        for r in range(a.rounds + 1):  # round 0 warms the page cache and each engine's imports
            for e in engines:
                p = subprocess.run([sys.executable, __file__, "--engine", e, "--path", path],
                                   capture_output=True, text=True)
                if p.returncode != 0:
                    print(f"{e}: failed\n{p.stderr[-2000:]}", file=sys.stderr)
                    results.pop(e, None)
                    continue
                load_s, read_s, total = json.loads(p.stdout.strip().splitlines()[-1])
                sums.setdefault(e, total)
                if r > 0 and e in results:
                    results[e].append((load_s, read_s))
    ref = sums.get("st")
    table = {}
    print(f"{size / 2**30:.2f} GiB, {a.rounds} rounds, medians (GB/s = file bytes / time)")
    print(f"{'engine':<10} {'load ms':>9} {'load+read ms':>13} {'GB/s (load+read)':>17}")
    for e, runs in results.items():
        if not runs:
            continue
        ls = sorted(x[0] for x in runs)[len(runs) // 2]
        rs = sorted(x[1] for x in runs)[len(runs) // 2]
        ok = ref is None or abs(sums[e] - ref) <= 1e-3 * max(1.0, abs(ref)) + 50
        table[e] = {"load_ms": ls * 1e3, "load_read_ms": rs * 1e3, "gbps": size / rs / 1e9,
                    "checksum_ok": ok}
        print(f"{e:<10} {ls * 1e3:9.1f} {rs * 1e3:13.1f} {size / rs / 1e9:17.2f}"
              f"{'' if ok else '  (checksum differs!)'}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"bytes": size, "rounds": a.rounds, "results": table}, f, indent=1)


if __name__ == "__main__":
    main()
