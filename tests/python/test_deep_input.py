"""Deeply nested and self-referencing inputs neither crash nor hang (issue 8, item 8)."""

import pytest

import rill.core as mx

def test_a_list_nested_10000_deep_converts_as_in_mlx(mlx):
    def deep(n):
        x = [1.5]
        for _ in range(n):
            x = [x]
        return x

    a = mx.array(deep(10_000))
    ref = mlx.array(deep(10_000))
    assert a.ndim == ref.ndim == 10_001
    assert a.size == 1 and a.dtype == mx.float32
    assert a.reshape(-1).item() == 1.5
    # eval walks the same depth of plain containers without recursing either.
    mx.eval(deep(10_000) + [a])


def test_self_referencing_lists_raise_or_are_walked_once():
    l = []
    l.append(l)
    with pytest.raises(ValueError, match=r"\[array\] the input contains itself"):
        mx.array(l)
    t = [1.0, 2.0]
    t.append(t)
    with pytest.raises(ValueError):
        mx.array(t)
    # eval ignores non-array leaves; a container that contains itself is walked once.
    x = mx.ones((3,)) + 1
    l.append(x)
    mx.eval(l)
    assert x.tolist() == [2.0, 2.0, 2.0]
    # The same list twice (not a cycle) is fine.
    row = [1, 2]
    assert mx.array([row, row]).tolist() == [[1, 2], [1, 2]]
