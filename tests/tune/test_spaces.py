"""Search spaces: their distributions, grids, JSON form and checks."""

import math

import numpy as np
import pytest

from mllib.tune import choice, fixed, loguniform, one_minus_loguniform, randint, uniform
from mllib.tune.spaces import as_space, from_json

N = 10_000


def binomial_bound(p, n=N, sigmas=5):
    """How far a count of n Bernoulli(p) draws may stray from n·p, at 5σ."""
    return sigmas * math.sqrt(n * p * (1 - p))


def test_loguniform_puts_a_quarter_of_the_draws_in_each_decade():
    draws = np.array(loguniform(1e-4, 1).sample(np.random.default_rng(0), N))
    assert draws.min() >= 1e-4 and draws.max() <= 1
    counts, _ = np.histogram(np.log10(draws), bins=[-4, -3, -2, -1, 0])
    assert np.all(np.abs(counts - N / 4) < binomial_bound(0.25)), counts


def test_one_minus_loguniform_puts_half_the_draws_above_0_99():
    draws = np.array(one_minus_loguniform(0.9, 0.999).sample(np.random.default_rng(1), N))
    assert draws.min() >= 0.9 and draws.max() <= 0.999
    assert abs(np.sum(draws > 0.99) - N / 2) < binomial_bound(0.5)
    # ... and on the log scale of 1 − β it is uniform: a quarter in each half-decade.
    counts, _ = np.histogram(np.log10(1 - draws), bins=[-3, -2.5, -2, -1.5, -1])
    assert np.all(np.abs(counts - N / 4) < binomial_bound(0.25)), counts


def test_uniform_randint_and_choice_draw_each_part_equally_often():
    rng = np.random.default_rng(2)
    u = np.array(uniform(-1, 3).sample(rng, N))
    assert u.min() >= -1 and u.max() <= 3 and abs(np.sum(u < 1) - N / 2) < binomial_bound(0.5)
    r = np.array(randint(2, 5).sample(rng, N))
    assert set(r) == {2, 3, 4, 5} and r.dtype.kind == "i"
    assert all(abs(np.sum(r == v) - N / 4) < binomial_bound(0.25) for v in range(2, 6))
    c = choice(["adam", "gd", [64, 32]]).sample(rng, N)
    assert abs(c.count([64, 32]) - N / 3) < binomial_bound(1 / 3)


def test_grids_are_spread_on_each_spaces_own_scale():
    assert loguniform(1e-3, 1e-1).grid(3) == [1e-3, 1e-2, 1e-1]
    assert loguniform(1e-4, 1).grid(5) == [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    assert one_minus_loguniform(0.9, 0.999).grid(3) == [0.9, 0.99, 0.999]
    assert uniform(0, 1).grid(5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert randint(1, 3).grid(5) == [1, 2, 3] and randint(0, 10).grid(3) == [0, 5, 10]
    assert choice(["a", "b"]).grid(7) == ["a", "b"] and fixed(3).grid(4) == [3]


def test_the_same_generator_state_draws_the_same_values():
    space = one_minus_loguniform(0.5, 0.99)
    assert space.sample(np.random.default_rng(7), 5) == space.sample(np.random.default_rng(7), 5)


def test_plain_values_are_fixed_and_plain_lists_are_choices():
    assert as_space(0.1) == fixed(0.1) and as_space([1, 2]) == choice([1, 2])
    assert as_space(loguniform(1, 2)) == loguniform(1, 2)


def test_choice_takes_arrays_as_lists_and_uniform_grids_are_clean():
    assert choice(np.array([1, 2])).options == [1, 2]
    assert uniform(0, 0.3).grid(4) == [0.0, 0.1, 0.2, 0.3]
    assert repr(fixed([1])) == "fixed([1])" and hash(loguniform(1, 2)) == hash(loguniform(1, 2))


def test_json_round_trip():
    for space in [uniform(0, 1), loguniform(1e-4, 1e-1), one_minus_loguniform(0.9, 0.999),
                  choice([[32], [64, 32]]), randint(1, 4), fixed("adam")]:
        assert from_json("k", space.to_json()) == space
    assert from_json("hidden", [[32], [64]]) == choice([[32], [64]])
    assert from_json("optimizer", "adam") == fixed("adam")


@pytest.mark.parametrize("make, match", [
    (lambda: loguniform(0, 1), r"loguniform low .*got 0"),
    (lambda: loguniform(1, 1), r"loguniform needs low < high, got 1\.0 and 1\.0"),
    (lambda: uniform(2, 1), r"uniform needs low < high"),
    (lambda: one_minus_loguniform(0.9, 1.0), r"one_minus_loguniform needs high < 1, got 1\.0"),
    (lambda: one_minus_loguniform(0.0, 0.5), r"one_minus_loguniform low .*got 0"),
    (lambda: randint(3, 1), r"randint needs low <= high, got 3 and 1"),
    (lambda: randint(1.5, 3), r"randint low must be an integer, got 1\.5"),
    (lambda: choice([]), r"choice needs a non-empty list of options, got \[\]"),
    (lambda: choice("abc"), r"choice needs a non-empty list"),
    (lambda: choice({"relu", "tanh"}), r"choice needs a non-empty list"),
    (lambda: uniform(0, float("inf")), r"uniform high .*inf"),
    (lambda: loguniform(1e-3, 1).grid(0), r"k must be a positive integer, got 0"),
    (lambda: from_json("beta1", {"lognormal": [0, 1]}), r"beta1: a space is one of"),
    (lambda: from_json("beta1", {"loguniform": [1]}), r"beta1: loguniform takes \[low, high\]"),
    (lambda: from_json("lr", {"loguniform": [-1, 1]}), r"lr: loguniform low"),
])
def test_bad_spaces_are_refused_with_a_message(make, match):
    with pytest.raises(ValueError, match=match):
        make()
