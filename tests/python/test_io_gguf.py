"""GGUF files: `save_gguf` and `load` of `.gguf`.

References are independent of rill: the `gguf` package (llama.cpp's own reader and writer, with
its quantizers and dequantizers) and real MLX, which reads rill's files and writes files rill
reads. Data is random bits, not zeros, and compared byte for byte. Where rill deliberately
differs from MLX (bfloat16, int64 and float64 are kept exact, and may be saved), the tests say
so."""

import struct

import numpy as np
import pytest

import rill.core as mx

gguf = pytest.importorskip("gguf")
gq = pytest.importorskip("gguf.quants")
Q = gguf.GGMLQuantizationType
V = gguf.GGUFValueType

#: rill dtype name -> (GGUF tensor type, NumPy dtype the `gguf` reader gives), for every dtype
#: save_gguf writes. MLX writes the first five only.
TENSOR_TYPES = {
    "float32": (Q.F32, np.float32),
    "float16": (Q.F16, np.float16),
    "int8": (Q.I8, np.int8),
    "int16": (Q.I16, np.int16),
    "int32": (Q.I32, np.int32),
    "bfloat16": (Q.BF16, np.uint16),
    "int64": (Q.I64, np.int64),
    "float64": (Q.F64, np.float64),
}
MLX_DTYPES = ["float32", "float16", "int8", "int16", "int32"]
SHAPES = [(), (0,), (1,), (7,), (3, 4), (2, 3, 4), (2, 0, 3), (1, 2, 3, 5)]


def random_bits(rng, nbytes):
    return rng.integers(0, 256, nbytes, dtype=np.uint8)


def random_array(rng, name, shape):
    """A rill array of dtype `name` and `shape` made of random bits, and those bits (uint8)."""
    itemsize = np.dtype(TENSOR_TYPES[name][1]).itemsize
    raw = random_bits(rng, int(np.prod(shape, dtype=np.int64)) * itemsize)
    # Through the unsigned integers of the same size: every bit is kept.
    a = mx.array(raw.view(f"<u{itemsize}").reshape(shape)).view(getattr(mx, name))
    assert a.dtype == getattr(mx, name)
    return a, raw


def raw_bytes(a):
    """The bytes of a rill array's elements in row-major order."""
    if a.dtype == mx.bfloat16:
        a = a.view(mx.uint16)
    return np.ascontiguousarray(np.array(a)).tobytes()


