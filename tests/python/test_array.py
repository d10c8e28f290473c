"""The array object: construction and dtype inference, properties, scalars and lists out, NumPy
both ways, repr, and the dtype objects."""

import copy
import pickle

import numpy as np
import pytest

import rill.core as mx
from conftest import assert_array

ALL_DTYPES = [
    mx.bool_, mx.uint8, mx.uint16, mx.uint32, mx.uint64, mx.int8, mx.int16, mx.int32, mx.int64,
    mx.float16, mx.bfloat16, mx.float32, mx.float64, mx.complex64,
]
NP_NAMES = {
    "bool": np.bool_, "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32,
    "uint64": np.uint64, "int8": np.int8, "int16": np.int16, "int32": np.int32,
    "int64": np.int64, "float16": np.float16, "float32": np.float32, "float64": np.float64,
    "complex64": np.complex64,
}


def dtype_name(d):
    return repr(d).split(".")[-1]


# ---------------------------------------------------------------- dtypes


def test_dtype_objects():
    assert len(set(ALL_DTYPES)) == 14
    for d in ALL_DTYPES:
        assert isinstance(d, mx.Dtype)
        assert repr(d) == str(d) == f"rill.core.{dtype_name(d)}"
    sizes = {mx.bool_: 1, mx.uint8: 1, mx.int16: 2, mx.float16: 2, mx.bfloat16: 2, mx.int32: 4,
             mx.float32: 4, mx.uint64: 8, mx.float64: 8, mx.complex64: 8}
    for d, n in sizes.items():
        assert d.size == n
    assert mx.float32 == mx.float32 and mx.float32 != mx.float16
    assert mx.float32 != np.float32
    assert {mx.float32: "f"}[mx.float32] == "f"
    assert pickle.loads(pickle.dumps(mx.bfloat16)) == mx.bfloat16
    with pytest.raises(TypeError):
        mx.Dtype()


def test_issubdtype_matches_mlx(mlx):
    cats = ["complexfloating", "floating", "inexact", "signedinteger", "unsignedinteger",
            "integer", "number", "generic"]
    names = [dtype_name(d) for d in ALL_DTYPES] + cats
    for a in names:
        for b in names:
            ra = getattr(mx, "bool_" if a == "bool" else a)
            rb = getattr(mx, "bool_" if b == "bool" else b)
            ma = getattr(mlx, "bool_" if a == "bool" else a)
            mb = getattr(mlx, "bool_" if b == "bool" else b)
            assert mx.issubdtype(ra, rb) == mlx.issubdtype(ma, mb), (a, b)


# ---------------------------------------------------------------- construction


@pytest.mark.parametrize(
    "val, dtype, expected",
    [
        (1, "int32", 1),
        (1.5, "float32", 1.5),
        (True, "bool", True),
        (1 + 2j, "complex64", 1 + 2j),
        ([1, 2.5], "float32", [1, 2.5]),
        ([True, 2], "int32", [1, 2]),
        ([True, False], "bool", [True, False]),
        ([[1, 2], [3, 4]], "int32", [[1, 2], [3, 4]]),
        ((1, 2), "int32", [1, 2]),
        ([], "float32", np.zeros((0,))),
        ([[], []], "float32", np.zeros((2, 0))),
        (2**40, "int64", 2**40),
        ([2**40, 1], "int64", [2**40, 1]),
        ([1 + 1j, 3], "complex64", [1 + 1j, 3]),
        ([[1, 2.5], [3, 4j]], "complex64", [[1, 2.5], [3, 4j]]),
    ],
)
def test_inference_from_python(val, dtype, expected, mlx):
    a = mx.array(val)
    assert dtype_name(a.dtype) == dtype
    assert_array(a, expected)
    assert dtype_name(a.dtype) == str(mlx.array(val).dtype).split(".")[-1]


