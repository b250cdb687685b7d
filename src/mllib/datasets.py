"""Toy and bundled datasets for examples, tests and the command line.

Every function returns ``(X, y)``: ``X`` of shape ``(n_samples, n_features)``,
float64, one example per row, and ``y`` of shape ``(n_samples,)``, int64
class labels ``0, 1, ..., K - 1``. The generators draw all their randomness
from ``np.random.default_rng(seed)`` and never touch NumPy's global state, so
the same seed gives identical arrays. Their rows are shuffled, so that any
slice of the data holds every class.

The generators need NumPy only. ``load_digits``, ``load_iris`` and
``load_breast_cancer`` wrap the datasets bundled with scikit-learn (no
download) and need the optional extra: ``pip install "mllib[sklearn]"``.

Examples
--------
>>> from mllib import datasets
>>> X, y = datasets.load("flower", n_samples=400, seed=1)
>>> X.shape, y.shape, int(y.sum())
((400, 2), (400,), 200)
"""

from __future__ import annotations

import numpy as np

from ._validation import check_int, check_real

__all__ = [
    "DATASETS", "load", "make_flower", "make_moons", "make_circles", "make_spirals",
    "make_blobs", "load_digits", "load_iris", "load_breast_cancer",
]


def _class_sizes(n_samples, n_classes):
    """Split ``n_samples`` into ``n_classes`` sizes that differ by at most one."""
    sizes = np.full(n_classes, n_samples // n_classes)
    sizes[: n_samples % n_classes] += 1
    return sizes


def _finish(rng, parts, sizes):
    """Stack per-class point arrays, attach labels, and shuffle the rows."""
    X = np.concatenate(parts).astype(np.float64, copy=False)
    y = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    order = rng.permutation(len(y))
    return X[order], y[order]


# -- generators --------------------------------------------------------------

def make_flower(n_samples=400, noise=0.2, seed=0):
    """The planar "flower" of the course's first shallow network.

    Two classes of about ``n_samples / 2`` points each, eight petals in all.
    Class ``j`` follows the curve

        t = linspace(3.12 j, 3.12 (j + 1), N/2) + noise · ε₁,
        r = 4 sin(4t) + noise · ε₂,           x = (r sin t, r cos t),

    with ε₁, ε₂ standard normal (the course's ``load_planar_dataset``). The
    classes are not linearly separable: logistic regression stays below 60 %
    training accuracy, while one hidden layer of 4 tanh units reaches about
    90 %.

    Parameters
    ----------
    n_samples : int, default 400
        Number of points, at least 2. An odd count gives class 0 one more.
    noise : float, default 0.2
        Standard deviation of the noise on both ``t`` and ``r``; ≥ 0.
    seed : int, numpy.random.Generator or None, default 0

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64 in {0, 1}
    """
    n_samples = check_int("n_samples", n_samples, 2)
    noise = check_real("noise", noise, 0.0)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n_samples, 2)
    parts = []
    for j, n in enumerate(sizes):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, n) + noise * rng.standard_normal(n)
        r = 4.0 * np.sin(4.0 * t) + noise * rng.standard_normal(n)
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    return _finish(rng, parts, sizes)


def make_moons(n_samples=300, noise=0.2, seed=0):
    """Two interleaving half circles.

    Class 0 lies on the upper unit half circle ``(cos θ, sin θ)``, class 1 on
    the lower one ``(1 − cos θ, 0.5 − sin θ)``, θ evenly spaced in [0, π];
    then Gaussian noise of standard deviation ``noise`` is added to X.

    Parameters
    ----------
    n_samples : int, default 300
        At least 2; an odd count gives class 0 one more point.
    noise : float, default 0.2
        Standard deviation of the noise added to each coordinate; ≥ 0.
    seed : int, numpy.random.Generator or None, default 0

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64 in {0, 1}
    """
    n_samples = check_int("n_samples", n_samples, 2)
    noise = check_real("noise", noise, 0.0)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n_samples, 2)
    outer = np.linspace(0.0, np.pi, sizes[0])
    inner = np.linspace(0.0, np.pi, sizes[1])
    parts = [np.column_stack([np.cos(outer), np.sin(outer)]),
             np.column_stack([1.0 - np.cos(inner), 0.5 - np.sin(inner)])]
    X, y = _finish(rng, parts, sizes)
    return X + noise * rng.standard_normal(X.shape), y


