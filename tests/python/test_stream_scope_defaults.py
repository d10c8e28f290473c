"""Inside `with mx.stream(s)`, `s` is its device's default stream on that thread, as in MLX
(issue 8, item 10)."""

import threading

import rill.core as mx

def test_inside_a_stream_scope_the_default_stream_of_its_device_is_the_scoped_stream(mlx):
    for lib in (mx, mlx):
        s = lib.new_stream(lib.cpu)
        outside = lib.default_stream(lib.cpu)
        with lib.stream(s):
            assert lib.default_stream(lib.cpu) == s
            other = []
            t = threading.Thread(target=lambda: other.append(lib.default_stream(lib.cpu)))
            t.start()
            t.join()
            assert other[0] != s
        assert lib.default_stream(lib.cpu) == outside


def test_synchronize_cpu_inside_a_stream_scope_waits_for_the_scoped_stream():
    def ops_done_after(sync):
        """How many ops of a slow graph on a scoped stream have finished when `sync` returns
        (a capture counts only ops that finished before it stops)."""
        s = mx.new_stream(mx.cpu)
        with mx.stream(s):
            x = mx.random.uniform(shape=(384, 384), key=mx.random.key(0))
            y = x
            for _ in range(30):
                y = y @ x
            # `stream=mx.cpu` inside the scope means `s` too (MLX).
            z = mx.add(y, 1, stream=mx.cpu)
            assert mx.default_stream(mx.cpu) == s
            mx.start_capture()
            mx.async_eval(z)
            sync(s)
            summary = mx.stop_capture()
        mx.eval(z)
        return summary["ops"]

    assert ops_done_after(lambda s: mx.synchronize(mx.cpu)) == ops_done_after(mx.synchronize)
