"""Gradients through `mx.linalg`'s factorizations and solves (beyond MLX, whose CPU refuses to
differentiate them; the formulas are PyTorch's).

Every case is checked on random inputs (never zeros, batched where the function batches) against
central finite differences of rill's own float64 forward pass, differentiating `sum(f(x...) * w)`
for a random `w` so the whole vector-Jacobian product is compared. Then float32 against the
float64 gradient, jvp and grad of grad against finite differences, the zero gradient on the
triangle a function never reads, and the factorizations that still refuse.

Functions that read one triangle (`cholesky`, `eigh`, `eigvalsh`, `tri_inv`,
`solve_triangular`) get random values in the other one: finite differences see that they are not
read, and the gradient must be zero there. Eigen- and singular vectors are defined up to sign,
so their losses are sign-invariant (`V * V`, `|V|`, `u_i` times `v_iᵀ`).
"""

import numpy as np
import pytest

import rill.core as mx
from finite_differences import finite_differences

L = mx.linalg


def conditioned(rng, shape, shift=2.0):
    """Entries in +-[0.1, 1] plus `shift` on the diagonal: far from singular."""
    x = rng.uniform(0.1, 1.0, shape) * rng.choice([-1, 1], shape)
    return x + shift * np.eye(shape[-1])


def general(rng, shape):
    return rng.uniform(0.1, 1.0, shape) * rng.choice([-1, 1], shape)


def spd_one_triangle(rng, shape, upper=False):
    """`M Mᵀ + n I` on the read triangle, random values on the other."""
    m = general(rng, shape)
    spd = m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])
    junk = general(rng, shape)
    if upper:
        return np.triu(spd) + np.tril(junk, -1)
    return np.tril(spd) + np.triu(junk, 1)


def joined(*parts):
    return mx.concatenate([p.reshape(-1) for p in parts])


def eigh_both(a, uplo):
    w, v = L.eigh(a, UPLO=uplo)
    return v * v * mx.expand_dims(w, -2)


def svd_square(a):
    u, s, vt = L.svd(a)
    return joined(u * u, s, vt * vt)


def svd_tall(a):
    u, s, vt = L.svd(a)
    k = s.shape[-1]
    uk = u[..., :, :k]
    # u_i s_i² v_iᵀ: the signs cancel in each product.
    return joined(uk * uk, (uk * mx.expand_dims(s * s, -2)) @ vt)


def svd_wide(a):
    u, s, vt = L.svd(a)
    k = s.shape[-1]
    vk = vt[..., :k, :]
    return joined(u * u, (u * mx.expand_dims(s, -2)) @ mx.sin(vk), vk * vk)


def slogdet_sum(a):
    sign, logabs = L.slogdet(a)
    return sign + logabs


def with_negative_det(rng, shape):
    x = conditioned(rng, shape)
    x[..., 0, :] *= -1  # one row negated in every matrix: det < 0
    return x


