"""Gradients through complex arrays and `mx.fft` (MLX's convention: the cotangent of a complex
`y` is `a + ib` for a loss `a·Re y + b·Im y`; an input's is `∂L/∂Re z + i ∂L/∂Im z`).

Every case runs `vjp` with a random complex cotangent on random inputs (no zeros) and compares
with real MLX's `vjp` of the same function, and with the adjoint written out in complex128 with
numpy (`w · conj(f'(z))` for elementwise functions, the conjugate-transposed DFT for the
transforms). Then `grad` of real losses of complex intermediates, and a second derivative.
"""

import numpy as np
import pytest

import rill.core as mx


def crandom(rng, shape, lo=0.3, hi=1.5):
    mag = rng.uniform(lo, hi, shape)
    return (mag * np.exp(1j * rng.uniform(-np.pi, np.pi, shape))).astype(np.complex64)


def rill_vjp(f, xs, w):
    _, g = mx.vjp(lambda *a: [f(mx, *a)], [mx.array(x) for x in xs], [mx.array(w)])
    return [np.array(v) for v in g]


def mlx_vjp(mlx, f, xs, w):
    _, g = mlx.vjp(lambda *a: [f(mlx, *a)], [mlx.array(x) for x in xs], [mlx.array(w)])
    return [np.array(v) for v in g]


def cotangent(rng, f, xs):
    out = f(mx, *[mx.array(x) for x in xs])
    if out.dtype == mx.complex64:
        return crandom(rng, tuple(out.shape))
    return rng.uniform(-1.5, 1.5, tuple(out.shape)).astype(np.float32)


# name: (f(m, z...), input kinds ("c" complex, "r" real, "p" complex away from branch cuts),
#        f'(z) in numpy for the unary holomorphic ones, else None)
W = np.array([0.5 - 1.5j, 2 + 1j, -1 + 0.25j], dtype=np.complex64)
CASES = {
    "multiply": (lambda m, z: z * m.array(W), "c", lambda z: W),
    "divide": (lambda m, z: m.array(W) / z, "c", lambda z: -W / z**2),
    "exp": (lambda m, z: m.exp(z), "c", np.exp),
    "sin": (lambda m, z: m.sin(z), "c", np.cos),
    "cos": (lambda m, z: m.cos(z), "c", lambda z: -np.sin(z)),
    "square": (lambda m, z: m.square(z), "c", lambda z: 2 * z),
    "reciprocal": (lambda m, z: m.reciprocal(z), "c", lambda z: -1 / z**2),
    "log": (lambda m, z: m.log(z), "p", lambda z: 1 / z),
    "sqrt": (lambda m, z: m.sqrt(z), "p", lambda z: 0.5 / np.sqrt(z)),
    "tanh": (lambda m, z: m.tanh(z * 0.5), "c", lambda z: 0.5 / np.cosh(z * 0.5) ** 2),
    "real": (lambda m, z: m.real(z), "c", None),
    "imag": (lambda m, z: m.imag(z), "c", None),
    "conj": (lambda m, z: m.conj(z), "c", None),
    "abs": (lambda m, z: m.abs(z), "c", None),
    "real times complex": (lambda m, x: x * (1 + 2j), "r", None),
    "astype": (lambda m, x: x.astype(m.complex64) * m.array(W), "r", None),
    "sum": (lambda m, z: m.sum(z * z), "c", None),
    "matmul": (lambda m, a, b: a @ b, "cc", None),
    "movement": (lambda m, z: m.concatenate([z[::-1], z[1:] * 2j]).reshape(1, -1), "c", None),
}


def inputs(name, rng):
    kinds = CASES[name][1]
    shapes = {"matmul": [(2, 3), (3, 4)]}.get(name, [(3,)] * len(kinds))
    out = []
    for k, s in zip(kinds, shapes):
        if k == "r":
            out.append(rng.uniform(-1.5, 1.5, s).astype(np.float32))
        elif k == "p":
            # Right half-plane: away from log's and sqrt's branch cut.
            out.append((rng.uniform(0.3, 1.5, s) + 1j * rng.uniform(-1, 1, s)).astype(np.complex64))
        else:
            out.append(crandom(rng, s))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_vjp_of_complex_ops_like_mlx(name, mlx):
    rng = np.random.default_rng([21, sum(map(ord, name))])
    f, _, deriv = CASES[name]
    xs = inputs(name, rng)
    w = cotangent(rng, f, xs)
    got = rill_vjp(f, xs, w)
    want = mlx_vjp(mlx, f, xs, w)
    for i, (g, m) in enumerate(zip(got, want)):
        assert g.dtype == xs[i].dtype and g.shape == xs[i].shape, (g.dtype, g.shape)
        np.testing.assert_allclose(g, m, rtol=1e-5, atol=1e-5, err_msg=f"input {i}")
    if deriv is not None:
        z = xs[0].astype(np.complex128)
        np.testing.assert_allclose(got[0], w * np.conj(deriv(z)), rtol=1e-5, atol=1e-5)


