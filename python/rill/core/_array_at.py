"""``array.at[index]``: MLX's out-of-place updates that combine every update at a repeated index
(``a.at[i].add(v)`` adds twice where ``i`` names an element twice, where ``a[i] += v`` adds once).

Any index ``a[index]`` accepts works: the index is applied to an array of the elements' flat
positions, which gives the positions it names (repeated ones included) in the shape of
``a[index]``; the updates broadcast to that shape, take ``a``'s dtype, and go to the native
scatter (``rill._core._scatter``) along the flattened ``a``. The extra ``arange`` costs one pass
over ``a``'s size, which keeps every indexing form MLX has without a second indexing engine."""

from rill import _core as _mx


class ArrayAt:
    """What ``a.at`` and ``a.at[index]`` return: ``add``, ``subtract``, ``multiply``,
    ``divide``, ``maximum`` and ``minimum`` give a new array; ``a`` is unchanged."""

    __slots__ = ("_array", "_index")

    def __init__(self, array, index=None):
        self._array = array
        self._index = index

    def __getitem__(self, index):
        return ArrayAt(self._array, index)

    def __repr__(self):
        return f"ArrayAt(shape={tuple(self._array.shape)}, index={self._index!r})"

    def _positions(self, op):
        if self._index is None:
            raise ValueError(f"[at.{op}] index the ArrayAt first: a.at[index].{op}(values)")
        a = self._array
        dtype = _mx.int64 if a.size >= 2**31 else _mx.int32
        return _mx.reshape(_mx.arange(a.size, dtype=dtype), a.shape)[self._index]

    def _scatter(self, op, values, reduce):
        a = self._array
        positions = self._positions(op)
        values = values if isinstance(values, _mx.array) else _mx.array(values)
        values = values.astype(a.dtype)
        return _mx._scatter(a, positions, values, None, reduce)

    def add(self, values):
        """``a`` with ``values`` added at the index (repeated positions add every time)."""
        return self._scatter("add", values, "add")

    def subtract(self, values):
        """``a`` with ``values`` subtracted at the index."""
        v = values if isinstance(values, _mx.array) else _mx.array(values)
        return self._scatter("subtract", _mx.negative(v.astype(self._array.dtype)), "add")

    def multiply(self, values):
        """``a`` multiplied by ``values`` at the index."""
        return self._scatter("multiply", values, "prod")

    def divide(self, values):
        """``a`` divided by ``values`` at the index: multiplied by their reciprocals in ``a``'s
        dtype, as MLX does (for integers the reciprocal of anything but 1 and -1 is 0)."""
        a = self._array
        v = (values if isinstance(values, _mx.array) else _mx.array(values)).astype(a.dtype)
        if _mx.issubdtype(a.dtype, _mx.inexact):
            recip = _mx.reciprocal(v)
        else:
            recip = _mx.where(_mx.abs(v) == 1, v, _mx.zeros_like(v))
        return self._scatter("divide", recip, "prod")

    def maximum(self, values):
        """``a`` with each indexed element the maximum of itself and its updates."""
        return self._scatter("maximum", values, "max")

    def minimum(self, values):
        """``a`` with each indexed element the minimum of itself and its updates."""
        return self._scatter("minimum", values, "min")


def attach():
    """Gives ``rill.core.array`` its ``at`` property."""
    if "at" not in _mx.array.__dict__:
        _mx.array.at = property(lambda self: ArrayAt(self), doc="Out-of-place updates: a.at[index].add(v), ...")
