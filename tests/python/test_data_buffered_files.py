"""rill.data's buffered streams, dynamic batching, file loading (raw, .npy, tar members) and the
`*_if` forms, each against the same computation in plain Python (tarfile, NumPy) on random data."""

import io
import tarfile

import numpy as np
import pytest

import rill.data as dx


@pytest.fixture
def rng():
    return np.random.default_rng(20261203)


def counting(n):
    return dx.buffer_from_vector([{"x": np.array(i)} for i in range(n)])


def xs(samples):
    return [int(s["x"]) for s in samples]


# ---------------------------------------------------------------- buffered


@pytest.mark.parametrize("threads", [1, 3])
def test_buffered_hands_each_buffer_to_on_refill_in_stream_order(threads):
    seen = []

    def reverse(buf):
        seen.append([int(buf[i]["x"]) for i in range(len(buf))])
        return buf.perm(list(range(len(buf) - 1, -1, -1)))

    st = counting(23).to_stream().buffered(5, reverse, num_threads=threads)
    got = xs(st)
    # Buffers of 5 consecutive samples (the last one shorter), each reversed by the callback.
    want_buffers = [list(range(i, min(i + 5, 23))) for i in range(0, 23, 5)]
    assert seen == want_buffers
    assert got == [x for b in want_buffers for x in reversed(b)]
    st.reset()
    assert xs(st) == got


def test_buffered_without_a_function_keeps_the_stream_and_skips_filtered_samples():
    st = counting(17).to_stream().sample_transform(lambda s: {} if int(s["x"]) % 4 == 0 else s)
    assert xs(st.buffered(6)) == [i for i in range(17) if i % 4]


def test_buffered_shuffle_stays_inside_each_buffer():
    got = xs(counting(40).to_stream().buffered(10, lambda b: b.shuffle(seed=3)))
    assert sorted(got) == list(range(40))
    for k in range(4):  # a pseudo-shuffle: each block of 10 is a permutation of itself
        assert sorted(got[10 * k:10 * k + 10]) == list(range(10 * k, 10 * k + 10))
    assert got != list(range(40))


def test_buffered_errors_name_the_step_and_keep_the_samples():
    def bad(s):
        if int(s["x"]) == 7:
            raise ValueError("seven")
        return s

    for threads in (1, 4):
        st = counting(12).to_stream().sample_transform(bad).buffered(5, num_threads=threads)
        got, errors = [], []
        while True:
            try:
                got.append(int(next(st)["x"]))
            except StopIteration:
                break
            except ValueError as e:
                errors.append(str(e))
        assert errors == ["seven"]
        assert got == [i for i in range(12) if i != 7]

    def wrong(buf):
        return [1, 2]

    with pytest.raises(TypeError, match="on_refill must return a Buffer"):
        list(counting(3).to_stream().buffered(2, wrong))
    with pytest.raises(ValueError, match="buffer size"):
        counting(3).to_stream().buffered(0)


# ---------------------------------------------------------------- dynamic batching


