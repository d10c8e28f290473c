"""N independent chains on N streams against the same N chains on one stream, rill and real MLX
(CPU), each engine in a process of its own and the rounds alternating (OpenBLAS's and OpenMP's
spinning worker threads distort a shared process). Prints a table and one JSON line.

    .venv/bin/python benchmarks/streams.py                       # N = 1, 2, 4, 8, 16
    .venv/bin/python benchmarks/streams.py --n 1,2 --kinds mm64,ew --rounds 3 --json out.json
    .venv/bin/python benchmarks/streams.py --n 16 --kinds ew --engines rill --profile
    .venv/bin/python benchmarks/streams.py --engines rill --per-core    # N streams in chains' work
    .venv/bin/python benchmarks/streams.py --engines rill --per-core --ceiling   # and N processes
    python benchmarks/streams.py --engines old,new,mlx --path old=/tmp/a --path new=/tmp/b

An engine whose name starts with "mlx" is real MLX (mlx.core), any other is rill (rill.core);
`--path NAME=DIR` puts DIR first on that engine's PYTHONPATH (two builds of rill side by side).

Chains (issue 14's table): `ew` add, multiply, sin on 256x256 (200 steps); `mm64`, `mm128`
matmul + add + tanh (300 and 200 steps); `mm512` the same on 512x512 (40 steps). `br128` has four
independent branches in each step, `tanh(y @ w1 + y @ w2 + y @ w3 + y @ w4)` on 128x128 (100
steps): on one stream MLX runs them in order, rill runs them beside each other when cores are idle
(scheduler/beside.rs), so its N=1 row is the one to read. A row gives the median over rounds of
each engine's median-of-`--runs` times.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

KINDS = {"ew": 200, "mm64": 300, "mm128": 200, "mm512": 40, "br128": 100}


def child(engine, kind, n, runs, profile=False, lockstep=False, overlap=False):
    import importlib

    mx = importlib.import_module("mlx.core" if engine.startswith("mlx") else "rill.core")
    # CPU streams only: where a GPU exists rill's default device is the GPU, and inputs made
    # there would be copied to the host first.
    mx.set_default_device(mx.cpu)
    steps = KINDS[kind]
    if kind.startswith("br"):
        size = int(kind[2:])
        a = mx.random.uniform(shape=(size, size)) * (0.5 / size)
        ws = [mx.random.uniform(shape=(size, size)) * (0.5 / size) for _ in range(4)]
        mx.eval(*ws)

        def step(y, s):
            p = [mx.matmul(y, w, stream=s) for w in ws]
            both = mx.add(mx.add(p[0], p[1], stream=s), mx.add(p[2], p[3], stream=s), stream=s)
            return mx.tanh(mx.add(both, 0.5, stream=s), stream=s)

    elif kind.startswith("mm"):
        size = int(kind[2:])
        a = mx.random.uniform(shape=(size, size)) * (1.0 / size)

        def step(y, s):
            return mx.tanh(mx.add(mx.matmul(y, a, stream=s), 1.0, stream=s), stream=s)

    else:
        a = mx.random.uniform(shape=(256, 256))

        def step(y, s):
            return mx.sin(mx.multiply(mx.add(y, a, stream=s), 0.5, stream=s), stream=s)

    mx.eval(a)
    streams = [mx.new_stream(mx.cpu) for _ in range(n)]

    def chain(s):
        y = a
        for _ in range(steps):
            y = step(y, s)
        return y

    def median_ms(f, warm=1):
        for _ in range(warm):
            f()
        ts = []
        for _ in range(runs):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
        return statistics.median(ts) * 1e3

    if lockstep:
        # One chain per process; every run's time, for the parent to take the slowest process's.
        mx.eval(chain(streams[0]))
        times = []
        for _ in range(runs):
            print("ready", flush=True)
            sys.stdin.readline()
            t = time.perf_counter()
            mx.eval(chain(streams[0]))
            times.append((time.perf_counter() - t) * 1e3)
        print(json.dumps({"runs": times}))
        return

    def evaluate(ss):
        if not overlap:
            return mx.eval(*[chain(s) for s in ss])
        # `--async-eval`: start each chain as soon as it is built, so the streams compute while
        # Python builds the next chain (what MLX's `async_eval` is for); then wait for all.
        ys = []
        for s in ss:
            ys.append(chain(s))
            mx.async_eval(ys[-1])
        mx.eval(*ys)

    one = median_ms(lambda: evaluate([streams[0]] * n))
    many = median_ms(lambda: evaluate(streams))
    out = {"one": one, "many": many}
    if profile and not engine.startswith("mlx"):
        # One more run of each under rill's timeline capture: the mean time an op took on its
        # stream's thread and the share of the span each stream was busy. Ops that get slower on
        # N streams point at shared hardware (memory, caches); streams that sit idle point at
        # the runtime.
        for name, run in (("one", lambda: [chain(streams[0]) for _ in range(n)]),
                          ("many", lambda: [chain(s) for s in streams])):
            t = time.perf_counter()
            ys = run()  # the graph is built before the capture starts
            out[name + "_build_ms"] = (time.perf_counter() - t) * 1e3
            mx.start_capture()
            mx.eval(*ys)
            summary = mx.stop_capture()
            st = [x for x in summary["streams"] if x["ops"]]
            out[name + "_op_us"] = sum(x["busy_us"] for x in st) / sum(x["ops"] for x in st)
            out[name + "_busy"] = statistics.mean(x["utilization"] for x in st)
    print(json.dumps(out))


def ceiling(engine, kind, n, runs, paths):
    """N processes, each one chain on a pool of one thread, their runs started together: how many
    one-thread chains this machine runs at once with no runtime shared between them (clock
    speed under load, memory bandwidth and caches are what is left). The bound N streams in one
    process are read against."""
    env = engine_env(engine, paths, {"RAYON_NUM_THREADS": "1"})
    cmd = [sys.executable, __file__, "--child", engine, kind, "1", str(runs), "--lockstep"]
    procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(n)]
    try:
        for _ in range(runs):
            for p in procs:
                if p.stdout.readline().strip() != "ready":
                    raise RuntimeError(f"a --lockstep child of {engine} {kind} failed")
            for p in procs:
                p.stdin.write("go\n")
                p.stdin.flush()
        got = [json.loads(p.stdout.readline())["runs"] for p in procs]
    finally:
        for p in procs:
            p.stdin.close()
            p.wait()
    # Each run's slowest process: the time the group took to do N chains at once.
    return statistics.median(max(r[i] for r in got) for i in range(runs))


def engine_env(engine, paths, extra_env=None):
    """The environment of an engine's child process: `--path` first on its PYTHONPATH."""
    env = dict(os.environ, **(extra_env or {}))
    if engine in paths:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [paths[engine], env.get("PYTHONPATH")]))
    return env


