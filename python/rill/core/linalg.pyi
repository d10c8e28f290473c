"""``rill.core.linalg``: factorizations, solves and norms with MLX's API.

Matrices are the last two dims; leading dims are a batch. float32 and float64 (``det`` and
``slogdet`` also take integers, as float32); results keep the dtype. MLX asks for
``stream=mx.cpu``; rill runs these on any stream (a GPU stream runs the CPU kernels). A
singular or indefinite matrix raises RuntimeError when the result is evaluated.
"""

from collections.abc import Sequence
from typing import Optional, Union

from . import StreamOrDevice, array

def norm(a: array, /, ord: Union[None, int, float, str] = None, axis: Union[None, int, Sequence[int]] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """Vector norms (one axis) and matrix norms (two axes: ``fro``, ``nuc``, 1, -1, 2, -2, inf,
    -inf); with no ``ord`` and no ``axis``, the 2-norm of the flattened array."""
def inv(a: array, *, stream: StreamOrDevice = None) -> array:
    """The inverse of each square matrix."""
def det(a: array, *, stream: StreamOrDevice = None) -> array:
    """The determinant of each square matrix."""
def slogdet(a: array, *, stream: StreamOrDevice = None) -> tuple[array, array]:
    """``(sign, log|det|)`` of each square matrix."""
def cholesky(a: array, upper: bool = False, *, stream: StreamOrDevice = None) -> array:
    """The Cholesky factor of each symmetric positive definite matrix (lower, or ``upper``)."""
def cholesky_inv(a: array, upper: bool = False, *, stream: StreamOrDevice = None) -> array:
    """The inverse of ``L Lᵀ`` (or ``Uᵀ U``) from its Cholesky factor."""
def tri_inv(a: array, upper: bool = False, *, stream: StreamOrDevice = None) -> array:
    """The inverse of the lower (or ``upper``) triangle of each square matrix."""
def qr(a: array, *, stream: StreamOrDevice = None) -> tuple[array, array]:
    """``(Q, R)``: ``Q`` ``(..., m, k)`` with orthonormal columns, ``R`` ``(..., k, n)``."""
def lu(a: array, *, stream: StreamOrDevice = None) -> tuple[array, array, array]:
    """``(p, L, U)`` with ``a = L[p] @ U`` (``p`` uint32)."""
def lu_factor(a: array, *, stream: StreamOrDevice = None) -> tuple[array, array]:
    """The packed ``L\\U`` factors and LAPACK's pivots (uint32)."""
def solve(a: array, b: array, *, stream: StreamOrDevice = None) -> array:
    """``x`` with ``a @ x = b`` (``b`` a vector or matrices; batch dims broadcast)."""
def solve_triangular(a: array, b: array, *, upper: bool = False, stream: StreamOrDevice = None) -> array:
    """``x`` with ``tri(a) @ x = b`` for the lower (or ``upper``) triangle of ``a``."""
def eigh(a: array, UPLO: str = "L", *, stream: StreamOrDevice = None) -> tuple[array, array]:
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix."""
def eigvalsh(a: array, UPLO: str = "L", *, stream: StreamOrDevice = None) -> array:
    """The eigenvalues (ascending) of each symmetric matrix."""
def cross(a: array, b: array, axis: int = -1, *, stream: StreamOrDevice = None) -> array:
    """The cross product of 3-vectors (or 2-vectors) along ``axis``."""
def svd(a: array, compute_uv: bool = True, *, stream: StreamOrDevice = None) -> tuple[array, array, array] | array:
    """``(U, S, Vt)`` (full ``U`` and ``Vt``, ``S`` descending), or ``S`` alone."""
def pinv(a: array, *, stream: StreamOrDevice = None) -> array:
    """The Moore-Penrose pseudo-inverse of each matrix."""
def eig(a: array, *, stream: StreamOrDevice = None) -> tuple[array, array]:
    """Eigenvalues and unit eigenvectors (columns) of each general square matrix, complex64."""
def eigvals(a: array, *, stream: StreamOrDevice = None) -> array:
    """The eigenvalues of each general square matrix, complex64."""
