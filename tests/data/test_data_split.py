import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllib.data import default_ratios, split_indices, split_sizes, train_dev_test_split

# Ratios (train, dev, test) with train > 0, built from integer weights so they sum to 1.
weights = st.tuples(st.integers(1, 20), st.integers(0, 20), st.integers(0, 20))


def ratios_of(w):
    total = sum(w)
    return tuple(x / total for x in w)


# -- sizes ----------------------------------------------------------------------------


@pytest.mark.parametrize("n, ratios, expected", [
    (10, (0.6, 0.2, 0.2), (6, 2, 2)),
    (5, (0.5, 0.25, 0.25), (3, 1, 1)),      # remainders .5, .25, .25: the one leftover row trains
    (7, (0.5, 0.5, 0.0), (4, 3, 0)),        # tie 3.5 / 3.5 goes to train
    (3, (1 / 3, 1 / 3, 1 / 3), (1, 1, 1)),
    (2, (0.6, 0.2, 0.2), (1, 1, 0)),        # 1.2, 0.4, 0.4: the tie goes to dev
    (20000, (0.98, 0.01, 0.01), (19600, 200, 200)),
])
def test_split_sizes_by_hand(n, ratios, expected):
    assert split_sizes(n, ratios) == expected


def test_default_ratios_switch_above_ten_thousand():
    assert default_ratios(10_000) == (0.6, 0.2, 0.2)
    assert default_ratios(10_001) == (0.98, 0.01, 0.01)


def test_default_split_uses_the_notes_ratios():
    small = train_dev_test_split(np.zeros((100, 3)), seed=0)
    large = train_dev_test_split(np.zeros((20_000, 1)), seed=0)
    assert [len(part) for part in small] == [60, 20, 20]
    assert [len(part) for part in large] == [19600, 200, 200]


@settings(deadline=None, max_examples=200)
@given(n=st.integers(0, 300), w=weights, seed=st.integers(0, 2**32 - 1))
def test_split_indices_are_a_partition_of_the_right_sizes(n, w, seed):
    ratios = ratios_of(w)
    parts = split_indices(n, ratios, np.random.default_rng(seed))
    joined = np.concatenate(parts)
    np.testing.assert_array_equal(np.sort(joined), np.arange(n))
    assert tuple(len(p) for p in parts) == split_sizes(n, ratios)
    for part, r in zip(parts, ratios):
        assert part.dtype == np.int64
        assert abs(len(part) - n * r) < 1


# -- train_dev_test_split ----------------------------------------------------------------


def test_rows_stay_paired_with_their_labels():
    X = np.arange(30).reshape(15, 2)
    y = X[:, 0] * 10
    X_tr, X_dev, X_te, y_tr, y_dev, y_te = train_dev_test_split(X, y, seed=3)
    for Xp, yp in ((X_tr, y_tr), (X_dev, y_dev), (X_te, y_te)):
        np.testing.assert_array_equal(yp, Xp[:, 0] * 10)
        np.testing.assert_array_equal(Xp[:, 1], Xp[:, 0] + 1)
    assert (len(X_tr), len(X_dev), len(X_te)) == (9, 3, 3)


def test_no_shuffle_splits_in_row_order():
    X = np.arange(20).reshape(10, 2)
    X_tr, X_dev, X_te = train_dev_test_split(X, shuffle=False)
    np.testing.assert_array_equal(X_tr, X[:6])
    np.testing.assert_array_equal(X_dev, X[6:8])
    np.testing.assert_array_equal(X_te, X[8:])


def test_same_seed_same_split_and_different_seed_different_split():
    X = np.arange(200).reshape(100, 2)
    a = train_dev_test_split(X, seed=7)
    b = train_dev_test_split(X, seed=7)
    c = train_dev_test_split(X, seed=8)
    d = train_dev_test_split(X, rng=np.random.default_rng(7))
    for pa, pb, pd in zip(a, b, d):
        np.testing.assert_array_equal(pa, pb)
        np.testing.assert_array_equal(pa, pd)
    assert not np.array_equal(a[0], c[0])


