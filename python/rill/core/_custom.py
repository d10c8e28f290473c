"""custom_function and checkpoint with MLX's calling conventions. A custom function's arguments
are its primals; the rules get them as MLX passes them (the array itself for a function of one
argument, else a tuple), the cotangents and outputs as the function returned them (an array, or
a tuple), and may return an array for a single input. The rules themselves run natively
(rill._core._custom_function) whenever a transform needs them: during grad, vjp, jvp or vmap,
possibly long after the call, and inside compiled functions.

Differs from MLX on purpose: a custom vjp is kept through vmap (MLX's ``grad(vmap(f))`` falls back
to differentiating ``f``), and without a vjp a custom jvp is transposed to give the gradient
(MLX's grad ignores a custom jvp)."""

from rill import _core
from rill.core._transforms import _flatten, _unflatten

_array = _core.array


def _as_one_or_tuple(xs):
    return xs[0] if len(xs) == 1 else tuple(xs)


def _list_of_arrays(name, value, count, what):
    items = [value] if isinstance(value, _array) else list(value) if isinstance(value, (list, tuple)) else None
    if items is None or not all(isinstance(v, _array) for v in items):
        raise ValueError(f"[custom_function] the {name} rule must return an array or a tuple of arrays, got {type(value).__name__}")
    if len(items) != count:
        raise ValueError(f"[custom_function] the {name} rule returned {len(items)} arrays, expected one per {what} ({count})")
    return items


class custom_function:
    """Wraps ``fun`` so that transforms use the rules given with the ``vjp``, ``jvp`` and
    ``vmap`` decorators instead of differentiating or batching what ``fun`` builds:

    - ``vjp(primals, cotangents, outputs)`` returns the cotangents of the primals;
    - ``jvp(primals, tangents)`` returns the tangents of the outputs;
    - ``vmap(inputs, axes)`` returns the outputs and their mapped axes.

    Calls behave as ``fun`` itself. The positional arguments are the primals (arrays)."""

    def __init__(self, fun):
        if not callable(fun):
            raise TypeError(f"[custom_function] fun must be callable, got {type(fun).__name__}")
        self._fun = fun
        self._vjp = None
        self._jvp = None
        self._vmap = None
        self.__doc__ = getattr(fun, "__doc__", None)
        self.__name__ = getattr(fun, "__name__", "custom_function")

    def vjp(self, rule):
        self._vjp = rule
        return rule

    def jvp(self, rule):
        self._jvp = rule
        return rule

    def vmap(self, rule):
        self._vmap = rule
        return rule

    def __call__(self, *args, **kwargs):
        for i, a in enumerate(args):
            if not isinstance(a, _array):
                raise ValueError(
                    f"[custom_function] argument {i} is a {type(a).__name__}: the positional "
                    "arguments of a custom function are its primals and must be arrays"
                )
        found = {}

        def forward(xs):
            out = self._fun(*xs, **kwargs)
            flat = []
            found["structure"] = _flatten(out, flat, ("custom_function", "the function's output"))
            return flat

        n_in = len(args)

        def outputs_as_returned(xs):
            return _unflatten(found["structure"], list(xs))[0]

        vjp = jvp = vmap = None
        if self._vjp is not None:
            rule = self._vjp

            def vjp(primals, cotangents, outputs):
                got = rule(_as_one_or_tuple(primals), outputs_as_returned(cotangents), outputs_as_returned(outputs))
                return _list_of_arrays("vjp", got, n_in, "input")

        if self._jvp is not None:
            rule_j = self._jvp

            def jvp(primals, tangents):
                got = rule_j(_as_one_or_tuple(primals), _as_one_or_tuple(tangents))
                flat = []
                _flatten(got, flat, ("custom_function", "the jvp rule's result"))
                return flat

        if self._vmap is not None:
            rule_v = self._vmap

            def vmap(inputs, axes):
                outs, out_axes = rule_v(_as_one_or_tuple(inputs), _as_one_or_tuple(axes))
                flat = []
                _flatten(outs, flat, ("custom_function", "the vmap rule's outputs"))
                if isinstance(out_axes, (list, tuple)):
                    out_axes = list(out_axes)
                else:
                    out_axes = [out_axes] * len(flat)
                return flat, out_axes

        outs = _core._custom_function(forward, list(args), vjp, jvp, vmap)
        return _unflatten(found["structure"], outs)[0]


def checkpoint(fun):
    """``fun``, whose gradient recomputes it from its inputs instead of keeping the arrays it
    computes in between: less memory for one more forward pass."""
    if not callable(fun):
        raise TypeError(f"[checkpoint] fun must be callable, got {type(fun).__name__}")

    def wrapper(*args, **kwargs):
        leaves = []
        structure = _flatten(tuple(args), leaves, ("checkpoint", "the arguments"))
        found = {}

        def forward(xs):
            rebuilt = _unflatten(structure, list(xs))[0]
            out = fun(*rebuilt, **kwargs)
            flat = []
            found["structure"] = _flatten(out, flat, ("checkpoint", "the function's output"))
            return flat

        outs = _core._checkpoint(forward, leaves)
        return _unflatten(found["structure"], outs)[0]

    return wrapper
