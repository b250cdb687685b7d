"""Training, development and test sets (notes §4).

The dataset is partitioned at random into a training set 𝕏, a development
(cross-validation) set 𝒟 and a test set 𝒯. The notes' ratios are
``(0.6, 0.2, 0.2)`` for ``N ≤ 10⁴`` and ``(0.98, 0.01, 0.01)`` above.

Sizes are exact apportionments: with ratios ``r = (r_X, r_D, r_T)`` each set
gets ``⌊N r_s⌋`` or ``⌈N r_s⌉`` rows (largest remainders get the leftover
rows, ties going to train, then dev). A stratified split keeps these sizes,
and in addition each class c with ``n_c`` members gets ``⌊n_c r_s⌋`` or
``⌈n_c r_s⌉`` of them in every set, so 𝒟 and 𝒯 follow the same label
distribution (the notes' Remark 4.1).
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

import numpy as np

from .._validation import check_int, check_rng
from ._checks import as_2d, make_rng

#: Above this many samples the notes switch to the large-data ratios.
LARGE_DATASET = 10_000
SMALL_RATIOS = (0.6, 0.2, 0.2)
LARGE_RATIOS = (0.98, 0.01, 0.01)


def default_ratios(n_samples: int) -> tuple[float, float, float]:
    """The notes' ratios: (0.6, 0.2, 0.2) if ``n_samples ≤ 10⁴``, else (0.98, 0.01, 0.01)."""
    return SMALL_RATIOS if n_samples <= LARGE_DATASET else LARGE_RATIOS


def split_sizes(n_samples: int, ratios) -> tuple[int, int, int]:
    """The sizes ``(n_X, n_D, n_T)`` of the three sets; they sum to ``n_samples``.

    Each is ``N r_s`` rounded down or up, by the largest-remainder method.

    >>> split_sizes(10, (0.6, 0.2, 0.2))
    (6, 2, 2)
    >>> split_sizes(5, (0.5, 0.25, 0.25))
    (3, 1, 1)
    """
    n = check_int("n_samples", n_samples, 0)
    return tuple(_apportion(n, _check_ratios(ratios)))


def split_indices(n_samples, ratios, rng, stratify_labels=None):
    """Row indices of the training, development and test sets.

    Parameters
    ----------
    n_samples : int
        N, the number of rows to split.
    ratios : sequence of 3 floats
        ``(r_X, r_D, r_T)``: non-negative, summing to 1, ``r_X > 0``.
    rng : numpy.random.Generator or None
        Source of the random permutation. ``None`` splits without shuffling:
        the first rows train, the next dev, the last test.
    stratify_labels : array_like of shape (n_samples,) or (n_samples, k), optional
        Class labels of any kind (ints, strings, one-hot rows); each class is
        split in the ratios as nearly as whole rows allow. Needs ``rng``.

    Returns
    -------
    train, dev, test : ndarray of int64, shapes (n_X,), (n_D,), (n_T,)
        Disjoint, and together a permutation of ``range(n_samples)``.

    Examples
    --------
    >>> train, dev, test = split_indices(5, (0.6, 0.2, 0.2), None)
    >>> train, dev, test
    (array([0, 1, 2]), array([3]), array([4]))
    """
    n = check_int("n_samples", n_samples, 0)
    fractions = _check_ratios(ratios)
    sizes = _apportion(n, fractions)
    if stratify_labels is not None:
        if rng is None:
            raise ValueError("a stratified split is random: it needs rng, got None")
        classes = _class_ids(stratify_labels, n)
        return _stratified(classes, fractions, sizes, check_rng(rng))
    order = np.arange(n) if rng is None else check_rng(rng).permutation(n)
    cuts = np.cumsum(sizes)[:2]
    return tuple(np.split(order.astype(np.int64), cuts))


def train_dev_test_split(X, y=None, *, ratios=None, stratify=False, shuffle=True,
                         rng=None, seed=None):
    """Split ``X`` (and ``y``) into training, development and test sets (notes §4).

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        An ``np.memmap`` works too: only the rows of each set are read.
    y : array_like of shape (n_samples,) or (n_samples, k), optional
    ratios : sequence of 3 floats, optional
        ``(r_X, r_D, r_T)``, non-negative and summing to 1. Default: the
        notes' (0.6, 0.2, 0.2) for N ≤ 10⁴, (0.98, 0.01, 0.01) above.
        ``r_D`` or ``r_T`` may be 0, which gives empty sets.
    stratify : bool, default False
        Keep the class proportions of ``y`` in every set (see module notes).
    shuffle : bool, default True
        False splits in row order: first train, then dev, then test.
    rng : numpy.random.Generator, optional
    seed : int, optional
        Seeds a new Generator when ``rng`` is not given.

    Returns
    -------
    X_train, X_dev, X_test : ndarray of shapes (n_X, n_features), (n_D, ...), (n_T, ...)
    y_train, y_dev, y_test : ndarray
        Only when ``y`` is given.

    Examples
    --------
    >>> X, y = np.arange(20).reshape(10, 2), np.arange(10) % 2
    >>> X_tr, X_dev, X_te, y_tr, y_dev, y_te = train_dev_test_split(X, y, seed=0)
    >>> X_tr.shape, X_dev.shape, X_te.shape
    ((6, 2), (2, 2), (2, 2))
    """
    X = as_2d("X", X)
    n = X.shape[0]
    if n == 0:
        raise ValueError(f"X has no samples to split, shape {X.shape}")
    if y is not None:
        y = y if isinstance(y, np.ndarray) else np.asarray(y)
        if y.ndim == 0 or y.shape[0] != n:
            raise ValueError(f"X and y must have the same number of samples, "
                             f"got X with {n} and y with shape {y.shape}")
    if stratify and y is None:
        raise ValueError("stratify=True needs class labels y, got y=None")
    if stratify and not shuffle:
        raise ValueError("stratify=True needs shuffle=True: a stratified split is random")
    ratios = default_ratios(n) if ratios is None else ratios
    generator = make_rng(rng, seed) if shuffle else None
    parts = split_indices(n, ratios, generator, stratify_labels=y if stratify else None)
    out = tuple(X[idx] for idx in parts)
    return out if y is None else out + tuple(y[idx] for idx in parts)


