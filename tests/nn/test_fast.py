"""Each speed trick of mllib.nn.fast against the plain form it replaces."""

import numpy as np
import pytest

from mllib.nn.fast import ROW_MAX_COLUMNS, below_threshold, bernoulli, column_sums, relu, row_max


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_sums_are_the_sums_over_the_rows(dtype):
    a = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], dtype=dtype)
    np.testing.assert_array_equal(column_sums(a), [5.0, 3.0, -3.0])
    assert column_sums(a).dtype == dtype
    out = np.full(3, np.nan, dtype=dtype)
    assert column_sums(a[:1], out=out) is out
    np.testing.assert_array_equal(out, [1.0, -2.0, 3.0])


@pytest.mark.parametrize("shape", [(1, 5), (128, 256), (1000, 3)])
def test_column_sums_agree_with_the_plain_sum_to_rounding(shape):
    a = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    exact = a.astype(np.float64).sum(axis=0)
    # Both float32 sums are within a few ulps of the exact one, times the row count.
    bound = 4 * np.finfo(np.float32).eps * np.abs(a).sum(axis=0)
    assert np.all(np.abs(column_sums(a) - exact) <= bound)
    assert np.all(np.abs(a.sum(axis=0) - exact) <= bound)


def test_relu_has_the_bits_of_the_plain_maximum():
    z = np.random.default_rng(1).normal(size=(64, 33)).astype(np.float32)
    z[0, :6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45]
    plain = np.maximum(z, 0)
    fast = relu(z)
    assert fast.dtype == plain.dtype
    np.testing.assert_array_equal(fast.view(np.uint32), plain.view(np.uint32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("columns", [1, 2, 10, ROW_MAX_COLUMNS, ROW_MAX_COLUMNS + 1, 40])
def test_row_max_has_the_bits_of_the_plain_maximum(columns, dtype):
    z = np.random.default_rng(2).normal(size=(50, columns)).astype(dtype)
    specials = [np.nan, np.inf, -np.inf, 1e-45, -3.0e38]
    for row, value in enumerate(specials):       # each in a column of its own
        z[row, row % columns] = value
    z[len(specials), :] = -np.inf                 # a row of -inf only
    z[len(specials) + 1, :] = 2.5                 # ties
    plain = z.max(axis=1, keepdims=True)
    fast = row_max(z)
    assert fast.shape == (50, 1) and fast.dtype == dtype
    bits = np.uint32 if dtype == np.float32 else np.uint64
    np.testing.assert_array_equal(fast.view(bits), plain.view(bits))
    assert np.isnan(fast[0, 0]) and row_max(z[:0]).shape == (0, 1)


@pytest.mark.parametrize("t", [0, 1, 2**24 - 1, 2**24, 204 * 2**24 + 2**23, 2**32 - 1,
                               255 * 2**24 + 5])
def test_comparing_by_bytes_is_comparing_the_32_bit_words(t):
    u = np.random.default_rng(2).integers(0, 2**32, size=200_000, dtype=np.uint64)
    t1 = t >> 24
    # Make many entries tie with t's top byte, so that the tail comparison is exercised.
    u[::3] = (u[::3] & 0xFFFFFF) | (t1 << 24)
    u1 = (u >> 24).astype(np.uint8)
    low = (u & 0xFFFFFF)[u1 == t1]

    def tails(k):
        assert k == low.size
        return low

    np.testing.assert_array_equal(below_threshold(u1, tails, t), u < t)


@pytest.mark.parametrize("p", [0.8, 204.5 / 256, 0.002, 0.999])
def test_bernoulli_keeps_each_entry_with_probability_p(p):
    n = 1 << 22
    keep = bernoulli(np.random.default_rng(3), p, (n // 64, 64))
    assert keep.shape == (n // 64, 64) and keep.dtype == bool
    assert abs(keep.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)


def test_bernoulli_is_fixed_by_the_generator_state():
    a = bernoulli(np.random.default_rng(4), 0.5, (7, 9))
    b = bernoulli(np.random.default_rng(4), 0.5, (7, 9))
    np.testing.assert_array_equal(a, b)
    assert 0 < a.sum() < a.size