def test_empty_dev_and_test_keep_the_number_of_columns():
    X, y = np.ones((10, 4)), np.arange(10)
    X_tr, X_dev, X_te, y_tr, y_dev, y_te = train_dev_test_split(X, y, ratios=(1, 0, 0), seed=0)
    assert X_tr.shape == (10, 4)
    assert X_dev.shape == (0, 4) and X_te.shape == (0, 4)
    assert y_dev.shape == (0,) and y_te.shape == (0,)


def test_split_reads_a_memmap_into_plain_arrays(tmp_path):
    data = np.memmap(tmp_path / "x.dat", dtype=np.float32, mode="w+", shape=(50, 3))
    data[:] = np.arange(150, dtype=np.float32).reshape(50, 3)
    data.flush()
    X = np.memmap(tmp_path / "x.dat", dtype=np.float32, mode="r", shape=(50, 3))
    parts = train_dev_test_split(X, seed=1)
    assert all(type(p) is np.ndarray for p in parts)
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)[:, 0]), np.arange(0, 150, 3))


def test_the_global_numpy_random_state_is_untouched():
    before = np.random.get_state()[1].copy()
    train_dev_test_split(np.zeros((40, 2)), np.arange(40) % 3, stratify=True, seed=0)
    split_indices(40, (0.5, 0.5, 0), np.random.default_rng(0))
    np.testing.assert_array_equal(np.random.get_state()[1], before)


# -- stratification ----------------------------------------------------------------------


def test_stratified_string_labels_worked_by_hand():
    y = np.array(["a"] * 10 + ["b"] * 5)
    X = np.arange(15).reshape(15, 1)
    *_, y_tr, y_dev, y_te = train_dev_test_split(X, y, stratify=True, seed=0)
    # 10·(0.6, 0.2, 0.2) = (6, 2, 2) and 5·(0.6, 0.2, 0.2) = (3, 1, 1), exactly.
    for part, (na, nb) in ((y_tr, (6, 3)), (y_dev, (2, 1)), (y_te, (2, 1))):
        assert (np.sum(part == "a"), np.sum(part == "b")) == (na, nb)


@settings(deadline=None, max_examples=200)
@given(labels=st.lists(st.integers(0, 6), min_size=1, max_size=150), w=weights,
       seed=st.integers(0, 2**32 - 1))
def test_stratified_counts_within_one_of_exact_and_sizes_unchanged(labels, w, seed):
    y = np.array(labels)
    ratios = ratios_of(w)
    parts = split_indices(len(y), ratios, np.random.default_rng(seed), stratify_labels=y)
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(len(y)))
    assert tuple(len(p) for p in parts) == split_sizes(len(y), ratios)
    for c in np.unique(y):
        n_c = np.sum(y == c)
        for part, r in zip(parts, ratios):
            assert abs(np.sum(y[part] == c) - n_c * r) < 1


@settings(deadline=None, max_examples=300)
@given(class_sizes=st.lists(st.integers(1, 30), min_size=1, max_size=40), w=weights,
       seed=st.integers(0, 2**32 - 1))
def test_stratified_guarantee_over_class_size_vectors(class_sizes, w, seed):
    # The guarantee of the module docstring: the sizes of the unstratified split, and
    # every class c in every set s at ⌊n_c r_s⌋ or ⌈n_c r_s⌉ (exact when n_c r_s is whole).
    y = np.repeat(np.arange(len(class_sizes)), class_sizes)
    ratios = ratios_of(w)
    parts = split_indices(len(y), ratios, np.random.default_rng(seed), stratify_labels=y)
    assert tuple(len(p) for p in parts) == split_sizes(len(y), ratios)
    n_c = np.array(class_sizes)
    for part, weight in zip(parts, w):
        counts = np.bincount(y[part], minlength=len(class_sizes))
        low, high = n_c * weight // sum(w), -(-n_c * weight // sum(w))     # exact floor and ceil
        np.testing.assert_array_equal(np.clip(counts, low, high), counts)


