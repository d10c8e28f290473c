"""export_function, exporter (FunctionExporter) and import_function with MLX's arguments.

The tracing, the file and the replay are native (``rill._core._FunctionExporter``,
``_import_function``, over rill-core's ``transforms::export``); this module maps MLX's calling
conventions to and from flat lists of arrays. As in MLX, the example inputs (and the inputs of a
call of an imported function) are either positional and keyword arrays, or one tuple (or list)
of arrays and/or one dict of arrays; keyword inputs are matched by name. An imported function
always returns a tuple of arrays.

The files are rill's own format (docs/transforms.md): MLX cannot read them and rill does not
read MLX's ``.mlxfn`` files. A trace replays at the shapes it was exported at, also with
``shapeless=True`` (a call at other shapes is refused with an error saying so).
"""

import os

from rill import _core

_array = _core.array

_INPUTS = ("Inputs can either be a variable number of positional and keyword arrays or a single "
           "tuple and/or dictionary of arrays.")
_OUTPUTS = "Outputs can be either a single array, a tuple, or a list of arrays."


def _inputs(where, args, kwargs):
    """(positional arrays, {name: array}) from MLX's two conventions, or MLX's ValueError."""
    if all(isinstance(a, _array) for a in args) and all(
            isinstance(v, _array) for v in kwargs.values()):
        return list(args), dict(kwargs)
    rest = list(args)
    pos, kw = [], {}
    if not kwargs:
        if rest and isinstance(rest[0], (tuple, list)):
            pos = list(rest.pop(0))
        if rest and isinstance(rest[0], dict):
            kw = dict(rest.pop(0))
        if (not rest and all(isinstance(a, _array) for a in pos)
                and all(isinstance(k, str) and isinstance(v, _array) for k, v in kw.items())):
            return pos, kw
    raise ValueError(f"[{where}] {_INPUTS}")


def _outputs(out):
    """The function's result as a list of arrays, or MLX's ValueError."""
    if isinstance(out, _array):
        return [out]
    if isinstance(out, (tuple, list)) and all(isinstance(o, _array) for o in out):
        return list(out)
    raise ValueError(f"[export_function] {_OUTPUTS}")


def _path(file):
    if isinstance(file, (str, os.PathLike)):
        return file
    if callable(file):
        raise TypeError(
            "[export_function] rill exports functions to files only: MLX's callback form "
            "(file_or_callback given a function, which gets MLX's primitives one by one) is "
            "not supported, rill's ops are not MLX's primitives")
    raise TypeError(f"[export_function] file must be a str or an os.PathLike, not "
                    f"{type(file).__name__}")


class FunctionExporter:
    """A context managing class for exporting multiple traces of the same function to a file.

    Make an instance of this class by calling :func:`exporter`. Each call traces the function
    at its example inputs and rewrites the file with every trace so far (the file is complete
    after each call); ``close`` (or leaving the ``with`` block) takes no more traces."""

    def __init__(self, file, fun, shapeless=False, metadata=None):
        if not callable(fun):
            raise TypeError(f"[exporter] fun must be callable, not {type(fun).__name__}")
        if metadata is not None and not isinstance(metadata, str):
            raise TypeError(f"[exporter] metadata must be a str, not {type(metadata).__name__}")
        self._fun = fun
        self._native = _core._FunctionExporter(_path(file), bool(shapeless), metadata or "")

    def __call__(self, *args, **kwargs):
        pos, kw = _inputs("export_function", args, kwargs)
        names = sorted(kw)
        n = len(pos)
        fun = self._fun

        def traced(xs):
            return _outputs(fun(*xs[:n], **dict(zip(names, xs[n:]))))

        self._native.add(traced, pos + [kw[k] for k in names], n, names)

    def close(self):
        self._native.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def exporter(file, fun, *, shapeless=False, metadata=None):
    """A :class:`FunctionExporter` writing the traces of ``fun`` to ``file``."""
    return FunctionExporter(file, fun, shapeless, metadata)


def export_function(file_or_callback, fun, *args, shapeless=False, metadata=None, **kwargs):
    """Traces ``fun`` at the example inputs ``args`` and ``kwargs`` and writes it to the file."""
    path = _path(file_or_callback)
    if not callable(fun):
        raise TypeError(f"[export_function] fun must be callable, not {type(fun).__name__}")
    FunctionExporter(path, fun, shapeless, metadata)(*args, **kwargs)


class ImportedFunction:
    """A function read by :func:`import_function`: calling it replays the trace whose signature
    (positional count, keyword names, shapes and dtypes) matches the inputs; it returns a tuple
    of arrays."""

    def __init__(self, native, file):
        self._native = native
        self._file = os.fspath(file)

    def __call__(self, *args, **kwargs):
        pos, kw = _inputs("import_function", args, kwargs)
        return tuple(self._native.call(pos, list(kw.items())))

    def __repr__(self):
        return f"<imported function from {self._file!r}, {len(self._native.signatures)} trace(s)>"


def import_function(file, return_metadata=False):
    """The function exported to ``file`` (and its metadata string with ``return_metadata``)."""
    native = _core._import_function(file)
    f = ImportedFunction(native, file)
    return (f, native.metadata) if return_metadata else f
