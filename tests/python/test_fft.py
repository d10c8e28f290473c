"""`mx.fft` against numpy.fft (complex128 references) on random inputs of several shapes (odd,
prime and batched lengths, cropping and zero-padding `n`/`s`, every `norm`), against real MLX
for the dtypes and shapes of the results and for the errors it raises, and the errors' messages
(the op, the axes, the shape)."""

import numpy as np
import pytest

import rill.core as mx
from mlx_compare import both_raise, same

RNG = np.random.default_rng(20261203)

SHAPES = [(8,), (7,), (17,), (3, 5), (2, 3, 4), (4, 1, 9), (2, 6, 5)]
NORMS = ["backward", "ortho", "forward"]


def real(shape):
    return RNG.standard_normal(shape)


def cplx(shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def close(got, want, dtype):
    """`got` (rill) against a complex128/float64 NumPy result: float32 transforms are accurate
    to a few ulps of the largest term, so the tolerance scales with it."""
    assert repr(got.dtype).split(".")[-1] == dtype, (got.dtype, dtype)
    g = np.array(got)
    assert g.shape == np.shape(want), (g.shape, np.shape(want))
    scale = max(1.0, float(np.max(np.abs(want)))) if np.size(want) else 1.0
    np.testing.assert_allclose(g, want, rtol=1e-5, atol=3e-6 * scale * np.log2(max(2, g.size)))


def rounded32(x):
    """The values rill sees of `x` after the cast to float32/complex64."""
    return x.astype(np.complex64 if np.iscomplexobj(x) else np.float32).astype(
        np.complex128 if np.iscomplexobj(x) else np.float64)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["real", "complex"])
def test_one_dimensional_transforms_match_numpy(shape, kind):
    x = real(shape) if kind == "real" else cplx(shape)
    a = mx.array(x.astype(np.complex64 if kind == "complex" else np.float32))
    xr = rounded32(x)
    for axis in range(-len(shape), len(shape)):
        d = shape[axis]
        for n in (None, d, max(1, d - 2), d + 3):
            for norm in NORMS:
                close(mx.fft.fft(a, n, axis, norm), np.fft.fft(xr, n, axis, norm), "complex64")
                close(mx.fft.ifft(a, n=n, axis=axis, norm=norm),
                      np.fft.ifft(xr, n, axis, norm), "complex64")
                if kind == "real":
                    close(mx.fft.rfft(a, n, axis, norm), np.fft.rfft(xr, n, axis, norm),
                          "complex64")
                if (n if n is not None else 2 * (d - 1)) >= 1:
                    close(mx.fft.irfft(a, n, axis, norm), np.fft.irfft(xr, n, axis, norm),
                          "float32")


@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4), (4, 1, 9), (2, 6, 5), (6, 7)])
def test_multi_dimensional_transforms_match_numpy(shape):
    x, z = real(shape), cplx(shape)
    a, c = mx.array(x.astype(np.float32)), mx.array(z.astype(np.complex64))
    xr, zr = rounded32(x), rounded32(z)
    nd = len(shape)
    for norm in NORMS:
        close(mx.fft.fft2(c, norm=norm), np.fft.fft2(zr, norm=norm), "complex64")
        close(mx.fft.ifft2(c, norm=norm), np.fft.ifft2(zr, norm=norm), "complex64")
        close(mx.fft.fftn(c, norm=norm), np.fft.fftn(zr, norm=norm), "complex64")
        close(mx.fft.ifftn(c, norm=norm), np.fft.ifftn(zr, norm=norm), "complex64")
        close(mx.fft.rfft2(a, norm=norm), np.fft.rfft2(xr, norm=norm), "complex64")
        close(mx.fft.rfftn(a, norm=norm), np.fft.rfftn(xr, norm=norm), "complex64")
        close(mx.fft.irfft2(c, norm=norm), np.fft.irfft2(zr, norm=norm), "float32")
        close(mx.fft.irfftn(c, norm=norm), np.fft.irfftn(zr, norm=norm), "float32")
    # Explicit sizes (cropping one axis, padding the other) and axes in any order.
    axes = [nd - 1, 0] if nd > 1 else [0]
    s = [shape[a_] + 2 if i == 0 else max(2, shape[a_] - 1) for i, a_ in enumerate(axes)]
    close(mx.fft.fftn(c, s, axes), np.fft.fftn(zr, s, axes), "complex64")
    close(mx.fft.ifftn(c, s=s, axes=axes), np.fft.ifftn(zr, s, axes), "complex64")
    close(mx.fft.rfftn(a, s, axes), np.fft.rfftn(xr, s, axes), "complex64")
    close(mx.fft.irfftn(c, s, axes), np.fft.irfftn(zr, s, axes), "float32")
    close(mx.fft.fft2(c, s=s, axes=axes), np.fft.fft2(zr, s, axes), "complex64")
    close(mx.fft.rfft2(a, s, axes), np.fft.rfft2(xr, s, axes), "complex64")
    close(mx.fft.irfft2(c, s, axes), np.fft.irfft2(zr, s, axes), "float32")
    close(mx.fft.ifft2(c, s, axes), np.fft.ifft2(zr, s, axes), "complex64")
    # Round trips.
    close(mx.fft.irfftn(mx.fft.rfftn(a), s=shape, axes=list(range(nd))), xr, "float32")
    close(mx.fft.ifftn(mx.fft.fftn(c)), zr, "complex64")


