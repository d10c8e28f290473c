"""rill.data: data pipelines with mlx-data's API (``import rill.data as dx``).

A sample is a dict of NumPy arrays. A ``Buffer`` is finite and indexable; a ``Stream`` is pulled
one sample at a time and starts again at ``reset()``. The work runs in Rust (rill-data), on as
many threads as ``prefetch`` asks for, with the GIL released; Python callbacks take the GIL only
while they run. docs/data.md is the user's guide.

Samples and batches come out as ``Sample``: a dict whose keys are also attributes, so that both
``batch["labels"]`` (mlx-data's code) and ``batch.labels`` work.
"""

import enum

from rill._core import data as _data


class Sample(dict):
    """A sample or a batch: a dict of NumPy arrays whose keys can also be read as attributes.

    A key named like a dict method (``keys``, ``items``, ...) is read with ``sample["keys"]``.
    """

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"this sample has no key {name!r} (its keys: {sorted(self)})"
            ) from None

    def __dir__(self):
        return sorted(set(dir(dict)) | {k for k in self if isinstance(k, str) and k.isidentifier()})


class TokenizeMode(enum.IntEnum):
    """``tokenize``'s modes, as mlx-data names them. Only ``Shortest`` is built: the cut into the
    fewest tokens (or the lightest, given ``trie_key_scores``); ``Rand`` raises ValueError."""

    Shortest = 0
    Rand = 1


Shortest = TokenizeMode.Shortest
Rand = TokenizeMode.Rand

Buffer = _data.Buffer
CharTrie = _data.CharTrie
Stream = _data.Stream
buffer_from_vector = _data.buffer_from_vector
stream_python_iterable = _data.stream_python_iterable
stream_line_reader = _data.stream_line_reader
stream_csv_reader = _data.stream_csv_reader
stream_csv_reader_from_string = _data.stream_csv_reader_from_string
set_state = _data.set_state
files_from_tar = _data.files_from_tar

__all__ = [
    "Buffer",
    "CharTrie",
    "Sample",
    "Stream",
    "TokenizeMode",
    "buffer_from_vector",
    "files_from_tar",
    "set_state",
    "stream_csv_reader",
    "stream_csv_reader_from_string",
    "stream_line_reader",
    "stream_python_iterable",
]
