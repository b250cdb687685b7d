import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllib.data import ClassEncoder, decode_one_hot, one_hot

# -- one_hot / decode_one_hot --------------------------------------------------------------


def test_one_hot_by_hand():
    np.testing.assert_array_equal(one_hot([2, 0, 1]), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    Y = one_hot(np.array([[1], [1]]), n_classes=4, dtype=np.float32)
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(Y, [[0, 1, 0, 0], [0, 1, 0, 0]])
    np.testing.assert_array_equal(one_hot([0.0, 2.0]), [[1, 0, 0], [0, 0, 1]])


def test_decode_one_hot_by_hand():
    np.testing.assert_array_equal(decode_one_hot([[0, 0, 1], [0.7, 0.2, 0.1], [0.5, 0.5, 0]]),
                                  [2, 0, 0])    # a tie goes to the lower index
    assert decode_one_hot(np.zeros((0, 3))).shape == (0,)


@settings(deadline=None, max_examples=200)
@given(st.integers(1, 12).flatmap(
    lambda c: st.tuples(st.just(c), st.lists(st.integers(0, c - 1), max_size=50))))
def test_one_hot_round_trip(case):
    n_classes, labels = case
    Y = one_hot(labels, n_classes)
    assert Y.shape == (len(labels), n_classes)
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    np.testing.assert_array_equal(decode_one_hot(Y), labels)


@pytest.mark.parametrize("labels, n_classes, match", [
    ([0, 3], 3, r"labels must lie in \[0, 3\), got 3"),
    ([0, -1], None, r"labels must lie in \[0, 1\), got -1"),
    ([0, 1.5], None, "labels must be integers, got 1.5"),
    ([0, np.nan], None, "labels must be integers, got nan"),
    (["a", "b"], None, "labels must be integers, got dtype <U1; .* ClassEncoder"),
    ([[0, 1], [1, 0]], None, r"labels must be 1-D \(n_samples,\), got shape \(2, 2\)"),
    ([0, 1], 0, "n_classes must be a positive integer, got 0"),
    ([0, 1], 2.0, "n_classes must be a positive integer, got 2.0"),
])
def test_one_hot_rejects_bad_labels(labels, n_classes, match):
    with pytest.raises(ValueError, match=match):
        one_hot(labels, n_classes)


def test_decode_one_hot_rejects_non_matrices():
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_classes\) .* got shape \(3,\)"):
        decode_one_hot([0, 1, 0])
    with pytest.raises(ValueError, match=r"got shape \(2, 0\)"):
        decode_one_hot(np.zeros((2, 0)))


# -- ClassEncoder ---------------------------------------------------------------------------


def test_class_encoder_strings_by_hand():
    enc = ClassEncoder().fit(["dog", "cat", "dog", "bird"])
    np.testing.assert_array_equal(enc.classes_, ["bird", "cat", "dog"])
    assert enc.n_classes_ == 3
    codes = enc.encode(["cat", "dog", "bird"])
    assert codes.dtype == np.int64
    np.testing.assert_array_equal(codes, [1, 2, 0])
    back = enc.decode([1, 2, 0])
    assert back.dtype.kind == "U"
    np.testing.assert_array_equal(back, ["cat", "dog", "bird"])


def test_class_encoder_ints_bools_and_columns():
    enc = ClassEncoder().fit(np.array([[10], [-3], [10], [7]]))
    np.testing.assert_array_equal(enc.classes_, [-3, 7, 10])
    np.testing.assert_array_equal(enc.encode([7, 10, -3]), [1, 2, 0])
    np.testing.assert_array_equal(enc.encode([7.0]), [1])      # same value, float dtype
    booleans = ClassEncoder().fit([True, False, True])
    np.testing.assert_array_equal(booleans.encode([False, True]), [0, 1])
    assert booleans.decode([1, 0]).dtype == bool


