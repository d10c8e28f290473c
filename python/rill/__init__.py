"""rill: lazy arrays computed on streams, with MLX's programming model.

Use it as MLX: ``import rill.core as mx``.
"""

from rill._core import __version__

__all__ = ["__version__"]
