"""compile, disable_compile and enable_compile with MLX's arguments.

``compile(fun)`` traces ``fun`` once per input signature (the structure of its arguments, the
shapes and dtypes of their arrays, their other values, and the default stream) and replays the
recorded program for later calls with the same signature: the Python function does not run
again. The tracing and the replay are native (``rill._core._compile_trace``, ``Program.replay``),
over flat lists of arrays; this module maps arguments and results to and from those lists and
keeps the cache.

``inputs`` and ``outputs`` are MLX's captured state: pytrees (for example ``model.state`` or an
optimizer's state) whose arrays are read as extra inputs on every call, and whose arrays are
written back after every call with the values the function left in them, so a compiled training
step can update parameters in place. ``shapeless=True`` is accepted; a new shape is traced anew
(MLX's shapeless programs avoid that retrace; the results are the same).
"""

import functools
import threading

from rill import _core

_array = _core.array
_state = threading.local()
_disabled = [False]


def disable_compile():
    """Makes ``compile`` return the function's own results (for debugging), until
    ``enable_compile``."""
    _disabled[0] = True


def enable_compile():
    """Undoes ``disable_compile``."""
    _disabled[0] = False


# What a compiled function may return besides arrays: constants that a replay can give back.
_RESULT_CONSTANTS = (type(None), bool, int, float, complex, str)


def _flatten(tree, arrays, result=False):
    """Appends the arrays of ``tree`` to ``arrays``; returns a hashable description of the rest:
    the tree's structure, and the values of its other leaves (for arguments any hashable value,
    for results numbers, strings and None)."""
    if isinstance(tree, _array):
        arrays.append(tree)
        return ("a",)
    if isinstance(tree, (list, tuple)):
        return (type(tree), tuple(_flatten(t, arrays, result) for t in tree))
    if isinstance(tree, dict):
        return (dict, tuple((k, _flatten(v, arrays, result)) for k, v in tree.items()))
    what = "results" if result else "arguments"
    try:
        hash(tree)
    except TypeError:
        raise ValueError(
            f"[compile] the {what} of a compiled function are arrays, numbers, strings, None, "
            f"and lists, tuples and dicts of them; got a {type(tree).__name__}"
        ) from None
    if result and not isinstance(tree, _RESULT_CONSTANTS):
        raise ValueError(
            f"[compile] the results of a compiled function are arrays, numbers, strings, None, "
            f"and lists, tuples and dicts of them; got a {type(tree).__name__}"
        )
    return ("c", type(tree), tree)


def _build(desc, arrays, pos):
    """The tree described by ``desc`` with its arrays from ``arrays[pos:]``; and the next pos."""
    tag = desc[0]
    if tag == "a":
        return arrays[pos], pos + 1
    if tag == "c":
        return desc[2], pos
    kind, items = desc
    if kind is dict:
        out = {}
        for k, d in items:
            out[k], pos = _build(d, arrays, pos)
        return out, pos
    out = []
    for d in items:
        v, pos = _build(d, arrays, pos)
        out.append(v)
    if kind is list:
        return out, pos
    if hasattr(kind, "_fields"):
        return kind(*out), pos
    return kind(out), pos


def _write_back(tree, arrays, pos):
    """Replaces, in place, the arrays in the containers of ``tree`` with ``arrays[pos:]`` (in
    flattening order); returns the next pos."""
    if isinstance(tree, dict):
        for k in list(tree.keys()):
            v = tree[k]
            if isinstance(v, _array):
                tree[k] = arrays[pos]
                pos += 1
            else:
                pos = _write_back(v, arrays, pos)
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            if isinstance(v, _array):
                tree[i] = arrays[pos]
                pos += 1
            else:
                pos = _write_back(v, arrays, pos)
    elif isinstance(tree, tuple):
        for v in tree:
            if isinstance(v, _array):
                raise ValueError("[compile] outputs= holds an array inside a tuple, which cannot "
                                 "be updated in place: use lists or dicts for captured state")
            pos = _write_back(v, arrays, pos)
    return pos


def _state_arrays(state):
    arrays = []
    if state is not None:
        _flatten(state, arrays)
    return arrays


class _Compiled:
    """The function ``compile`` returns."""

    def __init__(self, fun, inputs, outputs, shapeless):
        self._fun = fun
        self._inputs = inputs
        self._outputs = outputs
        self._shapeless = shapeless
        self._cache = {}
        self._lock = threading.Lock()
        functools.update_wrapper(self, fun)

    def __get__(self, obj, owner=None):
        # Methods: bind like a function would.
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if _disabled[0]:
            return self._fun(*args, **kwargs)
        arrays = []
        desc = _flatten((args, kwargs), arrays)
        captured = _state_arrays(self._inputs)
        key = (desc, tuple((a.shape, a.dtype) for a in arrays),
               tuple((a.shape, a.dtype) for a in captured), _core.default_stream(
                   _core.default_device()))
        with self._lock:
            entry = self._cache.get(key)
        flat = arrays + captured
        if entry is not None:
            program, out_desc, n_state = entry
            produced = program.replay(flat)
        else:
            box = {}

            def traced(xs):
                a, kw = _build(desc, xs[:len(arrays)], 0)[0]
                if captured:
                    _write_back(self._inputs, xs[len(arrays):], 0)
                try:
                    result = self._fun(*a, **kw)
                    outs = []
                    box["desc"] = _flatten(result, outs, result=True)
                    state = _state_arrays(self._outputs)
                finally:
                    # The containers get their own arrays back (the state written by the
                    # function reaches them below, from the program's outputs).
                    if captured:
                        _write_back(self._inputs, captured, 0)
                box["n_state"] = len(state)
                return outs + state

            program, produced = _core._compile_trace(traced, flat)
            out_desc, n_state = box["desc"], box["n_state"]
            with self._lock:
                self._cache[key] = (program, out_desc, n_state)
        produced = list(produced)
        if n_state:
            _write_back(self._outputs, produced[len(produced) - n_state:], 0)
            produced = produced[:len(produced) - n_state]
        return _build(out_desc, produced, 0)[0]


def compile(fun=None, inputs=None, outputs=None, shapeless=False):
    """``fun`` traced once per signature and replayed afterwards (see the module's doc)."""
    if fun is None:
        return lambda f: _Compiled(f, inputs, outputs, shapeless)
    return _Compiled(fun, inputs, outputs, shapeless)