def test_inference_with_arrays_inside_lists(mlx):
    cases = [
        lambda m: [m.array(1), 2],
        lambda m: [m.array([1, 2]), m.array([3, 4])],
        lambda m: [m.array([1, 2], dtype=m.float16), m.array([1, 2], dtype=m.float16)],
        lambda m: [m.array([1, 2], dtype=m.int8), [3, 4]],
        lambda m: [m.array(1.5, dtype=m.float16), 1],
        lambda m: [1.5, m.array(1, dtype=m.int64)],
    ]
    for case in cases:
        ours, theirs = case(mx), case(mlx)
        a, b = mx.array(ours), mlx.array(theirs)
        assert dtype_name(a.dtype) == str(b.dtype).split(".")[-1]
        assert a.tolist() == b.tolist()


def test_explicit_dtype_conversion():
    for d in ALL_DTYPES:
        a = mx.array([0, 1, 2] if d != mx.bool_ else [True, False, True], dtype=d)
        assert a.dtype == d and a.shape == (3,)
    assert mx.array([1.5, 2.7], dtype=mx.int32).tolist() == [1, 2]
    assert mx.array(-1, dtype=mx.uint8).item() == 255
    assert mx.array(1.5, dtype=mx.bool_).item() is True
    assert mx.array(mx.array([1, 2]), dtype=mx.float32).dtype == mx.float32
    assert mx.array([1.1, 2.0], dtype=mx.bfloat16).tolist() == [1.1015625, 2.0]


def test_construction_errors():
    with pytest.raises(ValueError, match="non-uniform"):
        mx.array([[1], [2, 3]])
    with pytest.raises(ValueError, match="non-uniform"):
        mx.array([[1, 2], 3])
    with pytest.raises(ValueError, match="non-uniform"):
        mx.array([3, [1, 2]])
    with pytest.raises(ValueError):
        mx.array("a")
    with pytest.raises(ValueError):
        mx.array([1, "a"])
    with pytest.raises(ValueError):
        mx.array(None)
    with pytest.raises(OverflowError):
        mx.array(2**70)


def test_properties():
    a = mx.zeros((2, 3, 4), dtype=mx.int16)
    assert a.shape == (2, 3, 4) and isinstance(a.shape, tuple)
    assert a.ndim == 3 and a.size == 24 and a.itemsize == 2 and a.nbytes == 48
    assert a.dtype == mx.int16
    assert a.T.shape == (4, 3, 2)
    s = mx.array(3.0)
    assert s.shape == () and s.ndim == 0 and s.size == 1
    assert len(a) == 2
    with pytest.raises(TypeError):
        len(s)


def test_item():
    assert mx.array(5).item() == 5 and type(mx.array(5).item()) is int
    assert mx.array(2.5).item() == 2.5 and type(mx.array(2.5).item()) is float
    assert mx.array(True).item() is True
    assert mx.array(1 + 2j).item() == 1 + 2j
    assert mx.array(1, dtype=mx.bfloat16).item() == 1.0
    assert mx.array([7]).item() == 7
    assert mx.array([[7]], dtype=mx.uint64).item() == 7
    assert mx.array(2**63 + 5, dtype=mx.uint64).item() == 2**63 + 5
    with pytest.raises(ValueError):
        mx.array([1, 2]).item()
    with pytest.raises(ValueError):
        mx.zeros((0,)).item()


def test_tolist():
    assert mx.array([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert mx.array(3).tolist() == 3
    assert mx.array([1.5], dtype=mx.float16).tolist() == [1.5]
    assert mx.array([True, False]).tolist() == [True, False]
    assert mx.zeros((2, 0)).tolist() == [[], []]
    a = mx.arange(24).reshape(2, 3, 4)
    assert a.tolist() == np.arange(24).reshape(2, 3, 4).tolist()
    # Views (transposed, sliced) list in their own order.
    assert a.transpose(2, 0, 1)[::-1, :, 1:].tolist() == (
        np.arange(24).reshape(2, 3, 4).transpose(2, 0, 1)[::-1, :, 1:].tolist()
    )


def test_scalar_conversions():
    assert int(mx.array(3.7)) == 3
    assert float(mx.array(3)) == 3.0
    assert complex(mx.array(1 + 1j)) == 1 + 1j
    assert bool(mx.array([0])) is False
    assert bool(mx.array(0.5)) is True
    assert [10, 20, 30][mx.array(1)] == 20
    assert list(range(mx.array(3))) == [0, 1, 2]
    with pytest.raises(ValueError):
        bool(mx.array([1, 2]))
    with pytest.raises(ValueError):
        int(mx.array([1, 2]))
    with pytest.raises(TypeError):
        [1, 2][mx.array(1.0)]


def test_iteration():
    rows = list(mx.array([[1, 2], [3, 4], [5, 6]]))
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4], [5, 6]]
    assert all(isinstance(r, mx.array) for r in rows)
    assert [x.item() for x in mx.array([1, 2])] == [1, 2]
    with pytest.raises(TypeError):
        iter(mx.array(5))


