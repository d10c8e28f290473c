"""vmap with MLX's arguments: ``in_axes`` and ``out_axes`` as trees that are prefixes of the
arguments and of the outputs (an int or None applies to everything below it). The batching itself
is native (rill._core._vmap, over flat lists of arrays); this module maps between the trees and
those lists.

Beyond MLX: keyword arguments are passed through unmapped (MLX refuses them), a non-array argument
with axis None is passed as it is, and ``None`` is accepted in ``out_axes`` for outputs that do not
depend on the mapped inputs."""

from rill import _core
from rill.core._transforms import _flatten, _unflatten

_array = _core.array


def _axis_spec(spec, where):
    if spec is None or (isinstance(spec, int) and not isinstance(spec, bool)):
        return spec
    raise ValueError(f"[vmap] {where} must be an int, None, or a list, tuple or dict of them; got {spec!r}")


def _split(tree, spec, leaves, axes, where):
    """Appends the arrays of ``tree`` and their axes (from ``spec``, a prefix of ``tree``) to
    ``leaves`` and ``axes``; returns ``tree`` with each array replaced by a marker."""
    if isinstance(spec, (list, tuple)) and not isinstance(tree, _array):
        if not isinstance(tree, (list, tuple)) or len(tree) != len(spec):
            raise ValueError(
                f"[vmap] in_axes {spec!r} does not match the structure of {where} "
                f"(a {type(tree).__name__}{'' if not isinstance(tree, (list, tuple)) else f' of {len(tree)}'})"
            )
        parts = [_split(t, s, leaves, axes, f"{where}[{i}]") for i, (t, s) in enumerate(zip(tree, spec))]
        return type(tree)(*parts) if hasattr(type(tree), "_fields") else type(tree)(parts)
    if isinstance(spec, dict) and not isinstance(tree, _array):
        if not isinstance(tree, dict) or set(tree) != set(spec):
            raise ValueError(f"[vmap] in_axes {spec!r} does not match the structure of {where}")
        return {k: _split(tree[k], spec[k], leaves, axes, f"{where}[{k!r}]") for k in tree}
    axis = _axis_spec(spec, "in_axes")
    if isinstance(tree, _array):
        if axis is not None:
            nd = tree.ndim
            if not -nd <= axis < nd:
                raise IndexError(
                    f"[vmap] Invalid vectorization axis {axis} for array with shape "
                    f"({','.join(map(str, tree.shape))}) ({where})"
                )
        leaves.append(tree)
        axes.append(axis)
        return _Leaf
    if isinstance(tree, (list, tuple)):
        parts = [_split(t, axis, leaves, axes, f"{where}[{i}]") for i, t in enumerate(tree)]
        return type(tree)(*parts) if hasattr(type(tree), "_fields") else type(tree)(parts)
    if isinstance(tree, dict):
        return {k: _split(v, axis, leaves, axes, f"{where}[{k!r}]") for k, v in tree.items()}
    if axis is None:
        return tree
    raise ValueError(
        f"[vmap] {where} is a {type(tree).__name__}, which cannot be mapped over axis {axis}: "
        "mapped arguments must be arrays (or lists, tuples and dicts of arrays); give it the "
        "axis None to pass it unmapped"
    )


class _LeafMarker:
    def __repr__(self):
        return "<vmapped array>"


_Leaf = _LeafMarker()


def _fill(tree, values):
    """``tree`` with each marker replaced by the next of ``values`` (an iterator)."""
    if tree is _Leaf:
        return next(values)
    if isinstance(tree, (list, tuple)):
        parts = [_fill(t, values) for t in tree]
        return type(tree)(*parts) if hasattr(type(tree), "_fields") else type(tree)(parts)
    if isinstance(tree, dict):
        return {k: _fill(v, values) for k, v in tree.items()}
    return tree


def _out_axes(structure, spec, out):
    """The axis of each output leaf, from ``spec`` (a prefix of the output's structure)."""
    if structure is None:
        out.append(_axis_spec(spec, "out_axes"))
        return
    kind, items = structure
    if isinstance(spec, (list, tuple)):
        if kind is dict or len(spec) != len(items):
            raise ValueError(f"[vmap] out_axes {spec!r} does not match the structure of the outputs")
        for s, sub in zip(items, spec):
            _out_axes(s, sub, out)
        return
    if isinstance(spec, dict):
        if kind is not dict or set(spec) != {k for k, _ in items}:
            raise ValueError(f"[vmap] out_axes {spec!r} does not match the structure of the outputs")
        for k, s in items:
            _out_axes(s, spec[k], out)
        return
    spec = _axis_spec(spec, "out_axes")
    for s in items:
        _out_axes(s if kind is not dict else s[1], spec, out)


def vmap(fun, in_axes=0, out_axes=0):
    """A function that maps ``fun`` over an axis of its inputs: ``in_axes`` says which axis of
    each argument (an int, or None for an argument shared by every call; a list, tuple or dict
    to say it per argument or per leaf), ``out_axes`` where the mapped axis goes in each output.
    ``fun`` runs once, on arrays of one example's shape, and must not read their values."""
    if not callable(fun):
        raise TypeError(f"[vmap] fun must be callable, got {type(fun).__name__}")

    def wrapper(*args, **kwargs):
        spec = in_axes
        if isinstance(spec, list) and len(args) == 1 and not isinstance(args[0], list):
            spec = tuple(spec)
        if isinstance(spec, (list, tuple)) and len(spec) != len(args):
            raise ValueError(
                f"[vmap] in_axes has {len(spec)} entries but the function was called with "
                f"{len(args)} positional arguments"
            )
        leaves, axes = [], []
        skeleton = _split(tuple(args), tuple(spec) if isinstance(spec, (list, tuple)) else spec,
                          leaves, axes, "the arguments")
        if all(a is None for a in axes):
            raise ValueError("[vmap] At least one of in_axes must be non-None (there is nothing to map over).")
        found = {}

        def traced(xs):
            out = fun(*_fill(skeleton, iter(xs)), **kwargs)
            flat = []
            found["structure"] = _flatten(out, flat, ("vmap", "the function's output"))
            return flat

        outs, batched, n = _core._vmap(traced, leaves, axes)
        placed_axes = []
        _out_axes(found["structure"], out_axes, placed_axes)
        placed = [_core._vmap_place(o, b, a, n) for o, b, a in zip(outs, batched, placed_axes)]
        return _unflatten(found["structure"], placed)[0]

    return wrapper
