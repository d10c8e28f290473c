"""Every public name of real MLX 0.32.4's ``mlx.core``, of each of its namespaces (linalg, fft,
fast, random, metal, cuda, distributed) and of its ``array`` class exists in ``rill.core``,
except the ones listed below with the reason (issue 10's first "done when").

The lists are the whole story: a name MLX gains, or a name rill loses, fails this test until it
exists or is listed here with its reason. A listed name that rill has fails the test too, so the
lists shrink as the work lands.
"""

import pytest

import rill.core as mx

#: Names that cannot exist in rill, with the reason. (None today: the Metal names that MLX keeps
#: exist here and say that Metal is not available, as MLX's own builds without Metal do.)
CANNOT_EXIST = {}

#: Names that do not exist yet, with the reason. (None today: the function export names exist,
#: over rill's own file format, docs/transforms.md.)
NOT_YET = {}

NAMESPACES = ["", "linalg", "fft", "fast", "random", "metal", "cuda", "distributed", "array"]


def _public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


def _names(core):
    """Qualified public names ("add", "linalg.norm", "array.at") of an mlx.core-like module."""
    out = set()
    for ns in NAMESPACES:
        obj = core if ns == "" else getattr(core, ns, None)
        if obj is None:
            continue
        prefix = f"{ns}." if ns else ""
        out |= {prefix + n for n in _public(obj)}
    return out


def test_the_lists_hold_only_mlx_names(mlx):
    theirs = _names(mlx)
    stale = sorted(n for n in {**CANNOT_EXIST, **NOT_YET} if n not in theirs)
    assert not stale, f"listed but not in MLX 0.32.4: {stale}"


def test_every_mlx_name_exists_in_rill(mlx):
    assert mlx.__version__ == "0.32.4", mlx.__version__
    ours = _names(mx)
    listed = set(CANNOT_EXIST) | set(NOT_YET)
    missing = sorted(_names(mlx) - ours - listed)
    assert not missing, f"MLX names that rill lacks (add them, or list them with a reason): " \
                        f"{missing}"
    landed = sorted(listed & ours)
    assert not landed, f"listed as missing but rill has them (remove them from the lists): " \
                       f"{landed}"


@pytest.mark.parametrize("ns", [n for n in NAMESPACES if n not in ("", "array")])
def test_namespaces_are_modules_of_rill_core(mlx, ns):
    """``mx.linalg`` and friends are reachable both as attributes and by import."""
    import importlib

    assert getattr(mx, ns) is not None
    assert importlib.import_module(f"rill.core.{ns}") is getattr(mx, ns)


def test_type_names(mlx):
    """ThreadLocalStream is the type of what new_thread_local_stream returns, as in MLX (in
    rill that is a plain Stream, usable from every thread); ArrayLike names what array-taking
    functions accept, for annotations."""
    import typing

    assert isinstance(mlx.new_thread_local_stream(mlx.cpu), mlx.ThreadLocalStream)
    s = mx.new_thread_local_stream(mx.cpu)
    assert isinstance(s, mx.ThreadLocalStream) and isinstance(s, mx.Stream)
    assert mx.array in typing.get_args(mx.ArrayLike)

    def f(x: mx.ArrayLike) -> mx.array:
        return mx.array(x) * 2

    assert typing.get_type_hints(f)["x"] == mx.ArrayLike
    assert f([1, 2]).tolist() == [2, 4]


def test_array_members_added_in_python(mlx, rng):
    """real, imag, conj() and view() on arrays, against MLX's, on random complex and real
    values; iter(a) is an ArrayIterator."""
    import numpy as np

    z = (rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))).astype(np.complex64)
    f = rng.standard_normal((3, 4)).astype(np.float32)
    for values in (z, f):
        a, b = mx.array(values), mlx.array(values)
        for name in ("real", "imag"):
            got, want = getattr(a, name), getattr(b, name)
            assert got.dtype == mx.float32 and want.dtype == mlx.float32
            np.testing.assert_array_equal(np.array(got), np.array(want))
        np.testing.assert_array_equal(np.array(a.conj()), np.array(b.conj()))
    np.testing.assert_array_equal(np.array(mx.array(f).view(mx.int32)),
                                  np.array(mlx.array(f).view(mlx.int32)))
    np.testing.assert_array_equal(np.array(mx.array(f).view(mx.uint8, stream=mx.cpu)),
                                  f.view(np.uint8))
    assert isinstance(iter(mx.array(f)), mx.ArrayIterator)
    assert [np.array(r).tolist() for r in mx.array(f)] == f.tolist()


def test_array_like_covers_what_array_reads():
    import numpy as np

    for value in (mx.array([1]), 1, 2.5, True, 1j, [1, 2], (3,), np.ones(2)):
        assert isinstance(value, mx.ArrayLike), value
    assert not isinstance(object(), mx.ArrayLike)
