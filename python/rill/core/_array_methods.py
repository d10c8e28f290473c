"""The ``array`` methods and properties MLX has that the extension's class lacks, attached to it
from Python: ``real``, ``imag`` (properties), ``conj()`` and ``view(dtype)``. Each is the
function of the same name in ``rill.core``, so it is lazy and takes ``stream=`` like it."""

from rill import _core as _mx


def _real(self):
    """The real part of a complex array (the array itself, as a copy, for a real one)."""
    return _mx.real(self)


def _imag(self):
    """The imaginary part of a complex array (zeros for a real one)."""
    return _mx.imag(self)


def _conj(self, *, stream=None):
    """The complex conjugate (see ``conj``)."""
    return _mx.conj(self, stream=stream)


def _view(self, dtype, *, stream=None):
    """The same bytes read as ``dtype`` (see ``view``)."""
    return _mx.view(self, dtype, stream=stream)


def attach():
    """Adds the members to ``rill.core.array`` (once; the extension's own members win)."""
    members = {"real": property(_real), "imag": property(_imag), "conj": _conj, "view": _view}
    for name, member in members.items():
        if name not in _mx.array.__dict__:
            setattr(_mx.array, name, member)
