"""export_function, exporter (FunctionExporter) and import_function.

Round trips are checked against NumPy in float64 on random inputs, and against the function
itself run without export (bit for bit: the replay builds the same ops); the calling
conventions, return structure and error kinds against real MLX where they are observable. The
files are rill's own format (docs/transforms.md): an MLX-written .mlxfn file must be refused
with an error that says what it is.
"""

import os
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest

import rill.core as mx


def arr(rng, shape, dtype=np.float32, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def close(got, want, rtol=1e-5, atol=1e-6):
    got = np.array(got)
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- round trips


def test_several_inputs_and_outputs_round_trip(tmp_path, rng):
    a_np, b_np = arr(rng, (3, 4)), arr(rng, (4, 5))

    def f(a, b):
        return a @ b, mx.sin(a).sum(axis=1), mx.maximum(a, 0.5) * 3

    path = tmp_path / "f.fn"
    mx.export_function(str(path), f, mx.array(a_np), mx.array(b_np))
    assert path.exists() and not (tmp_path / "f.fn.mlxfn").exists()  # the name as given
    g = mx.import_function(path)  # os.PathLike too
    for _ in range(2):
        a_np, b_np = arr(rng, (3, 4)), arr(rng, (4, 5))
        out = g(mx.array(a_np), mx.array(b_np))
        assert isinstance(out, tuple) and len(out) == 3
        a64, b64 = a_np.astype(np.float64), b_np.astype(np.float64)
        close(out[0], a64 @ b64, rtol=1e-5)
        close(out[1], np.sin(a64).sum(axis=1))
        close(out[2], np.maximum(a64, 0.5) * 3)
        # The same ops as the function itself: the same bits.
        for o, w in zip(out, f(mx.array(a_np), mx.array(b_np))):
            assert np.array_equal(np.array(o), np.array(w))


def test_single_output_is_a_tuple_and_lists_come_back_as_tuples(tmp_path, rng):
    x = mx.array(arr(rng, (5,)))
    mx.export_function(tmp_path / "one", lambda a: mx.exp(a), x)
    out = mx.import_function(tmp_path / "one")(x)
    assert isinstance(out, tuple) and len(out) == 1
    close(out[0], np.exp(np.array(x).astype(np.float64)))
    mx.export_function(tmp_path / "list", lambda a: [a, -a], x)
    out = mx.import_function(tmp_path / "list")(x)
    assert isinstance(out, tuple) and len(out) == 2
    close(out[1], -np.array(x).astype(np.float64))


def test_keyword_inputs_match_by_name_in_any_order(tmp_path, rng):
    x_np, w_np, b_np = arr(rng, (2, 3)), arr(rng, (3, 4)), arr(rng, (4,))

    def f(x, *, w, b):
        return x @ w + b

    mx.export_function(tmp_path / "kw", f, mx.array(x_np), w=mx.array(w_np), b=mx.array(b_np))
    g = mx.import_function(tmp_path / "kw")
    want = x_np.astype(np.float64) @ w_np.astype(np.float64) + b_np
    x, w, b = mx.array(x_np), mx.array(w_np), mx.array(b_np)
    close(g(x, w=w, b=b)[0], want)
    close(g(x, b=b, w=w)[0], want)
    close(g((x,), {"b": b, "w": w})[0], want)  # one tuple and one dict
    with pytest.raises(ValueError, match="Called with 3 positional inputs"):
        g(x, w, b)  # the keywords given by position: not the exported signature
    with pytest.raises(ValueError, match="positional and keyword arrays"):
        g(x, w=w, b=1.0)


def test_tuple_and_dict_example_inputs(tmp_path, rng):
    x, y = mx.array(arr(rng, (3,))), mx.array(arr(rng, (3,)))

    def f(a, b):
        return a - b

    want = np.array(x).astype(np.float64) - np.array(y)
    mx.export_function(tmp_path / "t", f, (x, y))
    g = mx.import_function(tmp_path / "t")
    close(g(x, y)[0], want)
    close(g([x, y])[0], want)
    mx.export_function(tmp_path / "d", f, {"a": x, "b": y})
    g = mx.import_function(tmp_path / "d")
    close(g(b=y, a=x)[0], want)
    close(g({"a": x, "b": y})[0], want)
    with pytest.raises(ValueError, match="positional and keyword arrays"):
        mx.export_function(tmp_path / "bad", f, x, 2.0)
    with pytest.raises(ValueError, match="positional and keyword arrays"):
        mx.export_function(tmp_path / "bad", f, (x,), b=y)


def test_constants_captured_from_closures_are_stored(tmp_path, rng):
    """The weights are written into the file: a fresh process, which never saw them, computes
    the same result."""
    w_np, b_np, x_np = arr(rng, (4, 3)), arr(rng, (3,)), arr(rng, (2, 4))
    w, b = mx.array(w_np), mx.array(b_np) * 2  # b is lazy when exported

    def layer(x):
        return mx.tanh(x @ w + b)

    path = tmp_path / "layer.fn"
    mx.export_function(path, layer, mx.array(x_np))
    want = np.tanh(x_np.astype(np.float64) @ w_np + 2 * b_np.astype(np.float64))
    w = b = None  # noqa: F841 (the import must not need them)
    close(mx.import_function(path)(mx.array(x_np))[0], want)
    np.save(tmp_path / "x.npy", x_np)
    code = textwrap.dedent(f"""
        import numpy as np, rill.core as mx
        g = mx.import_function({str(path)!r})
        out = g(mx.array(np.load({str(tmp_path / 'x.npy')!r})))
        np.save({str(tmp_path / 'out.npy')!r}, np.array(out[0]))
    """)
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ))
    close(np.load(tmp_path / "out.npy"), want)


