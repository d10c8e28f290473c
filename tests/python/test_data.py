"""rill.data (mlx-data's API): every operation against the same computation in plain Python and
NumPy on random data, the ordering guarantees, seeds, errors, and seed 004's data loop."""

import threading
import time

import numpy as np
import pytest

import rill.core as mx
import rill.data as dx

try:
    import mlx.data as mlx_data
except ImportError:  # pragma: no cover - mlx-data has wheels for few platforms
    mlx_data = None


@pytest.fixture
def rng():
    return np.random.default_rng(12)


def ragged(rng, n, dtype=np.float32, max_len=5):
    return [rng.integers(0, 50, size=(rng.integers(0, max_len), 2)).astype(dtype) for _ in range(n)]


def xs(samples, key="x"):
    return [int(s[key]) for s in samples]


def counting(n):
    return dx.buffer_from_vector([{"x": np.array(i)} for i in range(n)])


# ---------------------------------------------------------------- samples in and out


def test_buffer_keeps_every_dtype_and_shares_memory(rng):
    dtypes = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
              np.uint64, np.float16, np.float32, np.float64, np.complex64]
    data = [{d.__name__: (rng.random((2, 3)) * 100).astype(d) for d in dtypes}]
    data[0]["text"] = "héllo"
    data[0]["raw"] = b"\x00\xff"
    data[0]["py"] = 7
    buf = dx.buffer_from_vector(data)
    s = buf[0]
    assert isinstance(s, dict) and isinstance(s, dx.Sample)
    for d in dtypes:
        got = s[d.__name__]
        assert got.dtype == np.dtype(d) and got.shape == (2, 3)
        np.testing.assert_array_equal(got, data[0][d.__name__])
        # No copy: the sample is a view of the array given, and read-only.
        assert np.shares_memory(got, data[0][d.__name__])
        assert not got.flags.writeable
    assert s["text"].dtype == np.uint8 and s["text"].tobytes() == "héllo".encode()
    assert s.raw.tobytes() == b"\x00\xff"
    assert s.py.shape == () and int(s.py) == 7
    # A fresh batch is handed over writable (no one else holds its memory).
    b = buf.batch(1)[0]
    assert b.float32.flags.writeable and b.float32.shape == (1, 2, 3)


def test_sample_attributes_and_bad_input():
    s = counting(1)[0]
    assert s.x == s["x"]
    with pytest.raises(AttributeError, match="no key 'y'"):
        s.y
    with pytest.raises(TypeError, match="list of dicts"):
        dx.buffer_from_vector({"x": 1})
    with pytest.raises(TypeError, match="sample 1"):
        dx.buffer_from_vector([{"x": 1}, [1]])
    with pytest.raises(TypeError, match="keys must be str"):
        dx.buffer_from_vector([{1: 1}])
    with pytest.raises(TypeError, match="key 'o'"):
        dx.buffer_from_vector([{"o": object()}])


def test_buffer_indexing_iteration_perm_partition_append(rng):
    vals = rng.integers(0, 1000, 11)
    buf = dx.buffer_from_vector([{"x": np.array(v)} for v in vals])
    assert len(buf) == 11
    assert xs([buf[i] for i in range(-11, 11)]) == list(vals) * 2
    for bad in (11, -12):
        with pytest.raises(IndexError, match="out of range"):
            buf[bad]
    assert xs(buf) == list(vals)
    perm = [int(i) for i in rng.integers(-11, 11, 15)]
    assert xs(buf.perm(perm)) == [int(vals[i]) for i in perm]
    for n in (1, 2, 3, 4):
        for i in range(n):
            assert xs(buf.partition(n, i)) == list(vals[i::n])
    with pytest.raises(ValueError):
        buf.partition(2, 2)
    assert xs(buf.append(counting(2))) == list(vals) + [0, 1]


# ---------------------------------------------------------------- batching


def np_batch(arrays, pad_value):
    shape = np.max([a.shape for a in arrays], axis=0)
    return np.stack([np.pad(a, [(0, m - n) for n, m in zip(a.shape, shape)],
                            constant_values=pad_value) for a in arrays])


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.float16, np.uint8, np.bool_])
def test_batch_pads_ragged_shapes_like_numpy(rng, dtype):
    arrays = ragged(rng, 23, dtype)
    labels = rng.integers(0, 9, 23)
    buf = dx.buffer_from_vector([{"x": a, "y": np.array(l)} for a, l in zip(arrays, labels)])
    pad = 1 if dtype == np.bool_ else 3
    for batches in (list(buf.batch(5, pad={"x": pad})),
                    list(buf.to_stream().batch(5, pad={"x": pad}))):
        assert len(batches) == 5
        for j, b in enumerate(batches):
            want = np_batch(arrays[5 * j:5 * j + 5], pad)
            assert b.x.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(b.x, want)
            np.testing.assert_array_equal(b.y, labels[5 * j:5 * j + 5])


