"""Every Python example of the seeds (../shared/seeds), with `import rill.core as mx`.

Where a seed puts work on `mx.gpu` and this machine has none, a second CPU stream stands in (the
`gpu_stream` fixture), and the test also checks that asking for the GPU raises ValueError as MLX
does.
"""

import numpy as np
import pytest

import rill.core as mx
from conftest import HAS_GPU, assert_array

# ---------------------------------------------------------------- seed 000: Devices


def test_seed000_devices_default_and_scope(capsys):
    print(mx.default_device())  # e.g., Device(gpu:0)
    assert capsys.readouterr().out.strip() in ("Device(cpu, 0)", "Device(gpu, 0)")

    with mx.default_device(mx.cpu):
        x = mx.ones((1024, 1024))
    assert x.shape == (1024, 1024)
    assert x.dtype == mx.float32
    # The scope put `x` on the CPU's default stream, whatever the global default is.
    assert np.array(x[::97, ::97]).min() == 1.0
    assert mx.default_device() == (mx.gpu if HAS_GPU else mx.cpu)


def test_seed000_set_default_device_gpu_if_available():
    if HAS_GPU:
        before = mx.default_device()
        mx.set_default_device(mx.gpu)
        assert mx.default_device() == mx.gpu
        mx.set_default_device(before)
    else:
        with pytest.raises(ValueError):
            mx.set_default_device(mx.gpu)  # if available
        assert mx.default_device() == mx.cpu


def test_seed000_devices_full_example():
    with mx.default_device(mx.cpu):
        x = mx.ones((1024, 1024))
    # CPU route for a single op without changing global default
    y64 = mx.sum(x.astype(mx.float64), stream=mx.cpu)
    assert y64.dtype == mx.float64
    assert y64.item() == 1024 * 1024


def test_seed000_memory_utilities():
    before = mx.get_active_memory()
    x = mx.ones((256, 256))
    mx.eval(x)
    assert mx.get_active_memory() >= before + 256 * 256 * 4
    assert mx.get_peak_memory() >= mx.get_active_memory()
    del x
    mx.reset_peak_memory()
    assert mx.get_peak_memory() == mx.get_active_memory()


def test_seed000_float64_on_cpu_scoped_and_per_op():
    # Float64 is CPU-only; scope double-precision work via `with mx.default_device(mx.cpu)` or
    # per-op `stream=mx.cpu`.
    with mx.default_device(mx.cpu):
        a = mx.array([1.0, 2.0], dtype=mx.float64) * 3
    b = mx.multiply(a, a, stream=mx.cpu)
    assert_array(b, [9.0, 36.0], mx.float64)


# ---------------------------------------------------------------- seed 000: Streams


def test_seed000_streams_example():
    s = mx.new_stream()
    with mx.stream(s):
        a = mx.random.normal((4096, 4096))
        b = mx.random.normal((4096, 4096))
        y = a @ b
        mx.async_eval(y)  # the work starts on s
        # host continues

    mx.synchronize()  # wait for outstanding device work

    # The product was computed before synchronize returned: reading it runs no op.
    mx.start_capture()
    try:
        rows = np.array(y)[:4]  # the whole array: a slice of it would be an op
    finally:
        assert mx.stop_capture()["ops"] == 0
    na, nb = np.array(a[:4]).astype(np.float64), np.array(b).astype(np.float64)
    np.testing.assert_allclose(rows, na @ nb, rtol=1e-3, atol=1e-3)

    # Per-op stream example
    z = mx.random.normal((1024, 1024), stream=s)
    assert y.shape == (4096, 4096) and z.shape == (1024, 1024)
    assert z.dtype == mx.float32 and abs(float(mx.mean(z))) < 0.01


def test_seed000_streams_example_with_bound_ops():
    # The same shape of program with the ops bound today: a stream scope, host work meanwhile,
    # a global synchronize, a per-op stream.
    s = mx.new_stream()
    assert s.device == mx.default_device()
    with mx.stream(s):
        y = mx.ones((512, 512)) * mx.full((512, 512), 2.0) + 1
    assert y.shape == (512, 512)
    mx.async_eval(y)
    mx.synchronize()  # wait for outstanding device work (every stream, in rill)
    z = mx.multiply(mx.ones((1024, 1024)), 3, stream=s)
    assert np.array(y)[::100, ::100].tolist() == [[3.0] * 6] * 6
    assert float(z[5, 7]) == 3.0