def measure(engine, kind, n, runs, paths, profile, extra_env=None, overlap=False):
    env = engine_env(engine, paths, extra_env)
    out = subprocess.run(
        [sys.executable, __file__, "--child", engine, kind, str(n), str(runs)]
        + (["--profile"] if profile else [])
        + (["--async-eval"] if overlap else []),
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", default="1,2,4,8,16")
    p.add_argument("--kinds", default="ew,mm64,mm128,mm512")
    p.add_argument("--engines", default="rill,mlx")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--runs", type=int, default=5, help="timed runs per process (the median)")
    p.add_argument("--path", action="append", default=[], metavar="ENGINE=DIR")
    p.add_argument("--json")
    p.add_argument("--child", nargs=4)
    p.add_argument("--per-core", action="store_true",
                   help="rill: also time one chain on one stream with a pool of one thread (its "
                        "own process), and print how many such chains' work N streams do at once "
                        "(N x that time / the N-stream time; ideal N up to the core count)")
    p.add_argument("--ceiling", action="store_true",
                   help="with --per-core: also run N processes of one chain on one thread each, "
                        "started together, and print how many chains' work they do at once (the "
                        "machine's bound for N streams, no runtime shared)")
    p.add_argument("--lockstep", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--async-eval", action="store_true",
                   help="start each chain with async_eval as soon as it is built (both engines), "
                        "so graph building in Python overlaps the streams' work")
    p.add_argument("--profile", action="store_true",
                   help="rill: also capture a run of each and print the mean op time and how busy "
                        "the streams were")
    args = p.parse_args()
    if args.child:
        engine, kind, n, runs = args.child
        return child(engine, kind, int(n), int(runs), args.profile, args.lockstep, args.async_eval)
    engines = args.engines.split(",")
    paths = dict(x.split("=", 1) for x in args.path)
    rows = []
    print(f"{os.cpu_count()} cores; ms for N chains on one stream / on N streams (speed-up)")
    for kind in args.kinds.split(","):
        # One chain on one thread: the work unit N streams are measured in (`--per-core`). rill's
        # one-stream column is no such unit: it splits large ops over the pool and runs a
        # stream's independent chains beside one another, so it already uses several cores.
        core = {}
        if args.per_core:
            for e in engines:
                if not e.startswith("mlx"):
                    core[e] = statistics.median(
                        measure(e, kind, 1, args.runs, paths, False, {"RAYON_NUM_THREADS": "1"})["one"]
                        for _ in range(args.rounds))
        for n in [int(x) for x in args.n.split(",")]:
            got = {e: [] for e in engines}
            for _ in range(args.rounds):
                for e in engines:
                    got[e].append(measure(e, kind, n, args.runs, paths, args.profile,
                                          overlap=args.async_eval))
            row = {"kind": kind, "n": n}
            text = f"{kind:6s} N={n:2d}"
            for e in engines:
                one = statistics.median(r["one"] for r in got[e])
                many = statistics.median(r["many"] for r in got[e])
                row[e] = {"one_ms": round(one, 2), "many_ms": round(many, 2), "speedup": round(one / many, 2)}
                text += f"  {e} {one:8.1f} / {many:8.1f} ({one / many:4.2f}x)"
                if e in core:
                    row[e].update({"one_chain_one_thread_ms": round(core[e], 2),
                                   "chains_at_once": round(n * core[e] / many, 2)})
                    text += f" {{{n * core[e] / many:4.1f} chains at once"
                    if args.ceiling:
                        bound = statistics.median(ceiling(e, kind, n, args.runs, paths)
                                                  for _ in range(args.rounds))
                        row[e]["processes_at_once"] = round(n * core[e] / bound, 2)
                        text += f"; {n} processes {n * core[e] / bound:4.1f}"
                    text += "}"
                if "one_op_us" in got[e][0]:
                    prof = {k: statistics.median(r[k] for r in got[e])
                            for k in ("one_op_us", "one_busy", "many_op_us", "many_busy",
                                      "many_build_ms")}
                    row[e].update({k: round(v, 3) for k, v in prof.items()})
                    text += (f" [op {prof['one_op_us']:.1f} / {prof['many_op_us']:.1f} us,"
                             f" busy {prof['one_busy']:.0%} / {prof['many_busy']:.0%},"
                             f" graph built in {prof['many_build_ms']:.1f} ms]")
            rows.append(row)
            print(text, flush=True)
    result = {"cores": os.cpu_count(), "async_eval": args.async_eval, "rows": rows}
    print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