def test_class_encoder_reads_object_arrays_of_strings():
    y = np.array(["yes", "no", "yes"], dtype=object)        # as pandas hands them over
    enc = ClassEncoder().fit(y)
    assert enc.classes_.dtype.kind == "U"
    np.testing.assert_array_equal(enc.encode(y), [1, 0, 1])


text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=5)


@settings(deadline=None, max_examples=200)
@given(st.one_of(st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=40),
                 st.lists(text, min_size=1, max_size=40),
                 st.lists(st.booleans(), min_size=1, max_size=40),
                 st.lists(st.floats(allow_nan=False, width=32), min_size=1, max_size=40)))
def test_class_encoder_round_trip(labels):
    y = np.array(labels)
    enc = ClassEncoder().fit(y)
    codes = enc.encode(y)
    assert codes.min() >= 0 and codes.max() < enc.n_classes_ == len(set(y.tolist()))
    assert np.all(np.diff(codes[np.argsort(y, kind="stable")]) >= 0)   # codes follow label order
    back = enc.decode(codes)
    assert back.dtype == y.dtype
    np.testing.assert_array_equal(back, y)


def test_unknown_labels_are_named():
    enc = ClassEncoder().fit(["bird", "cat"])
    with pytest.raises(ValueError, match=r"unknown label 'cow'; the known classes are \['bird', 'cat'\]"):
        enc.encode(["cat", "cow"])
    with pytest.raises(ValueError, match="unknown label 3"):
        enc.encode([3])
    numbers = ClassEncoder().fit([0, 1])
    with pytest.raises(ValueError, match="unknown label 0.5"):
        numbers.encode([0.5])
    with pytest.raises(ValueError, match="unknown label '1'"):
        numbers.encode(["1"])


@pytest.mark.parametrize("y, match", [
    ([1.0, np.nan], "labels contain NaN"),
    (np.zeros((3, 2)), r"1-D \(n_samples,\) or one column, got shape \(3, 2\)"),
    (np.array([1, "a", None], dtype=object),
     r"must all be strings or all numbers, got types \[.NoneType., .int., .str.\]"),
    ([], "no labels"),
    (np.array([1 + 2j]), "numbers, bools or strings, got dtype complex128"),
])
def test_fit_rejects_bad_labels(y, match):
    with pytest.raises(ValueError, match=match):
        ClassEncoder().fit(y)


def test_decode_rejects_codes_out_of_range():
    enc = ClassEncoder().fit(["a", "b"])
    with pytest.raises(ValueError, match=r"codes must lie in \[0, 2\), got 2"):
        enc.decode([0, 2])
    with pytest.raises(ValueError, match="codes must be integers, got 0.5"):
        enc.decode([0.5])


def test_not_fitted_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"ClassEncoder is not fitted yet; call fit\(y\) first"):
        ClassEncoder().encode([1])


def test_state_round_trip_without_pickle(tmp_path):
    enc = ClassEncoder().fit(["setosa", "virginica", "versicolor"])
    state = enc.get_state()
    assert state["classes"].dtype.kind == "U"
    np.savez(tmp_path / "enc.npz", **state)
    with np.load(tmp_path / "enc.npz", allow_pickle=False) as f:
        loaded = ClassEncoder.from_state(dict(f))
    np.testing.assert_array_equal(loaded.classes_, enc.classes_)
    np.testing.assert_array_equal(loaded.decode([2, 0]), ["virginica", "setosa"])


@pytest.mark.parametrize("classes, match", [
    (np.array(["a", "b"], dtype=object), "got dtype object"),
    (np.array([2, 1]), r"sorted 1-D array of distinct labels, got \[2, 1\]"),
    (np.array([1, 1]), "distinct labels"),
    (np.array([], dtype=int), "non-empty"),
])
def test_from_state_rejects_bad_classes(classes, match):
    with pytest.raises(ValueError, match=match):
        ClassEncoder.from_state({"classes": classes})
    with pytest.raises(ValueError, match="needs 'classes'"):
        ClassEncoder.from_state({})