def test_seed000_cpu_and_gpu_in_parallel(gpu_stream):
    # Two inputs
    a = mx.random.uniform(shape=(2048, 2048))
    b = mx.random.uniform(shape=(2048, 2048))

    # Create streams bound to CPU and GPU (if available)
    cpu_stream = mx.new_stream(mx.cpu)

    # Dispatch independent ops; nothing runs yet (lazy)
    c = mx.add(a, b, stream=cpu_stream)
    d = mx.matmul(a, b, stream=gpu_stream)

    # Wait for each stream if you need the results now
    mx.synchronize(cpu_stream)
    mx.synchronize(gpu_stream)

    # Materialize arrays (or continue passing them through MLX ops)
    mx.eval(c, d)
    na, nb = np.array(a), np.array(b)
    np.testing.assert_allclose(np.array(c), na + nb, rtol=1e-6)
    np.testing.assert_allclose(np.array(d), na @ nb, rtol=1e-4)


def test_seed000_cpu_and_second_stream_in_parallel(rng, gpu_stream):
    # The parallel example with inputs from NumPy and an elementwise op on the second stream.
    na = rng.random((2048, 2048), dtype=np.float32)
    nb = rng.random((2048, 2048), dtype=np.float32)
    a, b = mx.array(na), mx.array(nb)
    cpu_stream = mx.new_stream(mx.cpu)
    c = mx.add(a, b, stream=cpu_stream)
    d = mx.multiply(a, b, stream=gpu_stream)
    mx.synchronize(cpu_stream)
    mx.synchronize(gpu_stream)
    mx.eval(c, d)
    np.testing.assert_array_equal(np.array(c), na + nb)
    np.testing.assert_array_equal(np.array(d), na * nb)
    # If d depends on c, a single eval is enough: rill orders the streams.
    e = mx.multiply(c, d, stream=gpu_stream)
    mx.eval(e)
    np.testing.assert_allclose(np.array(e), (na + nb) * (na * nb), rtol=1e-6)


def test_seed000_gpu_stream_without_gpu_raises():
    if HAS_GPU:
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError):
        mx.new_stream(mx.gpu)
    with pytest.raises(ValueError):
        mx.default_stream(mx.gpu)


def test_seed000_item_on_scalars_eval_on_matrices():
    m = mx.ones((3, 3)) * 2
    mx.eval(m)  # materializes while keeping it in rill
    s = m[1, 1]
    assert s.ndim == 0
    assert s.item() == 2.0
    with pytest.raises(ValueError):
        m.item()


def test_seed000_numpy_users_scoped_placement():
    with mx.default_device(mx.cpu):
        x = mx.arange(6).reshape(2, 3)
    assert np.array(x).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert x[1, 2].item() == 5  # host scalars through .item()


# ---------------------------------------------------------------- seed 004: practical overlap


def test_seed004_cpu_gpu_overlap_with_automatic_handoff(rng, gpu_stream):
    na = rng.standard_normal((256, 256)).astype(np.float32)
    nb = rng.standard_normal((256, 256)).astype(np.float32)
    a, b = mx.array(na), mx.array(nb)

    # Create one CPU stream and one GPU stream
    s_cpu = mx.new_stream(mx.cpu)
    s_gpu = gpu_stream

    with mx.stream(s_cpu):
        x = mx.add(a, b)  # runs on CPU stream

    with mx.stream(s_gpu):
        y = mx.multiply(x, b)  # runs on GPU stream; waits only if x isn't ready

    # Synchronize at a boundary (e.g., before reading y for logging)
    mx.synchronize(s_gpu)
    np.testing.assert_array_equal(np.array(y), (na + nb) * nb)