def test_batch_along_a_dim_concatenates(rng):
    arrays = [rng.standard_normal((2, rng.integers(1, 5))).astype(np.float32) for _ in range(6)]
    buf = dx.buffer_from_vector([{"x": a} for a in arrays])
    for b in (buf.batch(6, dim={"x": 1}, pad={"x": -1})[0], buf.batch(6, dim={"x": -1})[0]):
        np.testing.assert_array_equal(b.x, np.concatenate(arrays, axis=1))
    rows = [rng.standard_normal((rng.integers(1, 4), rng.integers(1, 4))).astype(np.float32) for _ in range(4)]
    b = dx.buffer_from_vector([{"x": a} for a in rows]).batch(4, dim={"x": 0}, pad={"x": -1})[0]
    width = max(a.shape[1] for a in rows)
    want = np.concatenate([np.pad(a, [(0, 0), (0, width - a.shape[1])], constant_values=-1) for a in rows])
    np.testing.assert_array_equal(b.x, want)


def test_batch_errors_name_the_key_and_the_sample():
    buf = dx.buffer_from_vector([{"x": np.zeros(2), "y": np.zeros(1)}, {"x": np.zeros(2)}])
    with pytest.raises(KeyError) as e:
        buf.batch(2)[0]
    assert "batch: sample 1 has no key 'y'" in e.value.args[0]
    buf = dx.buffer_from_vector([{"x": np.zeros(2)}, {"x": np.zeros(2)}, {"x": np.zeros((1, 2))}])
    with pytest.raises(ValueError, match=r"key 'x' of sample 2: shape \[1, 2\] cannot be batched"):
        next(buf.to_stream().batch(3))
    with pytest.raises(ValueError, match="at least 1"):
        buf.batch(0)


# ---------------------------------------------------------------- transforms


def test_transforms_match_numpy(rng):
    arrays = [rng.integers(0, 99, size=(rng.integers(1, 4), rng.integers(0, 6))).astype(np.int32)
              for _ in range(30)]
    buf = dx.buffer_from_vector([{"a": a, "b": np.array(1)} for a in arrays])
    for kind in ("buffer", "stream"):
        run = list
        src = buf if kind == "buffer" else buf.to_stream()
        for s, a in zip(run(src.pad("a", -1, 2, 1, -5)), arrays):
            np.testing.assert_array_equal(s.a, np.pad(a, [(0, 0), (2, 1)], constant_values=-5))
        src = buf if kind == "buffer" else buf.to_stream()
        for s, a in zip(run(src.pad_to_size("a", 0, 2, 9)), arrays):
            np.testing.assert_array_equal(s.a, np.pad(a, [(0, max(0, 2 - a.shape[0])), (0, 0)], constant_values=9))
        src = buf if kind == "buffer" else buf.to_stream()
        for s, a in zip(run(src.pad_to_multiple("a", 1, 4)), arrays):
            np.testing.assert_array_equal(s.a, np.pad(a, [(0, 0), (0, -a.shape[1] % 4)]))
        src = buf if kind == "buffer" else buf.to_stream()
        for s, a in zip(run(src.shape("a", "sh").shape("a", "rows", 0)), arrays):
            np.testing.assert_array_equal(s.sh, np.array(a.shape))
            assert s.rows.shape == () and int(s.rows) == a.shape[0]
        src = buf if kind == "buffer" else buf.to_stream()
        for s, a in zip(run(src.key_transform("a", lambda x: x * 2 + 1, "c")), arrays):
            np.testing.assert_array_equal(s.c, a * 2 + 1)
            np.testing.assert_array_equal(s.a, a)
    kept = list(buf.to_stream().filter_by_shape("a", 1, 2, 4))
    want = [a for a in arrays if 2 <= a.shape[1] <= 4]
    assert 0 < len(want) < len(arrays) and len(kept) == len(want)
    for s, a in zip(kept, want):
        np.testing.assert_array_equal(s.a, a)
    assert len(list(buf.to_stream().filter_by_shape("a", 1, 3))) == sum(a.shape[1] >= 3 for a in arrays)
    assert sorted(buf.filter_key("b")[0]) == ["b"]
    assert sorted(buf.filter_key(["a"], remove=True)[0]) == ["b"]
    assert sorted(buf.rename_key("a", "z")[0]) == ["b", "z"]
    col = dx.buffer_from_vector([{"a": np.arange(3).reshape(1, 3, 1)}])
    assert col.squeeze("a")[0].a.shape == (3,)
    assert col.squeeze("a", -1)[0].a.shape == (1, 3)
    with pytest.raises(ValueError, match=r"squeeze: key 'a' of sample 0"):
        col.squeeze("a", 1)[0]
    # sample_transform: a Python function of the whole sample; an empty dict drops the sample.
    evens = buf.to_stream().sample_transform(lambda s: {"a": s["a"], "even": np.array(True)} if s["b"] and len(s["a"]) % 2 == 0 else {})
    got = list(evens)
    assert len(got) == sum(len(a) % 2 == 0 for a in arrays) and all(bool(s.even) for s in got)