def test_outputs_may_be_inputs_or_constants_and_functions_may_take_nothing(tmp_path, rng):
    c_np = arr(rng, (3,))
    c = mx.array(c_np)
    mx.export_function(tmp_path / "id", lambda a, b: (b, a, c), mx.array(c_np), mx.array(c_np))
    x, y = mx.array(arr(rng, (3,))), mx.array(arr(rng, (3,)))
    out = mx.import_function(tmp_path / "id")(x, y)
    close(out[0], np.array(y))
    close(out[1], np.array(x))
    close(out[2], c_np)
    mx.export_function(tmp_path / "none", lambda: mx.arange(5) * 2)
    (out,) = mx.import_function(tmp_path / "none")()
    assert out.tolist() == [0, 2, 4, 6, 8]


@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "bool"])
def test_dtypes_round_trip(tmp_path, rng, dtype):
    d = getattr(mx, "bool_" if dtype == "bool" else dtype)
    if dtype == "bool":
        x_np = rng.uniform(size=(4, 5)) > 0.5
        y_np = rng.uniform(size=(4, 5)) > 0.5

        def f(x, y):
            return x != y, mx.any(mx.logical_and(x, y), axis=0)

        def ref(x, y):
            return x ^ y, (x & y).any(axis=0)
    elif dtype == "int32":
        x_np = rng.integers(-50, 50, size=(4, 5)).astype(np.int32)
        y_np = rng.integers(1, 9, size=(4, 5)).astype(np.int32)

        def f(x, y):
            return x // y + x * 3, mx.cumsum(x, axis=1)

        def ref(x, y):
            return x // y + x * 3, np.cumsum(x, axis=1)
    else:
        x_np, y_np = arr(rng, (4, 5), dtype), arr(rng, (4, 5), dtype)

        def f(x, y):
            return x * y + 1, mx.softmax(x, axis=-1)

        def ref(x, y):
            x, y = x.astype(np.float64), y.astype(np.float64)
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return x * y + 1, e / e.sum(axis=-1, keepdims=True)

    mx.export_function(tmp_path / "f", f, mx.array(x_np), mx.array(y_np))
    g = mx.import_function(tmp_path / "f")
    x_np, y_np = (np.flip(x_np, 0).copy(), np.flip(y_np, 1).copy())  # other values
    out = g(mx.array(x_np), mx.array(y_np))
    for o, w in zip(out, ref(x_np, y_np)):
        assert o.dtype == d or (dtype == "bool" and o.dtype == mx.bool_)
        if dtype in ("int32", "bool"):
            assert np.array_equal(np.array(o), w)
        else:
            tol = 2e-3 if dtype == "float16" else 1e-6
            close(o, w, rtol=tol, atol=tol)


def test_random_with_a_fixed_key(tmp_path, rng):
    key = mx.random.key(7)
    x = mx.array(arr(rng, (3, 4)))

    def f(a, k):
        return a + mx.random.normal(a.shape, key=key), mx.random.uniform(shape=(5,), key=k)

    k2 = mx.random.key(11)
    mx.export_function(tmp_path / "r", f, x, k2)
    g = mx.import_function(tmp_path / "r")
    first, second = g(x, k2), g(x, k2)
    want = f(x, k2)
    for a, b, w in zip(first, second, want):
        assert np.array_equal(np.array(a), np.array(w))
        assert np.array_equal(np.array(b), np.array(w))
    # The key passed as an input is an input: another key, other numbers.
    other = g(x, mx.random.key(12))[1]
    assert not np.array_equal(np.array(other), np.array(want[1]))
    assert np.array_equal(np.array(other), np.array(mx.random.uniform(shape=(5,),
                                                                       key=mx.random.key(12))))


