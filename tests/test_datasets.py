"""Tests of mllib.datasets: shapes, seeding, exact geometry, and the flower's claims."""

import sys

import numpy as np
import pytest

from mllib import datasets

GENERATORS = ["flower", "moons", "circles", "spirals", "blobs"]


@pytest.mark.parametrize("name", GENERATORS)
def test_shapes_dtypes_and_labels(name):
    X, y = datasets.load(name, n_samples=120, seed=3)
    n_features = 2
    assert X.shape == (120, n_features) and X.dtype == np.float64
    assert y.shape == (120,) and y.dtype == np.int64
    assert np.isfinite(X).all()
    n_classes = 3 if name in ("spirals", "blobs") else 2
    np.testing.assert_array_equal(np.bincount(y), [120 // n_classes] * n_classes)


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_same_data_other_seed_other_data(name):
    X1, y1 = datasets.load(name, seed=7)
    X2, y2 = datasets.load(name, seed=7)
    X3, _ = datasets.load(name, seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", GENERATORS)
def test_global_random_state_is_untouched(name):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    datasets.load(name, seed=1)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("name", GENERATORS)
def test_rows_are_shuffled(name):
    _, y = datasets.load(name, n_samples=200, seed=0)
    assert len(np.unique(y[:20])) > 1


def test_odd_sample_count_gives_class_zero_one_more():
    for make in (datasets.make_flower, datasets.make_moons, datasets.make_circles):
        _, y = make(n_samples=7, seed=0)
        np.testing.assert_array_equal(np.bincount(y), [4, 3])
    _, y = datasets.make_spirals(n_samples=8, n_classes=3)
    np.testing.assert_array_equal(np.bincount(y), [3, 3, 2])


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = datasets.make_moons(n_samples=101, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, rtol=0, atol=1e-12)
    assert (upper[:, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0,
                               rtol=0, atol=1e-12)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()
    # endpoints of both half circles are included
    assert {tuple(np.round(p, 12)) for p in upper} >= {(1.0, 0.0), (-1.0, 0.0)}
    assert {tuple(np.round(p, 12)) for p in lower} >= {(0.0, 0.5), (2.0, 0.5)}


def test_circles_without_noise_have_radii_one_and_factor():
    X, y = datasets.make_circles(n_samples=50, noise=0.0, factor=0.3)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r[y == 1], 0.3, rtol=0, atol=1e-12)
    # evenly spaced angles: 25 distinct points on each circle
    assert len(np.unique(np.round(X[y == 0], 9), axis=0)) == 25


def test_flower_without_noise_follows_the_rose_curve():
    X, y = datasets.make_flower(n_samples=40, noise=0.0)
    for j in (0, 1):
        t = np.linspace(3.12 * j, 3.12 * (j + 1), 20)
        r = 4 * np.sin(4 * t)
        expected = np.column_stack([r * np.sin(t), r * np.cos(t)])
        got = X[y == j]
        got = got[np.lexsort(got.T)]
        np.testing.assert_allclose(got, expected[np.lexsort(expected.T)], atol=1e-12)


def test_spirals_without_noise_have_radius_and_angle_of_their_arm():
    X, y = datasets.make_spirals(n_samples=60, n_classes=3, noise=0.0)
    r = np.hypot(X[:, 0], X[:, 1])
    theta = np.arctan2(X[:, 0], X[:, 1])  # points are (r sin θ, r cos θ)
    expected = 2 * np.pi * y / 3 + 4 * r
    wrapped = np.angle(np.exp(1j * (theta - expected)))
    keep = r > 1e-9  # the angle of the origin is undefined
    np.testing.assert_allclose(wrapped[keep], 0.0, atol=1e-9)
    for j in range(3):
        np.testing.assert_allclose(np.sort(r[y == j]), np.linspace(0, 1, 20), atol=1e-12)


def test_blobs_shape_and_spread():
    X, y = datasets.make_blobs(n_samples=3000, n_classes=4, n_features=5, std=0.5, seed=2)
    assert X.shape == (3000, 5)
    np.testing.assert_array_equal(np.bincount(y), [750] * 4)
    for j in range(4):
        np.testing.assert_allclose(X[y == j].std(axis=0), 0.5, rtol=0.1)
        assert (np.abs(X[y == j].mean(axis=0)) < 10.5).all()
    X0, y0 = datasets.make_blobs(n_samples=9, std=0.0)
    for j in range(3):
        assert len(np.unique(X0[y0 == j], axis=0)) == 1


def test_flower_defeats_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    for seed in range(5):
        X, y = datasets.make_flower(seed=seed)
        assert LogisticRegression().fit(X, y).score(X, y) < 0.6


def _tanh_net_accuracy(X, y, n_hidden=4, iters=5000, lr=1.2, seed=0):
    """Full-batch gradient descent on a 2-n_hidden-1 tanh/sigmoid net, as in the course."""
    rng = np.random.default_rng(seed)
    W1, b1 = 0.01 * rng.standard_normal((n_hidden, 2)), np.zeros(n_hidden)
    W2, b2 = 0.01 * rng.standard_normal((1, n_hidden)), np.zeros(1)
    Y = y[:, None]
    for _ in range(iters):
        A1 = np.tanh(X @ W1.T + b1)
        A2 = 1 / (1 + np.exp(-(A1 @ W2.T + b2)))
        d2 = (A2 - Y) / len(y)
        d1 = (d2 @ W2) * (1 - A1**2)
        W2 -= lr * d2.T @ A1
        b2 -= lr * d2.sum(0)
        W1 -= lr * d1.T @ X
        b1 -= lr * d1.sum(0)
    logits = np.tanh(X @ W1.T + b1) @ W2.T + b2
    return np.mean((logits[:, 0] > 0) == y)


def test_flower_is_learned_by_four_tanh_units():
    X, y = datasets.make_flower()
    assert _tanh_net_accuracy(X, y) >= 0.88


@pytest.mark.parametrize("loader, shape, n_classes", [
    (datasets.load_digits, (1797, 64), 10),
    (datasets.load_iris, (150, 4), 3),
    (datasets.load_breast_cancer, (569, 30), 2),
])
def test_bundled_loaders_match_sklearn(loader, shape, n_classes):
    import sklearn.datasets as sk_datasets

    X, y = loader()
    assert X.shape == shape and X.dtype == np.float64
    assert y.shape == shape[:1] and y.dtype == np.int64
    np.testing.assert_array_equal(np.unique(y), np.arange(n_classes))
    X_sk, y_sk = getattr(sk_datasets, loader.__name__)(return_X_y=True)
    np.testing.assert_array_equal(X, X_sk)
    np.testing.assert_array_equal(y, y_sk)


def test_bundled_loaders_without_sklearn_say_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "mllib\[sklearn\]"'):
        datasets.load("iris")


def test_load_dispatches_every_name():
    assert set(datasets.DATASETS) == {"flower", "moons", "circles", "spirals", "blobs",
                                      "digits", "iris", "breast_cancer"}
    X, y = datasets.load("spirals", n_samples=40, n_classes=4, seed=5)
    X2, y2 = datasets.make_spirals(n_samples=40, n_classes=4, seed=5)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


@pytest.mark.parametrize("name", ["mnist", "Moons", 3, None])
def test_load_unknown_name_lists_the_valid_ones(name):
    with pytest.raises(ValueError, match="flower, moons, circles.*breast_cancer"):
        datasets.load(name)


@pytest.mark.parametrize("make, kwargs, argument", [
    (datasets.make_flower, {"n_samples": 0}, "n_samples"),
    (datasets.make_flower, {"n_samples": 10.0}, "n_samples"),
    (datasets.make_moons, {"n_samples": True}, "n_samples"),
    (datasets.make_moons, {"noise": -0.1}, "noise"),
    (datasets.make_moons, {"noise": float("nan")}, "noise"),
    (datasets.make_circles, {"factor": 1.0}, "factor"),
    (datasets.make_circles, {"factor": 0}, "factor"),
    (datasets.make_circles, {"noise": "0.1"}, "noise"),
    (datasets.make_spirals, {"n_classes": 1}, "n_classes"),
    (datasets.make_spirals, {"n_samples": 2, "n_classes": 3}, "n_samples"),
    (datasets.make_blobs, {"n_features": 0}, "n_features"),
    (datasets.make_blobs, {"std": -1.0}, "std"),
    (datasets.make_blobs, {"n_classes": 0}, "n_classes"),
])
def test_bad_arguments_name_argument_and_value(make, kwargs, argument):
    value = repr(kwargs[argument])
    with pytest.raises(ValueError) as info:
        make(**kwargs)
    assert argument in str(info.value) and value in str(info.value)


def test_numpy_integers_are_accepted():
    X, _ = datasets.make_blobs(n_samples=np.int64(12), n_classes=np.int32(2))
    assert X.shape == (12, 2)