def test_large_and_batched_transforms_run_in_parallel_blocks():
    # Many lines along an inner axis (strided) and an outer one, past the kernel's parallel size.
    x = cplx((64, 33, 40))
    c = mx.array(x.astype(np.complex64))
    xr = rounded32(x)
    close(mx.fft.fft(c, axis=1), np.fft.fft(xr, axis=1), "complex64")
    close(mx.fft.fft(c, axis=0), np.fft.fft(xr, axis=0), "complex64")
    close(mx.fft.rfft(mx.array(x.real.astype(np.float32)), axis=-1),
          np.fft.rfft(rounded32(x.real), axis=-1), "complex64")


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool_", "float16", "bfloat16"])
def test_other_input_dtypes_compute_in_single_precision(dtype):
    x = RNG.integers(-3, 4, (4, 6)) if dtype != "bool_" else RNG.random((4, 6)) < 0.5
    a = mx.array(x).astype(getattr(mx, dtype))
    want = np.array(a.astype(mx.float64)) if dtype != "bool_" else x.astype(np.float64)
    close(mx.fft.fft(a), np.fft.fft(want), "complex64")
    close(mx.fft.rfft(a), np.fft.rfft(want), "complex64")
    close(mx.fft.irfft(a), np.fft.irfft(want), "float32")


def test_shifts_and_frequencies_match_numpy():
    for shape in [(5,), (6,), (3, 4), (2, 5, 7)]:
        x = real(shape).astype(np.float32)
        a = mx.array(x)
        np.testing.assert_array_equal(np.array(mx.fft.fftshift(a)), np.fft.fftshift(x))
        np.testing.assert_array_equal(np.array(mx.fft.ifftshift(a)), np.fft.ifftshift(x))
        np.testing.assert_array_equal(np.array(mx.fft.fftshift(a, axes=0)),
                                      np.fft.fftshift(x, axes=0))
        np.testing.assert_array_equal(np.array(mx.fft.ifftshift(a, [-1])),
                                      np.fft.ifftshift(x, [-1]))
        assert mx.fft.fftshift(a).dtype == mx.float32
    for n in (1, 2, 5, 8, 11):
        for d in (1.0, 0.1, 2.5):
            f = mx.fft.fftfreq(n, d)
            assert f.dtype == mx.float32
            np.testing.assert_allclose(np.array(f), np.fft.fftfreq(n, d), rtol=1e-6)
            r = mx.fft.rfftfreq(n, d=d)
            assert r.dtype == mx.float32
            np.testing.assert_allclose(np.array(r), np.fft.rfftfreq(n, d), rtol=1e-6)


def test_streams_and_devices():
    x = cplx((3, 8)).astype(np.complex64)
    s = mx.new_stream(mx.cpu)
    close(mx.fft.fft(mx.array(x), stream=s), np.fft.fft(rounded32(x)), "complex64")
    close(mx.fft.fftn(mx.array(x), stream=mx.cpu), np.fft.fftn(rounded32(x)), "complex64")
    if mx.is_available(mx.gpu):
        # No CUDA kernel: the GPU stream runs the CPU kernel on copies (the fallback).
        close(mx.fft.fft(mx.array(x), stream=mx.gpu), np.fft.fft(rounded32(x)), "complex64")
        close(mx.fft.irfft(mx.array(x), stream=mx.gpu), np.fft.irfft(rounded32(x)), "float32")