def make_circles(n_samples=300, noise=0.1, factor=0.5, seed=0):
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor``.

    Angles are evenly spaced in [0, 2π) on each circle; then Gaussian noise
    of standard deviation ``noise`` is added to X.

    Parameters
    ----------
    n_samples : int, default 300
        At least 2; an odd count gives class 0 one more point.
    noise : float, default 0.1
        Standard deviation of the noise added to each coordinate; ≥ 0.
    factor : float, default 0.5
        Radius of the inner circle, in the open interval (0, 1).
    seed : int, numpy.random.Generator or None, default 0

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64 in {0, 1}
    """
    n_samples = check_int("n_samples", n_samples, 2)
    noise = check_real("noise", noise, 0.0)
    factor = check_real("factor", factor, 0.0, 1.0, low_open=True, high_open=True)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n_samples, 2)
    parts = []
    for radius, n in zip((1.0, factor), sizes):
        theta = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
        parts.append(radius * np.column_stack([np.cos(theta), np.sin(theta)]))
    X, y = _finish(rng, parts, sizes)
    return X + noise * rng.standard_normal(X.shape), y


def make_spirals(n_samples=300, n_classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms, one per class.

    Arm ``j`` of ``K = n_classes`` has radius ``r`` evenly spaced in [0, 1] and
    angle ``θ = 2π j / K + 4 r + noise · ε`` (ε standard normal), giving the
    point ``(r sin θ, r cos θ)``. The arms start 2π/K apart, so they
    interleave, and each turns 4 radians.

    Parameters
    ----------
    n_samples : int, default 300
        At least ``n_classes``; sizes differ by at most one between classes.
    n_classes : int, default 3
        Number of arms, at least 2.
    noise : float, default 0.2
        Standard deviation of the noise on the angle, in radians; ≥ 0.
    seed : int, numpy.random.Generator or None, default 0

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64 in {0, ..., n_classes - 1}
    """
    n_classes = check_int("n_classes", n_classes, 2)
    n_samples = check_int("n_samples", n_samples, n_classes)
    noise = check_real("noise", noise, 0.0)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n_samples, n_classes)
    parts = []
    for j, n in enumerate(sizes):
        r = np.linspace(0.0, 1.0, n)
        theta = 2.0 * np.pi * j / n_classes + 4.0 * r + noise * rng.standard_normal(n)
        parts.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
    return _finish(rng, parts, sizes)


def make_blobs(n_samples=300, n_classes=3, n_features=2, std=1.0, seed=0):
    """Isotropic Gaussian blobs, one per class.

    The centres are drawn uniformly from the box [−10, 10]^n_features; class
    ``j`` is ``centre_j + std · ε`` with ε standard normal.

    Parameters
    ----------
    n_samples : int, default 300
        At least ``n_classes``; sizes differ by at most one between classes.
    n_classes : int, default 3
        Number of blobs, at least 1.
    n_features : int, default 2
        Dimension of the points, at least 1.
    std : float, default 1.0
        Standard deviation of each blob; ≥ 0.
    seed : int, numpy.random.Generator or None, default 0

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int64 in {0, ..., n_classes - 1}
    """
    n_classes = check_int("n_classes", n_classes, 1)
    n_samples = check_int("n_samples", n_samples, n_classes)
    n_features = check_int("n_features", n_features, 1)
    std = check_real("std", std, 0.0)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n_samples, n_classes)
    centres = rng.uniform(-10.0, 10.0, size=(n_classes, n_features))
    parts = [c + std * rng.standard_normal((n, n_features)) for c, n in zip(centres, sizes)]
    return _finish(rng, parts, sizes)


# -- scikit-learn's bundled datasets -----------------------------------------

def _sklearn_bundled(loader_name):
    try:
        from sklearn import datasets as sk_datasets
    except ImportError as err:
        raise ImportError(f"{loader_name}() needs scikit-learn: "
                          'pip install "mllib[sklearn]"') from err
    X, y = getattr(sk_datasets, loader_name)(return_X_y=True)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def load_digits():
    """The 8×8 handwritten digits bundled with scikit-learn (UCI).

    Returns
    -------
    X : ndarray of shape (1797, 64), float64
        Pixel intensities 0..16, row by row.
    y : ndarray of shape (1797,), int64 in {0, ..., 9}
    """
    return _sklearn_bundled("load_digits")


def load_iris():
    """Fisher's iris data bundled with scikit-learn.

    Returns
    -------
    X : ndarray of shape (150, 4), float64
        Sepal length, sepal width, petal length, petal width in cm.
    y : ndarray of shape (150,), int64 in {0, 1, 2}
    """
    return _sklearn_bundled("load_iris")


def load_breast_cancer():
    """The Wisconsin diagnostic breast cancer data bundled with scikit-learn.

    Returns
    -------
    X : ndarray of shape (569, 30), float64
    y : ndarray of shape (569,), int64; 0 malignant, 1 benign
    """
    return _sklearn_bundled("load_breast_cancer")


# -- dispatch by name --------------------------------------------------------

_LOADERS = {
    "flower": make_flower, "moons": make_moons, "circles": make_circles,
    "spirals": make_spirals, "blobs": make_blobs, "digits": load_digits,
    "iris": load_iris, "breast_cancer": load_breast_cancer,
}
DATASETS = tuple(_LOADERS)


def load(name, **kwargs):
    """Return the dataset called ``name`` as ``(X, y)``.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`: "flower", "moons", "circles", "spirals",
        "blobs", "digits", "iris", "breast_cancer".
    **kwargs
        Passed to the generator, e.g. ``n_samples``, ``noise``, ``seed``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int64
    """
    if not isinstance(name, str) or name not in _LOADERS:
        raise ValueError(f"name must be one of {', '.join(DATASETS)}; got {name!r}")
    return _LOADERS[name](**kwargs)