def greedy_batches(lengths, max_size):
    """The rule in plain Python: sort by size (stable), add samples while the padded size (count
    times the largest) fits."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    if max_size <= 0:
        return [order]
    out, cur, big = [], [], 0
    for i in order:
        grown = max(big, lengths[i]) if cur else lengths[i]
        if cur and (len(cur) + 1) * grown > max_size:
            out.append(cur)
            cur, big = [], lengths[i]
        else:
            big = grown
        cur.append(i)
    if cur:
        out.append(cur)
    return out


def tokens(rng, n):
    lengths = [int(v) for v in rng.integers(1, 60, n)]
    return lengths, [{"tok": rng.integers(1, 1000, k).astype(np.int32), "id": np.array(i)}
                     for i, k in enumerate(lengths)]


def test_buffer_dynamic_batch_groups_like_the_rule_and_pads(rng):
    lengths, samples = tokens(rng, 57)
    buf = dx.buffer_from_vector(samples).dynamic_batch("tok", 200, pad={"tok": -1})
    want = greedy_batches(lengths, 200)
    assert len(buf) == len(want)
    for b, group in zip(buf, want):
        assert b["id"].tolist() == group
        width = max(lengths[i] for i in group)
        assert b["tok"].shape == (len(group), width)
        assert len(group) == 1 or len(group) * width <= 200
        for row, i in zip(b["tok"], group):
            np.testing.assert_array_equal(row[:lengths[i]], samples[i]["tok"])
            assert (row[lengths[i]:] == -1).all()
    everything = dx.buffer_from_vector(samples).dynamic_batch("tok")
    assert len(everything) == 1 and everything[0]["id"].tolist() == greedy_batches(lengths, -1)[0]


def test_stream_dynamic_batch_works_per_buffer_and_shuffles_reproducibly(rng):
    lengths, samples = tokens(rng, 90)
    st = dx.buffer_from_vector(samples).to_stream().dynamic_batch(30, "tok", 256)
    got = [b["id"].tolist() for b in st]
    want = []
    for start in range(0, 90, 30):
        part = list(range(start, start + 30))
        want += [[part[j] for j in g] for g in greedy_batches([lengths[i] for i in part], 256)]
    assert got == want
    s1 = dx.buffer_from_vector(samples).to_stream().dynamic_batch(30, "tok", 256, shuffle=True)
    shuffled = [b["id"].tolist() for b in s1]
    assert sorted(map(tuple, shuffled)) == sorted(map(tuple, want))
    with pytest.raises(KeyError, match="dynamic_batch: sample 0 has no key"):
        list(dx.buffer_from_vector(samples).to_stream().dynamic_batch(30, "nope", 256))


# ---------------------------------------------------------------- files


def names(paths):
    return dx.buffer_from_vector([{"f": p.encode()} for p in paths])


def test_load_file_reads_the_bytes_below_the_prefix(tmp_path, rng):
    blobs = [rng.integers(0, 256, rng.integers(0, 300)).astype(np.uint8).tobytes() for _ in range(6)]
    for i, b in enumerate(blobs):
        (tmp_path / f"{i}.bin").write_bytes(b)
    buf = names([f"{i}.bin" for i in range(6)]).load_file("f", prefix=str(tmp_path), output_key="data")
    for i, s in enumerate(buf):
        assert s["data"].dtype == np.uint8 and s["data"].tobytes() == blobs[i]
        assert s["f"].tobytes() == f"{i}.bin".encode()
    with pytest.raises(RuntimeError, match="load_file: cannot read .*missing.bin"):
        names(["missing.bin"]).load_file("f", prefix=str(tmp_path))[0]


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int16", "<i4", ">i4", ">f8", "<f4", "float16",
                                   "int64", ">u2", "complex64", ">c8"])
def test_load_numpy_matches_numpy_for_every_order_and_byte_order(tmp_path, rng, dtype):
    arrays = []
    for i, shape in enumerate([(3, 4), (2, 3, 5), (7,), ()]):
        a = (rng.standard_normal(shape) * 20)
        if np.dtype(dtype).kind == "c":
            a = a + 1j * rng.standard_normal(shape)
        a = np.asarray(a).astype(dtype)
        if i == 1:
            a = np.asfortranarray(a)
        np.save(tmp_path / f"{i}.npy", a)
        arrays.append(a)
    for i, s in enumerate(names([f"{i}.npy" for i in range(4)]).load_numpy("f", prefix=str(tmp_path))):
        np.testing.assert_array_equal(s["f"], arrays[i])
        assert s["f"].dtype == arrays[i].dtype.newbyteorder("=")
        assert s["f"].shape == arrays[i].shape
    # The .npy bytes held in the sample itself.
    mem = []
    for a in arrays:
        f = io.BytesIO()
        np.save(f, a)
        mem.append({"npy": np.frombuffer(f.getvalue(), np.uint8)})
    for i, s in enumerate(dx.buffer_from_vector(mem).load_numpy("npy", from_memory=True, output_key="a")):
        np.testing.assert_array_equal(s["a"], arrays[i])


def test_load_numpy_refuses_truncated_and_foreign_files(tmp_path):
    f = io.BytesIO()
    np.save(f, np.arange(100, dtype=np.float32))
    (tmp_path / "cut.npy").write_bytes(f.getvalue()[:-8])
    (tmp_path / "text.npy").write_bytes(b"hello, not numpy")
    with pytest.raises(ValueError, match="load_numpy.*cut.npy.*truncated"):
        names(["cut.npy"]).load_numpy("f", prefix=str(tmp_path))[0]
    with pytest.raises(ValueError, match="load_numpy.*text.npy.*not a .npy file"):
        names(["text.npy"]).load_numpy("f", prefix=str(tmp_path))[0]


def make_tar(path, members):
    with tarfile.open(path, "w") as t:
        d = tarfile.TarInfo("sub")
        d.type = tarfile.DIRTYPE
        t.addfile(d)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def test_files_from_tar_and_read_from_tar_match_tarfile(tmp_path, rng):
    members = {f"sub/{i}.bin": rng.integers(0, 256, rng.integers(0, 2000)).astype(np.uint8).tobytes()
               for i in range(9)}
    members["a name with spaces.txt"] = b"x" * 513
    path = tmp_path / "data.tar"
    make_tar(path, members)
    with tarfile.open(path) as t:
        want = [m.name for m in t.getmembers() if m.isfile()]
    files = dx.files_from_tar(str(path))
    assert [s["file"].tobytes().decode() for s in files] == want
    loaded = files.read_from_tar(str(path), "file", "data")
    for s in loaded:
        assert s["data"].tobytes() == members[s["file"].tobytes().decode()]
    # Read in parallel from one archive, in order.
    st = loaded.to_stream().ordered_prefetch(4, 3)
    assert [s["data"].tobytes() for s in st] == [members[n] for n in want]
    rel = dx.buffer_from_vector([{"n": b"3.bin"}]).read_from_tar(str(path), "n", "d", prefix="sub")
    assert rel[0]["d"].tobytes() == members["sub/3.bin"]
    with pytest.raises(ValueError, match="read_from_tar.*has no member 'nope'"):
        dx.buffer_from_vector([{"n": b"nope"}]).read_from_tar(str(path), "n", "d")[0]
    with pytest.raises(RuntimeError, match="files_from_tar: cannot read"):
        dx.files_from_tar(str(tmp_path / "absent.tar"))
    with pytest.raises(ValueError, match="nested=True"):
        dx.files_from_tar(str(path), nested=True)


# ---------------------------------------------------------------- the *_if forms


def test_if_forms_apply_only_when_the_condition_holds(rng):
    samples = [{"x": rng.standard_normal((1, rng.integers(1, 6))).astype(np.float32),
                "y": np.array(i)} for i in range(8)]
    buf = dx.buffer_from_vector(samples)
    cases = [
        ("pad", ("x", 1, 2, 1, 9.0)),
        ("pad_to_size", ("x", 1, 7, -1.0)),
        ("pad_to_multiple", ("x", 1, 4, 3.0)),
        ("squeeze", ("x", 0)),
        ("shape", ("x", "s")),
        ("rename_key", ("x", "z")),
        ("filter_key", ("x",)),
        ("filter_by_shape", ("x", 1, 2, 4)),
        ("key_transform", ("x", lambda a: a * 2)),
        ("sample_transform", (lambda s: {**s, "w": s["y"] + 1},)),
    ]
    for name, args in cases:
        on = getattr(buf, name + "_if")(True, *args)
        off = getattr(buf, name + "_if")(False, *args)
        plain = getattr(buf, name)(*args)
        for a, b in zip(on, plain):
            assert a.keys() == b.keys()
            for k in a:
                np.testing.assert_array_equal(a[k], b[k])
        for a, s in zip(off, samples):
            assert sorted(a.keys()) == sorted(s.keys())
            for k in s:
                np.testing.assert_array_equal(a[k], s[k])
    st = buf.to_stream().pad_if(False, "x", 1, 5, 5, 0.0)
    assert [s["x"].shape for s in st] == [s["x"].shape for s in samples]
