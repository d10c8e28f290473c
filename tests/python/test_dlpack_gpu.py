"""DLPack on the GPU, with PyTorch's CUDA tensors: zero-copy both ways and the stream handshake
(a consumer on another stream sees finished data without the host waiting). Runs on the GPU
machine (scripts/gpu-check.sh); skipped, visibly, where there is no GPU or no CUDA PyTorch."""

import gc

import numpy as np
import pytest

import rill.core as mx
from conftest import HAS_GPU

torch = pytest.importorskip("torch") if HAS_GPU else None
pytestmark = pytest.mark.skipif(
    not HAS_GPU or torch is None or not torch.cuda.is_available(),
    reason="needs a GPU and PyTorch with CUDA (runs on the GPU machine: scripts/gpu-check.sh)")


@pytest.fixture
def rng():
    return np.random.default_rng(4242)


def on_gpu(x, stream=None):
    """`x` as an array made on a GPU stream (a new one unless given)."""
    with mx.stream(stream if stream is not None else mx.new_stream(mx.gpu)):
        a = mx.array(x)
    assert a.__dlpack_device__() == (2, 0)
    return a


def slow_chain(x, w, steps, stream):
    """Device work long enough (milliseconds) that a consumer not ordered after it would read
    the result before it is written."""
    for _ in range(steps):
        x = mx.tanh(mx.matmul(x, w, stream=stream), stream=stream)
    return x


def test_torch_reads_a_gpu_array_in_place(rng):
    x = rng.standard_normal((513, 257)).astype(np.float32)
    a = on_gpu(x)
    t1 = torch.from_dlpack(a)
    t2 = torch.from_dlpack(a)
    assert t1.device.type == "cuda" and t1.dtype == torch.float32 and tuple(t1.shape) == x.shape
    assert t1.data_ptr() == t2.data_ptr()  # the same memory each time: no copy
    np.testing.assert_array_equal(t1.cpu().numpy(), x)
    # Views with strides and an offset go through as they are.
    v = a[3:, ::2].T
    np.testing.assert_array_equal(torch.from_dlpack(v).cpu().numpy(), x[3:, ::2].T)
    # Negative strides are copied (DLPack's consumers refuse them).
    np.testing.assert_array_equal(torch.from_dlpack(a[::-1]).cpu().numpy(), x[::-1])
    for dt, tdt in ((mx.bfloat16, torch.bfloat16), (mx.float16, torch.float16),
                    (mx.int64, torch.int64), (mx.bool_, torch.bool)):
        b = a.astype(dt)
        tb = torch.from_dlpack(b)
        assert tb.dtype == tdt
        np.testing.assert_array_equal(tb.cpu().float().numpy(),
                                      np.array(b.astype(mx.float32)))


def test_a_consumer_on_another_stream_waits_for_rill_on_the_device(rng):
    s = mx.new_stream(mx.gpu)
    n = 2048
    x = on_gpu(rng.standard_normal((n, n)).astype(np.float32) / 8, s)
    w = on_gpu(rng.standard_normal((n, n)).astype(np.float32) / np.sqrt(n), s)
    mx.eval(x, w)
    y = slow_chain(x, w, 40, s)  # lazy: nothing queued yet
    consumer = torch.cuda.Stream()
    with torch.cuda.stream(consumer):
        t = torch.from_dlpack(y)  # queues rill's chain and makes `consumer` wait for it
        total = t.double().sum()
        first = t[0].clone()
    got = total.item()  # synchronizes `consumer` only
    want = np.array(y).astype(np.float64)
    np.testing.assert_allclose(got, want.sum(), rtol=1e-6, atol=1e-3)
    np.testing.assert_array_equal(first.cpu().numpy(), want[0].astype(np.float32))


def test_the_lent_memory_outlives_the_array_and_the_consumers_work(rng):
    s = mx.new_stream(mx.gpu)
    x = rng.standard_normal((1024, 1024)).astype(np.float32)
    a = mx.exp(on_gpu(x, s), stream=s)
    consumer = torch.cuda.Stream()
    with torch.cuda.stream(consumer):
        t = torch.from_dlpack(a)
        doubled = t * 2
    del a
    gc.collect()
    # New rill allocations of the same size must not take the memory torch still reads.
    junk = [mx.full((1024, 1024), 7.0, stream=s) for _ in range(8)]
    mx.eval(*junk)
    np.testing.assert_allclose(doubled.cpu().numpy(), 2 * np.exp(x), rtol=1e-6)
    np.testing.assert_allclose(t.cpu().numpy(), np.exp(x), rtol=1e-6)
    del t, doubled
    gc.collect()
    torch.cuda.synchronize()


def test_rill_reads_a_torch_tensor_in_place_after_torchs_work(rng):
    x = rng.standard_normal((2048, 2048)).astype(np.float32) / 8
    w = torch.from_numpy(rng.standard_normal((2048, 2048)).astype(np.float32) / 45).cuda()
    t = torch.from_numpy(x).cuda()
    torch.cuda.synchronize()
    for _ in range(40):  # queued on torch's current stream; the host does not wait
        t = torch.tanh(t @ w)
    a = mx.from_dlpack(t)  # rill's stream waits for torch's work on the device
    assert a.dtype == mx.float32 and a.shape == (2048, 2048)
    total = mx.sum(a.astype(mx.float64))
    got = float(total.item())
    want = t.double().sum().item()
    np.testing.assert_allclose(got, want, rtol=1e-4)
    # The same memory: a later write by torch shows in a later rill read.
    t[0, 0] = 123.0
    torch.cuda.synchronize()
    assert float(mx.add(a, 0)[0, 0].item()) == 123.0
    # Round trip back to torch: still the same memory.
    assert torch.from_dlpack(a).data_ptr() == t.data_ptr()


def test_rill_keeps_a_borrowed_tensor_alive(rng):
    x = rng.standard_normal(1 << 20).astype(np.float32)
    t = torch.from_numpy(x).cuda()
    a = mx.from_dlpack(t)
    del t
    gc.collect()
    torch.cuda.empty_cache()
    filler = [torch.full((1 << 20,), 5.0, device="cuda") for _ in range(8)]
    torch.cuda.synchronize()
    np.testing.assert_array_equal(np.array(a), x)
    del filler


def test_handshake_arguments_and_host_copies(rng):
    x = rng.standard_normal((33, 7)).astype(np.float32)
    a = on_gpu(x)
    assert a.__dlpack_device__() == (2, 0)
    with pytest.raises(ValueError, match="stream=0"):
        a.__dlpack__(stream=0)
    with pytest.raises(TypeError, match="stream must be an integer"):
        a.__dlpack__(stream="default")
    # stream=-1: no ordering asked; the consumer synchronizes itself.
    cap = a.__dlpack__(stream=-1)
    torch.cuda.synchronize()
    np.testing.assert_array_equal(torch.from_dlpack(cap).cpu().numpy(), x)
    # The host asked for: a copy, unless copies are refused.
    np.testing.assert_array_equal(np.from_dlpack(a, device="cpu"), x)
    with pytest.raises(BufferError, match="copy=False"):
        a.__dlpack__(dl_device=(1, 0), copy=False)
    with pytest.raises(ValueError, match="stream given"):
        mx.from_dlpack(torch.zeros(3, device="cuda"), stream=mx.new_stream(mx.cpu))