def test_many_singleton_classes_still_fill_dev_and_test():
    # Rounding each class alone would put every one-member class in train.
    y = np.arange(10)
    parts = split_indices(10, (0.6, 0.2, 0.2), np.random.default_rng(0), stratify_labels=y)
    assert [len(p) for p in parts] == [6, 2, 2]


def test_stratify_on_one_hot_rows():
    Y = np.eye(3)[np.array([0] * 5 + [1] * 10 + [2] * 5)]
    *_, Y_tr, Y_dev, Y_te = train_dev_test_split(np.zeros((20, 2)), Y, stratify=True, seed=4)
    np.testing.assert_array_equal(Y_tr.sum(axis=0), [3, 6, 3])
    np.testing.assert_array_equal(Y_dev.sum(axis=0), [1, 2, 1])
    np.testing.assert_array_equal(Y_te.sum(axis=0), [1, 2, 1])


def test_stratified_split_depends_on_the_seed():
    y = np.arange(60) % 3
    a = split_indices(60, (0.6, 0.2, 0.2), np.random.default_rng(1), stratify_labels=y)
    b = split_indices(60, (0.6, 0.2, 0.2), np.random.default_rng(1), stratify_labels=y)
    c = split_indices(60, (0.6, 0.2, 0.2), np.random.default_rng(2), stratify_labels=y)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[1], c[1])


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("ratios, match", [
    ((0.5, 0.5), r"ratios must be 3 numbers .* got \(0\.5, 0\.5\)"),
    ("abc", "ratios must be 3 numbers"),
    ((0.7, True, 0.3), "ratios must be 3 numbers"),
    ((1.2, -0.1, -0.1), r"non-negative, got \(1\.2, -0\.1, -0\.1\)"),
    ((0.6, 0.2, float("nan")), "finite and non-negative"),
    ((0.6, 0.3, 0.3), r"ratios must sum to 1, got \(0\.6, 0\.3, 0\.3\)"),
    ((0.0, 0.5, 0.5), r"ratios\[0\], the training share, must be positive"),
])
def test_bad_ratios_are_rejected(ratios, match):
    with pytest.raises(ValueError, match=match):
        train_dev_test_split(np.zeros((10, 2)), ratios=ratios, seed=0)


def test_bad_arguments_are_rejected():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match=r"same number of samples, got X with 10 and y with shape \(9,\)"):
        train_dev_test_split(X, np.zeros(9), seed=0)
    with pytest.raises(ValueError, match=r"X must be 2-D \(n_samples, n_features\), got shape \(10,\)"):
        train_dev_test_split(np.zeros(10), seed=0)
    with pytest.raises(ValueError, match="X has no samples"):
        train_dev_test_split(np.zeros((0, 2)), seed=0)
    with pytest.raises(ValueError, match="stratify=True needs class labels y"):
        train_dev_test_split(X, stratify=True, seed=0)
    with pytest.raises(ValueError, match="stratify=True needs shuffle=True"):
        train_dev_test_split(X, np.zeros(10), stratify=True, shuffle=False)
    with pytest.raises(ValueError, match="give rng or seed, not both"):
        train_dev_test_split(X, rng=np.random.default_rng(0), seed=0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got 1.5"):
        train_dev_test_split(X, seed=1.5)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        train_dev_test_split(X, rng=np.random.RandomState(0))


def test_split_indices_argument_errors():
    with pytest.raises(ValueError, match="n_samples must be a non-negative integer, got -1"):
        split_indices(-1, (0.6, 0.2, 0.2), None)
    with pytest.raises(ValueError, match="needs rng, got None"):
        split_indices(4, (0.5, 0.5, 0), None, stratify_labels=[0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"stratify labels must have shape \(4,\)"):
        split_indices(4, (0.5, 0.5, 0), np.random.default_rng(0), stratify_labels=[0, 1])