# name: (f(*arrays), inputs(rng) -> list of float64 numpy arrays)
CASES = {
    "inv": (L.inv, lambda r: [conditioned(r, (3, 3))]),
    "inv batched": (L.inv, lambda r: [conditioned(r, (2, 3, 3))]),
    "solve batched, b broadcast": (
        L.solve, lambda r: [conditioned(r, (2, 3, 3)), general(r, (3, 2))]),
    "solve vector": (L.solve, lambda r: [conditioned(r, (3, 3)), general(r, (3,))]),
    "solve_triangular lower": (
        lambda a, b: L.solve_triangular(a, b, upper=False),
        lambda r: [conditioned(r, (2, 3, 3)), general(r, (2, 3, 2))]),
    "solve_triangular upper vector": (
        lambda a, b: L.solve_triangular(a, b, upper=True),
        lambda r: [conditioned(r, (4, 4)), general(r, (4,))]),
    "tri_inv lower": (lambda a: L.tri_inv(a), lambda r: [conditioned(r, (3, 3))]),
    "tri_inv upper batched": (
        lambda a: L.tri_inv(a, upper=True), lambda r: [conditioned(r, (2, 3, 3))]),
    "det batched": (L.det, lambda r: [with_negative_det(r, (2, 3, 3))]),
    "slogdet": (slogdet_sum, lambda r: [with_negative_det(r, (3, 3))]),
    "cholesky batched": (L.cholesky, lambda r: [spd_one_triangle(r, (2, 3, 3))]),
    "cholesky upper": (
        lambda a: L.cholesky(a, upper=True), lambda r: [spd_one_triangle(r, (4, 4), True)]),
    "cholesky_inv": (
        lambda a: L.cholesky_inv(L.cholesky(a)), lambda r: [spd_one_triangle(r, (3, 3))]),
    "eigvalsh batched": (L.eigvalsh, lambda r: [general(r, (2, 4, 4))]),
    "eigvalsh U": (lambda a: L.eigvalsh(a, UPLO="U"), lambda r: [general(r, (3, 3))]),
    "eigh values and vectors": (lambda a: eigh_both(a, "L"), lambda r: [general(r, (2, 3, 3))]),
    "eigh U |V|": (lambda a: mx.abs(L.eigh(a, UPLO="U")[1]), lambda r: [general(r, (4, 4))]),
    "svd values": (lambda a: L.svd(a, compute_uv=False), lambda r: [general(r, (2, 3, 5))]),
    "svd square batched": (svd_square, lambda r: [general(r, (2, 3, 3))]),
    "svd tall": (svd_tall, lambda r: [general(r, (5, 3))]),
    "svd wide batched": (svd_wide, lambda r: [general(r, (2, 2, 4))]),
    "pinv tall batched": (L.pinv, lambda r: [general(r, (2, 4, 3))]),
    "pinv wide": (L.pinv, lambda r: [general(r, (3, 5))]),
    "qr tall batched": (lambda a: joined(*L.qr(a)), lambda r: [general(r, (2, 4, 3))]),
    "qr square": (lambda a: joined(*L.qr(a)), lambda r: [general(r, (3, 3))]),
    "qr wide": (lambda a: joined(*L.qr(a)), lambda r: [general(r, (3, 5))]),
    "norm 2": (lambda a: L.norm(a, ord=2, axis=(-2, -1)), lambda r: [general(r, (2, 3, 4))]),
    "norm -2": (lambda a: L.norm(a, ord=-2), lambda r: [general(r, (4, 3))]),
    "norm nuc": (lambda a: L.norm(a, ord="nuc", axis=(1, 2)), lambda r: [general(r, (2, 4, 3))]),
}


def case(name):
    f, make = CASES[name]
    rng = np.random.default_rng([17, sum(map(ord, name))])
    xs = make(rng)
    out = f(*[mx.array(x, dtype=mx.float64) for x in xs])
    w = rng.uniform(0.5, 1.5, tuple(out.shape))
    return f, xs, w


