"""rill.core.metal: MLX's ``mx.metal`` namespace. rill has no Metal backend (its GPU is CUDA), so
``is_available()`` is false; the memory and capture functions MLX keeps here are the same ones
``rill.core`` has, so code written for MLX runs unchanged.
"""

from rill._core import (  # noqa: F401
    clear_cache,
    get_active_memory,
    get_cache_memory,
    get_peak_memory,
    reset_peak_memory,
    set_cache_limit,
    set_memory_limit,
)


def is_available() -> bool:
    """Always false: rill runs on the CPU and on NVIDIA GPUs through CUDA."""
    return False


def start_capture(path: str) -> None:
    """MLX records a Metal GPU trace here; rill records its own timeline (``rill.core.start_capture``)."""
    from rill._core import start_capture as _start

    _start(path)


def stop_capture() -> None:
    """Stops the capture started by ``start_capture``."""
    from rill._core import stop_capture as _stop

    _stop()


def set_wired_limit(limit: int) -> int:
    """Deprecated in MLX for ``mx.set_wired_limit``, which it calls (with a DeprecationWarning)."""
    from rill.core._matmul_variants import _deprecated, set_wired_limit as _set

    _deprecated("mx.metal.set_wired_limit", "mx.set_wired_limit")
    return _set(limit)


def device_info() -> dict:
    """Deprecated in MLX for ``mx.device_info``. There is no Metal device: an empty dict, as
    MLX's builds without Metal return (with a DeprecationWarning)."""
    from rill.core._matmul_variants import _deprecated

    _deprecated("mx.metal.device_info", "mx.device_info")
    return {}