def test_hash_is_identity_and_copies():
    a = mx.array([1, 2, 3])
    b = mx.array([1, 2, 3])
    assert hash(a) == hash(a) and hash(a) != hash(b)
    assert len({a: 1, b: 2}) == 2
    c = copy.copy(a)
    d = copy.deepcopy(a)
    assert c is not a and c.tolist() == d.tolist() == [1, 2, 3]


def test_astype():
    a = mx.array([-1.5, 0.0, 2.7])
    assert a.astype(mx.int32).tolist() == [-1, 0, 2]
    assert a.astype(mx.bool_).tolist() == [True, False, True]
    assert mx.astype(a, mx.float16).dtype == mx.float16
    assert mx.array([1, 2]).astype(mx.complex64).tolist() == [1 + 0j, 2 + 0j]
    assert mx.array([1 + 2j]).astype(mx.float32).tolist() == [1.0]
    with pytest.raises(TypeError):
        a.astype("float32")


# ---------------------------------------------------------------- NumPy


@pytest.mark.parametrize("name", list(NP_NAMES))
def test_numpy_round_trip(name, rng):
    np_dtype = NP_NAMES[name]
    if name == "bool":
        x = rng.random((3, 5)) > 0.5
    elif np.issubdtype(np_dtype, np.integer):
        info = np.iinfo(np_dtype)
        x = rng.integers(max(info.min, -1000), min(info.max, 1000), size=(3, 5)).astype(np_dtype)
    elif np.issubdtype(np_dtype, np.complexfloating):
        x = (rng.standard_normal((3, 5)) + 1j * rng.standard_normal((3, 5))).astype(np_dtype)
    else:
        x = rng.standard_normal((3, 5)).astype(np_dtype)
    a = mx.array(x, dtype=getattr(mx, "bool_" if name == "bool" else name))
    assert dtype_name(a.dtype) == name
    back = np.array(a)
    assert back.dtype == x.dtype
    np.testing.assert_array_equal(back, x)
    # Without dtype=, only float64 changes (to float32), as in MLX.
    b = mx.array(x)
    assert dtype_name(b.dtype) == ("float32" if name == "float64" else name)


