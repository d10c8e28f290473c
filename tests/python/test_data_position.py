"""Saving a rill.data stream's position and resuming from it: after `restore`, a pipeline built
the same way gives the tail of the uninterrupted run (compared array by array), without
computing the samples before the position again; pipelines that cannot resume raise."""

import json

import numpy as np
import pytest

import rill.data as dx


def build(data, calls, threads):
    def double(x):
        calls.append(1)
        return x * 2

    st = dx.buffer_from_vector(data).shuffle(seed=3).to_stream().key_transform("x", double)
    st = st.image_random_crop("img", 3, 2, seed=11)
    if threads:
        st = st.ordered_prefetch(4, threads)
    return st.batch(5).repeat(1)


@pytest.mark.parametrize("threads", [0, 2])
def test_resume_after_k_batches_equals_the_tail(threads):
    rng = np.random.default_rng(0)
    data = [
        {"x": rng.normal(size=3).astype(np.float32), "img": rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)}
        for _ in range(33)
    ]
    whole = list(build(data, [], threads))
    assert len(whole) == 14  # 7 batches a pass, two passes
    for k in [0, 3, 7, 9, 14]:
        first = build(data, [], threads)
        it = iter(first)
        for _ in range(k):
            next(it)
        state = json.loads(json.dumps(first.state()))  # plain ints, fit for a checkpoint
        assert len(state) < 30
        calls = []
        second = build(data, calls, threads)
        second.restore(state)
        tail = list(second)
        assert len(tail) == len(whole) - k
        for got, want in zip(tail, whole[k:]):
            np.testing.assert_array_equal(got["x"], want["x"])
            np.testing.assert_array_equal(got["img"], want["img"])
        if not threads:
            # Only the samples after the position were computed.
            assert len(calls) == 66 - sum(len(b["x"]) for b in whole[:k])


def test_csv_reader_resumes_at_its_byte_offset(tmp_path):
    rng = np.random.default_rng(1)
    rows = [(i, f"w{rng.integers(1000)}") for i in range(25)]
    p = tmp_path / "t.csv"
    p.write_text("n,w\n" + "".join(f'{n},"{w},x"\n' for n, w in rows))
    for k in [1, 10, 24]:
        first = dx.stream_csv_reader(str(p))
        for _ in range(k):
            next(first)
        second = dx.stream_csv_reader(str(p))
        second.restore(first.state())
        got = [(int(bytes(s["n"])), bytes(s["w"]).decode()) for s in second]
        assert got == [(n, f"{w},x") for n, w in rows[k:]]


def test_streams_that_cannot_resume_raise():
    with pytest.raises(ValueError, match="cannot save its position"):
        dx.stream_python_iterable(lambda: iter([{"x": np.array(1)}])).state()
    buf = dx.buffer_from_vector([{"x": np.array(i)} for i in range(10)])
    with pytest.raises(ValueError, match=r"buffer\.shuffle"):
        buf.to_stream().shuffle(4).state()
    with pytest.raises(ValueError, match="ordered_prefetch"):
        buf.to_stream().prefetch(2, 2).state()
    saved = buf.to_stream().batch(2).state()
    with pytest.raises(ValueError, match="batch size was 2, not 3"):
        buf.to_stream().batch(3).restore(saved)