def grads(f, xs, w, dtype):
    arrays = [mx.array(x, dtype=dtype) for x in xs]
    wa = mx.array(w, dtype=dtype)
    g = mx.grad(lambda *a: (f(*a) * wa).sum(), argnums=tuple(range(len(xs))))(*arrays)
    return [g] if len(xs) == 1 else list(g)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name):
    f, xs, w = case(name)
    got = grads(f, xs, w, mx.float64)
    want = finite_differences(f, xs, w)
    for i, (g, n) in enumerate(zip(got, want)):
        assert g.dtype == mx.float64 and g.shape == xs[i].shape, (g.dtype, g.shape)
        np.testing.assert_allclose(np.array(g), n, rtol=1e-5, atol=1e-6, err_msg=f"input {i}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_matches_float64(name):
    f, xs, w = case(name)
    for i, (g32, g64) in enumerate(zip(grads(f, xs, w, mx.float32), grads(f, xs, w, mx.float64))):
        assert g32.dtype == mx.float32 and g32.shape == xs[i].shape
        want = np.array(g64)
        np.testing.assert_allclose(np.array(g32), want, rtol=2e-3,
                                   atol=2e-4 * np.abs(want).max(), err_msg=f"input {i}")


@pytest.mark.parametrize("upper", [False, True])
def test_the_triangle_never_read_gets_zero(upper):
    rng = np.random.default_rng(5)
    a = mx.array(spd_one_triangle(rng, (4, 4), upper), dtype=mx.float64)
    uplo = "U" if upper else "L"
    other = np.tril(np.ones((4, 4)), -1) if upper else np.triu(np.ones((4, 4)), 1)
    for f in [lambda x: L.cholesky(x, upper=upper), lambda x: L.eigvalsh(x, UPLO=uplo),
              lambda x: mx.abs(L.eigh(x, UPLO=uplo)[1]), lambda x: L.tri_inv(x, upper=upper),
              lambda x: L.solve_triangular(x, mx.ones((4,), dtype=mx.float64), upper=upper)]:
        # Cubed: a plain sum of cholesky's or eigvalsh's results is a trace, whose gradient is
        # zero off the diagonal anyway.
        g = np.array(mx.grad(lambda x: (f(x) ** 3).sum())(a))
        assert np.all(g[other == 1] == 0), g
        assert np.all(g[other == 0] != 0), g


@pytest.mark.parametrize("name", ["solve batched, b broadcast", "cholesky batched",
                                  "eigh values and vectors", "svd wide batched", "qr wide"])
def test_jvp_matches_finite_differences(name):
    f, xs, _ = case(name)
    rng = np.random.default_rng(3)
    ts = [rng.uniform(-1, 1, x.shape) for x in xs]
    (out,), (jv,) = mx.jvp(lambda *a: [f(*a)], [mx.array(x, dtype=mx.float64) for x in xs],
                           [mx.array(t, dtype=mx.float64) for t in ts])
    h = 1e-6

    def at(d):
        return np.array(f(*[mx.array(x + d * t, dtype=mx.float64) for x, t in zip(xs, ts)]))

    np.testing.assert_allclose(np.array(out), at(0.0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.array(jv), (at(h) - at(-h)) / (2 * h), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["inv batched", "cholesky batched", "eigvalsh batched",
                                  "svd values", "qr tall batched"])
def test_grad_of_grad_matches_finite_differences_of_the_gradient(name):
    f, xs, w = case(name)
    rng = np.random.default_rng(9)
    v = rng.uniform(0.5, 1.5, xs[0].shape)
    wa = mx.array(w, dtype=mx.float64)
    va = mx.array(v, dtype=mx.float64)

    def inner(a):
        # The first gradient, squared and weighted: a scalar the second gradient can take.
        g = mx.grad(lambda x: (f(x) * wa).sum())(a)
        return g * g

    got = mx.grad(lambda a: (inner(a) * va).sum())(mx.array(xs[0], dtype=mx.float64))
    want = finite_differences(lambda a: inner(a), xs, v)[0]
    np.testing.assert_allclose(np.array(got), want, rtol=1e-5, atol=1e-6)


def test_lu_and_eig_still_refuse_naming_the_op():
    a = mx.array([[2.0, 1.0], [1.0, 3.0]])
    with pytest.raises(ValueError, match="cannot differentiate through lu_factor"):
        mx.grad(lambda x: L.lu_factor(x)[0].sum())(a)
    with pytest.raises(ValueError, match="cannot differentiate through lu_factor"):
        mx.grad(lambda x: L.lu(x)[2].sum())(a)
    with pytest.raises(ValueError, match="eigvals"):
        mx.grad(lambda x: mx.abs(L.eigvals(x)).sum())(a)
