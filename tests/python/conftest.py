"""Shared helpers for rill's Python tests.

The seeds' examples target a machine with a GPU. Where none exists, `gpu_stream` stands in: a
second CPU stream (the issue's rule), while the tests also check that asking for the GPU raises
ValueError, as MLX does without a GPU.

Two suite-wide rules live here:
- Real MLX is optional on a developer's machine (the comparisons with it skip, and `-rs` lists
  them), but `RILL_REQUIRE_MLX=1` (set by `.ci/run`) turns a missing MLX into an error of every
  test that needs it: CI never passes green with the comparisons silently skipped.
- Every public function of `rill.core` (and of its `random`, `fft`, `linalg`, `cuda` and `metal`
  submodules) is wrapped, for the session, by a recorder of the calls made to it;
  `test_zz_coverage.py` fails if the suite never called one of them.
"""

import functools
import os
import types

import numpy as np
import pytest

import rill.core as mx

HAS_GPU = mx.is_available(mx.gpu)
REQUIRE_MLX = os.environ.get("RILL_REQUIRE_MLX", "") not in ("", "0")

# ---------------------------------------------------------------- calls to the public functions

#: The namespaces whose functions the suite must call, by the prefix the coverage report uses.
PUBLIC_NAMESPACES = {"mx": mx, "mx.random": mx.random, "mx.cuda": mx.cuda, "mx.metal": mx.metal,
                     "mx.fft": mx.fft, "mx.linalg": mx.linalg, "mx.fast": mx.fast,
                     "mx.distributed": mx.distributed}

#: "mx.add", "mx.random.uniform", ...: every public function that was called at least once.
CALLED = set()


def public_functions():
    """{qualified name: function} for every public function of the namespaces above.

    Functions are what `import rill.core as mx` offers that is callable and not a class (arrays,
    dtypes, devices and streams are classes, tested through their own methods)."""
    out = {}
    for prefix, ns in PUBLIC_NAMESPACES.items():
        for name in dir(ns):
            if name.startswith("_"):
                continue
            f = getattr(ns, name)
            if isinstance(f, (types.BuiltinFunctionType, types.FunctionType)):
                out[f"{prefix}.{name}"] = f
    return out


def _record(qualname, f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        CALLED.add(qualname)
        return f(*args, **kwargs)

    wrapper.__rill_recorded__ = True
    return wrapper


def _install_recorders():
    # A function bound under two names (the module and a submodule) is recorded under each name
    # it was called by.
    for qualname, f in public_functions().items():
        if getattr(f, "__rill_recorded__", False):
            continue
        prefix, _, name = qualname.rpartition(".")
        # For "mx" this also replaces the module globals through which `mx.capture` (pure
        # Python) calls start_capture, stop_capture and synchronize.
        setattr(PUBLIC_NAMESPACES[prefix], name, _record(qualname, f))


_install_recorders()


def pytest_collection_modifyitems(session, config, items):
    # The coverage check reads what every other test called: it runs last.
    last = [i for i in items if i.module.__name__ == "test_zz_coverage"]
    items[:] = [i for i in items if i.module.__name__ != "test_zz_coverage"] + last


#: Set when `-k` or `-m` left part of the suite out: the coverage check then cannot judge.
DESELECTED = pytest.StashKey[bool]()


def pytest_deselected(items):
    if items:
        items[0].config.stash[DESELECTED] = True


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def gpu_stream():
    """A stream for work the seeds put on the GPU: a GPU stream, or a second CPU stream."""
    if HAS_GPU:
        return mx.new_stream(mx.gpu)
    return mx.new_stream(mx.cpu)


@pytest.fixture
def gpu_device():
    """What the seeds call `mx.gpu`: the GPU, or the CPU where there is none."""
    return mx.gpu if HAS_GPU else mx.cpu


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def cpu_default():
    """The CPU as the default device for the test (the GPU has its own element functions, CUDA's;
    tests of the CPU kernels use this where a GPU is the default)."""
    old = mx.default_device()
    mx.set_default_device(mx.cpu)
    yield
    mx.set_default_device(old)


@pytest.fixture(scope="session")
def mlx():
    """Real MLX, for checks of behaviour against it.

    Skipped (and listed by `pytest -rs`) where it is not installed, unless RILL_REQUIRE_MLX is
    set: then every test that needs it fails."""
    try:
        import mlx.core
    except ImportError as e:
        if REQUIRE_MLX:
            pytest.fail(f"RILL_REQUIRE_MLX is set but real MLX cannot be imported ({e}); "
                        'install it with pip install "mlx[cpu]==0.32.4"', pytrace=False)
        pytest.skip(f"real MLX is not installed ({e}): comparison with MLX skipped")
    return mlx.core


def assert_array(x, expected, dtype=None, rtol=1e-6, atol=0.0):
    """`x` (a rill array) has `expected`'s shape and values, and `dtype` when given."""
    assert isinstance(x, mx.array)
    if dtype is not None:
        assert x.dtype == dtype, f"dtype {x.dtype} != {dtype}"
    got = np.array(x)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}"
    if expected.dtype.kind in "biu" and got.dtype.kind in "biu":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)


#: Tolerances (rtol, atol) for comparing a result of each float dtype with a float64 reference:
#: a few units in the last place of the dtype, since each op rounds once (plus its inputs' rounding).
TOLERANCES = {
    "float16": (4e-3, 1e-3),
    "bfloat16": (3e-2, 1e-2),
    "float32": (2e-6, 1e-6),
    "float64": (1e-12, 1e-13),
    "complex64": (2e-6, 1e-6),
}


def tol(dtype):
    """(rtol, atol) for results of `dtype` (a rill dtype or its name); exact for integers."""
    name = dtype if isinstance(dtype, str) else repr(dtype).split(".")[-1]
    return TOLERANCES.get(name, (0.0, 0.0))