def test_callback_errors_come_back_as_raised_and_name_the_sample():
    buf = counting(6)

    def boom(x):
        if int(x) == 4:
            raise ZeroDivisionError("four")
        return x

    with pytest.raises(ZeroDivisionError, match="four") as e:
        list(buf.key_transform("x", boom))
    notes = getattr(e.value, "__notes__", ["key_transform: sample 4, key 'x'"])
    assert any("sample 4" in n and "'x'" in n for n in notes), notes
    with pytest.raises(TypeError, match="must be str|cannot hold"):
        list(buf.key_transform("x", lambda x: None))
    with pytest.raises(TypeError, match="sample_transform's result"):
        list(buf.to_stream().sample_transform(lambda s: [1]))
    with pytest.raises(KeyError) as e:
        buf.key_transform("nope", lambda x: x)[2]
    assert "key_transform: sample 2 has no key 'nope'" in e.value.args[0]


# ---------------------------------------------------------------- streams


def test_stream_repeat_partition_reset_and_sliding_window(rng):
    st = counting(4).to_stream().repeat(2)  # mlx-data's count: two more passes
    assert xs(st) == [0, 1, 2, 3] * 3
    st.reset()
    assert xs(st) == [0, 1, 2, 3] * 3
    assert xs(counting(10).to_stream().partition(3, 2)) == [2, 5, 8]
    for n, size, stride in [(7, 3, 2), (6, 3, 2), (5, 3, 3), (2, 3, 1), (9, 4, 4)]:
        v = rng.integers(0, 100, n)
        wins = list(dx.buffer_from_vector([{"x": v, "k": np.array(1)}]).to_stream().sliding_window("x", size, stride))
        want = [v[s:s + size] for s in range(0, n, stride)]
        assert len(wins) == len(want)
        for w, ref in zip(wins, want):
            np.testing.assert_array_equal(w.x, ref)
            assert int(w.k) == 1


def test_shuffles_are_permutations_reproducible_from_a_seed():
    buf = counting(64)
    a, b, c = (xs(buf.shuffle(seed)) for seed in (1, 1, 2))
    assert a == b and a != c and sorted(a) == list(range(64)) and a != list(range(64))
    st = buf.to_stream().shuffle(8, seed=5)
    first = xs(st)
    st.reset()
    second = xs(st)
    st2 = buf.to_stream().shuffle(8, seed=5)
    assert xs(st2) == first
    st2.reset()
    assert xs(st2) == second and first != second
    for order in (first, second):
        assert sorted(order) == list(range(64))
        assert all(x < pos + 8 for pos, x in enumerate(order))
    # Without a seed, the seeds come from set_state's sequence.
    dx.set_state(7)
    u = xs(buf.shuffle())
    dx.set_state(7)
    assert xs(buf.shuffle()) == u


def slow(delays):
    def f(s):
        time.sleep(delays[int(s["x"]) % len(delays)])
        return s
    return f


