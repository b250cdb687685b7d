"""Random and grid search over settings (notes §5 and §8), on any back-end, resumable.

Every candidate is drawn before anything runs (:mod:`.candidates`) and
checked by building its network and optimizer, so bad settings are refused
up front with the key and value named (but for a model-based sampler, which asks
for candidates as results come in: :mod:`.sampling`). Trials are pure functions of their
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

from .._validation import check_int
from .backends import get_backend
from .candidates import MAX_TRIALS, check_candidates, grid_candidates, normalize, random_candidates
from .common import (BestModel, check_data, check_how, final_model, open_journal,
                     recorded_rows, recorder, search_options)
from .folds import check_cv
from .dask_backend import ClusterError
from .metrics import resolve_metric
from .ordered import InOrder, decided
from .repeats import RepeatStage, as_repeats
from .result import SearchResult, best_of
from .sampling import check_sampler, sampled_search
from .spaces import loguniform  # noqa: F401 - used by the module's example
from .trial import Task


def random_search(space, train, dev, *, trials, settings=None, seed=0, metric=None,
                  pruner=None, backend="serial", workers=None, out=None, restart=False,
                  on_trial=None, on_start=None, data_options=None,
                  repeats=None, cv=None, sampler="random", batch=4) -> SearchResult:
    """Try ``trials`` candidates drawn at random from ``space`` (notes §8), or asked of a
    model-based sampler that learns from the trials before (``sampler="tpe"``).

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
        not for the rows read back from ``out`` (but with a model-based sampler, for
        those read back after ``on_start``: past a trial that had to run again, the
        next rows can only be matched once it is in).
    on_start : callable, optional
        Called once in this process before any trial runs, as ``on_start(rows,
        total)``: the rows read back from ``out`` (empty for a new search), in
        trial order, and the number of trials of the search.
    data_options : dict, optional
        How ``train`` and ``dev`` were made from their source (such as the
        command line's ``--drop`` and ``--missing``), as JSON data. ``out``
        records them, and a resumed search with other options is refused,
        naming them, as it is for other data or settings.
    repeats : int or Repeats, optional
        Once every trial is in, train the ``top`` best ok trials (default 5; not the
        pruned ones) again with ``repeats − 1`` other seeds each, the trial being the
        first, and choose the candidate with the lowest mean dev error
        (:mod:`mllib.tune.repeats`): ``result.best`` gets the mean, sd and 95 %
        interval, ``result.best_model`` is its trial's model, ``result.repeats``
        holds the repeats' rows, and ``on_trial`` sees each with its ``"repeat"``.
        ``out`` records it; a resume with other repeats is refused.
    cv : int, optional
        Score each candidate by ``cv``-fold cross-validation of the rows of ``train``
        and ``dev`` together instead of ``dev`` alone (:mod:`mllib.tune.folds`): folds
        stratified by class for classifiers, fixed by ``seed``, the same for every
        trial. A trial trains ``cv`` networks; its ``dev_error`` is the mean of their
        held-out errors, ``fold_errors`` lists them and ``fold_sd`` is their standard
        deviation. ``result.best_model`` is the chosen candidate trained again on every
        row of ``train`` and ``dev`` (scikit-learn's ``refit``). Not with ``pruner`` or
        ``early_stopping``, which would watch the fold that scores the trial.
    sampler : "random", "tpe" or an Optuna sampler
        "random": every candidate drawn up front, as above. "tpe": Optuna's TPESampler,
        seeded from ``seed``, asked for ``batch`` candidates at a time, each batch told the
        results of the ones before in trial order, so that the table is still the same on
        every back-end (:mod:`mllib.tune.sampling`). Or an ``optuna.samplers.BaseSampler``
        instance (a CmaEsSampler, say): its seed is then yours; it is copied, so the same
        instance gives the same table again. Needs ``pip install "mllib[tune]"``. With a
        pruner, each trial is told its curve and whether it was pruned. The fixed
        settings are checked up front on stand-in candidates; a candidate that fails its
        own check is a failed row. ``out`` records the sampler ("tpe", or the class
        name) and ``batch``: a resume with others is refused.
    batch : int
        Candidates asked at a time of a model-based sampler: the most trials that run at
        once (give at least ``workers``); the fewer, the more results each ask learns from.
    """
    trials = check_int("trials", trials, 1, MAX_TRIALS)
    seed = check_int("seed", seed, 0)
    how = check_how(backend=backend, workers=workers, out=out, restart=restart,
                    on_trial=on_trial, on_start=on_start, data_options=data_options,
                    metric=metric, pruner=pruner, repeats=as_repeats(repeats),
                    cv=check_cv(cv))
    sampler, batch = check_sampler(sampler, batch)
    space, settings = normalize(space, settings)
    if sampler is not None:
        return sampled_search(space, settings, seed, train, dev, how, trials=trials,
                              sampler=sampler, batch=batch)
    candidates = random_candidates(space, settings, trials, seed)
    return _search("random", candidates, space, settings, seed, train, dev, how)


def grid_search(space, train, dev, *, points=3, settings=None, seed=0, metric=None,
                pruner=None, backend="serial", workers=None, out=None, restart=False,
                on_trial=None, on_start=None, data_options=None,
                repeats=None, cv=None) -> SearchResult:
    """Try every combination of ``points`` values per searched setting, on its own scale.

    A choice contributes its options, a fixed value itself; the other
    parameters, ``repeats`` and ``cv`` among them, are as for :func:`random_search`.
    """
    points, seed = check_int("points", points, 1, MAX_TRIALS), check_int("seed", seed, 0)
    how = check_how(backend=backend, workers=workers, out=out, restart=restart,
                    on_trial=on_trial, on_start=on_start, data_options=data_options,
                    metric=metric, pruner=pruner, repeats=as_repeats(repeats),
                    cv=check_cv(cv))
    space, settings = normalize(space, settings)
    candidates = grid_candidates(space, settings, points, seed)
    return _search("grid", candidates, space, settings, seed, train, dev, how, points=points)


def _search(kind, candidates, space, settings, seed, train, dev, how, **extra) -> SearchResult:
    train, dev = check_data(train, "train"), check_data(dev, "dev")
    check_candidates(candidates, *train)
    metric = resolve_metric(how["metric"], candidates, train, dev)
    task_of, folds = search_options(candidates, (train, dev), seed, metric, how, extra)
    pruner, runner = how["pruner"], get_backend(how["backend"], how["workers"])
    journal = open_journal(how["out"], how["restart"], kind=kind, space=space,
                           settings=settings, seed=seed, data=(*train, *dev),
                           data_options=how["data_options"], metric=metric, **extra)
    rows = {} if journal is None else {
        t: row for (_, t), row in recorded_rows(journal, candidates).items()
        if pruner is None or decided(row)}
    best = BestModel(journal, rows)
    stage = RepeatStage(how.get("repeats"), {c.trial: c for c in candidates}, seed, journal,
                        task_of, how["on_trial"], lambda: runner.session(train, dev))
    if how["on_start"] is not None:
        how["on_start"]([dict(rows[t]) for t in sorted(rows)], len(candidates))
    record = recorder(rows, journal, (best, stage), how["on_trial"])
    if pruner is None:
        tasks = [task_of(c) for c in candidates if c.trial not in rows]

        def done(candidate, outcome):
            record(outcome.row, outcome.model)
    else:                       # decided, and recorded, in trial order
        order = InOrder(pruner, candidates, rows, record, metric)
        tasks, done = order.tasks(), order.done
    todo = len(rows) < len(candidates)
    if todo or stage.missing(rows):
        try:
            with runner.session(train, dev) as run:     # the repeats after every trial
                if todo:
                    run(tasks, done)
                stage.run(run, rows)
        except ClusterError as err:
            raise err.resumable(stage.progress(len(rows), len(candidates)), how["out"]) from None
    trials, model, chosen = stage.result(rows, best)
    model, errors = final_model(model, chosen.get("best") or best_of(trials), candidates,
                                (train, dev), metric, folds)
    return SearchResult(trials, model, kind=kind, settings=settings, metric=metric,
                        own_errors=errors, space=space, **chosen)


