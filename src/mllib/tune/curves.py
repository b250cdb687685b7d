"""Learning curves: train and dev error as the training set grows (notes §4).

More data helps a model with high variance, whose dev error falls toward its
training error as the set grows, and does little for one with high bias,
whose two errors meet early at a high level. The curve shows which it is.

Each point trains ``fit(settings, (X[:n], y[:n]), seed=seed)`` on the first n
rows of one seeded order of the training set, so the sets are nested; for
classes the order is stratified, so that every prefix holds the classes in
about their proportions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_real
from ..training.diagnosis import diagnose
from .search import check_data
from .settings import choose_output, fit, resolve


@dataclass
class LearningCurve:
    """Errors per training-set size; ``diagnosis`` reads the largest size."""

    sizes: list
    train_error: list
    dev_error: list

    @property
    def diagnosis(self):
        return diagnose(self.train_error[-1], self.dev_error[-1])

    def to_dict(self) -> dict:
        return {"sizes": list(self.sizes), "train_error": list(self.train_error),
                "dev_error": list(self.dev_error), "diagnosis": self.diagnosis.to_dict()}


def learning_curve(settings, train, dev, *, sizes=(0.1, 0.25, 0.5, 0.75, 1.0),
                   seed=0) -> LearningCurve:
    """Train on growing shares of ``train`` and score each model on itself and on ``dev``.

    Parameters
    ----------
    settings : dict
        As for :func:`mllib.tune.fit`.
    train, dev : (X, y)
    sizes : sequence
        Shares of the training rows in (0, 1], or numbers of rows (ints ≥ 2),
        increasing.
    seed : int
        Fixes the order of the rows and every model's seed.
    """
    train, dev = check_data(train, "train"), check_data(dev, "dev")
    seed = check_int("seed", seed, 0)
    resolved = resolve(settings)
    counts = _counts(sizes, train[0].shape[0])
    classes = choose_output(resolved["output"], train[1]) != "linear"
    order = _order(train[1], classes, np.random.default_rng(seed))
    errors = {"train": [], "dev": []}
    for n in counts:
        rows = np.sort(order[:n])
        part = (train[0][rows], train[1][rows])
        model = fit(resolved, part, seed=seed)
        for name, (X, y) in (("train", part), ("dev", dev)):
            errors[name].append(1.0 - float(model.evaluate(X, y)[model.score_name]))
    return LearningCurve(counts, errors["train"], errors["dev"])


def _counts(sizes, n_rows) -> list:
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or not len(sizes):
        raise ValueError(f"sizes must be a non-empty list of shares or row counts, got {sizes!r}")
    counts = []
    for size in sizes:
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
            n = check_int("sizes", size, 2)
        else:
            n = int(round(check_real("sizes", size, 0.0, 1.0, low_open=True) * n_rows))
        if n > n_rows or n < 2:
            raise ValueError(f"sizes: {size!r} is {n} rows, but the training set has {n_rows} "
                             "and a model needs at least 2")
        counts.append(n)
    if counts != sorted(set(counts)):
        raise ValueError(f"sizes must give increasing row counts, got {counts}")
    return counts


def _order(y, classes, rng) -> np.ndarray:
    """A random order of the rows; for classes, stratified, so that every prefix holds
    each class in about its share: row r of class c comes at (rank of r in c + u) / |c|."""
    n = y.shape[0]
    if not classes or y.ndim != 1:
        return rng.permutation(n)
    key = np.empty(n)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        ranks = rng.permutation(members.size)
        key[members] = (ranks + rng.random(members.size)) / members.size
    return np.argsort(key, kind="stable")
