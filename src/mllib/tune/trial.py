"""One trial of a search: a pure function of its settings, its seed and the data.

:func:`run_task` trains ``fit(settings, train, seed=seed)`` (or continues a
model given as model-file bytes, for successive halving), scores it on the
training and dev sets in inference mode, by the search's metric
(:mod:`.metrics`), and returns a :class:`Outcome`: the
trial's row of the table and the model as model-file bytes. Nothing in it
depends on where or when it runs, so the row (all but ``seconds``) is the
same on any back-end: it runs with BLAS on one thread
(:func:`mllib.optim.single_threaded`), since BLAS's kernels may round
differently with two.

A trial that raises, that diverges (``fit`` raises DivergenceError at the
first step whose cost or gradients are not finite), or whose final scores are
not finite is recorded as failed with its reason; its errors and costs are
None.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..io import dumps_model, loads_model
from ..optim import single_threaded
from ..training import DivergenceError
from ..settings import fit, resolve
from .candidates import Candidate
from .folds import Folds, split, summary
from .metrics import METRICS, own_metric
from .pruning import Report, Reporter, Watch


class Diverged(Exception):
    """A trained model's scores are not finite."""


@dataclass
class Outcome:
    """A finished trial: its row of the table, its model (None if it failed), and in a
    pruned search what it reported (:class:`.pruning.Report`)."""

    row: dict
    model: bytes | None = None
    report: Report | None = None


class Task(NamedTuple):
    """What a back-end runs: a candidate, and how.

    ``epochs``: train to this many epochs in all (successive halving's
    budget; default the candidate's ``epochs`` setting). ``state``: a model
    from an earlier rung, as model-file bytes, to continue. ``metric``: the
    name of the metric the errors measure (:mod:`.metrics`); None for the
    model's own score, 1 − accuracy or 1 − R². ``watch``: in a pruned search,
    what the trial reports to and is judged by (:mod:`.pruning`). ``folds``:
    cross-validate on the rows of both sets instead (:mod:`.folds`).
    """

    candidate: Candidate
    epochs: int | None = None
    state: bytes | None = None
    metric: str | None = None
    watch: Watch | None = None
    folds: Folds | None = None


def run_task(task, train, dev) -> Outcome:
    """Train and score the trial of ``task`` (a :class:`Task`, or a tuple of its fields)."""
    task = Task(*task)
    if task.folds is not None:
        return _cross_validated(task, train, dev)
    candidate = task.candidate
    started = time.perf_counter()
    row = _row(candidate.trial, candidate.params, candidate.seed)
    reporter = None if task.watch is None else _reporter(task, train, dev)
    try:
        with single_threaded(), warnings.catch_warnings(), np.errstate(
                over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            # Overflow on the way to divergence is expected here; the failure reports it.
            warnings.simplefilter("ignore", RuntimeWarning)
            model = _train(candidate.settings, candidate.seed, train, dev, task, reporter)
            if reporter is not None and reporter.last is not None:      # pruned
                found, state = reporter.last
            else:
                found, state = scores(model, train, dev, task.metric), dumps_model(model)
            row.update(found)
    except Exception as err:  # noqa: BLE001 - a failed trial is recorded, and the search goes on
        row.update(status="failed", error=_reason(err))
        state = None
    report = None if reporter is None else reporter.report
    return Outcome(_finish(row, started), state if row["status"] == "ok" else None, report)


def _cross_validated(task, train, dev) -> Outcome:
    """The trial of ``task`` on each of its folds (:mod:`.folds`): the row of their means,
    and fold 0's model; failed if a fold fails, with that fold's reason."""
    started, rows, model = time.perf_counter(), [], None
    for i in range(task.folds.k):
        outcome = run_task(task._replace(folds=None), *split(train, dev, task.folds, i))
        if outcome.row["status"] != "ok":
            row = {**outcome.row, "error": f"fold {i}: {outcome.row['error']}"}
            return Outcome(_finish(row, started))
        rows.append(outcome.row)
        model = model or outcome.model
    row = {**rows[0], **summary(rows)}
    return Outcome(_finish(row, started), model)


def _reporter(task, train, dev) -> Reporter:
    """The trial's reporter: its dev error, and its state where it keeps one, by ``task``'s
    metric, measured as :func:`scores` measures them (the same bits). A state that cannot
    be scored is kept as the failure it would be, so that keeping a state never changes
    what the trial does next."""
    metric = None if task.metric is None else METRICS[task.metric]

    def dev_error(model):
        error = (metric or own_metric(model)).error(model, *dev)
        if not math.isfinite(error):
            raise Diverged(f"diverged: the dev error is {error} after epoch {model.epoch_}")
        return error

    def keep(model):
        try:
            return scores(model, train, dev, task.metric), dumps_model(model)
        except Exception as err:  # noqa: BLE001 - recorded as the trial's failure if pruned there
            return {**_unscored(), "status": "failed", "error": _reason(err)}, None

    return Reporter(task.watch, dev_error, keep)


def _train(settings, seed, train, dev, task, reporter):
    """A fitted model: a new one, or ``task.state`` trained on to ``task.epochs`` epochs in
    all; ``reporter`` (a pruned search's) sees every epoch.

    With ``early_stopping``, the dev set is the validation data it watches.
    """
    settings, epochs = resolve(settings), task.epochs
    if task.state is None:
        if epochs is not None:
            settings["epochs"] = epochs
        validation = dev if settings["early_stopping"] is not None else None
        return fit(settings, train, seed=seed, validation=validation,
                   callbacks=[] if reporter is None else [reporter])
    model = loads_model(task.state)
    if model.epoch_ > epochs:
        raise ValueError(f"the saved state has {model.epoch_} epochs, more than this rung's "
                         f"{epochs}")
    model.fit(*train, optimizer=model.optimizer_, learning_rate=settings["learning_rate"],
              epochs=epochs - model.epoch_, batch_size=settings["batch_size"],
              lr_decay=settings["lr_decay"])
    return model


def scores(model, train, dev, metric=None) -> dict:
    """Errors by ``metric`` (a name of :mod:`.metrics`; None: 1 − accuracy, or 1 − R²) and
    costs on both sets; a non-finite one is a failure."""
    metric = own_metric(model) if metric is None else METRICS[metric]
    found = {"epochs": int(model.epoch_)}
    for name, (X, y) in (("train", train), ("dev", dev)):
        logs = model.evaluate(X, y)
        found[f"{name}_error"] = metric.error(model, X, y, logs)
        found[f"{name}_cost"] = float(logs["cost"])
    bad = [k for k, v in found.items() if not math.isfinite(v)]
    if bad:
        raise Diverged(f"diverged: {', '.join(bad)} not finite")
    return found


def _row(trial, params, seed) -> dict:
    return {"trial": trial, "params": params, "seed": seed, "status": "ok", "error": None,
            **_unscored()}


def _unscored() -> dict:
    return {"train_error": None, "dev_error": None, "train_cost": None, "dev_cost": None,
            "epochs": None}


def failed_row(candidate, reason) -> dict:
    """The row of a trial that could not run to its end, for ``reason``."""
    return {**_row(candidate.trial, candidate.params, candidate.seed), "status": "failed",
            "error": reason, "seconds": 0.0}


def _reason(err) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, DivergenceError):
        return f"diverged: {text}"
    return text if isinstance(err, Diverged) else f"{type(err).__name__}: {text}"


def _finish(row, started) -> dict:
    row["seconds"] = time.perf_counter() - started
    return row
