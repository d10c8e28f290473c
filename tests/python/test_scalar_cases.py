"""Scalars meeting arrays, and floats becoming integers: the rules that live once in the core.

`tests/cases/scalars.json` is the shared table of `array(values, dtype) + scalar` (made from real
MLX's results; Node's `node/test/scalars.test.mjs` reads the same file). The float-to-int cases
compare with NumPy on every integer type and with MLX for bfloat16, which NumPy lacks.
"""

import json
import math
import pathlib
import warnings

import numpy as np
import pytest

import rill.core as mx

CASES = json.loads((pathlib.Path(__file__).parents[1] / "cases" / "scalars.json").read_text())["cases"]
INT_TYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def dt(name):
    return getattr(mx, "bool_" if name == "bool" else name)


def case_id(c):
    return f"{c['dtype']}+{c['scalar']!r}"


def rill_add(c):
    try:
        r = mx.array(c["values"], dt(c["dtype"])) + c["scalar"]
        return str(r.dtype).split(".")[-1], r.tolist()
    except ValueError as e:
        assert "overflow" in str(e), str(e)
        return "overflow", None


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_scalar_table(case):
    got, values = rill_add(case)
    assert got == case["expect"]
    if case["result"] is not None:
        # Infinities are strings in the table ("Infinity"): JSON has no number for them.
        expected = [float(v) if isinstance(v, str) else v for v in case["result"]]
        assert values == pytest.approx(expected, rel=1e-6)


def test_scalar_table_agrees_with_mlx(mlx):
    """The table itself against MLX: each case agrees with MLX or says why it does not."""
    for c in CASES:
        if "mlx_differs" in c:
            continue
        try:
            r = mlx.array(c["values"], getattr(mlx, "bool_" if c["dtype"] == "bool" else c["dtype"])) + c["scalar"]
            theirs = str(r.dtype).split(".")[-1]
        except ValueError:
            theirs = "overflow"
        assert theirs == c["expect"], case_id(c)


def test_overflow_message_names_the_value_and_dtype():
    with pytest.raises(ValueError, match=r"Converting 300 to uint8 would result in overflow"):
        mx.array([1], mx.uint8) + 300
    with pytest.raises(ValueError, match="overflow"):
        mx.maximum(mx.array([1], mx.int8), -129)


def test_int_fills_that_do_not_fit_raise():
    with pytest.raises(ValueError, match=r"\[pad\] Converting 1000 to int8"):
        mx.pad(mx.array([1, 2], mx.int8), 1, constant_values=1000)
    with pytest.raises(ValueError, match=r"\[full\] Converting -1 to uint32"):
        mx.full((2,), -1, mx.uint32)
    assert mx.pad(mx.array([1, 2], mx.int8), 1, constant_values=-128).tolist() == [-128, 1, 2, -128]


def test_float_fill_into_unsigned_converts_as_astype(mlx):
    ours = mx.pad(mx.array([1, 2], mx.uint8), 1, constant_values=-1.0).tolist()
    theirs = mlx.pad(mlx.array([1, 2], mlx.uint8), 1, constant_values=-1.0).tolist()
    assert ours == theirs == [255, 1, 2, 255]


def test_list_of_python_ints_takes_the_dtype_all_of_them_need():
    assert mx.array([2**63, 1]).dtype == mx.uint64
    assert mx.array([2**63, 1]).tolist() == [2**63, 1]
    assert mx.array(2**63).dtype == mx.uint64
    assert mx.array([2**31, -1]).dtype == mx.int64
    assert mx.array([1, -1]).dtype == mx.int32
    assert mx.array([2**63, 1.5]).dtype == mx.float32
    with pytest.raises(OverflowError):
        mx.array([2**63, -1])


EDGES = [math.inf, -math.inf, math.nan, 3e9, -3e9, 1e19, -1e19, 1000.0, -1000.0, 300.0, -1.0,
         -0.5, 0.5, 255.9, 65536.0, 70000.5, 2.0**31, 2.0**32, 2.0**63, 2.0**64, -(2.0**63),
         1e30, 4294967295.0, 127.5, -129.0, -2.0**31 - 1]


@pytest.mark.parametrize("src", ["float16", "float32", "float64"])
@pytest.mark.parametrize("dst", INT_TYPES)
def test_float_to_int_edges_match_numpy(src, dst):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = np.array(EDGES, getattr(np, src))
        # C leaves out-of-range float->int conversions undefined, and NumPy's answer for a
        # negative value past int32's range cast to uint32 depends on where the element sits:
        # its SIMD body gives 2**31, its scalar tail the low bits of the int64 (so
        # [-3e9] * 5 -> [2**31] * 4 + [1294967296]). MLX does the same. rill gives one answer
        # wherever the element sits, the SIMD body's; each edge's expected value is taken from
        # a block of 32 copies, which NumPy runs through its SIMD body.
        expected = np.array([np.full(32, v, getattr(np, src)).astype(getattr(np, dst))[0] for v in x])
    got = mx.array(x, dt(src)).astype(dt(dst))
    assert got.dtype == dt(dst)
    assert np.array(got).tolist() == expected.tolist(), list(zip(EDGES, np.array(got).tolist(), expected.tolist()))


@pytest.mark.parametrize("dst", INT_TYPES)
def test_float_to_int_edges_from_bfloat16_match_mlx(dst, mlx):
    ours = mx.array(np.array(EDGES, np.float32)).astype(mx.bfloat16).astype(dt(dst)).tolist()
    theirs = mlx.array(np.array(EDGES, np.float32)).astype(mlx.bfloat16).astype(getattr(mlx, dst)).tolist()
    assert ours == theirs


def test_astype_int32_of_the_issue():
    assert mx.array([math.inf, 3e9, math.nan]).astype(mx.int32).tolist() == [-2**31] * 3


@pytest.mark.parametrize("n", [1, 3, 5, 17, 33])
def test_float_to_uint32_does_not_depend_on_where_the_element_sits(n):
    for v in (-3e9, -(2.0**31) - 1, 1e19, math.nan):
        got = np.array(mx.array(np.full(n, v)).astype(mx.uint32)).tolist()
        assert got == [2**31 if v < 0 or math.isnan(v) else 0] * n, (v, got)