def test_errors_name_the_op_and_the_shape():
    a = mx.ones((4, 6))
    with pytest.raises(ValueError, match=r"\[fft\].*axis 2.*\[4, 6\]"):
        mx.fft.fft(a, axis=2)
    with pytest.raises(ValueError, match=r"\[fftn\].*repeated axis"):
        mx.fft.fftn(a, axes=[0, -2])
    with pytest.raises(ValueError, match=r"\[fftn\].*`axes` should not be `None`"):
        mx.fft.fftn(a, s=[3, 3])
    with pytest.raises(ValueError, match=r"\[rfftn\].*same length"):
        mx.fft.rfftn(a, s=[3], axes=[0, 1])
    with pytest.raises(ValueError, match=r"\[ifft\].*invalid FFT size 0"):
        mx.fft.ifft(a, n=0)
    with pytest.raises(ValueError, match=r"\[irfft\].*invalid FFT size -2"):
        mx.fft.irfft(a, n=-2)
    with pytest.raises(ValueError, match=r"\[irfft\].*size 0.*\[4, 1\]"):
        mx.fft.irfft(mx.ones((4, 1)))
    with pytest.raises(ValueError, match=r"\[fft\].*axis -1.*0 dimensions"):
        mx.fft.fft(mx.array(1.0))
    with pytest.raises(ValueError, match=r"\[fft2\].*axis -2"):
        mx.fft.fft2(mx.ones(3))
    with pytest.raises(ValueError, match=r"\[fft\].*invalid norm \"sideways\""):
        mx.fft.fft(a, norm="sideways")
    with pytest.raises(ValueError, match=r"\[fftshift\].*axis 5"):
        mx.fft.fftshift(a, axes=[5])
    with pytest.raises(ValueError, match=r"\[fftfreq\].*greater than 0"):
        mx.fft.fftfreq(0)
    with pytest.raises(ValueError, match=r"\[rfftfreq\].*greater than 0"):
        mx.fft.rfftfreq(-3)
    # Empty axes: the input unchanged, as MLX.
    assert mx.fft.fftn(a, axes=[]).dtype == mx.float32


# ---------------------------------------------------------------- against real MLX

DTYPES = ["bool_", "int32", "float16", "bfloat16", "float32", "float64", "complex64"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_results_match_mlx(dtype, mlx):
    x = RNG.standard_normal((3, 4, 6)) * 3
    a = mx.array(x).astype(getattr(mx, dtype))
    b = mlx.array(x).astype(getattr(mlx, dtype))
    tol = dict(rtol=1e-4, atol=1e-4 * 3 * 72)
    for name, args in [("fft", {}), ("ifft", {"n": 9, "axis": 1}), ("rfft", {"n": 5}),
                       ("irfft", {"axis": 0}), ("fft2", {}), ("ifft2", {"s": [2, 8]}),
                       ("rfft2", {"axes": [0, 2]}), ("irfft2", {"s": [3, 7]}),
                       ("fftn", {}), ("ifftn", {"axes": [2, 0]}), ("rfftn", {}),
                       ("irfftn", {"s": [4, 4], "axes": [1, 2]}), ("fft", {"norm": "ortho"}),
                       ("irfftn", {"norm": "forward"})]:
        same(getattr(mx.fft, name)(a, **args), getattr(mlx.fft, name)(b, **args), **tol)
    same(mx.fft.fftshift(a), mlx.fft.fftshift(b))
    same(mx.fft.ifftshift(a, axes=[0, 2]), mlx.fft.ifftshift(b, axes=[0, 2]))
    same(mx.fft.fftfreq(7, 0.5), mlx.fft.fftfreq(7, 0.5), rtol=1e-6)
    same(mx.fft.rfftfreq(10), mlx.fft.rfftfreq(10), rtol=1e-6)


def test_errors_match_mlx(mlx):
    def call(f, *args, **kwargs):
        def run(m):
            a = m.ones((4, 6))
            return getattr(m.fft, f)(a, *args, **kwargs)
        run.op = f
        return run

    both_raise(call("fft", n=0), mlx)
    both_raise(call("fftn", s=[3]), mlx)
    both_raise(call("fftn", axes=[0, 0]), mlx)
    both_raise(call("fftn", s=[3], axes=[0, 1]), mlx)
    both_raise(call("rfftn", s=[5, 7]), mlx)
    both_raise(call("fft", axis=2), mlx)
    both_raise(call("fftshift", axes=[5]), mlx)
    run = lambda m: m.fft.fftfreq(0)  # noqa: E731
    run.op = "fftfreq"
    both_raise(run, mlx)


# ---------------------------------------------------------------- short-time transforms

def stft_reference(x, n_fft, hop=None, win_length=None, window=None, center=True,
                   pad_mode="reflect", norm="backward", onesided=None):
    """The short-time transform as MLX documents it, in NumPy (float64/complex128)."""
    hop = hop or max(1, n_fft // 4)
    w = np.ones(win_length or n_fft) if window is None else window.astype(np.float64)
    left = (n_fft - len(w)) // 2
    w = np.pad(w, (left, n_fft - len(w) - left))
    if center:
        p = n_fft // 2
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(p, p)], mode=pad_mode)
    count = 1 + (x.shape[-1] - n_fft) // hop
    frames = np.stack([x[..., i * hop:i * hop + n_fft] for i in range(count)], -2) * w
    if onesided is None:
        onesided = not np.iscomplexobj(x)
    f = (np.fft.rfft if onesided else np.fft.fft)(frames, axis=-1, norm=norm)
    return np.swapaxes(f, -1, -2)