def test_reductions_matmul_and_indexing(tmp_path, rng):
    x_np, m_np = arr(rng, (6, 5)), arr(rng, (5, 3))
    idx_np = rng.integers(0, 6, size=(4,)).astype(np.int32)

    def f(x, m, idx):
        t = mx.take(x, idx, axis=0)
        return (t @ m, x[1:5:2, ::-1], mx.argmax(x, axis=1), mx.mean(x, axis=0),
                mx.logsumexp(x, axis=1), mx.sort(x, axis=1), mx.concatenate([x, -x], axis=1))

    mx.export_function(tmp_path / "f", f, mx.array(x_np), mx.array(m_np), mx.array(idx_np))
    g = mx.import_function(tmp_path / "f")
    x_np, idx_np = arr(rng, (6, 5)), rng.integers(0, 6, size=(4,)).astype(np.int32)
    out = g(mx.array(x_np), mx.array(m_np), mx.array(idx_np))
    x64, m64 = x_np.astype(np.float64), m_np.astype(np.float64)
    close(out[0], x64[idx_np] @ m64)
    close(out[1], x64[1:5:2, ::-1])
    assert np.array_equal(np.array(out[2]), x_np.argmax(axis=1))
    close(out[3], x64.mean(axis=0))
    close(out[4], np.log(np.exp(x64).sum(axis=1)))
    close(out[5], np.sort(x64, axis=1))
    close(out[6], np.concatenate([x64, -x64], axis=1))


def test_imported_functions_differentiate_and_compile(tmp_path, rng):
    x_np, y_np = arr(rng, (4,)), arr(rng, (4,))

    def f(a, b):
        return mx.sin(a) * b + mx.stop_gradient(a * a)

    mx.export_function(tmp_path / "f", f, mx.array(x_np), mx.array(y_np))
    g = mx.import_function(tmp_path / "f")
    y = mx.array(y_np)
    d = mx.grad(lambda a: g(a, y)[0].sum())(mx.array(x_np))
    close(d, np.cos(x_np.astype(np.float64)) * y_np)  # nothing through stop_gradient
    c = mx.compile(lambda a: g(a, y)[0] * 2)
    x64 = x_np.astype(np.float64)
    close(c(mx.array(x_np)), 2 * (np.sin(x64) * y_np + x64 * x64))


def test_metadata(tmp_path, rng):
    x = mx.array(arr(rng, (2,)))
    mx.export_function(tmp_path / "m", lambda a: a * 2, x, metadata='{"layers": 3}')
    g, meta = mx.import_function(tmp_path / "m", return_metadata=True)
    assert meta == '{"layers": 3}'
    close(g(x)[0], np.array(x).astype(np.float64) * 2)
    mx.export_function(tmp_path / "n", lambda a: a * 2, x)
    assert mx.import_function(tmp_path / "n", return_metadata=True)[1] == ""


# ---------------------------------------------------------------- several traces


def test_exporter_writes_several_traces_and_the_call_picks_by_signature(tmp_path, rng):
    def fun(*args, scale=None):
        s = sum(args[1:], args[0])
        return s if scale is None else s * scale

    path = tmp_path / "many.fn"
    with mx.exporter(path, fun) as ex:
        assert isinstance(ex, mx.FunctionExporter)
        assert ex(mx.array(1.0)) is None
        # Complete after each call.
        assert mx.import_function(path)(mx.array(4.0))[0].item() == 4.0
        ex(mx.array(1.0), mx.array(2.0))
        ex(mx.array([1.0, 2.0]), mx.array(2.0))
        ex(mx.array([1, 2]), mx.array(2))
        ex(mx.array(1.0), scale=mx.array(3.0))
        with pytest.raises(RuntimeError, match="already exported"):
            ex(mx.array(5.0))
    with pytest.raises(RuntimeError, match="closed"):
        ex(mx.array(1.0), mx.array(2.0), mx.array(3.0))
    ex.close()  # closing twice is fine
    g = mx.import_function(path)
    assert g(mx.array(5.0))[0].item() == 5.0
    assert g(mx.array(5.0), mx.array(6.0))[0].item() == 11.0
    out = g(mx.array([1.5, 2.5]), mx.array(3.0))[0]
    assert out.dtype == mx.float32 and out.tolist() == [4.5, 5.5]
    out = g(mx.array([7, 8]), mx.array(1))[0]
    assert out.dtype == mx.int32 and out.tolist() == [8, 9]
    assert g(mx.array(2.0), scale=mx.array(4.0))[0].item() == 8.0
    with pytest.raises(ValueError) as e:
        g(mx.array(1.0), mx.array(2.0), mx.array(3.0))
    text = str(e.value)
    assert str(path) in text and "Called with 3 positional inputs" in text
    assert text.count("positional input") >= 6  # the five traces are listed, and the call