# -- sizes ------------------------------------------------------------------------


def _check_ratios(ratios) -> list[Fraction]:
    """The ratios as exact fractions summing to 1 (floats are read as the nearest simple fraction)."""
    values = list(ratios) if isinstance(ratios, (list, tuple, np.ndarray)) else None
    if values is None or len(values) != 3 or not all(
            isinstance(r, numbers.Real) and not isinstance(r, (bool, np.bool_)) for r in values):
        raise ValueError(f"ratios must be 3 numbers (train, dev, test), got {ratios!r}")
    if not all(math.isfinite(r) and r >= 0 for r in values):
        raise ValueError(f"ratios must be finite and non-negative, got {ratios!r}")
    if abs(sum(values) - 1.0) > 1e-6:
        raise ValueError(f"ratios must sum to 1, got {ratios!r} (sum {sum(values)!r})")
    if values[0] == 0:
        raise ValueError(f"ratios[0], the training share, must be positive, got {ratios!r}")
    exact = [Fraction(float(r)).limit_denominator(10**9) for r in values]
    total = sum(exact)
    return [r / total for r in exact]


def _apportion(n: int, fractions) -> list[int]:
    """Largest-remainder rounding of ``n · fractions`` to integers summing to ``n``."""
    exact = [n * r for r in fractions]
    counts = [math.floor(e) for e in exact]
    leftover = n - sum(counts)
    by_remainder = sorted(range(3), key=lambda s: counts[s] - exact[s])   # stable: ties in order
    for s in by_remainder[:leftover]:
        counts[s] += 1
    return counts


# -- stratification ---------------------------------------------------------------


def _class_ids(labels, n: int) -> np.ndarray:
    """Class index of each row: equal labels (or equal label rows) share an index."""
    y = np.asarray(labels)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"stratify labels must have shape ({n},) or ({n}, k), got {y.shape}")
    try:
        _, inverse = np.unique(y, axis=0 if y.ndim == 2 else None, return_inverse=True)
    except TypeError as err:
        raise ValueError(f"stratify labels cannot be sorted into classes: {err}") from None
    return inverse.ravel()


def _stratified(classes, fractions, sizes, rng):
    """Split each class in the ratios, with the set sizes fixed to ``sizes``."""
    class_sizes = np.bincount(classes)
    counts = _class_counts(class_sizes.tolist(), fractions, sizes, rng)
    # Group the rows by class, in random order within each class.
    perm = rng.permutation(classes.size)
    grouped = perm[np.argsort(classes[perm], kind="stable")]
    starts = np.concatenate([[0], np.cumsum(class_sizes)[:-1]])
    cls = classes[grouped]
    rank = np.arange(classes.size) - starts[cls]
    part = (rank >= counts[cls, 0]).astype(np.int64) + (rank >= counts[cls, 0] + counts[cls, 1])
    return tuple(rng.permutation(grouped[part == s]).astype(np.int64) for s in range(3))


def _class_counts(class_sizes, fractions, sizes, rng) -> np.ndarray:
    """``(C, 3)`` counts: row c sums to ``n_c``, column s to ``sizes[s]``, and the
    entry of class c and set s is ⌊n_c r_s⌋ or ⌈n_c r_s⌉.

    Each class first rounds up in as many sets as its rows need, drawn at
    random among those where n_c r_s is not whole. Then single rows move from
    a set with too many to one with too few, directly or through the third
    set. Such a move exists while the sizes are off: a solution exists (the
    n_c r_s are a fractional one, and ``sizes`` round its column sums), and
    its difference from the current counts is made of such moves.
    """
    exact = [[n_c * r for r in fractions] for n_c in class_sizes]
    lo = np.array([[math.floor(e) for e in row] for row in exact], dtype=np.int64).reshape(-1, 3)
    frac = np.array([[float(e % 1) for e in row] for row in exact]).reshape(-1, 3)
    hi = lo + (frac > 0)
    # Sets drawn in proportion to frac (Efraimidis–Spirakis keys u^(1/w)), so that the
    # column sums start near their targets; sets where n_c r_s is whole come last.
    keys = np.where(frac > 0, rng.random(frac.shape) ** (1 / np.where(frac > 0, frac, 1)), -1)
    extra = np.asarray(class_sizes) - lo.sum(axis=1)
    counts = lo + (np.argsort(np.argsort(-keys, axis=1), axis=1) < extra[:, None])

    def movable(a, b):      # the classes that can move one row from set a to set b
        return np.flatnonzero((counts[:, a] > lo[:, a]) & (counts[:, b] < hi[:, b]))

    while (diff := counts.sum(axis=0) - np.asarray(sizes)).any():
        s = int(np.argmax(diff))
        paths = [(s, t) for t in range(3) if diff[t] < 0] + \
                [(s, 3 - s - t, t) for t in range(3) if diff[t] < 0]
        path = next(p for p in paths if all(movable(a, b).size for a, b in zip(p, p[1:])))
        for a, b in zip(path, path[1:]):
            c = rng.choice(movable(a, b))
            counts[c, a] -= 1
            counts[c, b] += 1
    return counts
