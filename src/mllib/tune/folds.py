"""Cross-validation of a search's trials: k folds of the training and dev rows, by the seed.

The notes choose by one dev set (§5), and that stays the default. With
``cv=k``, the rows of ``train`` and ``dev`` together, n of them, are dealt
into k folds, and a trial trains k networks: network i on every fold but
fold i, scored on fold i. Its row's ``dev_error`` is the mean of the k
held-out errors,

    dev_error = (1/k) Σ_i e_i,   fold_sd = sqrt( Σ_i (e_i − dev_error)² / (k − 1) ),

with the e_i in ``fold_errors``; ``train_error`` and the costs are the means
of the k networks' own. The folds are a function of the search's seed and the
labels only (:func:`fold_ids`), so every trial is scored on the same folds,
and the table is the same on every back-end.

**Stratified for classifiers.** The rows of each class, in a random order
of the seed, are dealt to the folds in turn, class after class, so each fold
holds each class in the proportion of the data (within one row), as
scikit-learn's ``StratifiedKFold`` does; every class needs at least k rows,
so that every training part holds it. Regressors' rows are dealt in one
random order.

A worker computes the folds itself from the labels it has mapped: a trial's
task carries only ``(k, seed, stratified)``, never the rows, so the data still
never passes through a Dask scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int
from ..settings import choose_output, resolve
from .candidates import MAX_TRIALS
from .metrics import CLASSIFIER_OUTPUTS

MAX_FOLDS = 1_000


@dataclass(frozen=True)
class Folds:
    """How a cross-validated trial splits its rows: ``k`` folds from ``seed``, stratified
    by class or not."""

    k: int
    seed: int
    stratified: bool

    def to_json(self) -> dict:
        return {"folds": self.k, "stratified": self.stratified}


def check_cv(cv):
    """``cv`` as a number of folds (None: the dev set), checked."""
    return None if cv is None else check_int("cv", cv, 2, MAX_FOLDS)


def cross_validation(cv, candidates, train, dev, seed, pruner=None):
    """The :class:`Folds` of a search with ``cv`` folds (None without), checked against its
    ``candidates``, data and ``pruner`` before anything runs: stratified when every
    candidate is a classifier. ValueError for a pruner (it judges one dev curve per
    trial), for early stopping (it would stop on the fold it is scored on), and for
    folds that would lose a class (:func:`check_folds`)."""
    k = check_cv(cv)
    if k is None:
        return None
    if pruner is not None:
        raise ValueError(f"cv={k} cannot be combined with a pruner, which judges one dev "
                         "curve per trial; give pruner=None, or cv=None")
    outputs = set()
    for c in candidates:
        resolved = resolve(c.settings)
        if resolved["early_stopping"] is not None:
            raise ValueError(f"trial {c.trial} {c.params} sets early_stopping, which cannot "
                             f"be combined with cv={k}: it would stop on the fold that scores "
                             "the trial; leave early_stopping out, or cv=None")
        outputs.add(choose_output(resolved["output"], train[1]) in CLASSIFIER_OUTPUTS)
    stratified = outputs == {True}
    check_folds(np.concatenate([np.asarray(train[1]), np.asarray(dev[1])]), k, stratified)
    return Folds(k, seed, stratified)


def labels_of(y) -> np.ndarray:
    """One label per row: the column of a one-hot (or probability) matrix, or ``y`` itself."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    return y.reshape(len(y))


def fold_ids(y, k, seed, stratified) -> np.ndarray:
    """The fold, 0 ... k − 1, of each row of ``y`` (see the module notes)."""
    # A stream of its own: (seed, i, ...) are trial i's, (seed, MAX_TRIALS, 0) the sampler's.
    rng = np.random.default_rng(np.random.SeedSequence([seed, MAX_TRIALS, 1]))
    ids = np.empty(len(y), dtype=np.int64)
    if not stratified:
        ids[rng.permutation(len(y))] = np.arange(len(y)) % k
        return ids
    _, classes = np.unique(labels_of(y), return_inverse=True)
    order = np.concatenate([rng.permutation(np.flatnonzero(classes == c))
                            for c in range(classes.max() + 1)])
    ids[order] = np.arange(len(y)) % k
    return ids


def check_folds(y, k, stratified) -> None:
    """ValueError when ``k`` folds of ``y`` would leave a training part without some class
    (a stratified class with fewer than k rows), or a fold without rows."""
    if k > len(y):
        raise ValueError(f"cv={k} needs at least {k} rows in train and dev together, "
                         f"there are {len(y)}")
    if stratified:
        values, counts = np.unique(labels_of(y), return_counts=True)
        if counts.min() < k:
            rare = values[np.argmin(counts)]
            raise ValueError(f"cv={k} needs at least {k} rows of every class in train and dev "
                             f"together; class {rare.item()!r} has {counts.min()}")


def split(train, dev, folds, i):
    """``(fitting, held_out)``: the rows of ``train`` and ``dev`` outside fold ``i``, and
    those in it, each as ``(X, y)``, in the rows' order (train's, then dev's)."""
    y_all = np.concatenate([np.asarray(train[1]), np.asarray(dev[1])])
    ids = fold_ids(y_all, folds.k, folds.seed, folds.stratified)
    n = len(train[0])

    def rows(keep):
        first, second = keep[:n], keep[n:]
        return tuple(np.concatenate([np.asarray(a)[first], np.asarray(b)[second]])
                     for a, b in zip(train, dev))

    return rows(ids != i), rows(ids == i)


def summary(rows) -> dict:
    """A cross-validated trial's scores from its k folds' ``rows``: the means, the
    held-out errors and their sample standard deviation."""
    errors = [row["dev_error"] for row in rows]
    found = {key: float(np.mean([row[key] for row in rows]))
             for key in ("train_error", "dev_error", "train_cost", "dev_cost")}
    found["fold_errors"] = errors
    found["fold_sd"] = float(np.std(errors, ddof=1))
    found["epochs"] = rows[0]["epochs"]
    return found
