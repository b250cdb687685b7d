"""Candidates asked of a model-based sampler (Optuna's TPE, or any Optuna sampler), in trial order.

``random_search(..., sampler="tpe", batch=4)`` does not draw its candidates up
front: it asks an in-memory Optuna study for ``batch`` of them, runs them on
the back-end, and only once every result of the batch is in does it tell
them to the study, in trial order (a failed trial as ``TrialState.FAIL``),
before it asks for the next batch. A trial's result is a pure function of its
settings, seed and data (:mod:`.trial`), and the study hears the results in
the same order whichever trial finished first, so trial i's values depend on
the search's seed, ``batch`` and the results of the batches before its own:
the table is the same on every back-end, and a search with ``trials=n`` tries
the first n candidates of the same search with more trials. Trial i's own
seed is still :func:`.candidates.trial_seed` of the search's seed and i; the
sampler's seed, for ``"tpe"``, is drawn from ``(seed, MAX_TRIALS, 0)``, a number
no trial has, apart from every stream ``(seed, i, ...)`` of trial i.

``"tpe"`` is Optuna's TPESampler with its defaults of Optuna 5 (10 random start-up
trials, multivariate, and the constant liar: the trials of the batch asked so far
count as bad ones, so that a batch spreads out); an Optuna sampler given instead
is copied, so the same instance gives the same table again, and its seed is the
user's. Optuna's INFO lines are silenced while it is asked and told.

With a pruner, each batch's trials are decided in trial order against the
curves of every trial before them, in the batch and the ones before
(:class:`.ordered.InOrder`, sharing one :class:`.pruning.Curves`), and each is told
its curve as intermediate values, and whether it was pruned, as Optuna's own
pruners tell a study. With repeats, the stage (:mod:`.repeats`) runs once every
trial is in, in the same back-end session.

With ``out=DIR`` each trial is recorded as it finishes (:mod:`.journal`). A
resumed search asks again from the start: trial i's recorded row is used if its
values are those asked again (they are, since the study hears the same results in
the same order), else the trial runs again, and batch by batch only the missing
trials run. The folder records the sampler (``"tpe"``, or the class name) and
``batch``; a resume with others is refused.

The candidates are not known before the search starts, so stand-ins (every
searched key at its first grid point, with the fixed settings) are checked
instead (:func:`.candidates.check_candidates`): fixed settings that no candidate
could train with are refused before anything is written. A candidate that fails
its own check later becomes a failed row (``"settings refused: ..."``), told to
the study as failed, and the search goes on. Optuna is imported only when a model-based sampler is
asked for (``pip install "mllib[tune]"``); :mod:`.asker` maps the space onto
Optuna's distributions.
"""

from __future__ import annotations

import contextlib
from typing import Callable, NamedTuple

from .._validation import check_int
from .asker import Asker, is_optuna_sampler, optuna_module
from .backends import get_backend
from .candidates import MAX_TRIALS, _candidate, check_candidates
from .common import (BestModel, check_data, final_model, matching, open_journal, recorder,
                     search_options)
from .dask_backend import ClusterError
from .journal import one_line
from .metrics import resolve_metric
from .ordered import InOrder, decided
from .pruning import Curves
from .repeats import RepeatStage
from .result import SearchResult, best_of
from .trial import failed_row


def check_sampler(sampler, batch):
    """``(sampler, batch)`` checked, before anything runs: the sampler None for
    ``"random"`` (candidates drawn up front), else ``"tpe"`` or the Optuna sampler given.
    ValueError naming the argument and value; ImportError naming the extra when Optuna is
    needed and not installed."""
    batch = check_int("batch", batch, 1, MAX_TRIALS)
    if isinstance(sampler, str) and sampler == "random":
        return None, batch
    if not ((isinstance(sampler, str) and sampler == "tpe") or is_optuna_sampler(sampler)):
        raise ValueError(f"sampler must be 'random', 'tpe' or an Optuna sampler (an instance "
                         f"of optuna.samplers.BaseSampler), got {sampler!r}")
    optuna_module()
    return sampler, batch


