"""Random and grid search over settings (notes §5 and §8), on any back-end, resumable.

Every candidate is drawn before anything runs (:mod:`.candidates`) and
checked by building its network and optimizer, so bad settings are refused
up front with the key and value named. Trials are pure functions of their
settings, seed and data (:mod:`.trial`), so the table is the same on every
back-end and in any order of completion. With ``out=DIR`` every finished
trial is recorded as it ends (Ctrl-C waits until it is recorded and reported),
and running the same search into DIR again runs only the missing ones
(:mod:`.journal`).

>>> import numpy as np
>>> from mllib.datasets import make_flower
>>> X, y = make_flower(200, seed=0)
>>> result = random_search({"learning_rate": loguniform(1e-3, 1e-1)}, (X[:150], y[:150]),
...                        (X[150:], y[150:]), trials=2, settings={"hidden": [4], "epochs": 5})
>>> [row["status"] for row in result.trials]
['ok', 'ok']
"""

from __future__ import annotations

from .._interrupts import HeldInterrupts
from .._validation import check_int
from .._version import __version__
from ..settings import defaults, parse, resolve
from ..training.rows.inputs import check_X, rows_of
from .backends import get_backend
from .candidates import (MAX_TRIALS, check_candidates, grid_candidates, normalize, plain,
                         random_candidates)
from .dask_backend import ClusterError
from .journal import Journal, fingerprint
from .metrics import get_metric, resolve_metric
from .ordered import InOrder, decided
from .pruning import as_pruner
from .result import SearchResult, best_of, own_errors
from .spaces import loguniform  # noqa: F401 - used by the module's example
from .trial import Task


def random_search(space, train, dev, *, trials, settings=None, seed=0, metric=None,
                  pruner=None, backend="serial", workers=None, out=None, restart=False,
                  on_trial=None, on_start=None, data_options=None) -> SearchResult:
    """Try ``trials`` candidates drawn at random from ``space`` (notes §8).

    Parameters
    ----------
    space : dict
        Setting → space (:mod:`mllib.tune.spaces`); a plain list is a choice,
        a plain value is fixed. The keys are those of ``mllib train --config``.
        A space of choices and fixed values only is drawn without replacement
        (:mod:`.candidates`).
    train, dev : (X, y)
        Trials train on ``train`` and are chosen by their error on ``dev``.
    trials : int
    settings : dict, optional
        Fixed settings for every trial; the rest take their defaults.
    seed : int
        Fixes every candidate and every trial's own seed.
    metric : str, optional
        What the dev error measures (:mod:`mllib.tune.metrics`): for classifiers
        "accuracy", "balanced_accuracy", "f1_macro", "roc_auc" or "log_loss", for
        regressors "r2", "rmse" or "mae", each turned into an error to minimize
        (1 − accuracy, log-loss, RMSE, ...). Default: 1 − accuracy, or 1 − R².
    pruner : "median" or MedianPruner, optional
        Stop the trials that are plainly losing (:mod:`mllib.tune.pruning`): each
        reports its dev error every ``every`` epochs, and after ``warmup`` epochs
        a trial worse than the median of the earlier trials at the same epoch is
        stopped, its row and model those of that epoch (``"pruned": True``, its
        ``"curve"`` the errors it reported). Decided in trial order, so the table is
        the same on every back-end. Not with ``early_stopping``.
    backend : "serial", "processes", a DaskBackend, a dask.distributed.Client or a scheduler address
        Where the trials run (:mod:`mllib.tune.backends`); the table is the same. A Dask
        cluster that is lost, or has no worker, raises ClusterError, which says how many
        trials are kept in ``out``: the same call resumes.
    workers : int, optional
        Processes for ``backend="processes"`` (default: the cores this process may use).
    out : path, optional
        A folder that records the search as it runs, so that it can resume.
    restart : bool
        Clear ``out`` of another search's trials instead of refusing it.
    on_trial : callable, optional
        Called in this process with each trial's row as the trial finishes
        (for progress reports; with a pruner, as it is decided, in trial order),
        not for the rows read back from ``out``.
    on_start : callable, optional
        Called once in this process before any trial runs, as ``on_start(rows,
        total)``: the rows read back from ``out`` (empty for a new search), in
        trial order, and the number of trials of the search.
    data_options : dict, optional
        How ``train`` and ``dev`` were made from their source (such as the
        command line's ``--drop`` and ``--missing``), as JSON data. ``out``
        records them, and a resumed search with other options is refused,
        naming them, as it is for other data or settings.
    """
    trials = check_int("trials", trials, 1, MAX_TRIALS)
    seed = check_int("seed", seed, 0)
    how = check_how(backend=backend, workers=workers, out=out, restart=restart,
                    on_trial=on_trial, on_start=on_start, data_options=data_options,
                    metric=metric, pruner=pruner)
    space, settings = normalize(space, settings)
    candidates = random_candidates(space, settings, trials, seed)
    return _search("random", candidates, space, settings, seed, train, dev, how)


