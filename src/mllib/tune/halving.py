"""Successive halving over epochs: many candidates for a few epochs, the best for more.

Rung k trains every survivor to its budget of epochs, min_epochs · factor^k
(the last rung: max_epochs). The best 1/factor by dev error, ties to the lower
trial number, go on to the next rung. A survivor continues from its exact
state (weights, optimizer moments, schedule position, Generator), carried as
model-file bytes, never a pickle; since ``fit`` continues bit-exactly, the
winner equals a fresh run of its settings for ``max_epochs``, bit for bit.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .._interrupts import HeldInterrupts
from .._validation import check_int, check_real
from .backends import get_backend
from ..settings.values import MAX_EPOCHS
from .candidates import MAX_TRIALS, check_candidates, normalize, random_candidates
from .dask_backend import ClusterError
from .metrics import resolve_metric
from .result import SearchResult, best_of, own_errors
from .common import check_data, check_how, open_journal, recorded_rows
from .journal import keep
from .trial import Task

MAX_RUNGS = 1_000           # a halving has a handful; each rung trains every survivor


def rung_budgets(min_epochs, max_epochs, factor) -> list:
    """The epochs of each rung: min_epochs · factor^k for k < K, then max_epochs.

    K = ⌊log_factor(max/min)⌋, the number of times factor fits between them,
    but at least 1 when max > min, so that the first rung has min_epochs.
    """
    rungs = math.floor(math.log(max_epochs / min_epochs) / math.log(factor) + 1e-9)
    if rungs > MAX_RUNGS:
        raise ValueError(f"factor={factor!r} gives {rungs:,} rungs from {min_epochs} to "
                         f"{max_epochs} epochs, more than {MAX_RUNGS:,}; use a larger factor")
    if max_epochs > min_epochs:
        rungs = max(rungs, 1)
    budgets = [int(round(min_epochs * factor ** k)) for k in range(rungs)] + [max_epochs]
    # A factor near 1 would round to the same budget twice: a rung that trains nothing.
    return [b for i, b in enumerate(budgets) if i == 0 or b > budgets[i - 1]]


def successive_halving(space, train, dev, *, trials, min_epochs, max_epochs, factor=3,
                       settings=None, seed=0, metric=None, backend="serial", workers=None,
                       out=None, restart=False, on_trial=None, on_start=None,
                       data_options=None) -> SearchResult:
    """Random candidates from ``space``, trained rung by rung, the best 1/factor going on.

    ``result.trials`` holds each trial's row from the last rung it reached
    (with its ``"rung"``), ``result.rungs`` every rung's rows, and
    ``result.best`` is the best of the last rung; the dev errors, by
    ``metric``, decide who goes on. The other parameters are as for
    :func:`mllib.tune.random_search` (``on_start`` gets the rows of every
    rung read back, each with its ``"rung"``; there is no pruner: the rungs
    stop trials); ``epochs`` and ``early_stopping`` cannot be set, since the
    rungs decide the epochs.
    """
    search = opened("halving", "successive halving", space, (train, dev), trials=trials,
                    epochs=(min_epochs, max_epochs, factor), settings=settings, seed=seed,
                    how=dict(backend=backend, workers=workers, out=out, restart=restart,
                             on_trial=on_trial, on_start=on_start,
                             data_options=data_options, metric=metric))
    halving = Rungs(search.journal, search.candidates, on_trial, search.metric)
    if on_start is not None:
        on_start(sorted((dict(row) for row in halving.recorded.values()),
                        key=lambda row: (row["trial"], row["rung"])), len(search.candidates))
    with search.runner.session(search.train, search.dev) as run:
        rungs, states = halving.run(run, search.budgets, search.factor)
        model = halving.best_model(rungs[-1], states, search.budgets)
    return rung_result("halving", search, rungs, model)


class Opened(NamedTuple):
    """A search by rungs, its arguments checked and its folder opened (:func:`opened`)."""

    space: dict
    settings: dict
    train: tuple
    dev: tuple
    candidates: list
    metric: str | None
    budgets: list
    factor: float
    runner: object
    journal: object


def opened(kind, name, space, data, *, trials, epochs, settings, seed, how) -> Opened:
    """The search by rungs ``name`` of ``kind`` (its manifest's): ``trials`` random
    candidates from ``space``, ``epochs`` ``(min_epochs, max_epochs, factor)``, and ``how``
    (:func:`.common.check_how`'s arguments), each checked before anything is written; then
    its back-end and journal (None without ``out``)."""
    trials = check_int("trials", trials, 1, MAX_TRIALS)
    seed = check_int("seed", seed, 0)
    min_epochs, max_epochs, factor = checked_epochs(*epochs)
    budgets = rung_budgets(min_epochs, max_epochs, factor)
    how = check_how(**how)
    space, settings, train, dev, candidates, metric = prepared(
        name, space, settings, data, trials, seed, how["metric"])
    runner = get_backend(how["backend"], how["workers"])
    journal = open_journal(how["out"], how["restart"], kind=kind, space=space,
                           settings=settings, seed=seed, data=(*train, *dev),
                           data_options=how["data_options"], metric=metric, budgets=budgets,
                           factor=factor)
    return Opened(space, settings, train, dev, candidates, metric, budgets, factor, runner,
                  journal)


def rung_result(kind, search, rungs, model) -> SearchResult:
    """The :class:`SearchResult` of a search by rungs (``search`` an :class:`Opened`, or
    anything with its ``space``, ``settings``, ``train``, ``dev`` and ``metric``): each
    trial's row of the last rung it reached, every rung's rows, and ``model``, the best's."""
    final = {row["trial"]: row for rung in rungs for row in rung}
    return SearchResult(list(final.values()), model, kind=kind, rungs=rungs,
                        settings=search.settings, metric=search.metric, space=search.space,
                        own_errors=own_errors(search.metric, model, search.train, search.dev))


def checked_epochs(min_epochs, max_epochs, factor) -> tuple:
    """``(min_epochs, max_epochs, factor)`` of a search by rungs, checked."""
    min_epochs = check_int("min_epochs", min_epochs, 1, MAX_EPOCHS)
    max_epochs = check_int("max_epochs", max_epochs, min_epochs, MAX_EPOCHS)
    return min_epochs, max_epochs, check_real("factor", factor, 1.0, low_open=True)


def prepared(name, space, settings, data, trials, seed, metric) -> tuple:
    """``(space, settings, train, dev, candidates, metric)`` of the search by rungs
    ``name`` ("successive halving", "Hyperband"), checked: the rungs set the epochs, so
    neither ``epochs`` nor ``early_stopping`` may be set."""
    space, settings = normalize(space, settings)
    for key in ("epochs", "early_stopping"):
        if key in space or key in settings:
            raise ValueError(f"{key} cannot be set in {name}: the rungs give every trial its "
                             "epochs (min_epochs ... max_epochs)")
    train, dev = check_data(data[0], "train"), check_data(data[1], "dev")
    candidates = random_candidates(space, settings, trials, seed)
    check_candidates(candidates, *train)
    return space, settings, train, dev, candidates, resolve_metric(metric, candidates, train,
                                                                   dev)


class Rungs:
    """Runs the rungs, reading back from the journal what a stopped run finished."""

    def __init__(self, journal, candidates, on_trial, metric):
        self.journal, self.candidates, self.on_trial = journal, candidates, on_trial
        self.metric = metric
        self.recorded = {} if journal is None else recorded_rows(journal, candidates)
        self.run_tasks = None

    def run(self, run_tasks, budgets, factor):
        """Every rung, its tasks run by ``run_tasks`` (a back-end session's ``run``)."""
        self.run_tasks = run_tasks
        rungs, states, survivors = [], {}, list(self.candidates)
        for k, budget in enumerate(budgets):
            rows = self._rung(k, budget, survivors, states)
            rungs.append(rows)
            ok = sorted((r for r in rows if r["status"] == "ok"),
                        key=lambda r: (r["dev_error"], r["trial"]))
            keep = {r["trial"] for r in ok[:max(1, math.ceil(len(survivors) / factor))]}
            survivors = [c for c in survivors if c.trial in keep]
            states = {t: s for t, s in states.items() if t in keep}
            if not survivors:
                break
        return rungs, states

    def best_model(self, last, states, budgets):
        """The model of the best row of ``last``, the last rung's rows; a recorded one
        that cannot be read back is trained again, and its row replaced in ``last``."""
        while (best := best_of(last)) is not None:
            trial, k = best["trial"], best["rung"]
            model = states.get(trial)
            if model is None and (k, trial) in self.recorded:
                model = self.journal.model(trial, k)
                del self.recorded[k, trial]     # read once: trained again if it cannot be
            if model is not None:
                return model
            (candidate,) = [c for c in self.candidates if c.trial == trial]
            (row,) = self._rung(k, budgets[k], [candidate], states)
            last[last.index(best)] = row
        return None

    def _rung(self, k, budget, survivors, states) -> list:
        rows, tasks = {}, []
        for c in survivors:
            if (k, c.trial) in self.recorded:
                rows[c.trial] = self.recorded[k, c.trial]
                continue
            state = states.get(c.trial)
            if state is None and k > 0:
                # None if it cannot be read back: trained from scratch to this rung's
                # budget instead, which gives the same bits as continuing would.
                state = self.journal.model(c.trial, k - 1)
            tasks.append(Task(c, budget, state, self.metric))

        def done(candidate, outcome):
            row = {**outcome.row, "rung": k}
            with HeldInterrupts():    # Ctrl-C: after the trial is both recorded and reported
                rows[candidate.trial] = row
                if outcome.model is not None:
                    states[candidate.trial] = outcome.model
                keep(self.journal, row, outcome.model, self.on_trial)

        if tasks:
            try:
                self.run_tasks(tasks, done)
            except ClusterError as err:
                out = None if self.journal is None else self.journal.folder
                raise err.resumable(f"{len(rows)} of {len(survivors)} trials of rung {k}",
                                    out) from None
        return [rows[c.trial] for c in survivors]