def probes(space, settings) -> list:
    """Stand-in candidates of the search, one per possible ``output`` (its options, when it
    is searched), every other searched key at its first grid point, with the fixed
    settings: checked before anything runs, as a random search checks its candidates
    (:func:`.candidates.check_candidates`), they refuse fixed settings that no candidate
    could train with, and tell a classifier from a regressor for the metric and the
    folds, since the candidates themselves are not known up front."""
    first = {key: s.grid(1)[0] for key, s in space.items()}
    outputs = space["output"].grid() if "output" in space else [first.get("output")]
    return [_candidate(0, {**first, **({} if o is None else {"output": o})}, space, settings, 0)
            for o in outputs]


class Hooks(NamedTuple):
    """What :func:`run_in_batches` needs of the search around it.

    ``read_back(candidates)``: ``{trial: row}`` of those recorded in the search's folder
    with the same values. ``record(row, model)``: keep, record and report a finished trial
    (setting ``rows[trial]``). ``plan(candidates, recorded)``: ``(tasks, done)`` of a
    batch whose ``recorded`` rows (``{trial: row}``) are in (:class:`Plan`).
    ``session()``: the back-end's session (a context manager that gives ``run(tasks,
    done)``), opened when a trial is first to run. ``on_start``: None, or called once as
    ``on_start(rows read back, trials)`` before the first trial runs (at the end if none
    does). ``report``: None, or called with each row read back after ``on_start``.
    ``stage``: the search's :class:`.repeats.RepeatStage`, run once every trial is in.
    """

    read_back: Callable
    record: Callable
    plan: Callable
    session: Callable
    on_start: Callable | None
    report: Callable | None
    stage: object


class Plan:
    """The tasks of a batch and the ``done`` that takes their outcomes: each missing trial
    recorded as it ends; or, with a pruner, decided in trial order against the curves of
    every trial before it, in this batch and the earlier ones (:class:`.ordered.InOrder`)."""

    def __init__(self, task_of, record, pruner, metric):
        self.task_of, self.record, self.pruner, self.metric = task_of, record, pruner, metric
        self.curves = None if pruner is None else Curves(pruner)

    def __call__(self, candidates, recorded):
        if self.pruner is not None:
            order = InOrder(self.pruner, candidates, recorded, self.record, self.metric,
                            curves=self.curves)
            return order.tasks(), order.done
        return ([self.task_of(c) for c in candidates if c.trial not in recorded],
                lambda candidate, outcome: self.record(outcome.row, outcome.model))


def run_in_batches(asker, trials, batch, train, rows, hooks) -> None:
    """Ask ``batch`` candidates at a time of ``asker``, read back or run them, and tell
    their rows in trial order once all are in, until ``trials`` are; ``rows`` gets
    ``{trial: row}``; then the repeats. ``train`` is ``(X, y)``, which each candidate is
    checked against.

    Rows read back after the first trial ran (past a trial that had to run again) are
    given to ``report``, since ``on_start`` has been called by then.
    """
    started, run = False, None
    with contextlib.ExitStack() as stack:
        for first in range(0, trials, batch):
            candidates = [asker.ask(t) for t in range(first, min(first + batch, trials))]
            read = hooks.read_back(candidates)
            rows.update(read)
            if started and hooks.report is not None:     # past on_start: reported as they come
                for t in sorted(read):
                    hooks.report(dict(read[t]))
            missing = [c for c in candidates if c.trial not in rows]
            if missing and not started:
                started = _start(hooks, rows, trials)
            for c in missing:
                try:
                    check_candidates([c], *train)
                except ValueError as err:
                    hooks.record(failed_row(c, f"settings refused: {one_line(err)}"), None)
            tasks, done = hooks.plan(candidates, {c.trial: rows[c.trial] for c in candidates
                                                  if c.trial in rows})
            if any(c.trial not in rows for c in candidates):
                run = run or stack.enter_context(hooks.session())
                run(tasks, done)
            asker.tell([rows[c.trial] for c in candidates])
        if not started:
            started = _start(hooks, rows, trials)
        if hooks.stage.missing(rows):       # the repeats, in the same session
            run = run or stack.enter_context(hooks.session())
            hooks.stage.run(run, rows)


