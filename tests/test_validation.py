"""The shared argument checks of mllib._validation."""

import math
import re

import numpy as np
import pytest

from mllib._validation import check_int, check_positive, check_real, is_int, preview


@pytest.mark.parametrize("value", [0, 7, -3, np.int64(5), np.uint8(2)])
def test_integers_of_python_and_numpy_pass(value):
    assert is_int(value)
    assert check_int("n", value) == int(value) and type(check_int("n", value)) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 2.0, "3", None, np.float64(1)])
def test_booleans_floats_and_strings_are_not_integers(value):
    assert not is_int(value)
    with pytest.raises(ValueError, match=re.escape(f"k must be an integer, got {value!r}")):
        check_int("k", value)


@pytest.mark.parametrize("minimum, value, words", [
    (0, -1, "a non-negative integer"), (1, 0, "a positive integer"), (2, 1, "an integer >= 2"),
])
def test_the_minimum_is_stated_in_words(minimum, value, words):
    with pytest.raises(ValueError, match=f"^batch_size must be {words}, got {value}$"):
        check_int("batch_size", value, minimum)
    assert check_int("batch_size", minimum, minimum) == minimum


@pytest.mark.parametrize("kwargs, good, bad, interval", [
    ({"low": 0.0, "high": 1.0, "high_open": True}, [0, 0.5, np.float32(0.9)], [1.0, -0.1],
     "[0, 1)"),
    ({"low": 0.0, "high": 1.0, "low_open": True}, [1, 1e-9], [0.0, 1.5], "(0, 1]"),
    ({"low": 0.0}, [0.0, 1e300], [math.inf, -1e-300], "[0, inf)"),
    ({}, [-1e300, 0, 1e300], [math.nan, -math.inf, math.inf], "(-inf, inf)"),
])
def test_real_intervals(kwargs, good, bad, interval):
    for value in good:
        x = check_real("beta", value, **kwargs)
        assert type(x) is float and x == float(value)
    for value in [*bad, True, "0.5", None]:
        with pytest.raises(ValueError,
                           match=re.escape(f"beta must be a number in {interval}, got {value!r}")):
            check_real("beta", value, **kwargs)


def test_positive_is_the_open_interval_above_zero():
    assert check_positive("eta", 2) == 2.0
    assert check_positive("eta", 1.0, 1.0) == 1.0
    for value, interval in ((0, "(0, inf)"), (math.inf, "(0, inf)"), (1.5, "(0, 1]")):
        with pytest.raises(ValueError, match=re.escape(f"eta must be a number in {interval}")):
            check_positive("eta", value, 1.0 if interval == "(0, 1]" else math.inf)


def test_preview_shows_plain_values_and_marks_the_rest():
    assert preview(np.array([1, 2, 3]), 2) == "[1, 2, ...]"
    assert preview(np.array(["a", "b"])) == "['a', 'b']"
    assert preview([0.5], 3) == "[0.5]"
    assert preview(np.array([], dtype=int)) == "[]"