def test_parts_of_complex_numbers_written_out():
    rng = np.random.default_rng(22)
    z = crandom(rng, (4,))
    g = rng.uniform(-1, 1, (4,)).astype(np.float32)
    c = crandom(rng, (4,))
    # L = g·Re z: (g, 0); L = g·Im z: (0, g); conj: the cotangent conjugated; |z|: g z/|z|.
    np.testing.assert_allclose(rill_vjp(lambda m, a: m.real(a), [z], g)[0], g + 0j)
    np.testing.assert_allclose(rill_vjp(lambda m, a: m.imag(a), [z], g)[0], 1j * g)
    np.testing.assert_allclose(rill_vjp(lambda m, a: m.conj(a), [z], c)[0], np.conj(c))
    np.testing.assert_allclose(rill_vjp(lambda m, a: m.abs(a), [z], g)[0], g * z / np.abs(z),
                               rtol=1e-6)
    # A real input fed to complex ops gets the real part of its complex cotangent.
    x = rng.uniform(-1, 1, (4,)).astype(np.float32)
    got = rill_vjp(lambda m, a: m.exp(1j * a), [x], c)[0]
    np.testing.assert_allclose(got, np.real(c * np.conj(1j * np.exp(1j * x))), rtol=1e-5,
                               atol=1e-6)


# ---------------------------------------------------------------- mx.fft

def fft_adjoint(kind, w, n, norm):
    """The adjoint of one 1-D transform along the last axis, applied to `w`, in complex128."""
    scale = {"backward": 1.0, "ortho": 1 / np.sqrt(n), "forward": 1.0 / n}[norm]
    w = w.astype(np.complex128)
    if kind == "fft":  # y = c F z  ->  c Fᴴ w = c n ifft(w)
        return scale * n * np.fft.ifft(w, axis=-1)
    if kind == "ifft":  # y = c' Fᴴ z with c' = scale of the inverse
        inv = {"backward": 1.0 / n, "ortho": 1 / np.sqrt(n), "forward": 1.0}[norm]
        return inv * np.fft.fft(w, axis=-1)
    if kind == "rfft":  # the first n/2+1 rows of F, real input: Re(c Fᴴ pad(w))
        full = np.zeros(w.shape[:-1] + (n,), np.complex128)
        full[..., : w.shape[-1]] = w
        return np.real(scale * n * np.fft.ifft(full, axis=-1))
    raise ValueError(kind)