def test_seed004_every_op_accepts_stream_or_device(gpu_stream):
    a = mx.array([1.0, 2.0])
    for s in (gpu_stream, mx.cpu, mx.Device(mx.cpu), mx.default_stream(mx.cpu), None):
        assert_array(mx.add(a, 1, stream=s), [2.0, 3.0])
        assert_array(mx.zeros((2,), stream=s), [0.0, 0.0])


def test_seed004_pipeline_sketch(gpu_stream):
    # The seed's pseudocode with a plain Python generator for mlx-data's stream of batches.
    def batches():
        for i in range(8):
            yield {"x": mx.full((32, 4), float(i)), "labels": mx.full((32, 4), 2.0 * i)}

    w = mx.full((32, 4), 2.0)

    def model_forward(batch):
        return batch["x"] * w

    losses = []
    for batch in batches():
        with mx.stream(gpu_stream):
            logits = model_forward(batch)
            loss = (logits - batch["labels"]) * (logits - batch["labels"])
        losses.append(loss)
    mx.synchronize(gpu_stream)
    mx.eval(losses)
    assert all(np.array(l).max() == 0.0 for l in losses)


def test_seed004_data_threads_and_compute_stream_overlap_in_a_timeline(tmp_path, gpu_stream):
    # The seed's loop as written, on rill.data: `buffer.to_stream().batch(32).prefetch(8, 4)`
    # feeding a compute stream, under a capture whose timeline must show the prefetch threads
    # working while the compute stream runs. Images big enough (96 KiB each) that batching them
    # takes the workers a while after the first batches reached the compute stream.
    import json

    import rill.data as dx

    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (640, 128, 768), dtype=np.uint8)
    labels = rng.standard_normal(640).astype(np.float32)
    w = (rng.standard_normal((768, 64)) / 64).astype(np.float32)
    buffer = dx.buffer_from_vector([{"x": images[i], "labels": labels[i]} for i in range(640)])

    def model_forward(batch):
        h = mx.array(batch["x"]).astype(mx.float32) / 255
        return mx.tanh(h @ mx.array(w)).sum(axis=(1, 2))

    def loss_fn(logits, batch_labels):
        return (logits - mx.array(batch_labels)) ** 2

    path = tmp_path / "seed004.json"
    with mx.capture(str(path)) as c:
        ds = buffer.to_stream()         # turn buffer into a data stream
        ds = ds.batch(32).prefetch(8, 4)

        s_gpu = gpu_stream
        losses = []
        seen = []
        for batch in ds:
            with mx.stream(s_gpu):
                logits = model_forward(batch)
                loss = loss_fn(logits, batch["labels"])
            mx.async_eval(loss)
            losses.append(loss)
            seen.append(np.array(batch["labels"]))
        mx.synchronize(s_gpu)

    # prefetch hands batches out in any order: check each loss against its own batch.
    assert len(losses) == 20
    order = {float(lab[0]): i for i, lab in enumerate(labels.reshape(20, 32))}
    for loss, lab in zip(losses, seen):
        i = order[float(lab[0])]
        np.testing.assert_array_equal(lab, labels[32 * i:32 * i + 32])
        h = images[32 * i:32 * i + 32].astype(np.float64) / 255
        want = (np.tanh(h @ w.astype(np.float64)).sum(axis=(1, 2)) - lab) ** 2
        np.testing.assert_allclose(np.array(loss), want, rtol=1e-3)

    s = c.summary
    lanes = [h for h in s["host"] if h["lane"].startswith("rill-data-prefetch")]
    assert lanes, s["host"]
    assert sum(h["spans"] for h in lanes) >= 20
    compute = [st for st in s["streams"] if st["stream"] == gpu_stream.index]
    assert compute and compute[0]["busy_us"] > 0
    assert sum(h["with_streams_us"] for h in lanes) > 0, (lanes, compute)

    events = json.loads(path.read_text())["traceEvents"]
    host_pids = {e["pid"] for e in events
                 if e.get("name") == "process_name" and e["args"]["name"] == "host"}
    assert len(host_pids) == 1
    names = {e["args"]["name"] for e in events
             if e.get("name") == "thread_name" and e["pid"] in host_pids}
    assert {h["lane"] for h in lanes} <= names
    assert sum(1 for e in events if e.get("cat") == "host") == sum(h["spans"] for h in s["host"])
