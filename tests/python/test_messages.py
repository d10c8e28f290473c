"""Messages that say what is wrong (issue 8, item 12)."""

import numpy as np
import pytest

import rill.core as mx

def test_truth_value_of_an_empty_array_says_empty():
    with pytest.raises(ValueError, match="truth value of an empty array is ambiguous"):
        bool(mx.array([]))
    with pytest.raises(ValueError, match="more than one element"):
        bool(mx.array([1, 2]))


def test_issubdtype_with_a_numpy_type_names_what_it_accepts():
    with pytest.raises(ValueError) as e:
        mx.issubdtype(mx.int8, np.integer)
    msg = str(e.value)
    assert "failed to extract" not in msg and "DtypeOrCategory" not in msg, msg
    assert msg.startswith("[issubdtype] the second argument must be a rill dtype"), msg
    assert "numpy.integer" in msg, msg
    assert mx.issubdtype(mx.int8, mx.integer)


def test_stream_of_a_bad_value_does_not_list_none_as_allowed():
    for bad in (5, None):
        with pytest.raises(TypeError) as e:
            mx.stream(bad)
        msg = str(e.value)
        assert "None" not in msg.split(", got")[0], msg
        assert msg == f"stream() needs a Stream, a Device or a DeviceType, got {bad!r}"


def test_eye_of_a_negative_size_says_so(mlx):
    for lib in (mx, mlx):
        with pytest.raises(ValueError, match=r"\[eye\] N and M must be"):
            lib.eye(-1)
    with pytest.raises(ValueError, match=r"\[eye\] N and M must be non-negative integers, got N=2, M=-3"):
        mx.eye(2, -3)


def test_start_capture_with_a_bad_path_fails_at_once(tmp_path):
    bad = tmp_path / "no_such_dir" / "trace.json"
    with pytest.raises(ValueError, match=r"\[start_capture\] cannot write the trace to .*no_such_dir"):
        mx.start_capture(str(bad))
    # No capture was left running: a good one starts, and stopping gives the summary.
    good = tmp_path / "trace.json"
    mx.start_capture(str(good))
    mx.eval(mx.ones((4,)) + 1)
    summary = mx.stop_capture()
    assert summary["ops"] >= 1
    assert good.exists()