@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
@pytest.mark.parametrize("kind", ["fft", "ifft", "rfft"])
def test_one_dimensional_transforms_are_their_adjoints(kind, norm, mlx):
    rng = np.random.default_rng([23, len(kind), len(norm)])
    n = 6
    x = (rng.uniform(-1, 1, (2, n)) if kind == "rfft" else crandom(rng, (2, n)))
    x = x.astype(np.float32 if kind == "rfft" else np.complex64)

    def f(m, a):
        return getattr(m.fft, kind)(a, norm=norm) if norm != "backward" else getattr(m.fft, kind)(a)

    w = cotangent(rng, f, [x])
    got = rill_vjp(f, [x], w)[0]
    np.testing.assert_allclose(got, fft_adjoint(kind, w, n, norm), rtol=1e-5, atol=1e-5)
    if norm == "backward":
        np.testing.assert_allclose(got, mlx_vjp(mlx, f, [x], w)[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [6, 7])
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_irfft_gradient_against_numpy(n, norm):
    """irfft reads n/2+1 terms and counts all but the first (and, for even n, the last) twice;
    its imaginary parts there are ignored, so they get no gradient."""
    rng = np.random.default_rng([24, n, len(norm)])
    z = crandom(rng, (3, n // 2 + 1))
    w = rng.uniform(-1, 1, (3, n)).astype(np.float32)
    got = rill_vjp(lambda m, a: m.fft.irfft(a, n=n, norm=norm), [z], w)[0]
    # The Jacobian column by column in complex128: L(z) = w · irfft(z).
    want = np.zeros(z.shape, np.complex128)
    zz = z.astype(np.complex128)
    for k in range(z.shape[1]):
        for part in (1, 1j):
            e = np.zeros_like(zz)
            e[:, k] = part
            d = np.sum(w * np.fft.irfft(e, n=n, norm=norm), axis=-1)  # linear in z
            want[:, k] += d * (1 if part == 1 else 1j)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


NDIM = {
    "fft2": lambda m, z: m.fft.fft2(z),
    "ifftn cropped and padded": lambda m, z: m.fft.ifftn(z, s=(3, 8), axes=(0, 1)),
    "rfft2": lambda m, x: m.fft.rfft2(x),
    "irfft2": lambda m, z: m.fft.irfft2(z),
    "rfftn with n": lambda m, x: m.fft.rfftn(x, s=(5, 4), axes=(0, 1)),
}


@pytest.mark.parametrize("name", sorted(NDIM))
def test_n_dimensional_transforms_like_mlx(name, mlx):
    rng = np.random.default_rng([25, len(name)])
    f = NDIM[name]
    real_in = name.startswith("rfft")
    x = rng.uniform(-1, 1, (4, 6)).astype(np.float32) if real_in else crandom(rng, (4, 6))
    w = cotangent(rng, f, [x])
    got = rill_vjp(f, [x], w)[0]
    want = mlx_vjp(mlx, f, [x], w)[0]
    assert got.dtype == x.dtype and got.shape == x.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_grad_of_a_spectral_loss_and_its_second_derivative(mlx):
    """A real loss of a spectrum (the power of a filtered signal), as a signal-processing user
    writes it; grad matches MLX, and the Hessian-vector product matches finite differences of
    the gradient."""
    rng = np.random.default_rng(26)
    x = rng.uniform(-1, 1, (16,)).astype(np.float32)
    filt = crandom(rng, (9,))

    def loss(m):
        def f(a):
            spec = m.fft.rfft(a) * m.array(filt)
            return m.sum(m.abs(spec) ** 2) + m.sum(m.fft.irfft(spec, n=16) ** 3)
        return f

    got = np.array(mx.grad(loss(mx))(mx.array(x)))
    want = np.array(mlx.grad(loss(mlx))(mlx.array(x)))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    v = rng.uniform(-1, 1, (16,)).astype(np.float32)
    g = mx.grad(loss(mx))
    _, (hv,) = mx.jvp(lambda a: [g(a)], [mx.array(x)], [mx.array(v)])
    h = 1e-2
    fd = (np.array(g(mx.array(x + h * v))) - np.array(g(mx.array(x - h * v)))) / (2 * h)
    np.testing.assert_allclose(np.array(hv), fd, rtol=2e-2, atol=2e-2)


def test_complex_to_real_ops_without_a_gradient_are_refused_by_name():
    z = mx.array(np.array([1 + 2j, 3 - 1j], dtype=np.complex64))
    with pytest.raises(ValueError, match="eigvals"):
        mx.grad(lambda a: mx.real(mx.linalg.eigvals(a)).sum())(
            mx.array([[2.0, 1.0], [0.5, 3.0]]))
    # The gradient with respect to a complex argument has its dtype.
    g = mx.grad(lambda a: mx.sum(mx.abs(a) ** 2))(z)
    assert g.dtype == mx.complex64
    np.testing.assert_allclose(np.array(g), 2 * np.array(z), rtol=1e-6)


@pytest.mark.parametrize("which", ["stft", "istft"])
def test_stft_and_istft_gradients(which, mlx):
    """Both are linear, so the vjp is checked exactly by a linear-functional identity:
    `<vjp(w), e_k>` equals `Re <w, f(e_k)>` column by column (no finite-difference step), and
    against MLX's vjp."""
    rng = np.random.default_rng([27, len(which)])
    win = np.hanning(16).astype(np.float32)
    if which == "stft":
        x = rng.uniform(-1, 1, (40,)).astype(np.float32)

        def f(m, a):
            return m.fft.stft(a, n_fft=16, hop_length=4, window=m.array(win))
    else:
        x = crandom(rng, (9, 11))

        def f(m, a):
            return m.fft.istft(a, n_fft=16, hop_length=4, window=m.array(win), length=40)

    w = cotangent(rng, f, [x])
    got = rill_vjp(f, [x], w)[0]
    want = mlx_vjp(mlx, f, [x], w)[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # The Jacobian column by column: L(x) = Re sum(conj(w) f(x)) is linear (real-linear for a
    # complex x), so its derivatives are its values at the unit inputs.
    def loss(v):
        return np.real(np.sum(np.conj(w) * np.array(f(mx, mx.array(v)))))

    exact = np.zeros(x.shape, np.complex128)
    for k in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[k] = 1
        exact[k] = loss(e)
        if np.iscomplexobj(x):
            e[k] = 1j
            exact[k] += 1j * loss(e)
    if not np.iscomplexobj(x):
        exact = exact.real
    np.testing.assert_allclose(got, exact, rtol=1e-4, atol=1e-4)