def _start(hooks, rows, trials) -> bool:
    if hooks.on_start is not None:
        hooks.on_start([dict(rows[t]) for t in sorted(rows)], trials)
    return True


def sampled_search(space, settings, seed, train, dev, how, *, trials, sampler,
                   batch) -> SearchResult:
    """:func:`~mllib.tune.random_search` with a model-based sampler: candidates asked
    ``batch`` at a time, each read back from ``out`` or run, and told in trial order (see
    the module notes). The back-end's session opens when a trial is first to run: not for
    a search all read back. ``how`` is :func:`.common.check_how`'s."""
    train, dev = check_data(train, "train"), check_data(dev, "dev")
    metric, task_of, folds, extra = _checked(space, settings, seed, train, dev, how)
    asker = Asker(sampler, space, settings, seed)
    runner = get_backend(how["backend"], how["workers"])
    journal = open_journal(how["out"], how["restart"], kind="random", space=space,
                           settings=settings, seed=seed, data=(*train, *dev),
                           data_options=how["data_options"], metric=metric,
                           sampler=asker.name, batch=batch,
                           optuna_version=asker.optuna.__version__, **extra)
    rows, finished = {}, {} if journal is None else journal.finished()
    if how["pruner"] is not None:       # only decided trials count as recorded
        finished = {key: row for key, row in finished.items() if decided(row)}
    best = BestModel(journal, {})
    stage = RepeatStage(how.get("repeats"), asker.asked, seed, journal, task_of,
                        how["on_trial"], lambda: runner.session(train, dev))
    record = recorder(rows, journal, (best, stage), how["on_trial"])
    hooks = Hooks(lambda candidates: _read_back(journal, finished, best, candidates), record,
                  Plan(task_of, record, how["pruner"], metric),
                  lambda: runner.session(train, dev), how["on_start"], how["on_trial"], stage)
    try:
        run_in_batches(asker, trials, batch, train, rows, hooks)
    except ClusterError as err:
        raise err.resumable(stage.progress(len(rows), trials), how["out"]) from None
    table, model, chosen = stage.result(rows, best)
    model, errors = final_model(model, chosen.get("best") or best_of(table),
                                list(asker.asked.values()), (train, dev), metric, folds)
    return SearchResult(table, model, kind="random", settings=settings, metric=metric,
                        own_errors=errors, space=space, **chosen)


def _checked(space, settings, seed, train, dev, how) -> tuple:
    """``(metric, task_of, folds, extra)`` of a sampled search, checked on stand-in
    candidates (:func:`probes`) before anything is written (:func:`.common.search_options`);
    ``extra`` for its manifest."""
    stand_ins = probes(space, settings)
    check_candidates(stand_ins, *train)
    metric = resolve_metric(how["metric"], stand_ins, train, dev)
    if (how.get("cv") is not None or how["pruner"] is not None) and "early_stopping" in space:
        raise ValueError("early_stopping is searched, which cannot be combined with "
                         f"{'a pruner' if how['pruner'] is not None else 'cv'}: it would stop "
                         "trials on the rows that score them")
    extra = {}
    task_of, folds = search_options(stand_ins, (train, dev), seed, metric, how, extra)
    return metric, task_of, folds, extra


def _read_back(journal, finished, best, candidates) -> dict:
    """``{trial: row}`` of the ``candidates`` that ``finished`` (the journal's rows) holds with
    their values; one better than ``best``'s is offered to it with its model, read back as
    :class:`BestModel` reads it: one whose model cannot be read is left out, to run again."""
    if journal is None:
        return {}
    found = {t: row for (_, t), row in matching(finished, candidates).items()}
    contenders = {t: row for t, row in found.items()
                  if best_of([r for r in (best.row, row) if r is not None]) is row}
    offered, better = set(contenders), BestModel(journal, contenders)
    for t in offered - set(contenders):
        del found[t]
    if better.row is not None:
        best.offer(better.row, better.model)
    return found
