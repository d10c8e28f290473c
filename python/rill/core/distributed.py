"""rill.core.distributed: MLX's ``mx.distributed`` namespace as MLX gives it without a
communication backend. rill has none yet, so ``is_available()`` is false and ``init()`` returns
the singleton group (size 1, rank 0); on it every collective returns its input (the sum, max,
min and gather of one process), and point-to-point calls raise ``ValueError``, as MLX's do.
"""

from rill._core import reshape as _reshape

_BACKENDS = ("any", "mpi", "ring", "nccl", "jaccl")


def _check_backend(backend):
    if backend not in _BACKENDS:
        raise ValueError(
            "[distributed] The only valid values for backend are 'any', 'mpi', 'nccl', 'jaccl' "
            f"and 'ring' but '{backend}' was provided."
        )


class Group:
    """A group of processes that communicate; here always the one process running."""

    def rank(self) -> int:
        """This process's rank in the group: 0."""
        return 0

    def size(self) -> int:
        """The number of processes in the group: 1."""
        return 1

    def split(self, color: int, key: int = -1) -> "Group":
        """MLX refuses to split the singleton group, and so does rill."""
        raise RuntimeError("Cannot split the distributed group further.")


_WORLD = Group()


def is_available(backend: str = "any") -> bool:
    """Whether a communication backend can be created: never, rill has none."""
    _check_backend(backend)
    return False


def init(strict: bool = False, backend: str = "any", *, all_gather_factory=None) -> Group:
    """The global group: the singleton group, or ``RuntimeError`` when ``strict``."""
    _check_backend(backend)
    if strict:
        raise RuntimeError("[distributed] Couldn't initialize any backend")
    return _WORLD


def _identity(x, group, stream):
    # A fresh array (a reshape to its own shape) on the requested stream, as MLX returns one.
    return _reshape(x, x.shape, stream=stream)


def all_sum(x, *, group=None, stream=None):
    """The sum of ``x`` over the group's processes: ``x`` itself on one process."""
    return _identity(x, group, stream)


def all_max(x, *, group=None, stream=None):
    """The elementwise maximum over the group: ``x`` on one process."""
    return _identity(x, group, stream)


def all_min(x, *, group=None, stream=None):
    """The elementwise minimum over the group: ``x`` on one process."""
    return _identity(x, group, stream)


def all_gather(x, *, group=None, stream=None):
    """The processes' ``x`` concatenated along the first axis: ``x`` on one process."""
    return _identity(x, group, stream)


def sum_scatter(x, *, group=None, stream=None):
    """The sum over the group, each process keeping its slice of the first axis: ``x`` here."""
    return _identity(x, group, stream)


def send(x, dst: int, *, group=None, stream=None):
    """Sending needs another process; the singleton group has none."""
    raise ValueError("Cannot send to a singleton group")


def recv(shape, dtype, src: int, *, group=None, stream=None):
    """Receiving needs another process; the singleton group has none."""
    raise ValueError("Cannot recv from a singleton group")


def recv_like(x, src: int, *, group=None, stream=None):
    """Receiving needs another process; the singleton group has none."""
    raise ValueError("Cannot recv from a singleton group")