def test_prefetch_keeps_the_samples_and_ordered_prefetch_the_order(rng):
    delays = list(rng.uniform(0, 0.004, 17))
    n = 50
    st = counting(n).to_stream().sample_transform(slow(delays)).prefetch(6, 4)
    assert sorted(xs(st)) == list(range(n))
    st.reset()
    assert sorted(xs(st)) == list(range(n))
    st = counting(n).to_stream().sample_transform(slow(delays)).ordered_prefetch(6, 4)
    assert xs(st) == list(range(n))
    st.reset()
    assert xs(st) == list(range(n))
    assert xs(counting(n).sample_transform(slow(delays)).ordered_prefetch(4, 3)) == list(range(n))
    # The same batches from the same seeded pipeline, threads or not.
    def pipeline(seed):
        p = counting(n).shuffle(seed).to_stream().shuffle(10, seed).batch(7).ordered_prefetch(4, 3)
        return [list(b.x) for b in p]
    assert pipeline(9) == pipeline(9) != pipeline(10)


def test_python_callbacks_run_on_the_prefetch_threads_in_parallel():
    threads = set()

    def work(s):
        threads.add(threading.get_ident())
        time.sleep(0.01)  # releases the GIL, as NumPy or a decoder would
        return s

    n = 60
    t0 = time.perf_counter()
    got = xs(counting(n).to_stream().sample_transform(work).prefetch(8, 4))
    elapsed = time.perf_counter() - t0
    assert sorted(got) == list(range(n))
    assert len(threads) >= 2 and threading.get_ident() not in threads, threads
    assert elapsed < 0.75 * n * 0.01, elapsed  # one thread takes n * 10 ms; four, a quarter


def test_a_failing_sample_is_raised_not_dropped_through_prefetch():
    def bad(s):
        if int(s["x"]) == 13:
            raise ValueError("thirteen")
        return s

    for ordered in (False, True):
        st = counting(30).to_stream().sample_transform(bad)
        st = st.ordered_prefetch(4, 3) if ordered else st.prefetch(4, 3)
        got, errors = [], []
        while True:
            try:
                got.append(int(next(st).x))
            except StopIteration:
                break
            except ValueError as e:
                errors.append(str(e))
        assert sorted(got) == [i for i in range(30) if i != 13]
        assert errors == ["thirteen"]


# ---------------------------------------------------------------- sources


def test_stream_python_iterable_is_made_again_at_reset():
    calls = []

    def factory():
        calls.append(1)
        return ({"x": np.array(i), "sq": np.array(i * i)} for i in range(5))

    st = dx.stream_python_iterable(factory)
    assert [int(s.sq) for s in st] == [0, 1, 4, 9, 16]
    st.reset()
    assert xs(st.prefetch(2, 2)) != [] and len(calls) == 2

    def broken():
        yield {"x": np.array(0)}
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        list(dx.stream_python_iterable(broken))


def test_line_and_csv_readers(tmp_path, rng):
    lines = ["alpha", "", "γάμμα", "last"]
    p = tmp_path / "lines.txt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = [bytes(s.line).decode() for s in dx.stream_line_reader(str(p), "line")]
    assert got == lines
    with pytest.raises(RuntimeError, match="missing.txt"):
        dx.stream_line_reader(str(tmp_path / "missing.txt"), "line")

    nums = rng.integers(-500, 500, (20, 3))
    c = tmp_path / "n.csv"
    c.write_text("a,b,c\n" + "".join(",".join(map(str, r)) + "\n" for r in nums))
    parse = lambda x: np.array(float(bytes(x).decode()), dtype=np.float32)
    st = (dx.stream_csv_reader(str(c))
          .key_transform("a", parse).key_transform("b", parse).key_transform("c", parse)
          .batch(8))
    got = np.concatenate([np.stack([b.a, b.b, b.c], axis=1) for b in st])
    np.testing.assert_array_equal(got, nums.astype(np.float32))
    rows = list(dx.stream_csv_reader_from_string('k;v\n1;"a;b"\n', sep=";"))
    assert bytes(rows[0].v) == b"a;b" and bytes(rows[0].k) == b"1"
    bad = dx.stream_csv_reader_from_string("a,b\n1,2\n3\n")
    next(bad)
    with pytest.raises(RuntimeError, match="line 3"):
        next(bad)
    with pytest.raises(ValueError, match="one ASCII character"):
        dx.stream_csv_reader_from_string("a", sep=";;")


# ---------------------------------------------------------------- beside mlx-data


