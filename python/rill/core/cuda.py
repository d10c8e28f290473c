"""rill.core.cuda: the CUDA device, as MLX's ``mx.cuda`` namespace.

``is_available()`` is true when this process can use an NVIDIA GPU (the CUDA driver, NVRTC and
cuBLASLt libraries load, and the driver reports a device). ``set_allow_tf32`` is rill's own:
float32 matmuls on the GPU use TF32 tensor cores when it is on (off by default, as PyTorch).
"""

from rill._core import _cuda_set_allow_tf32, gpu, is_available as _is_available


def is_available() -> bool:
    """True when this process can use a GPU through CUDA."""
    return _is_available(gpu)


def set_allow_tf32(allow: bool) -> bool:
    """Lets float32 GPU matmuls use TF32 tensor cores; returns the previous setting."""
    return _cuda_set_allow_tf32(bool(allow))
