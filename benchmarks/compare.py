"""rill against numpy and real MLX on the CPU, side by side in one run.

Runs rill's Rust benchmark binary (target/release/rill-bench) and, in this process, the same
figures with numpy and with MLX (`pip install "mlx[cpu]==0.32.4"`), and with rill's Python package
when it is installed. Prints a markdown table of times and ratios (rill / reference: below 1 means
rill is faster) for docs/benchmarks.md.

    cargo build --release -p rill-bench
    python benchmarks/compare.py            # all figures
    python benchmarks/compare.py --json out.json
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median(f, runs=15, warm=3):
    for _ in range(warm):
        f()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[len(ts) // 2]


def numpy_figures():
    r = {}
    rng = np.random.default_rng(0)
    a = rng.random((4096, 4096), dtype=np.float32)
    b = rng.random((4096, 4096), dtype=np.float32)
    r["add_4096_ms"] = median(lambda: a + b) * 1e3
    r["sum_4096_ms"] = median(lambda: a.sum()) * 1e3
    m1 = rng.random((1024, 1024), dtype=np.float32)
    m2 = rng.random((1024, 1024), dtype=np.float32)
    r["matmul_1024_ms"] = median(lambda: m1 @ m2) * 1e3
    return r


def mx_figures(mx, tag):
    """The same figures through an MLX-style Python API (real MLX, or rill.core)."""
    r = {}
    cpu = mx.cpu
    with mx.stream(cpu):
        a = mx.random.uniform(shape=(4096, 4096))
        b = mx.random.uniform(shape=(4096, 4096))
        mx.eval(a, b)
        # Two cache settings: a generous one (rill's default keeps a quarter of RAM), and 32 MiB
        # (MLX's CPU default), under which each 64 MiB result is freshly allocated.
        old = mx.set_cache_limit(8 << 30)
        r["add_4096_ms"] = median(lambda: mx.eval(a + b)) * 1e3
        mx.set_cache_limit(32 << 20)
        r["add_4096_cache_32MiB_ms"] = median(lambda: mx.eval(a + b)) * 1e3
        mx.set_cache_limit(old)
        r["sum_4096_ms"] = median(lambda: mx.eval(a.sum())) * 1e3
        m1 = mx.random.uniform(shape=(1024, 1024))
        m2 = mx.random.uniform(shape=(1024, 1024))
        mx.eval(m1, m2)
        runs = 3 if tag == "mlx" else 15  # MLX's CPU matmul is a reference BLAS: seconds per call
        r["matmul_1024_ms"] = median(lambda: mx.eval(m1 @ m2), runs=runs, warm=1) * 1e3
        x = mx.array(1.0)
        mx.eval(x)
        k = 5000

        def evals():
            for _ in range(k):
                mx.eval(x + 1)

        r["tiny_op_eval_us"] = median(evals, runs=5, warm=1) / k * 1e6

        def chain():
            y = x
            for _ in range(5000):
                y = y + 1
            mx.eval(y)

        r["lazy_chain_5000_us_per_op"] = median(chain, runs=5, warm=1) / 5000 * 1e6
        s1, s2 = mx.new_stream(cpu), mx.new_stream(cpu)
        p = mx.random.uniform(shape=(128, 128))
        q = mx.random.uniform(shape=(128, 128))
        mx.eval(p, q)

        def two(sa, sb, steps=300):
            y, z = p, q
            for _ in range(steps):
                y = mx.multiply(mx.add(y, p, stream=sa), 0.5, stream=sa)
                z = mx.multiply(mx.add(z, q, stream=sb), 0.5, stream=sb)
            mx.eval(y, z)

        one_t = median(lambda: two(s1, s1), runs=9, warm=2)
        two_t = median(lambda: two(s1, s2), runs=9, warm=2)
        r["two_chains_one_stream_ms"] = one_t * 1e3
        r["two_chains_two_streams_ms"] = two_t * 1e3
        r["two_streams_speedup"] = one_t / two_t

        def two_sin(sa, sb, steps=300):
            y, z = p, q
            for _ in range(steps):
                y = mx.sin(mx.add(y, p, stream=sa), stream=sa)
                z = mx.sin(mx.add(z, q, stream=sb), stream=sb)
            mx.eval(y, z)

        one_t = median(lambda: two_sin(s1, s1), runs=9, warm=2)
        two_t = median(lambda: two_sin(s1, s2), runs=9, warm=2)
        r["two_sin_chains_one_stream_ms"] = one_t * 1e3
        r["two_sin_chains_two_streams_ms"] = two_t * 1e3
        r["two_sin_streams_speedup"] = one_t / two_t
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    args = ap.parse_args()
    results = {}
    exe = os.path.join(ROOT, "target", "release", "rill-bench")
    out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    results["rill (Rust)"] = json.loads(out.strip().splitlines()[-1])
    results["numpy"] = numpy_figures()
    try:
        import mlx.core as mlx

        results["mlx"] = mx_figures(mlx, "mlx")
    except ImportError:
        print("mlx not installed: pip install 'mlx[cpu]==0.32.4'", file=sys.stderr)
    try:
        import rill.core as rill

        results["rill (Python)"] = mx_figures(rill, "rill")
    except ImportError:
        print("rill's Python package not installed: pip install .", file=sys.stderr)

    keys = ["add_4096_ms", "add_4096_cache_32MiB_ms", "sum_4096_ms", "matmul_1024_ms", "tiny_op_eval_us",
            "lazy_chain_5000_us_per_op", "two_chains_one_stream_ms", "two_chains_two_streams_ms",
            "two_streams_speedup", "two_sin_chains_one_stream_ms", "two_sin_chains_two_streams_ms",
            "two_sin_streams_speedup"]
    cols = list(results)
    print(f"rill (Rust) heap allocator: {results['rill (Rust)'].get('allocator', 'system')}")
    print("| figure | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for k in keys:
        cells = []
        for c in cols:
            v = results[c].get(k)
            cells.append("-" if v is None else f"{v:.3g}")
        print(f"| {k} | " + " | ".join(cells) + " |")
    # The ratios the issues set targets for (time of rill / time of the reference; below 1: rill is
    # faster). The two-stream speed-up is a ratio already: higher is better.
    ratios = [
        ("add_4096_ms", "rill (Rust)", "numpy", "<= 1.2"),
        ("sum_4096_ms", "rill (Rust)", "numpy", "<= 1.2"),
        ("matmul_1024_ms", "rill (Rust)", "numpy", "<= 1.1"),
        ("tiny_op_eval_us", "rill (Rust)", "mlx", "<= 0.5"),
        ("tiny_op_eval_us", "rill (Python)", "mlx", "<= 0.5"),
        ("lazy_chain_5000_us_per_op", "rill (Python)", "mlx", "<= 1.0"),
        ("add_4096_ms", "rill (Python)", "mlx", ""),
        ("add_4096_cache_32MiB_ms", "rill (Python)", "mlx", ""),
        ("sum_4096_ms", "rill (Python)", "mlx", ""),
        ("matmul_1024_ms", "rill (Python)", "mlx", ""),
    ]
    print()
    print("| ratio | value | target |")
    print("|---|---|---|")
    for k, num, den, target in ratios:
        a, b = results.get(num, {}).get(k), results.get(den, {}).get(k)
        if a is not None and b is not None:
            print(f"| {k}: {num} / {den} | {a / b:.2f} | {target or '-'} |")
    for key, what in [("two_streams_speedup", "add/multiply"), ("two_sin_streams_speedup", "add/sin")]:
        for c in cols:
            v = results[c].get(key)
            if v is not None:
                target = ">= 1.3x" if c.startswith("rill") else "-"
                print(f"| two streams vs one ({what} chains), {c} | {v:.2f}x | {target} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
