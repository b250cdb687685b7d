import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllib.data import iter_minibatches, minibatch_indices


def test_unshuffled_batches_by_hand():
    batches = minibatch_indices(5, 2, None, shuffle=False)
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert all(b.dtype == np.int64 for b in batches)


@settings(deadline=None, max_examples=200)
@given(n=st.integers(0, 200), b=st.integers(1, 64), seed=st.integers(0, 2**32 - 1))
def test_batches_cover_every_index_once_and_keep_the_remainder(n, b, seed):
    batches = minibatch_indices(n, b, np.random.default_rng(seed))
    assert len(batches) == math.ceil(n / b)
    assert [len(x) for x in batches[:-1]] == [b] * (len(batches) - 1)
    if batches:
        assert len(batches[-1]) == n - (len(batches) - 1) * b
    joined = np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    np.testing.assert_array_equal(np.sort(joined), np.arange(n))


def test_each_call_is_a_new_permutation_and_seeds_reproduce():
    rng = np.random.default_rng(5)
    first = np.concatenate(minibatch_indices(50, 8, rng))
    second = np.concatenate(minibatch_indices(50, 8, rng))
    assert not np.array_equal(first, second)
    again = np.random.default_rng(5)
    np.testing.assert_array_equal(np.concatenate(minibatch_indices(50, 8, again)), first)
    np.testing.assert_array_equal(np.concatenate(minibatch_indices(50, 8, again)), second)


def test_full_batch_is_in_order_and_draws_nothing():
    rng = np.random.default_rng(0)
    before = rng.bit_generator.state
    batches = minibatch_indices(6, None, rng)
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3, 4, 5]]
    assert rng.bit_generator.state == before
    assert minibatch_indices(0, None, rng) == []


def test_batch_larger_than_the_data_is_one_shuffled_batch():
    batches = minibatch_indices(4, 100, np.random.default_rng(0))
    assert len(batches) == 1
    assert sorted(batches[0].tolist()) == [0, 1, 2, 3]


def test_the_global_numpy_random_state_is_untouched():
    before = np.random.get_state()[1].copy()
    minibatch_indices(100, 7, np.random.default_rng(1))
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, 32.0, True, "32"])
def test_batch_size_must_be_a_positive_int(batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {batch_size!r}"):
        minibatch_indices(10, batch_size, np.random.default_rng(0))


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="shuffle=True needs rng"):
        minibatch_indices(10, 2, None)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        minibatch_indices(10, 2, 1234)
    with pytest.raises(ValueError, match="n_samples must be a non-negative integer, got -1"):
        minibatch_indices(-1, 2, None, shuffle=False)
    with pytest.raises(ValueError, match=r"same number of samples, got shapes \(4, 1\) and \(3,\)"):
        iter_minibatches(np.zeros((4, 1)), np.zeros(3), batch_size=2, rng=np.random.default_rng(0))


# -- data larger than memory: np.memmap ---------------------------------------------------


def _memmap(tmp_path, n, d):
    """A read-only memmap whose row i holds the values i, i, ..., i."""
    path = tmp_path / "X.dat"
    writer = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, d))
    writer[:] = np.arange(n, dtype=np.float32)[:, None]
    writer.flush()
    del writer
    return np.memmap(path, dtype=np.float32, mode="r", shape=(n, d))


def test_gathering_batches_from_a_memmap(tmp_path):
    X = _memmap(tmp_path, 103, 4)
    rng = np.random.default_rng(0)
    for _ in range(2):                                  # two epochs
        seen = []
        for idx in minibatch_indices(X.shape[0], 16, rng):
            batch = X[idx]
            assert type(batch) is np.ndarray            # a plain in-memory array, not the map
            assert batch.shape == (len(idx), 4) and len(idx) <= 16
            np.testing.assert_array_equal(batch[:, 0], idx)     # row i holds i
            seen.append(idx)
        np.testing.assert_array_equal(np.sort(np.concatenate(seen)), np.arange(103))


class RowReader:
    """Wraps an array: records the rows each read asks for, and fails on a whole-array read."""

    def __init__(self, data):
        self.data, self.shape, self.rows_read = data, data.shape, []

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, idx):
        idx = np.asarray(idx)
        assert idx.ndim == 1 and idx.dtype.kind == "i", "only row-index gathers are allowed"
        self.rows_read.append(idx.copy())
        return self.data[idx]

    def __array__(self, dtype=None, copy=None):
        raise AssertionError("the whole array was materialized")


def test_iter_minibatches_reads_a_memmap_one_batch_at_a_time(tmp_path):
    reader = RowReader(_memmap(tmp_path, 50, 3))
    y = np.arange(50) * 10
    batches = list(iter_minibatches(reader, y, batch_size=8, rng=np.random.default_rng(2)))
    assert [len(rows) for rows in reader.rows_read] == [8] * 6 + [2]
    np.testing.assert_array_equal(np.sort(np.concatenate(reader.rows_read)), np.arange(50))
    for Xb, yb in batches:
        assert type(Xb) is np.ndarray
        np.testing.assert_array_equal(Xb[:, 0] * 10, yb)    # rows stay paired with labels
