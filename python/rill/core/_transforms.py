"""grad, value_and_grad, vjp and jvp with MLX's arguments: argnums and argnames, and arguments
that are pytrees (nested lists, tuples and dicts of arrays) whose gradients come back in the
same structure. The differentiation itself is native (rill._core._value_and_grad, _vjp, _jvp,
over flat lists of arrays); this module only maps between the trees and those lists."""

from rill import _core

_array = _core.array


def _flatten(tree, leaves, what):
    """Appends the arrays of `tree` to `leaves` and returns its structure (`None` for a leaf)."""
    if isinstance(tree, _array):
        leaves.append(tree)
        return None
    if isinstance(tree, (list, tuple)):
        return (type(tree), [_flatten(t, leaves, what) for t in tree])
    if isinstance(tree, dict):
        return (dict, [(k, _flatten(v, leaves, what)) for k, v in tree.items()])
    raise ValueError(
        f"[{what[0]}] {what[1]} should contain only arrays (in nested lists, tuples and dicts), "
        f"but it contains a {type(tree).__name__}: only arrays can be differentiated"
    )


def _unflatten(structure, leaves, pos=0):
    """The tree of `structure` with its leaves from `leaves[pos:]`, and the position after it."""
    if structure is None:
        return leaves[pos], pos + 1
    kind, items = structure
    if kind is dict:
        out = {}
        for k, s in items:
            out[k], pos = _unflatten(s, leaves, pos)
        return out, pos
    out = []
    for s in items:
        v, pos = _unflatten(s, leaves, pos)
        out.append(v)
    if kind is list:
        return out, pos
    if hasattr(kind, "_fields"):  # a namedtuple
        return kind(*out), pos
    return kind(out), pos


def _argnums(name, argnums, argnames):
    if isinstance(argnames, str):
        argnames = [argnames]
    argnames = list(argnames)
    if argnums is None:
        argnums = [] if argnames else 0
    single = isinstance(argnums, int)
    nums = [argnums] if single else list(argnums)
    for i in nums:
        if not isinstance(i, int) or isinstance(i, bool):
            raise TypeError(f"[{name}] argnums must be an int or a sequence of ints, got {argnums!r}")
        if i < 0:
            raise ValueError(f"[{name}] Can't compute the gradient of negative argument index {i}")
    if len(set(nums)) != len(nums):
        raise ValueError(f"[{name}] Duplicate argument index {nums} is not allowed.")
    # MLX returns the gradients in increasing argument order, whatever the order asked.
    return sorted(nums), argnames


def _differentiate(name, fun, argnums, argnames, args, kwargs, check_output):
    """(the function's output, the gradients of its loss) at `args`, `kwargs`."""
    for i in argnums:
        if i >= len(args):
            raise ValueError(
                f"[{name}] Can't compute the gradient of argument index {i} because the function "
                f"is called with only {len(args)} positional arguments."
            )
    for k in argnames:
        if k not in kwargs:
            raise ValueError(
                f"[{name}] Can't compute the gradient of keyword argument '{k}' because the "
                f"function is called with the following keyword arguments {sorted(kwargs)}"
            )
    leaves, structures = [], []
    for i in argnums:
        structures.append(_flatten(args[i], leaves, (name, f"argument {i}")))
    for k in argnames:
        structures.append(_flatten(kwargs[k], leaves, (name, f"keyword argument '{k}'")))
    for pos, leaf in enumerate(leaves):
        if not _core.issubdtype(leaf.dtype, _core.inexact):
            where = _leaf_owner(argnums, argnames, structures, pos)
            raise ValueError(
                f"[{name}] cannot differentiate with respect to {where}: it holds an array of "
                f"dtype {leaf.dtype} (shape {tuple(leaf.shape)}); only floating point and "
                "complex arrays have gradients"
            )
    by_target = dict(zip(list(argnums) + list(argnames), structures))
    result = {}

    def traced(xs):
        new_args, new_kwargs = list(args), dict(kwargs)
        pos = 0
        for i in argnums:
            new_args[i], pos = _unflatten(by_target[i], xs, pos)
        for k in argnames:
            new_kwargs[k], pos = _unflatten(by_target[k], xs, pos)
        out = fun(*new_args, **new_kwargs)
        result["out"] = out
        return [check_output(out)]

    _, grads = _core._value_and_grad(traced, leaves)
    pos = 0
    positional, named = [], {}
    for i in argnums:
        g, pos = _unflatten(by_target[i], grads, pos)
        positional.append(g)
    for k in argnames:
        named[k], pos = _unflatten(by_target[k], grads, pos)
    return result["out"], positional, named