def test_stft_matches_a_numpy_reference_and_istft_inverts_it():
    x = real((2, 50)).astype(np.float32)
    xr = rounded32(x)
    hann = np.hanning(7).astype(np.float32)
    for kw in [dict(n_fft=16), dict(n_fft=16, hop_length=5), dict(n_fft=16, center=False),
               dict(n_fft=8, pad_mode="edge"), dict(n_fft=8, pad_mode="constant", norm="ortho"),
               dict(n_fft=8, onesided=False), dict(n_fft=10, win_length=7, window=hann),
               dict(n_fft=9, hop_length=4)]:
        ref = dict(kw)
        ref["hop"] = ref.pop("hop_length", None)
        if "window" in kw:
            kw = dict(kw, window=mx.array(kw["window"]))
        close(mx.fft.stft(mx.array(x), **kw), stft_reference(xr, **ref), "complex64")
    z = cplx((3, 40))
    close(mx.fft.stft(mx.array(z.astype(np.complex64)), n_fft=12),
          stft_reference(rounded32(z), 12), "complex64")
    # Round trips: a rectangular and a Hann window, centered or not, with `length`.
    for kw in [dict(n_fft=16), dict(n_fft=16, hop_length=4), dict(n_fft=12, hop_length=5)]:
        s = mx.fft.stft(mx.array(x), **kw)
        y = mx.fft.istft(s, **kw, length=50)
        close(y, xr, "float32")
    w = mx.array(np.hanning(16).astype(np.float32))
    s = mx.fft.stft(mx.array(x), n_fft=16, window=w)
    close(mx.fft.istft(s, window=w, length=50), xr, "float32")
    assert mx.fft.istft(s, window=w).shape == (2, 48)
    y = mx.fft.istft(mx.fft.stft(mx.array(x), n_fft=16, center=False), center=False)
    close(y, xr[:, :48], "float32")
    # Trimmed and zero-padded lengths.
    assert mx.fft.istft(s, window=w, length=40).shape == (2, 40)
    y = np.array(mx.fft.istft(s, window=w, length=60))
    assert y.shape == (2, 60)


def test_stft_errors():
    x = mx.ones((2, 50))
    with pytest.raises(ValueError, match=r"\[stft\].*n_fft must be positive"):
        mx.fft.stft(x, n_fft=0)
    with pytest.raises(ValueError, match=r"\[stft\].*hop_length must be positive"):
        mx.fft.stft(x, n_fft=16, hop_length=0)
    with pytest.raises(ValueError, match=r"\[stft\].*window length \(20\).*n_fft \(16\)"):
        mx.fft.stft(x, n_fft=16, win_length=20)
    with pytest.raises(ValueError, match=r"\[stft\].*pad_mode \"wrap\""):
        mx.fft.stft(x, n_fft=16, pad_mode="wrap")
    with pytest.raises(ValueError, match=r"\[stft\].*at least one dimension"):
        mx.fft.stft(mx.array(1.0), n_fft=16)
    with pytest.raises(ValueError, match=r"\[stft\].*shorter than n_fft"):
        mx.fft.stft(x, n_fft=64, center=False)
    with pytest.raises(ValueError, match=r"\[istft\].*at least two dimensions"):
        mx.fft.istft(mx.ones(5))


def test_stft_matches_mlx(mlx):
    x = RNG.standard_normal((2, 50)).astype(np.float32)
    w = np.hanning(16).astype(np.float32)
    for kw in [dict(n_fft=16), dict(n_fft=16, hop_length=5, pad_mode="edge"),
               dict(n_fft=8, onesided=False, norm="ortho"), dict(n_fft=16, center=False)]:
        same(mx.fft.stft(mx.array(x), **kw), mlx.fft.stft(mlx.array(x), **kw), rtol=1e-4,
             atol=1e-4)
    s, t = mx.fft.stft(mx.array(x), n_fft=16, window=mx.array(w)), mlx.fft.stft(
        mlx.array(x), n_fft=16, window=mlx.array(w))
    same(s, t, rtol=1e-4, atol=1e-4)
    same(mx.fft.istft(s, window=mx.array(w)), mlx.fft.istft(t, window=mlx.array(w)), rtol=1e-4,
         atol=1e-4)
    same(mx.fft.istft(s, window=mx.array(w), length=50),
         mlx.fft.istft(t, window=mlx.array(w), length=50), rtol=1e-4, atol=1e-4)
    same(mx.fft.istft(s, window=mx.array(w), center=False),
         mlx.fft.istft(t, window=mlx.array(w), center=False), rtol=1e-4, atol=1e-4)
    for bad in [dict(n_fft=0), dict(n_fft=16, hop_length=0), dict(n_fft=16, win_length=20),
                dict(n_fft=16, pad_mode="wrap")]:
        def run(m, bad=bad):
            return m.fft.stft(m.ones((2, 50)), **bad)
        both_raise(run, mlx)