def test_an_unexported_signature_is_an_error(tmp_path, rng):
    x = mx.array(arr(rng, (3,)))
    mx.export_function(tmp_path / "f", lambda a: a + 1, x)
    g = mx.import_function(tmp_path / "f")
    for bad in [(mx.array(arr(rng, (4,))),), (x.astype(mx.float16),), (x, x), ()]:
        with pytest.raises(ValueError, match="no function exported to"):
            g(*bad)
    with pytest.raises(ValueError, match="positional and keyword arrays"):
        g(np.array([1.0, 2.0, 3.0], dtype=np.float32))


def test_shapeless_exports_replay_only_their_own_shapes(tmp_path, rng):
    """MLX replays a shapeless export at other shapes of the same rank; rill refuses them with
    an error that says why, rather than risk a replay of ops built for the exported shapes."""
    x_np = arr(rng, (2, 3))
    mx.export_function(tmp_path / "s", lambda a: mx.exp(a).sum(axis=0), mx.array(x_np),
                       shapeless=True)
    g = mx.import_function(tmp_path / "s")
    close(g(mx.array(x_np))[0], np.exp(x_np.astype(np.float64)).sum(axis=0))
    with pytest.raises(ValueError, match="shapeless=True"):
        g(mx.array(arr(rng, (4, 3))))
    # Without shapeless, the error does not mention it.
    mx.export_function(tmp_path / "t", lambda a: a, mx.array(x_np))
    with pytest.raises(ValueError) as e:
        mx.import_function(tmp_path / "t")(mx.array(arr(rng, (4, 3))))
    assert "shapeless=True" not in str(e.value)


# ---------------------------------------------------------------- what cannot be exported


def test_host_code_cannot_be_exported(tmp_path, rng):
    x = mx.array(arr(rng, (3,)))
    with pytest.raises(ValueError, match="checkpoint"):
        mx.export_function(tmp_path / "c", lambda a: mx.checkpoint(lambda b: b * 2)(a), x)

    @mx.custom_function
    def twice(a):
        return a * 2

    @twice.vjp
    def twice_vjp(primals, cotangent, output):
        return cotangent * 2

    with pytest.raises(ValueError, match="custom_function"):
        mx.export_function(tmp_path / "c", twice, x)
    assert not (tmp_path / "c").exists()
    with pytest.raises(ValueError, match="Outputs can be either"):
        mx.export_function(tmp_path / "c", lambda a: {"o": a}, x)
    with pytest.raises(ZeroDivisionError):
        mx.export_function(tmp_path / "c", lambda a: 1 / 0, x)
    with pytest.raises(ValueError, match="traced"):
        mx.export_function(tmp_path / "c", lambda a: a * a.sum().item(), x)
    with pytest.raises(TypeError, match="files only"):
        mx.export_function(lambda d: None, lambda a: a, x)
    with pytest.raises(TypeError):
        mx.export_function(tmp_path / "c", 3, x)


def test_a_failed_export_leaves_the_old_file(tmp_path, rng):
    x = mx.array(arr(rng, (3,)))
    path = tmp_path / "f"
    mx.export_function(path, lambda a: a * 3, x)
    with pytest.raises(ValueError):
        mx.export_function(path, lambda a: mx.checkpoint(lambda b: b)(a), x)
    close(mx.import_function(path)(x)[0], np.array(x).astype(np.float64) * 3)


# ---------------------------------------------------------------- files that are not rill's


def _good_file(tmp_path, rng):
    path = tmp_path / "good"
    w = mx.array(arr(rng, (3, 3)))
    mx.export_function(path, lambda a: a @ w, mx.array(arr(rng, (3,))))
    return path, path.read_bytes()