def grid_search(space, train, dev, *, points=3, settings=None, seed=0, metric=None,
                pruner=None, backend="serial", workers=None, out=None, restart=False,
                on_trial=None, on_start=None, data_options=None) -> SearchResult:
    """Try every combination of ``points`` values per searched setting, on its own scale.

    A choice contributes its options, a fixed value itself; the other
    parameters are as for :func:`random_search`.
    """
    points, seed = check_int("points", points, 1, MAX_TRIALS), check_int("seed", seed, 0)
    how = check_how(backend=backend, workers=workers, out=out, restart=restart,
                    on_trial=on_trial, on_start=on_start, data_options=data_options,
                    metric=metric, pruner=pruner)
    space, settings = normalize(space, settings)
    candidates = grid_candidates(space, settings, points, seed)
    return _search("grid", candidates, space, settings, seed, train, dev, how, points=points)


def _search(kind, candidates, space, settings, seed, train, dev, how, **extra) -> SearchResult:
    train, dev = check_data(train, "train"), check_data(dev, "dev")
    check_candidates(candidates, *train)
    metric = resolve_metric(how["metric"], candidates, train, dev)
    pruner = how["pruner"]
    if pruner is not None:
        check_prunable(candidates)
        extra["pruner"] = pruner.to_json()
    runner = get_backend(how["backend"], how["workers"])
    journal = open_journal(how["out"], how["restart"], kind=kind, space=space,
                           settings=settings, seed=seed, data=(*train, *dev),
                           data_options=how["data_options"], metric=metric, **extra)
    rows = {} if journal is None else {
        t: row for (_, t), row in recorded_rows(journal, candidates).items()
        if pruner is None or decided(row)}
    best = _BestModel(journal, rows)
    if how["on_start"] is not None:
        how["on_start"]([dict(rows[t]) for t in sorted(rows)], len(candidates))

    def record(row, model):
        with HeldInterrupts():    # Ctrl-C: after the trial is both recorded and reported
            rows[row["trial"]] = row
            if journal is not None:
                journal.record(plain(row), model)
            best.offer(row, model)
            if how["on_trial"] is not None:
                how["on_trial"](dict(row))

    def done(candidate, outcome):
        record(outcome.row, outcome.model)

    if pruner is None:
        tasks = [Task(c, metric=metric) for c in candidates if c.trial not in rows]
    else:                       # decided, and recorded, in trial order
        order = InOrder(pruner, candidates, rows, record, metric)
        tasks, done = order.tasks(), order.done
    if len(rows) < len(candidates):
        try:
            with runner.session(train, dev) as run:
                run(tasks, done)
        except ClusterError as err:
            raise err.resumable(f"{len(rows)} of {len(candidates)} trials", how["out"]) from None
    return SearchResult(list(rows.values()), best.bytes(), kind=kind, settings=settings,
                        metric=metric, own_errors=own_errors(metric, best.bytes(), train, dev),
                        space=space)


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
    params = {c.trial: c.params for c in candidates}
    return {key: row for key, row in journal.finished().items()
            if key[1] in params and row["params"] == params[key[1]]}


def settings_on_record(settings, space) -> dict:
    """The fixed settings as every trial sees them: each value parsed, the defaults filled
    in, so that ``"2"`` and ``2``, or a default given and left out, record the same."""
    recorded = {**defaults(), **{key: parse(key, value) for key, value in settings.items()}}
    if settings.get("nodes") is not None or "nodes" in space:
        recorded["hidden"] = None
    return {k: v for k, v in recorded.items() if k not in space and k != "seed"}


class _BestModel:
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