def test_numpy_inputs_of_any_layout(rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    for view in (x[::-1], x.T, x[:, ::2], x[1:3, ::-3], np.broadcast_to(x[0], (3, 6))):
        assert_array(mx.array(view), view)
    assert mx.array(np.float32(3)).dtype == mx.float32
    assert mx.array(np.float64(2.5)).dtype == mx.float32
    assert mx.array(np.int64(7)).dtype == mx.int64
    assert mx.array(np.array(True)).dtype == mx.bool_
    assert mx.array(np.array([1, 2], dtype=np.complex128)).dtype == mx.complex64
    assert mx.array(np.zeros((2, 0))).shape == (2, 0)
    assert mx.array(memoryview(b"abc")).tolist() == [97, 98, 99]
    assert mx.array(np.arange(4, dtype=np.int64), dtype=mx.bfloat16).tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        mx.array(np.array(["a", "b"]))


def test_numpy_out_is_a_readonly_view_or_a_copy(rng):
    x = rng.standard_normal((5, 7)).astype(np.float32)
    a = mx.array(x)
    v = np.asarray(a)
    np.testing.assert_array_equal(v, x)
    assert not v.flags.writeable  # rill arrays are immutable
    c = np.array(a)
    assert c.flags.writeable
    c[0, 0] = 99.0
    assert a[0, 0].item() == x[0, 0]
    # Views of views, negative and zero strides, stay correct after the array is gone.
    w = np.asarray(mx.broadcast_to(a[::-2, 1::3], (2, 3, 2)))
    del a
    np.testing.assert_array_equal(w, np.broadcast_to(x[::-2, 1::3], (2, 3, 2)))
    assert np.array(mx.array([1, 2]), dtype=np.float64).dtype == np.float64
    assert np.asarray(mx.array([1.5], dtype=mx.bfloat16)).dtype == np.float32
    assert np.asarray(mx.array(2.0)).shape == ()
    assert np.asarray(mx.zeros((0, 3))).shape == (0, 3)


def test_numpy_view_keeps_memory_alive():
    before = mx.get_active_memory()
    a = mx.full((1000,), 7.0) + 0
    v = np.asarray(a)
    del a
    assert mx.get_active_memory() >= before + 4000
    assert v.sum() == 7000.0
    del v
    assert mx.get_active_memory() < before + 4000


# ---------------------------------------------------------------- repr


REPR_CASES = [
    "m.array([1, 2, 3])",
    "m.array(5)",
    "m.array(2.5)",
    "m.array(True)",
    "m.array(1 + 2j)",
    "m.array([[1, 2], [3, 4]])",
    "m.arange(6).reshape(2, 3)",
    "m.arange(8).reshape(2, 2, 2)",
    "m.arange(24).reshape(2, 3, 4)",
    "m.arange(7)",
    "m.arange(11)",
    "m.arange(14).reshape(7, 2)",
    "m.arange(2000).reshape(40, 50)",
    "m.arange(0).reshape(0, 3)",
    "m.zeros((2, 0))",
    "m.zeros((0,))",
    "m.array([1.0, -2.5, 3.25e-7, float('nan'), float('inf'), -float('inf')])",
    "m.array([0.1, 0.2, 1 / 3])",
    "m.array([100000.0, 1234567.0])",
    "m.array([1e-4, 1e-5, 123456.0, 999999.5, 0.0001234567])",
    "m.array([1, 2], dtype=m.float16)",
    "m.array([1.1, 2], dtype=m.bfloat16)",
    "m.array([1.1, 2], dtype=m.float64)",
    "m.array([1 - 2j, 0.5 + 0.25j, -1 - 1j])",
    "m.array([-1, 2], dtype=m.int8)",
    "m.array([255], dtype=m.uint8)",
    "m.array([[True]])",
    "m.array(-0.0)",
    "m.array([1e20, 2.0**-30])",
    "m.ones((3, 9, 2))",
]


# MLX 0.32.4's repr of some of the cases above, kept here so that the format is checked without
# MLX installed too.
REPR_KNOWN = {
    "m.array([1, 2, 3])": "array([1, 2, 3], dtype=int32)",
    "m.array(2.5)": "array(2.5, dtype=float32)",
    "m.array(True)": "array(True, dtype=bool)",
    "m.array([[1, 2], [3, 4]])": "array([[1, 2],\n       [3, 4]], dtype=int32)",
    "m.array([1.0, -2.5, 3.25e-7, float('nan'), float('inf'), -float('inf')])":
        "array([1, -2.5, 3.25e-07, nan, inf, -inf], dtype=float32)",
    "m.array([1, 2], dtype=m.float16)": "array([1, 2], dtype=float16)",
    "m.array([-1, 2], dtype=m.int8)": "array([-1, 2], dtype=int8)",
    "m.zeros((2, 0))": "array([[],\n       []], dtype=float32)",
    "m.array([1 - 2j, 0.5 + 0.25j, -1 - 1j])":
        "array([1-2j, 0.5+0.25j, -1-1j], dtype=complex64)",
    "m.arange(8).reshape(2, 2, 2)":
        "array([[[0, 1],\n        [2, 3]],\n       [[4, 5],\n        [6, 7]]], dtype=int32)",
}


@pytest.mark.parametrize("expr", sorted(REPR_KNOWN))
def test_repr_known_strings(expr):
    ours = eval(expr, {"m": mx})
    assert repr(ours) == REPR_KNOWN[expr]
    assert str(ours) == repr(ours)


@pytest.mark.parametrize("expr", REPR_CASES)
def test_repr_matches_mlx(expr, mlx):
    ours = eval(expr, {"m": mx})
    theirs = eval(expr, {"m": mlx})
    assert repr(ours) == repr(theirs)
    assert str(ours) == repr(ours)