def writer(path, kv=None, tensors=(), alignment=None):
    """Writes a GGUF file with the `gguf` package: `kv(w)` adds metadata, `tensors` are
    (name, data, raw_dtype) triples."""
    w = gguf.GGUFWriter(str(path), "test")
    if alignment:
        w.add_custom_alignment(alignment)
    if kv:
        kv(w)
    for name, data, raw in tensors:
        w.add_tensor(name, data, raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ---------------------------------------------------------------- tensors


@pytest.mark.parametrize("name", list(TENSOR_TYPES))
def test_tensors_round_trip_and_the_gguf_reader_reads_them(tmp_path, rng, name):
    arrays, bits = {}, {}
    # The package's reader cannot read a 0-d BF16 tensor (it reads BF16 as bytes per row).
    for i, shape in enumerate(SHAPES[1:] if name == "bfloat16" else SHAPES):
        arrays[f"t{i}"], bits[f"t{i}"] = random_array(rng, name, shape)
    mx.save_gguf(tmp_path / "r", arrays)
    assert (tmp_path / "r.gguf").exists()
    # The gguf package reads the types, the shapes (its dims are innermost first) and the bytes.
    reader = gguf.GGUFReader(tmp_path / "r.gguf")
    assert [t.name for t in reader.tensors] == list(arrays)
    for t in reader.tensors:
        shape = arrays[t.name].shape
        assert t.tensor_type == TENSOR_TYPES[name][0]
        assert list(t.shape) == list(reversed(shape))
        assert t.data_offset % 32 == 0
        if name == "bfloat16":  # the package gives BF16 data as its bytes
            assert t.data.tobytes() == bits[t.name].tobytes()
        else:
            assert t.data.shape == shape and t.data.dtype == TENSOR_TYPES[name][1]
            assert t.data.tobytes() == bits[t.name].tobytes()
    # rill reads its own file back, in file order.
    back = mx.load(tmp_path / "r.gguf")
    assert list(back) == list(arrays)
    for k, a in back.items():
        assert a.dtype == getattr(mx, name) and a.shape == arrays[k].shape
        assert raw_bytes(a) == bits[k].tobytes()


@pytest.mark.parametrize("name", list(TENSOR_TYPES))
def test_tensors_written_by_the_gguf_package_load(tmp_path, rng, name):
    gtype, np_dtype = TENSOR_TYPES[name]
    tensors, want = [], {}
    for i, shape in enumerate([s for s in SHAPES if s != ()]):
        raw = random_bits(rng, int(np.prod(shape)) * np.dtype(np_dtype).itemsize)
        data = raw.view(np_dtype).reshape(shape)
        tensors.append((f"x{i}", data, gtype if name == "bfloat16" else None))
        want[f"x{i}"] = (shape, raw.tobytes())
    writer(tmp_path / "p.gguf", tensors=tensors)
    got = mx.load(tmp_path / "p.gguf")
    assert list(got) == list(want)
    for k, (shape, b) in want.items():
        assert got[k].dtype == getattr(mx, name) and got[k].shape == shape
        assert raw_bytes(got[k]) == b


def test_views_are_saved_row_major_and_alignment_is_kept(tmp_path, rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    a = mx.array(x)
    mx.save_gguf(tmp_path / "v.gguf", {"t": a.T, "s": a[::2, 1::2], "b": mx.broadcast_to(a[:1], (3, 6))},
                 metadata={"general.alignment": mx.array(64, dtype=mx.uint32)})
    reader = gguf.GGUFReader(tmp_path / "v.gguf")
    data = {t.name: t.data for t in reader.tensors}
    np.testing.assert_array_equal(data["t"], x.T)
    np.testing.assert_array_equal(data["s"], x[::2, 1::2])
    np.testing.assert_array_equal(data["b"], np.broadcast_to(x[:1], (3, 6)))
    assert all(t.data_offset % 64 == 0 for t in reader.tensors)
    back = mx.load(tmp_path / "v.gguf")
    np.testing.assert_array_equal(np.array(back["t"]), x.T)
    # Files with another alignment, written by the package, load too.
    writer(tmp_path / "a.gguf", alignment=128,
           tensors=[("a", x[0], None), ("b", np.arange(5, dtype=np.int16), None)])
    d, meta = mx.load(tmp_path / "a.gguf", return_metadata=True)
    assert meta["general.alignment"].item() == 128
    np.testing.assert_array_equal(np.array(d["a"]), x[0])
    np.testing.assert_array_equal(np.array(d["b"]), np.arange(5))


def test_load_on_a_stream(tmp_path, rng, gpu_stream):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    mx.save_gguf(tmp_path / "s.gguf", {"x": mx.array(x)})
    d = mx.load(tmp_path / "s.gguf", stream=gpu_stream)
    np.testing.assert_array_equal(np.array(mx.multiply(d["x"], 2, stream=gpu_stream)), x * 2)


def test_extension_format_and_return_metadata(tmp_path):
    a = mx.array([1.5, 2.5])
    mx.save_gguf(str(tmp_path / "w"), {"a": a})
    mx.save_gguf(tmp_path / "kept.gguf", {"a": a})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.gguf", "w.gguf"]
    (tmp_path / "w.gguf").rename(tmp_path / "w.bin")
    d = mx.load(tmp_path / "w.bin", format="gguf")
    assert list(d) == ["a"] and d["a"].tolist() == [1.5, 2.5]
    d, meta = mx.load(tmp_path / "kept.gguf", return_metadata=True)
    assert meta == {} and list(d) == ["a"]
    with pytest.raises(TypeError):
        with open(tmp_path / "f.gguf", "wb") as f:
            mx.save_gguf(f, {"a": a})


# ---------------------------------------------------------------- metadata


def all_value_types(w):
    w.add_uint8("u8", 200)
    w.add_int8("i8", -3)
    w.add_uint16("u16", 60000)
    w.add_int16("i16", -300)
    w.add_uint32("u32", 4000000000)
    w.add_int32("i32", -5)
    w.add_uint64("u64", 2**63 + 5)
    w.add_int64("i64", -2**40)
    w.add_float32("f32", 1.25)
    w.add_float64("f64", 2.0**-30 + 1)
    w.add_bool("yes", True)
    w.add_bool("no", False)
    w.add_string("str", "ünïcode")
    w.add_key_value("empty_str", "", V.STRING)  # add_string skips empty strings
    w.add_array("arr_i32", [1, -2, 3])
    w.add_array("arr_f32", [1.5, -2.5])
    w.add_array("arr_bool", [True, False, True])
    w.add_array("arr_str", ["a", "bc", ""])
    for vt, values in ((V.UINT8, [1, 255]), (V.INT8, [-1, 1]), (V.UINT16, [65535]),
                       (V.INT16, [-32768]), (V.UINT32, [7]), (V.UINT64, [2**64 - 1]),
                       (V.INT64, [-(2**63)]), (V.FLOAT64, [0.1, -0.2])):
        w.add_key_value(f"arr_{vt.name.lower()}", values, V.ARRAY, vt)


METADATA_WANT = {
    "general.architecture": "test",
    "u8": ("uint8", 200), "i8": ("int8", -3), "u16": ("uint16", 60000), "i16": ("int16", -300),
    "u32": ("uint32", 4000000000), "i32": ("int32", -5), "u64": ("uint64", 2**63 + 5),
    "i64": ("int64", -2**40), "f32": ("float32", 1.25), "f64": ("float64", 2.0**-30 + 1),
    "yes": ("bool_", True), "no": ("bool_", False),
    "str": "ünïcode", "empty_str": "",
    "arr_i32": ("int32", [1, -2, 3]), "arr_f32": ("float32", [1.5, -2.5]),
    "arr_bool": ("bool_", [True, False, True]), "arr_str": ["a", "bc", ""],
    "arr_uint8": ("uint8", [1, 255]), "arr_int8": ("int8", [-1, 1]),
    "arr_uint16": ("uint16", [65535]), "arr_int16": ("int16", [-32768]),
    "arr_uint32": ("uint32", [7]), "arr_uint64": ("uint64", [2**64 - 1]),
    "arr_int64": ("int64", [-(2**63)]), "arr_float64": ("float64", [0.1, -0.2]),
}


def check_metadata(meta, want):
    assert list(meta) == list(want)
    for k, w in want.items():
        v = meta[k]
        if isinstance(w, tuple):
            dtype, value = w
            assert isinstance(v, mx.array) and v.dtype == getattr(mx, dtype), (k, v)
            assert v.ndim == (1 if isinstance(value, list) else 0), (k, v)
            assert v.tolist() == value, (k, v.tolist(), value)
        else:
            assert type(v) is type(w) and v == w, (k, v, w)


def test_metadata_of_every_type_from_the_gguf_package(tmp_path):
    writer(tmp_path / "m.gguf", kv=all_value_types, tensors=[("t", np.arange(3, dtype=np.float32), None)])
    d, meta = mx.load(tmp_path / "m.gguf", return_metadata=True)
    check_metadata(meta, METADATA_WANT)
    assert d["t"].tolist() == [0, 1, 2]


def test_metadata_rill_writes_reads_in_the_gguf_package_and_back(tmp_path):
    meta = {"general.architecture": "test", "str": "ünïcode", "empty_str": ""}
    for k, w in METADATA_WANT.items():
        if isinstance(w, tuple):
            meta[k] = mx.array(w[1], dtype=getattr(mx, w[0]))
        elif isinstance(w, list):
            meta[k] = w
    mx.save_gguf(tmp_path / "m.gguf", {"t": mx.arange(3)}, metadata=meta)
    # The package sees the value types GGUF has for them.
    fields = gguf.GGUFReader(tmp_path / "m.gguf").fields
    assert fields["u64"].types == [V.UINT64] and fields["u64"].contents() == 2**63 + 5
    assert fields["f64"].types == [V.FLOAT64] and fields["f64"].contents() == 2.0**-30 + 1
    assert fields["yes"].types == [V.BOOL] and fields["yes"].contents() is True
    assert fields["str"].types == [V.STRING] and fields["str"].contents() == "ünïcode"
    assert fields["arr_str"].types == [V.ARRAY, V.STRING]
    assert fields["arr_str"].contents() == ["a", "bc", ""]
    assert fields["arr_int8"].types == [V.ARRAY, V.INT8] and fields["arr_int8"].contents() == [-1, 1]
    assert fields["arr_float64"].contents() == [0.1, -0.2]
    assert fields["i16"].types == [V.INT16] and fields["i16"].contents() == -300
    _, back = mx.load(tmp_path / "m.gguf", return_metadata=True)
    check_metadata(back, {k: METADATA_WANT[k] for k in meta})


def test_metadata_values_mlx_refuses_are_refused_the_same_way(tmp_path):
    a = {"a": mx.array([1.0])}
    path = tmp_path / "e.gguf"
    # Values that are not a str, a list of str or an array: RuntimeError, as in MLX.
    for v in (1, 1.5, None, [1, 2], ["a", 1], b"x", {"k": "v"}, [mx.array(1)]):
        with pytest.raises(RuntimeError, match="save_gguf"):
            mx.save_gguf(path, a, metadata={"k": v})
    with pytest.raises(RuntimeError, match="more than one dimension"):
        mx.save_gguf(path, a, metadata={"k": mx.zeros((2, 2))})
    with pytest.raises(RuntimeError, match="empty arrays"):
        mx.save_gguf(path, a, metadata={"k": mx.array([], dtype=mx.int32)})
    for dt in (mx.float16, mx.bfloat16, mx.complex64):
        with pytest.raises(ValueError, match="not supported for metadata"):
            mx.save_gguf(path, a, metadata={"k": mx.array([1], dtype=dt)})
    with pytest.raises(ValueError, match="general.alignment"):
        mx.save_gguf(path, a, metadata={"general.alignment": mx.array(48, dtype=mx.uint32)})
    # Tuples of strings are lists of strings.
    mx.save_gguf(path, a, metadata={"k": ("x", "y"), "e": []})
    assert mx.load(path, return_metadata=True)[1] == {"k": ["x", "y"], "e": []}
    # Tensor dtypes GGUF has no type for: RuntimeError, as in MLX.
    for dt in (mx.bool_, mx.uint8, mx.uint16, mx.uint32, mx.uint64, mx.complex64):
        with pytest.raises(RuntimeError, match=f"dtype {str(dt).split('.')[-1]}"):
            mx.save_gguf(path, {"x": mx.array([1, 0], dtype=dt)})
    with pytest.raises(TypeError):
        mx.save_gguf(path, {"a": [1, 2]})


# ---------------------------------------------------------------- quantized tensors


def unpack(w, bits):
    """MLX's packed uint32 weights as one unsigned integer per weight."""
    b = np.array(w).view(np.uint8)
    if bits == 8:
        return b.astype(np.float32)
    out = np.empty(b.shape[:-1] + (b.shape[-1] * 2,), np.float32)
    out[..., 0::2] = b & 0x0F
    out[..., 1::2] = b >> 4
    return out


@pytest.mark.parametrize("qtype", ["Q8_0", "Q4_0", "Q4_1"])
def test_quantized_tensors_load_as_mlx_loads_them(tmp_path, rng, qtype):
    q = Q[qtype]
    bits = 8 if qtype == "Q8_0" else 4
    x = rng.standard_normal((3, 4, 64)).astype(np.float32)
    packed = gq.quantize(x, q)
    writer(tmp_path / "q.gguf", tensors=[("blk.0.weight", packed, q), ("norm", x[0, 0], None)])
    d = mx.load(tmp_path / "q.gguf")
    assert list(d) == ["blk.0.weight", "blk.0.scales", "blk.0.biases", "norm"]
    w, s, b = d["blk.0.weight"], d["blk.0.scales"], d["blk.0.biases"]
    assert w.dtype == mx.uint32 and w.shape == (3, 4, 64 * bits // 32)
    assert s.dtype == b.dtype == mx.float16 and s.shape == b.shape == (3, 4, 2)
    # weight * scale + bias, per group of 32, gives what the package dequantizes.
    groups = unpack(w, bits).reshape(3, 4, 2, 32)
    s32 = np.array(s.astype(mx.float32))[..., None]
    b32 = np.array(b.astype(mx.float32))[..., None]
    ours = (groups * s32 + b32).reshape(3, 4, 64)
    ref = gq.dequantize(packed, q)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())
    # The names: MLX drops the last 7 characters (".weight") when there are that many.
    for name, prefix in (("x.weight", "x"), ("abcdefghij", "abc"), ("short", "short")):
        writer(tmp_path / "n.gguf", tensors=[(name, packed[0], q)])
        assert list(mx.load(tmp_path / "n.gguf")) == [name, f"{prefix}.scales", f"{prefix}.biases"]


def test_quantized_and_unsupported_types_against_mlx(tmp_path, rng, mlx):
    # Random blocks (scales kept finite, so no NaN payloads are compared) load bit for bit as
    # real MLX loads them.
    for qtype, block in (("Q8_0", 34), ("Q4_0", 18), ("Q4_1", 20)):
        raw = random_bits(rng, 2 * 3 * 4 * block).reshape(2, 3, 4 * block)
        blocks = raw.reshape(2, 3, 4, block)
        for at in (0, 2) if qtype == "Q4_1" else (0,):
            blocks[..., at + 1] &= 0x3B  # exponent < 15: finite, and small enough for -128 * d
        writer(tmp_path / f"{qtype}.gguf", tensors=[("m.weight", raw, Q[qtype])])
        ours, theirs = mx.load(tmp_path / f"{qtype}.gguf"), mlx.load(str(tmp_path / f"{qtype}.gguf"))
        assert sorted(ours) == sorted(theirs)
        for k in ours:
            assert ours[k].dtype == getattr(mx, str(theirs[k].dtype).split(".")[-1])
            assert ours[k].shape == theirs[k].shape
            assert np.array(ours[k]).tobytes() == np.array(theirs[k]).tobytes(), (qtype, k)
    # A quantized type MLX does not load quantized: refused, naming the file, tensor and type
    # (MLX raises RuntimeError too).
    raw = random_bits(rng, 2 * 22).reshape(1, 44)
    writer(tmp_path / "q5.gguf", tensors=[("m.weight", raw, Q.Q5_0)])
    with pytest.raises(RuntimeError, match=r"q5\.gguf.*'m\.weight'.*Q5_0"):
        mx.load(tmp_path / "q5.gguf")
    with pytest.raises(RuntimeError):
        mlx.load(str(tmp_path / "q5.gguf"))


# ---------------------------------------------------------------- real MLX


def test_mlx_reads_rills_files_and_rill_reads_mlxs(tmp_path, rng, mlx):
    x = {n: random_bits(rng, 3 * 5 * np.dtype(TENSOR_TYPES[n][1]).itemsize)
         .view(TENSOR_TYPES[n][1]).reshape(3, 5) for n in MLX_DTYPES}
    x["scalar"] = np.array(7, dtype=np.int32)
    meta_values = {"s": "hello", "l": ["a", "bc"], "u8": ("uint8", 3), "i64": ("int64", [1, -2, 3]),
                   "b": ("bool_", [True, False]), "f": ("float32", 1.5), "u32": ("uint32", [4000000000])}
    for lib_w, lib_r in ((mx, mlx), (mlx, mx)):
        arrays = {n: lib_w.array(v) for n, v in x.items()}
        meta = {k: lib_w.array(v[1], dtype=getattr(lib_w, v[0])) if isinstance(v, tuple) else v
                for k, v in meta_values.items()}
        lib_w.save_gguf(str(tmp_path / "all"), arrays, meta)
        d, m = lib_r.load(str(tmp_path / "all.gguf"), return_metadata=True)
        assert sorted(d) == sorted(x)
        for n, want in x.items():
            got = np.array(d[n])
            assert got.dtype == want.dtype and got.shape == want.shape
            assert got.tobytes() == want.tobytes()
        assert sorted(m) == sorted(meta_values)
        for k, want in meta_values.items():
            if isinstance(want, tuple):
                assert str(m[k].dtype).split(".")[-1] == want[0].rstrip("_")
                assert m[k].tolist() == want[1], (k, m[k], want)
            else:
                assert m[k] == want


def test_deliberate_differences_from_mlx(tmp_path, rng, mlx):
    # MLX converts BF16 tensors to float16; rill keeps them bfloat16 (astype gives MLX's).
    x = rng.standard_normal((4, 8)).astype(np.float32)
    writer(tmp_path / "bf.gguf", tensors=[("t", gq.quantize(x, Q.BF16), Q.BF16)])
    ours, theirs = mx.load(tmp_path / "bf.gguf")["t"], mlx.load(str(tmp_path / "bf.gguf"))["t"]
    assert ours.dtype == mx.bfloat16 and theirs.dtype == mlx.float16
    assert np.array(ours.astype(mx.float16)).tobytes() == np.array(theirs).tobytes()
    # rill saves bfloat16, int64 and float64 tensors (MLX refuses them).
    for dt in ("bfloat16", "int64", "float64"):
        with pytest.raises(RuntimeError, match="not supported"):
            mlx.save_gguf(str(tmp_path / "m.gguf"), {"t": mlx.array([1, 2]).astype(getattr(mlx, dt))})
        mx.save_gguf(tmp_path / "r.gguf", {"t": mx.array([1, 2]).astype(getattr(mx, dt))})
        assert mx.load(tmp_path / "r.gguf")["t"].dtype == getattr(mx, dt)


# ---------------------------------------------------------------- corrupt files


def gguf_bytes(kvs=b"", n_kv=0, tensors=b"", n_tensors=0, data=b"", version=3, magic=b"GGUF"):
    head = magic + struct.pack("<IQQ", version, n_tensors, n_kv) + kvs + tensors
    return head + b"\0" * (-len(head) % 32) + data


def gstr(s):
    s = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(s)) + s


def tinfo(name, dims, ttype, offset):
    return gstr(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims) + \
        struct.pack("<IQ", ttype, offset)


def corrupt_files(tmp_path):
    """{name: (bytes or None for missing, a pattern the error must match)}."""
    good = gguf_bytes(kvs=gstr("k") + struct.pack("<I", 8) + gstr("v"), n_kv=1,
                      tensors=tinfo("t", [4], 0, 0), n_tensors=1, data=np.arange(4, dtype=np.float32).tobytes())
    (tmp_path / "good.gguf").write_bytes(good)
    assert mx.load(tmp_path / "good.gguf")["t"].tolist() == [0, 1, 2, 3]
    f32 = np.zeros(4, np.float32).tobytes()
    return {
        "missing.gguf": (None, "cannot open"),
        "empty.gguf": (b"", "not a GGUF file"),
        "magic.gguf": (b"GGML" + good[4:], "not a GGUF file"),
        "version1.gguf": (gguf_bytes(version=1), "version 1 is not supported"),
        "version9.gguf": (gguf_bytes(version=9), "version 9 is not supported"),
        "bigendian.gguf": (b"GGUF" + struct.pack(">IQQ", 3, 0, 0), "big-endian"),
        "header.gguf": (good[:12], "truncated"),
        "in_kv.gguf": (good[:40], "truncated"),
        "in_tensor_info.gguf": (good[:50], "truncated"),
        "in_data.gguf": (good[:-3], "truncated"),
        "offset.gguf": (gguf_bytes(tensors=tinfo("t", [4], 0, 1 << 40), n_tensors=1, data=f32), "'t'.*past the end"),
        "huge_dims.gguf": (gguf_bytes(tensors=tinfo("t", [1 << 62, 1 << 62], 0, 0), n_tensors=1, data=f32),
                           "too large"),
        "huge_ndim.gguf": (gguf_bytes(tensors=gstr("t") + struct.pack("<I", 1 << 31), n_tensors=1), "truncated"),
        "huge_counts.gguf": (gguf_bytes(n_kv=1 << 62, n_tensors=1 << 62), "truncated"),
        "huge_string.gguf": (gguf_bytes(kvs=struct.pack("<Q", 1 << 63), n_kv=1), "truncated"),
        "huge_array.gguf": (gguf_bytes(kvs=gstr("k") + struct.pack("<IIQ", 9, 6, 1 << 62), n_kv=1), "truncated|claims"),
        "huge_str_array.gguf": (gguf_bytes(kvs=gstr("k") + struct.pack("<IIQ", 9, 8, 1 << 62), n_kv=1), "truncated"),
        "tensor_type.gguf": (gguf_bytes(tensors=tinfo("t", [4], 999, 0), n_tensors=1, data=f32),
                             "'t'.*unknown type 999"),
        "value_type.gguf": (gguf_bytes(kvs=gstr("k") + struct.pack("<I", 77), n_kv=1), "unknown type 77"),
        "duplicate.gguf": (gguf_bytes(tensors=tinfo("t", [4], 0, 0) + tinfo("t", [4], 0, 0), n_tensors=2, data=f32),
                           "two tensors are named 't'"),
        "duplicate_key.gguf": (gguf_bytes(kvs=(gstr("k") + struct.pack("<I", 8) + gstr("v")) * 2, n_kv=2),
                               "'k' appears twice"),
        "bad_utf8.gguf": (gguf_bytes(kvs=gstr(b"\xff\xfe") + struct.pack("<I", 8) + gstr("v"), n_kv=1), "UTF-8"),
        "bad_bool.gguf": (gguf_bytes(kvs=gstr("k") + struct.pack("<IB", 7, 2), n_kv=1), "bool"),
        "alignment.gguf": (gguf_bytes(kvs=gstr("general.alignment") + struct.pack("<II", 4, 0), n_kv=1),
                           "not a power of two"),
        "nested.gguf": (gguf_bytes(kvs=gstr("k") + struct.pack("<IIQ", 9, 9, 1) + struct.pack("<IQ", 4, 1)
                                   + struct.pack("<I", 1), n_kv=1), "array of arrays"),
        "q_last_dim.gguf": (gguf_bytes(tensors=tinfo("q", [16, 2], Q.Q8_0, 0), n_tensors=1, data=b"\0" * 68),
                            "innermost dim of 16"),
    }


def test_corrupt_files_raise_naming_the_file(tmp_path):
    for name, (data, pattern) in corrupt_files(tmp_path).items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        # A missing file and an array of arrays are ValueErrors, as in MLX; the rest RuntimeErrors.
        cls = ValueError if name in ("missing.gguf", "nested.gguf") else RuntimeError
        with pytest.raises(cls) as e:
            mx.load(path)
        msg = str(e.value)
        assert msg.startswith("[load]") and name in msg, msg
        assert __import__("re").search(pattern, msg), (name, msg)


def test_every_truncation_of_a_file_raises(tmp_path, rng):
    mx.save_gguf(tmp_path / "g.gguf", {"a": mx.array(rng.standard_normal(5).astype(np.float32)), "b": mx.arange(3)},
                 metadata={"s": "x", "l": ["p", "q"], "n": mx.array([1, 2], dtype=mx.int16)})
    good = (tmp_path / "g.gguf").read_bytes()
    for n in range(len(good)):
        (tmp_path / "t.gguf").write_bytes(good[:n])
        # The padding after the last tensor's data is not needed; everything before it is.
        with pytest.raises(RuntimeError, match="t.gguf"):
            mx.load(tmp_path / "t.gguf")
    # Flipping any byte never crashes: it loads or raises.
    for n in range(0, len(good), 3):
        data = bytearray(good)
        data[n] ^= 0xFF
        (tmp_path / "f.gguf").write_bytes(bytes(data))
        try:
            mx.eval(list(mx.load(tmp_path / "f.gguf").values()))
        except (RuntimeError, ValueError) as e:
            assert "f.gguf" in str(e)


def test_corrupt_files_raise_what_mlx_raises(tmp_path, mlx):
    # The files MLX refuses. It loads some of the others (a version it does not know, a tensor
    # type it does not know, repeated keys, bytes that are not UTF-8) and crashes on two (huge
    # string lengths and dim counts): rill refuses them all.
    files = corrupt_files(tmp_path)
    for name in ("missing.gguf", "empty.gguf", "magic.gguf", "header.gguf", "in_kv.gguf",
                 "in_tensor_info.gguf", "in_data.gguf", "offset.gguf", "huge_dims.gguf",
                 "huge_counts.gguf", "huge_array.gguf", "huge_str_array.gguf", "value_type.gguf",
                 "duplicate.gguf", "nested.gguf", "q_last_dim.gguf"):
        data = files[name][0]
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        classes = []
        for lib in (mx, mlx):
            with pytest.raises(Exception) as e:
                lib.eval(list(lib.load(str(path)).values()))
            classes.append(type(e.value))
        assert classes[0] is classes[1], (name, classes)