@pytest.mark.skipif(mlx_data is None, reason="mlx-data is not installed")
def test_same_samples_as_mlx_data(rng):
    arrays = ragged(rng, 17, np.int64)
    data = [{"x": a, "y": np.array(i)} for i, a in enumerate(arrays)]

    def run(lib):
        b = lib.buffer_from_vector(data)
        out = [dict(s) for s in b.batch(4, pad={"x": -1})]
        out += [dict(s) for s in b.to_stream().pad("x", 0, 1, 2, 7).sliding_window("x", 2, 3, 0).repeat(1)]
        out += [dict(s) for s in b.to_stream().filter_by_shape("x", 0, 2, 3).pad_to_multiple("x", 0, 3, 5)]
        out += [dict(s) for s in lib.stream_csv_reader_from_string("p,q\n1,xy\n2,\"z,w\"\n")]
        return out

    ours, theirs = run(dx), run(mlx_data)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert sorted(o) == sorted(t)
        for k in o:
            # mlx-data gives text as int8, rill.data as uint8: compare the bytes.
            if t[k].dtype == np.int8:
                assert o[k].tobytes() == t[k].tobytes()
            else:
                np.testing.assert_array_equal(o[k], t[k])


# ---------------------------------------------------------------- seed 004


def test_seed004_data_stream_feeds_the_compute_stream(rng, gpu_stream):
    n, d, k = 100, 8, 3
    features = rng.standard_normal((n, d)).astype(np.float32)
    targets = rng.standard_normal((n, k)).astype(np.float32)
    weights = rng.standard_normal((d, k)).astype(np.float32)
    buffer = dx.buffer_from_vector(
        [{"x": features[i], "labels": targets[i], "index": np.array(i)} for i in range(n)])
    w = mx.array(weights)

    def model_forward(batch):
        return mx.matmul(mx.array(batch["x"]), w)

    def loss_fn(logits, labels):
        return mx.mean(mx.square(logits - mx.array(labels)))

    ds = buffer.to_stream()  # turn buffer into a data stream
    ds = ds.batch(32).prefetch(8, 4)

    s_gpu = gpu_stream  # mx.new_stream(mx.gpu), or a second CPU stream where there is no GPU
    seen = []
    for batch in ds:
        with mx.stream(s_gpu):
            logits = model_forward(batch)
            loss = loss_fn(logits, batch.labels)
        seen.append((batch["index"], loss))
    mx.synchronize(s_gpu)

    # Batches of 32 consecutive samples (the last of 4), in any order; each loss is NumPy's.
    assert sorted(len(i) for i, _ in seen) == [4, 32, 32, 32]
    assert sorted(int(j) for i, _ in seen for j in i) == list(range(n))
    for idx, loss in seen:
        assert list(idx) == list(range(idx[0], idx[0] + len(idx)))
        want = np.mean((features[idx] @ weights - targets[idx]) ** 2)
        np.testing.assert_allclose(loss.item(), want, rtol=1e-5)
        assert loss.dtype == mx.float32


def test_prefetch_to_gives_evaluated_rill_arrays_in_order(rng, gpu_stream):
    data = rng.standard_normal((10, 3)).astype(np.float32)
    buf = dx.buffer_from_vector([{"x": r, "i": np.array(i)} for i, r in enumerate(data)])
    for target in (gpu_stream, mx.cpu):
        out = list(buf.to_stream().batch(4).prefetch(2, 2).prefetch_to(target, 2))
        out.sort(key=lambda b: int(b.i[0].item()))
        assert [b.i.shape for b in out] == [(4,), (4,), (2,)]
        for j, b in enumerate(out):
            assert isinstance(b, dx.Sample) and isinstance(b.x, mx.array)
            assert b.x.dtype == mx.float32 and b.i.dtype == mx.int64
            np.testing.assert_array_equal(np.array(b.x), data[4 * j:4 * j + 4])
            np.testing.assert_array_equal(np.array(b.i), np.arange(4 * j, min(4 * j + 4, 10)))

    def bad(s):
        if int(s["i"]) == 5:
            raise ValueError("five")
        return s

    # An error reading ahead is raised after the batches before it, not before.
    it = buf.to_stream().sample_transform(bad).prefetch_to(gpu_stream, 3)
    assert [int(next(it).i.item()) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="five"):
        next(it)
    assert [int(b.i.item()) for b in it] == [6, 7, 8, 9]
    with pytest.raises(ValueError, match="at least 1"):
        buf.to_stream().prefetch_to(mx.cpu, 0)
