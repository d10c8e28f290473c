"""`a[i] = v` on one array object from several threads loses no update (issue 8, item 5)."""

import sys
import threading

import numpy as np

import rill.core as mx

def test_item_assignment_from_8_threads_loses_no_update():
    n_threads, per_thread = 8, 50
    a = mx.zeros((n_threads * per_thread,), dtype=mx.int32)
    start = threading.Barrier(n_threads)

    def writer(t):
        start.wait()
        for j in range(per_thread):
            i = t * per_thread + j
            # An array index makes the update evaluate it with the GIL released, so the threads
            # really interleave between reading `a` and storing the update.
            a[mx.array([i])] = i + 1
            a[i] = a[i] * 1  # scalar read-modify-write on the same object

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    np.testing.assert_array_equal(np.array(a), np.arange(1, n_threads * per_thread + 1))
