"""Files and pickling: `save`, `savez`, `savez_compressed`, `save_safetensors`, `load`, and
`pickle`/`copy` of arrays.

References are NumPy's own writers and readers (`np.save`, `np.load`, `np.savez`), the
`safetensors` Python package where it is installed, and real MLX (which reads rill's files and
writes files rill reads; its exception classes are the ones rill's must match). Data is random
bits, not zeros, and compared byte for byte."""

import copy
import os
import pickle

import numpy as np
import pytest

import rill.core as mx

NP_DTYPES = [np.bool_, np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32,
             np.int64, np.float16, np.float32, np.float64, np.complex64]
SHAPES = [(), (0,), (1,), (7,), (3, 4), (2, 3, 4), (2, 0, 3)]


def random_np(rng, dtype, shape):
    """Random bits of `dtype` (bools 0 or 1): NaNs, infinities and subnormals included."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    raw = rng.integers(0, 256, n * dtype.itemsize, dtype=np.uint8)
    if dtype == np.bool_:
        raw &= 1
    return raw.view(dtype).reshape(shape)


def same_bytes(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def bf16_values(rng, shape):
    """float32 values that bfloat16 holds exactly (the low 16 bits cleared), and their bits."""
    bits = rng.integers(0, 1 << 16, shape, dtype=np.uint32)
    exponent = (bits >> 7) & 0xFF
    bits[exponent == 0xFF] &= 0x807F  # no infinities or NaNs: compared through float32
    return (bits << 16).view(np.float32), bits.astype(np.uint16)


# ---------------------------------------------------------------- .npy


@pytest.mark.parametrize("dtype", NP_DTYPES, ids=lambda d: np.dtype(d).name)
def test_npy_round_trips_with_numpy(tmp_path, rng, dtype):
    for shape in SHAPES:
        x = random_np(rng, dtype, shape)
        # rill writes, NumPy reads.
        path = tmp_path / "r.npy"
        mx.save(str(path), mx.array(x, dtype=getattr(mx, np.dtype(dtype).name.replace("bool", "bool_"))))
        same_bytes(np.load(path), x)
        # NumPy writes (C order, Fortran order, big-endian), rill reads.
        np.save(tmp_path / "n.npy", x)
        same_bytes(np.array(mx.load(str(tmp_path / "n.npy"))), x)
        np.save(tmp_path / "f.npy", x.T.copy().T)  # Fortran order (asfortranarray makes 0-d 1-d)
        same_bytes(np.array(mx.load(tmp_path / "f.npy")), x)
        swapped = x.astype(x.dtype.newbyteorder(">"))
        np.save(tmp_path / "b.npy", swapped)
        same_bytes(np.array(mx.load(tmp_path / "b.npy")), x)


def test_npy_of_views_is_row_major(tmp_path, rng):
    x = rng.standard_normal((4, 5, 6)).astype(np.float32)
    a = mx.array(x)
    views = {
        "t": (mx.transpose(a, (2, 0, 1)), np.transpose(x, (2, 0, 1))),
        "s": (a[1:, ::2, ::-3], x[1:, ::2, ::-3]),
        "b": (mx.broadcast_to(a[:1], (3, 5, 6)), np.broadcast_to(x[:1], (3, 5, 6))),
    }
    for name, (v, want) in views.items():
        mx.save(tmp_path / f"{name}.npy", v)
        got = np.load(tmp_path / f"{name}.npy")
        assert got.flags.c_contiguous
        same_bytes(got, want)


def test_save_adds_the_extension_and_takes_paths(tmp_path):
    a = mx.array([1, 2, 3])
    mx.save(str(tmp_path / "plain"), a)
    mx.save(tmp_path / "pathlib", a)
    mx.save(str(tmp_path / "kept.npy"), a)
    mx.savez(tmp_path / "z", a)
    mx.savez_compressed(str(tmp_path / "zc"), a)
    mx.save_safetensors(tmp_path / "w", {"a": a})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "kept.npy", "pathlib.npy", "plain.npy", "w.safetensors", "z.npz", "zc.npz"]
    with pytest.raises(TypeError):
        with open(tmp_path / "f.npy", "wb") as f:
            mx.save(f, a)
    with pytest.raises(TypeError):
        mx.save(tmp_path / "l.npy", [1, 2])


def test_bfloat16_round_trips_and_is_mlxs_v2(tmp_path, rng):
    values, bits = bf16_values(rng, (5, 6))
    a = mx.array(values).astype(mx.bfloat16)
    mx.save(tmp_path / "bf.npy", a)
    # NumPy sees MLX's convention: two raw bytes per element, the bfloat16 bits.
    raw = np.load(tmp_path / "bf.npy")
    assert raw.dtype == np.dtype("V2") and raw.shape == (5, 6)
    same_bytes(raw.view(np.uint16), bits)
    b = mx.load(tmp_path / "bf.npy")
    assert b.dtype == mx.bfloat16
    same_bytes(np.array(b.astype(mx.float32)), values)
    mx.savez(tmp_path / "bf.npz", x=a)
    same_bytes(np.array(mx.load(tmp_path / "bf.npz")["x"].astype(mx.float32)), values)
    mx.save_safetensors(tmp_path / "bf.safetensors", {"x": a})
    same_bytes(np.array(mx.load(tmp_path / "bf.safetensors")["x"].astype(mx.float32)), values)


def test_loaded_arrays_outlive_their_file(tmp_path, rng):
    x = rng.standard_normal((64, 64)).astype(np.float32)
    path = tmp_path / "m.npy"
    np.save(path, x)
    a = mx.load(path)
    # rill's saves write a new file and rename it over the old one: the mapped array keeps the
    # old contents, and keeps them once the file is gone.
    mx.save(path, mx.zeros((2,)))
    same_bytes(np.load(path), np.zeros(2, np.float32))
    same_bytes(np.array(a), x)
    os.remove(path)
    same_bytes(np.array(a + 1), x + 1)


def test_load_on_a_stream(tmp_path, rng, gpu_stream):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    np.save(tmp_path / "s.npy", x)
    a = mx.load(tmp_path / "s.npy", stream=gpu_stream)
    same_bytes(np.array(a), x)
    np.savez(tmp_path / "s.npz", x=x)
    d = mx.load(tmp_path / "s.npz", stream=gpu_stream)
    same_bytes(np.array(mx.multiply(d["x"], 2, stream=gpu_stream)), x * 2)


# ---------------------------------------------------------------- .npz


def test_npz_with_numpy(tmp_path, rng):
    arrays = {np.dtype(d).name: random_np(rng, d, SHAPES[i % len(SHAPES)])
              for i, d in enumerate(NP_DTYPES)}
    rill = {k: mx.array(v, dtype=getattr(mx, k.replace("bool", "bool_"))) for k, v in arrays.items()}
    for save, np_save in ((mx.savez, np.savez), (mx.savez_compressed, np.savez_compressed)):
        # rill writes, NumPy reads (named and positional arrays, NumPy's names).
        save(tmp_path / "r.npz", rill["int32"], rill["float16"], **rill)
        with np.load(tmp_path / "r.npz") as f:
            assert sorted(f.files) == sorted(["arr_0", "arr_1", *arrays])
            same_bytes(f["arr_0"], arrays["int32"])
            same_bytes(f["arr_1"], arrays["float16"])
            for k, v in arrays.items():
                same_bytes(f[k], v)
        # NumPy writes, rill reads.
        np_save(tmp_path / "n.npz", arrays["uint8"], **arrays)
        d = mx.load(tmp_path / "n.npz")
        assert isinstance(d, dict) and sorted(d) == sorted(["arr_0", *arrays])
        same_bytes(np.array(d["arr_0"]), arrays["uint8"])
        for k, v in arrays.items():
            same_bytes(np.array(d[k]), v)
    with pytest.raises(ValueError, match="arr_0"):
        mx.savez(tmp_path / "c.npz", rill["int8"], arr_0=rill["int8"])


def test_npz_with_a_corrupted_byte_raises(tmp_path, rng):
    x = rng.standard_normal(1000).astype(np.float32)
    for name, np_save in (("stored", np.savez), ("deflated", np.savez_compressed)):
        path = tmp_path / f"{name}.npz"
        np_save(path, x=x)
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x10
        path.write_bytes(bytes(data))
        with pytest.raises(RuntimeError, match=f"{name}.npz.*x.npy.*corrupt"):
            mx.load(path)


# ---------------------------------------------------------------- safetensors


def test_safetensors_with_the_safetensors_package(tmp_path, rng):
    st = pytest.importorskip("safetensors.numpy")
    from safetensors import safe_open

    arrays = {np.dtype(d).name: random_np(rng, d, SHAPES[i % len(SHAPES)])
              for i, d in enumerate(NP_DTYPES) if d != np.complex64}
    metadata = {"format": "mlx", "note": "ünïcode"}
    # The package writes, rill reads.
    st.save_file(arrays, str(tmp_path / "p.safetensors"), metadata=metadata)
    loaded, meta = mx.load(str(tmp_path / "p.safetensors"), return_metadata=True)
    assert meta == metadata and sorted(loaded) == sorted(arrays)
    for k, v in arrays.items():
        same_bytes(np.array(loaded[k]), v)
    # rill writes, the package reads.
    rill = {k: mx.array(v, dtype=getattr(mx, k.replace("bool", "bool_"))) for k, v in arrays.items()}
    mx.save_safetensors(str(tmp_path / "r.safetensors"), rill, metadata=metadata)
    back = st.load_file(str(tmp_path / "r.safetensors"))
    assert sorted(back) == sorted(arrays)
    for k, v in arrays.items():
        same_bytes(back[k], v)
    with safe_open(str(tmp_path / "r.safetensors"), "np") as f:
        assert f.metadata() == metadata


def test_safetensors_metadata_rules(tmp_path):
    a = mx.array([1.5, 2.5])
    mx.save_safetensors(tmp_path / "m.safetensors", {"a": a})
    d, meta = mx.load(tmp_path / "m.safetensors", return_metadata=True)
    assert meta == {} and list(d) == ["a"]
    assert isinstance(mx.load(tmp_path / "m.safetensors"), dict)
    with pytest.raises(ValueError, match="Metadata must be a dictionary"):
        mx.save_safetensors(tmp_path / "m.safetensors", {"a": a}, metadata={"k": 1})
    with pytest.raises(TypeError):
        mx.save_safetensors(tmp_path / "m.safetensors", {"a": [1, 2]})
    mx.save(tmp_path / "x.npy", a)
    for path in (tmp_path / "x.npy",):
        with pytest.raises(ValueError, match="metadata not supported for format npy"):
            mx.load(path, return_metadata=True)


# ---------------------------------------------------------------- errors


def corrupt_files(tmp_path):
    """{name: path} of broken files of every format."""
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    np.save(tmp_path / "good.npy", x)
    good = (tmp_path / "good.npy").read_bytes()
    files = {
        "missing.npy": None,
        "garbage.npy": b"hello world, this is not an array" * 3,
        "truncated.npy": good[:-5],
        "header_only.npy": good[:40],
        "empty.npy": b"",
        "garbage.safetensors": b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}",
        "truncated.safetensors": b"",
        "missing.npz": None,
        "garbage.npz": b"PK\x03\x04 but nothing else",
    }
    mx.save_safetensors(tmp_path / "good.safetensors", {"x": mx.array(x)})
    files["truncated.safetensors"] = (tmp_path / "good.safetensors").read_bytes()[:-3]
    paths = {}
    for name, data in files.items():
        p = tmp_path / name
        if data is not None:
            p.write_bytes(data)
        paths[name] = p
    return paths


def test_corrupt_files_raise_naming_the_file(tmp_path):
    for name, path in corrupt_files(tmp_path).items():
        with pytest.raises((RuntimeError, ValueError)) as e:
            mx.load(path)
        assert name in str(e.value), str(e.value)
        assert str(e.value).startswith("[load]"), str(e.value)
    with pytest.raises(ValueError, match="Unknown file format txt"):
        mx.load(tmp_path / "a.txt")
    with pytest.raises(ValueError, match="Could not infer file format"):
        mx.load(tmp_path / "noext")
    # A dtype rill does not have is a ValueError, as in MLX.
    np.save(tmp_path / "s.npy", np.array(["abc"]))
    with pytest.raises(ValueError, match="s.npy: unsupported dtype '<U3'"):
        mx.load(tmp_path / "s.npy")
    np.save(tmp_path / "c16.npy", np.array([1 + 2j]))
    with pytest.raises(ValueError, match="complex128"):
        mx.load(tmp_path / "c16.npy")


def test_corrupt_files_raise_what_mlx_raises(tmp_path, mlx):
    paths = corrupt_files(tmp_path)
    np.save(tmp_path / "s.npy", np.array(["abc"]))
    paths["strings.npy"] = tmp_path / "s.npy"
    x = np.arange(1000, dtype=np.float32)
    np.savez(tmp_path / "crc.npz", x=x)
    data = bytearray((tmp_path / "crc.npz").read_bytes())
    data[len(data) // 2] ^= 0x10
    (tmp_path / "crc.npz").write_bytes(bytes(data))
    paths["crc.npz"] = tmp_path / "crc.npz"
    for name, path in paths.items():
        classes = []
        for lib in (mx, mlx):
            # MLX reads lazily: some errors come when the arrays are evaluated.
            with pytest.raises(Exception) as e:
                lib.eval(lib.load(str(path)))
            classes.append(type(e.value))
        assert classes[0] is classes[1], (name, classes)


# ---------------------------------------------------------------- MLX


def test_mlx_reads_rills_files_and_rill_reads_mlxs(tmp_path, rng, mlx):
    names = ["bool_", "uint8", "int16", "uint32", "int64", "float16", "float32", "complex64"]
    x = {n: random_np(rng, np.bool_ if n == "bool_" else n, (3, 5)) for n in names}
    values, bits = bf16_values(rng, (2, 3))
    for lib_w, lib_r in ((mx, mlx), (mlx, mx)):
        arrays = {n: lib_w.array(v, dtype=getattr(lib_w, n)) for n, v in x.items()}
        arrays["bf16"] = lib_w.array(values).astype(lib_w.bfloat16)
        for n, a in arrays.items():
            lib_w.save(str(tmp_path / n), a)
            b = lib_r.load(str(tmp_path / f"{n}.npy"))
            want = values if n == "bf16" else x[n]
            got = b.astype(lib_r.float32) if n == "bf16" else b
            same_bytes(np.array(got), want)
        lib_w.savez(str(tmp_path / "all"), **arrays)
        lib_w.save_safetensors(str(tmp_path / "all"), arrays, metadata={"by": "test"})
        for ext in ("npz", "safetensors"):
            d = lib_r.load(str(tmp_path / f"all.{ext}"))
            assert sorted(d) == sorted(arrays)
            for n in x:
                same_bytes(np.array(d[n]), x[n])
            same_bytes(np.array(d["bf16"].astype(lib_r.float32)), values)
        _, meta = lib_r.load(str(tmp_path / "all.safetensors"), return_metadata=True)
        assert meta == {"by": "test"}


# ---------------------------------------------------------------- pickling


def test_arrays_pickle_and_copy_exactly(rng):
    for d in NP_DTYPES:
        x = random_np(rng, d, (3, 4))
        a = mx.array(x, dtype=getattr(mx, np.dtype(d).name.replace("bool", "bool_")))
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            b = pickle.loads(pickle.dumps(a, protocol=protocol))
            assert isinstance(b, mx.array) and b.dtype == a.dtype
            same_bytes(np.array(b), x)
        same_bytes(np.array(copy.copy(a)), x)
        same_bytes(np.array(copy.deepcopy([a])[0]), x)
    values, _ = bf16_values(rng, (4,))
    b = pickle.loads(pickle.dumps(mx.array(values).astype(mx.bfloat16)))
    assert b.dtype == mx.bfloat16
    same_bytes(np.array(b.astype(mx.float32)), values)
    # Views and 0-d arrays pickle as their values.
    x = rng.standard_normal((4, 6)).astype(np.float32)
    same_bytes(np.array(pickle.loads(pickle.dumps(mx.array(x).T[::2]))), x.T[::2])
    assert pickle.loads(pickle.dumps(mx.array(2.5))).item() == 2.5
    # The pickle needs no NumPy: it names only rill.
    assert b"numpy" not in pickle.dumps(mx.array(x))
