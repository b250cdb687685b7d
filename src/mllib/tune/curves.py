"""Learning curves: train and dev error as the training set grows (notes §4).

More data helps a model with high variance, whose dev error falls toward its
training error as the set grows, and does little for one with high bias,
whose two errors meet early at a high level. The curve shows which it is.

Each point trains ``fit(settings, (X[:n], y[:n]), seed=seed)`` on the first n
rows of one seeded order of the training set, so the sets are nested; for
classes the order is stratified, so that every prefix holds the classes in
about their proportions.

**Equal optimizer steps.** ``settings["epochs"]`` counts epochs of the full
training set of N rows. With batch size b, an epoch of n rows is one pass
over them in B(n) mini-batches, one optimizer step each
(:func:`mllib.training.engine.resume.batches_per_epoch`: ⌈n/b⌉, 1 for a full batch,
one fewer with batch norm when a 1-row last batch joins the one before). The
full set's budget is S = epochs · B(N) steps, and a set of n rows trains

    E(n) = ⌈S / B(n)⌉ epochs,  so  steps(n) = E(n) · B(n),  S ≤ steps(n) < S + B(n).

Giving every size the same *epochs* instead gives a set of n rows about n/N
as many steps: a tenth of the data gets a tenth of the training, and the
curve then mixes the effect of more data with that of longer training (a small
set, under-trained, shows high errors that read as "more data helps" when the
model would in fact overfit it). Rounding up means no size trains fewer steps
than the full set; the excess is less than one epoch of the smaller set. With
a full batch B(n) = 1, so the rule gives every size the same epochs.
``budget="epochs"`` keeps the epochs equal instead, if that is the comparison
wanted; note that a learning-rate schedule (``lr_decay``) advances per epoch,
so under equal steps a small set ends at a lower rate than the full one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_real
from ..settings import build_network, choose_output, fit, resolve
from ..training.diagnosis import diagnose
from ..training.engine.resume import batches_per_epoch
from .common import check_data

BUDGETS = ("steps", "epochs")


@dataclass
class LearningCurve:
    """Errors per training-set size, and the epochs and optimizer steps each size trained
    (``epochs[i]`` epochs of ``sizes[i]`` rows, ``steps[i]`` optimizer steps, as the fitted
    model counted them); ``diagnosis`` reads the largest size. ``budget`` says what was
    held equal ("steps" or "epochs"); a regression's errors are 1 − R²."""

    sizes: list
    train_error: list
    dev_error: list
    epochs: list
    steps: list
    budget: str = "steps"
    regression: bool = False

    @property
    def diagnosis(self):
        return diagnose(self.train_error[-1], self.dev_error[-1], regression=self.regression)

    def to_dict(self) -> dict:
        return {"sizes": list(self.sizes), "train_error": list(self.train_error),
                "dev_error": list(self.dev_error), "epochs": list(self.epochs),
                "steps": list(self.steps), "budget": self.budget,
                "diagnosis": self.diagnosis.to_dict()}


def learning_curve(settings, train, dev, *, sizes=(0.1, 0.25, 0.5, 0.75, 1.0),
                   seed=0, budget="steps") -> LearningCurve:
    """Train on growing shares of ``train`` and score each model on itself and on ``dev``.

    Every size trains as many optimizer steps as the full training set does
    in ``settings["epochs"]`` epochs: E(n) = ⌈S / B(n)⌉ epochs of its n rows,
    with S = epochs · B(N) and B(n) its batches per epoch (see the module's
    docstring for the rule and why).

    Parameters
    ----------
    settings : dict
        As for :func:`mllib.tune.fit`; ``epochs`` counts epochs of the full
        training set (all of ``train``, even if ``sizes`` stops short of it).
    train, dev : (X, y)
    sizes : sequence
        Shares of the training rows in (0, 1], or numbers of rows (ints ≥ 2),
        increasing.
    seed : int
        Fixes the order of the rows and every model's seed.
    budget : {"steps", "epochs"}, default "steps"
        What every size gets equally: the full set's optimizer steps, or (the
        old behaviour, fewer steps for fewer rows) ``settings["epochs"]`` epochs.

    Returns
    -------
    LearningCurve
        With the epochs and steps each size trained.
    """
    train, dev = check_data(train, "train"), check_data(dev, "dev")
    seed = check_int("seed", seed, 0)
    if budget not in BUDGETS:
        raise ValueError(f"budget must be 'steps' or 'epochs', got {budget!r}")
    resolved = resolve(settings)
    counts = _counts(sizes, train[0].shape[0])
    output = choose_output(resolved["output"], train[1])
    order = _order(train[1], output != "linear", np.random.default_rng(seed))
    plan = epochs_per_size(resolved, output, counts, train[0].shape[0], budget)
    curve = LearningCurve(counts, [], [], [], [], budget, output == "linear")
    for n, epochs in zip(counts, plan):
        rows = np.sort(order[:n])
        part = (train[0][rows], train[1][rows])
        model = fit({**resolved, "epochs": epochs}, part, seed=seed)
        curve.epochs.append(int(model.epoch_))
        curve.steps.append(0 if model.optimizer_ is None else int(model.optimizer_.t))
        for errors, (X, y) in ((curve.train_error, part), (curve.dev_error, dev)):
            errors.append(1.0 - float(model.evaluate(X, y)[model.score_name]))
    return curve


def epochs_per_size(settings, output, counts, n_rows, budget="steps") -> list:
    """E(n) for each of ``counts``: ⌈S / B(n)⌉ with S = epochs · B(n_rows) for equal
    steps, ``settings["epochs"]`` for equal epochs. ``settings`` are resolved."""
    epochs = settings["epochs"]
    if budget == "epochs":
        return [epochs] * len(counts)
    two_rows = build_network(settings, output).needs_two_rows
    per_epoch = [batches_per_epoch(n, settings["batch_size"], two_rows)
                 for n in (*counts, n_rows)]
    steps = epochs * per_epoch[-1]
    return [-(-steps // b) for b in per_epoch[:-1]]


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