def test_corrupt_truncated_and_foreign_files(tmp_path, rng):
    path, data = _good_file(tmp_path, rng)
    assert data[:8] == b"RILLFUNC" and struct.unpack("<I", data[8:12])[0] == 1
    body_len = struct.unpack("<Q", data[12:20])[0]
    assert len(data) == 20 + body_len + 4
    assert struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[20:-4])

    def refused(content, *patterns):
        bad = tmp_path / "bad"
        bad.write_bytes(content)
        with pytest.raises(RuntimeError) as e:
            mx.import_function(bad)
        text = str(e.value)
        assert str(bad) in text, text
        for p in patterns:
            assert p in text, text

    refused(data[: len(data) // 2], "truncated")
    refused(data[:10], "truncated")
    refused(b"", "empty")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x40
    refused(bytes(flipped), "corrupt", "checksum")
    refused(data + b"\0", "corrupt")
    newer = bytearray(data)
    newer[8:12] = struct.pack("<I", 2)
    refused(bytes(newer), "version 2", "newer rill")
    refused(b"PK\x03\x04 not ours at all", "not a rill function export", "50 4b 03 04")
    with pytest.raises(RuntimeError, match="cannot read"):
        mx.import_function(tmp_path / "missing.fn")


def test_an_mlx_file_is_refused_with_a_clear_error(tmp_path, mlx):
    path = tmp_path / "f.mlxfn"
    mlx.export_function(str(path), lambda a, b: a + b, mlx.array([1.0, 2.0]),
                        mlx.array([3.0, 4.0]))
    with pytest.raises(RuntimeError) as e:
        mx.import_function(path)
    text = str(e.value)
    assert str(path) in text and "MLX .mlxfn file" in text and mlx.__version__ in text
    # Nor does MLX read rill's files.
    mx.export_function(tmp_path / "ours.fn", lambda a: a, mx.array([1.0]))
    with pytest.raises(RuntimeError):
        mlx.import_function(str(tmp_path / "ours.fn"))


# ---------------------------------------------------------------- behaviour beside MLX's


def _scenario(m, tmp_path, tag):
    """What a user sees of export and import through module ``m``: result structures and error
    kinds, in a form comparable between rill and MLX."""
    seen = []

    def attempt(name, fn):
        try:
            r = fn()
        except Exception as e:  # noqa: BLE001 - the kind is what is compared
            seen.append((name, "raises", type(e).__name__))
            return None
        if isinstance(r, tuple):
            seen.append((name, "tuple", len(r), [tuple(o.shape) for o in r]))
        else:
            seen.append((name, type(r).__name__ if r is None else "value"))
        return r

    x, y = m.array([1.0, 2.0]), m.array([3.0, 4.0])
    p = str(tmp_path / f"{tag}.fn")
    attempt("export", lambda: m.export_function(p, lambda a, b: (a + b, a * b), x, y))
    g = m.import_function(p)
    attempt("call", lambda: g(x, y))
    attempt("call tuple", lambda: g((x, y)))
    attempt("call other shape", lambda: g(m.array([1.0, 2, 3]), m.array([1.0, 2, 3])))
    attempt("call other dtype", lambda: g(x.astype(m.float16), y))
    attempt("call too few", lambda: g(x))
    attempt("call scalar", lambda: g(1.0, y))
    attempt("export number input", lambda: m.export_function(p + "2", lambda a, s: a, x, 2.0))
    attempt("export dict output", lambda: m.export_function(p + "3", lambda a: {"a": a}, x))
    attempt("export single", lambda: m.export_function(p + "4", lambda a: a * 2, x))
    attempt("call single", lambda: m.import_function(p + "4")(x))
    attempt("export kw", lambda: m.export_function(p + "5", lambda a, *, w: a * w, x, w=y))
    attempt("call kw", lambda: m.import_function(p + "5")(x, w=y))
    attempt("call kw positional", lambda: m.import_function(p + "5")(x, y))
    attempt("import missing", lambda: m.import_function(p + "missing"))
    ex = m.exporter(p + "6", lambda *a: sum(a[1:], a[0]))
    attempt("exporter call", lambda: ex(x))
    attempt("exporter twice", lambda: ex(y))
    attempt("exporter more", lambda: ex(x, y))
    ex.close()
    attempt("exporter closed", lambda: ex(x, y, x))
    g6 = m.import_function(p + "6")
    attempt("call trace 1", lambda: g6(y))
    attempt("call trace 2", lambda: g6(x, y))
    attempt("meta", lambda: m.import_function(p + "4", return_metadata=True)[1] == "")
    return seen


def test_calls_results_and_errors_match_mlx(tmp_path, mlx):
    assert _scenario(mx, tmp_path, "rill") == _scenario(mlx, tmp_path, "mlx")
