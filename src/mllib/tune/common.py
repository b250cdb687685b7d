"""The parts every search shares: its arguments and data checked, its folder opened and
read back, its rows recorded, and the best model kept.

Random and grid search (:mod:`.search`), model-based sampling
(:mod:`.sampling`), successive halving (:mod:`.halving`), its asynchronous
variant (:mod:`.asynchronous`) and Hyperband (:mod:`.hyperband`) are built
from these, so that every search checks, records and resumes alike.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np

from .._interrupts import HeldInterrupts
from .._version import __version__
from ..settings import defaults, parse, resolve
from ..training.rows.inputs import check_X, rows_of
from .candidates import plain
from .journal import Journal, fingerprint, keep
from .metrics import get_metric
from .pruning import as_pruner
from .folds import cross_validation, split
from .result import best_of, own_errors
from .trial import Task, run_task


def recorder(rows, journal, offers, on_trial):
    """``record(row, model)``: the row kept in ``rows``, offered (with its model) to each of
    ``offers`` (a :class:`BestModel`, say), and kept by :func:`keep`, as one step that
    Ctrl-C does not cut."""
    def record(row, model):
        with HeldInterrupts():
            rows[row["trial"]] = row
            for offer in offers:
                offer.offer(row, model)
            keep(journal, row, model, on_trial)

    return record


def final_model(model, row, candidates, data, metric, folds) -> tuple:
    """``(model, own_errors)`` of a search's result, whose best is ``row`` and whose trial
    gave ``model``: with ``folds`` (a cross-validated search), the chosen candidate
    trained again on every row of ``data`` (train and dev) as scikit-learn's ``refit``
    does, with BLAS on one thread as a trial, so with the same bits on every back-end;
    its own errors those of the trial's model (fold 0's) on fold 0's rows. Should the
    refit fail, the trial's model stays, with a warning."""
    train, dev = data
    if folds is None or model is None:
        return model, own_errors(metric, model, train, dev)
    errors = own_errors(metric, model, *split(train, dev, folds, 0))
    (candidate,) = [c for c in candidates if c.trial == row["trial"]]
    rows = tuple(np.concatenate([np.asarray(a), np.asarray(b)]) for a, b in zip(train, dev))
    outcome = run_task(Task(candidate), rows, rows)
    if outcome.model is None:
        warnings.warn(f"trial {candidate.trial} could not be trained again on every row of "
                      f"train and dev ({outcome.row['error']}); its model is fold 0's",
                      UserWarning, stacklevel=3)
        return model, errors
    return outcome.model, errors


def search_options(candidates, data, seed, metric, how, extra) -> tuple:
    """``(task_of, folds)``: the task of a candidate with the search's metric and folds, and
    the folds (None without ``cv``); the pruner, repeats and folds checked against the
    ``candidates`` (a model-based sampler's stand-ins) and ``data`` (train and dev), and
    added to ``extra`` (the manifest's) when given."""
    pruner, repeats = how["pruner"], how.get("repeats")
    folds = cross_validation(how.get("cv"), candidates, *data, seed, pruner)
    if pruner is not None:
        check_prunable(candidates)
        extra["pruner"] = pruner.to_json()
    if repeats is not None:
        extra["repeats"] = repeats.to_json()
    if folds is not None:
        extra["cv"] = folds.to_json()
    return partial(Task, metric=metric, folds=folds), folds


def check_prunable(candidates) -> None:
    """ValueError for a candidate with early stopping, which a pruner would stop
    in its own way."""
    for c in candidates:
        if resolve(c.settings)["early_stopping"] is not None:
            raise ValueError(f"trial {c.trial} {c.params} sets early_stopping, which cannot be "
                             "combined with a pruner: the pruner stops the trials that are "
                             "losing; leave early_stopping out, or pruner=None")


def check_how(**how) -> dict:
    """The arguments of where and how a search runs, with its callbacks, data options and
    metric checked (the back-end is checked when it is opened)."""
    for name in ("on_trial", "on_start"):
        check_callable(name, how[name])
    get_metric(how["metric"])       # a known name, with scikit-learn if it needs it
    how["pruner"] = as_pruner(how.get("pruner"))
    options = how["data_options"]
    if options is not None:
        if not isinstance(options, dict):
            raise ValueError(f"data_options must be a dict or None, got {options!r}")
        try:
            how["data_options"] = plain(options)
        except TypeError as err:
            raise ValueError(f"data_options must hold JSON data: {err}") from None
    return how


def open_journal(out, restart, *, kind, space, settings, seed, data, data_options=None,
                 metric=None, **extra):
    """The :class:`Journal` of ``out`` for this search, or None without ``out``; the
    data options and the metric's name are recorded when given."""
    if out is None:
        return None
    manifest = {"kind": kind, "space": {k: s.to_json() for k, s in sorted(space.items())},
                "settings": settings_on_record(settings, space), "seed": seed,
                "data": fingerprint(*data), "mllib_version": __version__, **extra}
    for key, value in (("data_options", data_options), ("metric", metric)):
        if value is not None:
            manifest[key] = value
    return Journal(out, plain(manifest), restart=restart)


def recorded_rows(journal, candidates) -> dict:
    """``{(rung, trial): row}`` of the journal's rows whose values are this search's
    candidates': a row recorded with other values (drawn by an earlier version of mllib)
    is not read back, and its trial runs again."""
    return matching(journal.finished(), candidates)


def matching(finished, candidates) -> dict:
    """The rows of ``finished`` (as :meth:`Journal.finished` gives them) whose values are
    ``candidates``'."""
    params = {c.trial: c.params for c in candidates}
    return {key: row for key, row in finished.items()
            if key[1] in params and row["params"] == params[key[1]]}


def settings_on_record(settings, space) -> dict:
    """The fixed settings as every trial sees them: each value parsed, the defaults filled
    in, so that ``"2"`` and ``2``, or a default given and left out, record the same."""
    recorded = {**defaults(), **{key: parse(key, value) for key, value in settings.items()}}
    if settings.get("nodes") is not None or "nodes" in space:
        recorded["hidden"] = None
    return {k: v for k, v in recorded.items() if k not in space and k != "seed"}


class BestModel:
    """The model of the best trial so far, kept as bytes.

    On a resume, the best recorded trial's model is read back from the journal at
    once, and checked; a trial whose model cannot be read back is dropped from
    ``rows``, so that it runs again with the missing ones, and the next best is read.
    """

    def __init__(self, journal, rows):
        self.row, self.model = None, None
        while (row := best_of(rows.values())) is not None:
            model = journal.model(row["trial"])
            if model is not None:
                self.row, self.model = row, model
                break
            del rows[row["trial"]]

    def offer(self, row, model):
        if best_of([r for r in (self.row, row) if r is not None]) is row:
            self.row, self.model = row, model

    def bytes(self):
        return self.model


def check_callable(name, value):
    if value is not None and not callable(value):
        raise ValueError(f"{name} must be a callable or None, got {value!r}")


def check_data(pair, name):
    """``(X, y)`` checked as ``fit`` checks them, before any trial runs."""
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise ValueError(f"{name} must be a pair (X, y), got {type(pair).__name__}")
    X = check_X(pair[0], name=f"{name} X")
    return X, rows_of(pair[1], X, f"{name} X", f"{name} y")


