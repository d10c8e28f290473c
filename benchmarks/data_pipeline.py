"""rill.data against mlx-data on the same pipelines and the same data, side by side.

Writes, in a temporary directory, a tar of generated images (half PNG, half JPEG, 64-128 px a
side, photo-like: gradients plus noise) and a CSV of random numbers, then times two pipelines,
written identically for both engines (`rill.data` and `mlx.data` share the API):

- image: files_from_tar -> to_stream -> read_from_tar -> load_image(from_memory=True)
         -> image_center_crop(64, 64) -> batch(32) -> prefetch(8, threads)
- csv:   stream_csv_reader -> batch(256) (the fields are bytes, padded to the longest)
         -> prefetch(8, threads)

Each measurement runs in a process of its own (one engine imported, nothing else warm), the
engines alternating within each round; the figure is the median of the rounds, in samples per
second. mlx-data is `pip install mlx-data` (0.1.0 has a Linux x86-64 wheel for Python 3.11);
without it, its column says so and rill's figures are still printed.

    python benchmarks/data_pipeline.py                  # 3000 images, threads 1 and 2 (and more where cores exist)
    python benchmarks/data_pipeline.py --images 500 --rounds 1 --threads 1   # quick
"""
import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np

CROP = 64
IMAGE_BATCH = 32
CSV_BATCH = 256


def generate(d, n_images, csv_rows, seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    tar_path = os.path.join(d, "images.tar")
    with tarfile.open(tar_path, "w") as tar:
        for i in range(n_images):
            h, w = rng.integers(64, 129, 2)
            y, x = np.mgrid[0:h, 0:w]
            phase = rng.uniform(0, 6.3, 3)
            base = 127 + 100 * np.sin(np.stack([x / 9 + phase[0], y / 13 + phase[1], (x + y) / 17 + phase[2]], -1))
            img = np.clip(base + rng.normal(0, 10, (h, w, 3)), 0, 255).astype(np.uint8)
            buf = io.BytesIO()
            fmt, ext = ("PNG", "png") if i % 2 == 0 else ("JPEG", "jpg")
            Image.fromarray(img).save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
            info = tarfile.TarInfo(f"img_{i:05d}.{ext}")
            info.size = buf.tell()
            buf.seek(0)
            tar.addfile(info, buf)
    csv_path = os.path.join(d, "numbers.csv")
    cols = [f"c{j}" for j in range(8)]
    data = rng.normal(0, 1000, (csv_rows, len(cols)))
    with open(csv_path, "w") as f:
        f.write(",".join(cols) + "\n")
        np.savetxt(f, data, delimiter=",", fmt="%.6f")
    return tar_path, csv_path


def pipeline(dx, kind, path, threads):
    if kind == "image":
        return (
            dx.files_from_tar(path)
            .to_stream()
            .read_from_tar(path, "file", "image")
            .load_image("image", from_memory=True)
            .image_center_crop("image", CROP, CROP)
            .batch(IMAGE_BATCH)
            .prefetch(8, threads)
        )
    return dx.stream_csv_reader(path).batch(CSV_BATCH).prefetch(8, threads)


def child(engine, kind, path, threads):
    """Runs one measurement in this process and prints it as JSON."""
    if engine == "rill":
        import rill.data as dx
    else:
        import mlx.data as dx
    key = "image" if kind == "image" else "c0"
    ds = pipeline(dx, kind, path, threads)
    t = time.perf_counter()
    n = 0
    for b in ds:
        n += b[key].shape[0]
    dt = time.perf_counter() - t
    print(json.dumps({"samples": n, "seconds": dt}))


def measure(engine, kind, path, threads):
    r = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", engine, kind, path, str(threads)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        raise RuntimeError(f"{engine} {kind} x{threads} failed:\n{r.stderr[-2000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    return out["samples"] / out["seconds"], out["samples"]


def has_mlx_data():
    r = subprocess.run([sys.executable, "-c", "import mlx.data"], capture_output=True)
    return r.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=3000)
    ap.add_argument("--csv-rows", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default=None, help="comma-separated; default 1,2 and the core count")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        engine, kind, path, threads = a.child
        return child(engine, kind, path, int(threads))

    cores = os.cpu_count() or 1
    threads = sorted({int(t) for t in a.threads.split(",")}) if a.threads else sorted({1, 2, cores})
    engines = ["rill"] + (["mlx"] if has_mlx_data() else [])
    print(f"{cores} cores; engines: {', '.join(engines)}", file=sys.stderr)
    if "mlx" not in engines:
        print("mlx-data is not importable here (pip install mlx-data): its column is skipped", file=sys.stderr)
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        tar_path, csv_path = generate(d, a.images, a.csv_rows)
        print(f"generated {a.images} images and {a.csv_rows} CSV rows in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        results = {}
        counts = {}
        for r in range(a.rounds):
            for kind, path in [("image", tar_path), ("csv", csv_path)]:
                for th in threads:
                    # Alternate which engine goes first, round by round.
                    order = engines if r % 2 == 0 else engines[::-1]
                    for e in order:
                        rate, n = measure(e, kind, path, th)
                        results.setdefault((kind, th, e), []).append(rate)
                        counts.setdefault((kind, e), set()).add(n)
    for (kind, e), ns in counts.items():
        if len(ns) != 1:
            raise RuntimeError(f"{e} {kind}: different sample counts across runs: {ns}")
    print(f"\n{a.images} images ({CROP}x{CROP} center crops, batches of {IMAGE_BATCH}); "
          f"{a.csv_rows} CSV rows x 8 columns (batches of {CSV_BATCH}); median of {a.rounds} rounds, samples/s\n")
    print("| pipeline | threads | rill | mlx-data | rill / mlx-data |")
    print("|---|---|---|---|---|")
    for kind in ["image", "csv"]:
        for th in threads:
            rill = statistics.median(results[(kind, th, "rill")])
            if "mlx" in engines:
                mlx = statistics.median(results[(kind, th, "mlx")])
                print(f"| {kind} | {th} | {rill:,.0f} | {mlx:,.0f} | {rill / mlx:.2f} |")
            else:
                print(f"| {kind} | {th} | {rill:,.0f} | not installed | - |")
    for e in engines:
        for kind in ["image", "csv"]:
            if len(threads) > 1:
                lo, hi = threads[0], threads[-1]
                s = statistics.median(results[(kind, hi, e)]) / statistics.median(results[(kind, lo, e)])
                print(f"\n{e} {kind}: {hi} threads / {lo} thread = {s:.2f}x", end="")
    print()


if __name__ == "__main__":
    main()