def _leaf_owner(argnums, argnames, structures, pos):
    """Which argument the `pos`-th flattened leaf belongs to, for an error message."""
    targets = [f"argument {i}" for i in argnums] + [f"keyword argument '{k}'" for k in argnames]
    for target, s in zip(targets, structures):
        n = _count(s)
        if pos < n:
            return target
        pos -= n
    return "an argument"


def _count(structure):
    if structure is None:
        return 1
    kind, items = structure
    return sum(_count(s if kind is not dict else s[1]) for s in items)


def _returned(name, out, allow_aux):
    what = (
        "either a scalar array or a tuple with the first value being a scalar array"
        if allow_aux
        else "a scalar array"
    )
    loss = out
    if allow_aux and isinstance(out, tuple) and out:
        loss = out[0]
    if not isinstance(loss, _array):
        raise ValueError(
            f"[{name}] The return value of the function whose gradient we want to compute "
            f"should be {what}; but {type(out).__name__} was returned."
        )
    return loss


def _pack(positional, named, nums, argnames):
    if not argnames:
        return positional[0] if len(positional) == 1 else tuple(positional)
    pos = None if not nums else (positional[0] if len(positional) == 1 else tuple(positional))
    return pos, named


def value_and_grad(fun, argnums=None, argnames=[]):
    """A function returning ``(fun(*args, **kwargs), gradients)``: the gradients of ``fun``'s
    output (a scalar array, or a tuple whose first element is one: the rest is returned as it
    is) with respect to the arguments ``argnums`` (default 0) and the keyword arguments
    ``argnames``, in the structure of those arguments."""
    nums, names = _argnums("value_and_grad", argnums, argnames)

    def wrapper(*args, **kwargs):
        out, positional, named = _differentiate(
            "value_and_grad", fun, nums, names, args, kwargs,
            lambda out: _returned("value_and_grad", out, True),
        )
        return out, _pack(positional, named, nums, names)

    return wrapper


def grad(fun, argnums=None, argnames=[]):
    """A function returning the gradient of ``fun`` (which returns a scalar array) with respect
    to the arguments ``argnums`` (default 0) and the keyword arguments ``argnames``, in the
    structure of those arguments: one gradient for one argument, else a tuple; with
    ``argnames``, a pair ``(positional gradients or None, {name: gradient})``."""
    nums, names = _argnums("grad", argnums, argnames)

    def wrapper(*args, **kwargs):
        _, positional, named = _differentiate(
            "grad", fun, nums, names, args, kwargs, lambda out: _returned("grad", out, False)
        )
        return _pack(positional, named, nums, names)

    return wrapper


def _array_list(name, what, xs):
    if not isinstance(xs, (list, tuple)) or not all(isinstance(x, _array) for x in xs):
        raise ValueError(f"[{name}] {what} must be a list of arrays")
    return list(xs)


def _outputs(name, out):
    if isinstance(out, _array):
        return [out]
    if isinstance(out, (list, tuple)) and all(isinstance(o, _array) for o in out) and out:
        return list(out)
    raise ValueError(
        f"[{name}] The function must return an array or a list or tuple of arrays; "
        f"but {type(out).__name__} was returned."
    )


def vjp(fun, primals, cotangents):
    """``(outputs, vjps)``: the outputs of ``fun(*primals)`` (as a list) and the products of
    ``cotangents`` (one per output) with its Jacobian, one per primal."""
    primals = _array_list("vjp", "primals", primals)
    cotangents = _array_list("vjp", "cotangents", cotangents)
    return _core._vjp(lambda xs: _outputs("vjp", fun(*xs)), primals, cotangents)


def jvp(fun, primals, tangents):
    """``(outputs, jvps)``: the outputs of ``fun(*primals)`` (as a list) and the products of its
    Jacobian with ``tangents`` (one per primal), one per output."""
    primals = _array_list("jvp", "primals", primals)
    tangents = _array_list("jvp", "tangents", tangents)
    return _core._jvp(lambda xs: _outputs("jvp", fun(*xs)), primals, tangents)
