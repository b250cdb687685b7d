"""Asynchronous successive halving: promotions as soon as a rung can tell, in trial order.

Successive halving (:mod:`.halving`) waits at every rung until all its trials
are in, so a worker idles while the last trial of a rung runs. The
asynchronous variant (ASHA, Li et al., 2020) promotes a trial to the next rung
as soon as it is among the best 1/factor of the trials finished at its rung,
and a free worker takes a promoted trial, or else starts a new one.

**Promotions in trial order.** With the rung budgets B_0 < ... < B_K of
:func:`~mllib.tune.halving.rung_budgets`, rung k has an entry order: rung 0
the candidates in trial order, rung k + 1 the trials in the order rung k
promoted them. Let j be the length of the longest prefix of rung k's entries
whose results are all in. While rung k is open, it has promoted

    p(j) = ⌊j / factor⌋ trials,

each time the best ok trial of the prefix not yet promoted (ties to the lower
trial), which is then among the best 1/factor of the prefix. Rung k closes
when rung k − 1 has closed and every result of rung k is in; it then promotes
up to max(1, ⌈n_k / factor⌉) of its n_k trials in all, as
:func:`~mllib.tune.halving.successive_halving` keeps. So each rung trains as
many trials as successive halving's: the two spend the same epochs, and
differ only in which trials they promote, this one sometimes on less
evidence.

Every decision is a function of the results of the prefixes, and each result
of its candidate, budget and state: not of when or where anything ran. So
the table is the same on every back-end and in any order of completion, and
a search killed at any moment resumes, from the rows in ``out``, to the table
of one never stopped.

**What the trial order costs.** A fully asynchronous promotion judges a
result against whatever has finished; here a result waits to be judged
until every trial that entered its rung before it is in. A slow trial thus
delays the promotions behind it. Workers do not wait for it while there are
new trials to start; they do at the end of the search, when the only work
left is behind a straggler, which is also where successive halving waits.
``bench/searches.py`` measures the workers' utilisation against it.
"""

from __future__ import annotations

import heapq
import math

from .common import recorded_rows
from .dask_backend import ClusterError
from .halving import opened, rung_result
from .result import SearchResult, best_of
from .journal import keep
from .trial import Task


def async_halving(space, train, dev, *, trials, min_epochs, max_epochs, factor=3,
                  settings=None, seed=0, metric=None, backend="serial", workers=None,
                  out=None, restart=False, on_trial=None, on_start=None,
                  data_options=None) -> SearchResult:
    """Random candidates from ``space``, each promoted up the rungs of
    :func:`~mllib.tune.halving.successive_halving` as soon as it is among the best
    1/``factor`` of the trials before it at its rung (see the module notes).

    The parameters and the result are those of :func:`successive_halving`;
    ``result.rungs[k]`` holds rung k's rows in the order they entered it.
    """
    search = opened("async_halving", "asynchronous halving", space, (train, dev),
                    trials=trials, epochs=(min_epochs, max_epochs, factor), settings=settings,
                    seed=seed, how=dict(backend=backend, workers=workers, out=out,
                                        restart=restart, on_trial=on_trial, on_start=on_start,
                                        data_options=data_options, metric=metric))
    journal, candidates = search.journal, search.candidates
    recorded = {} if journal is None else recorded_rows(journal, candidates)
    if on_start is not None:
        on_start(sorted((dict(row) for row in recorded.values()),
                        key=lambda row: (row["trial"], row["rung"])), len(candidates))
    ladder = Ladder(candidates, search.budgets, search.factor, search.metric,
                    Keeper(journal, recorded, on_trial))
    try:
        with search.runner.session(search.train, search.dev) as run:
            run(ladder, ladder.done)
            model = ladder.best_model(run)
    except ClusterError as err:
        raise err.resumable(f"{ladder.finished} trials at their rungs", out) from None
    return rung_result("async_halving", search, ladder.rungs(), model)


class Keeper:
    """Where a rung's result goes: the journal (with its model) and ``on_trial``; and what
    a stopped search left there."""

    def __init__(self, journal, recorded, on_trial):
        self.journal, self.recorded, self.on_trial = journal, recorded, on_trial

    def keep(self, row, model):
        keep(self.journal, row, model, self.on_trial)

    def model(self, trial, k):
        """The recorded state of ``trial`` at rung ``k``, or None (it is trained again)."""
        return None if self.journal is None else self.journal.model(trial, k)


class Rung:
    """One rung's entries, in the order they entered it, and what it has decided: the
    prefix of entries whose results are all in, and a heap of that prefix's ok trials not
    promoted yet, by (dev error, trial), so that the next to promote is its top."""

    def __init__(self, budget):
        self.budget, self.entries, self.results = budget, [], {}
        self.prefix, self.promoted, self.closed = 0, [], False
        self._ranked = []

    def extend_prefix(self) -> bool:
        """Take the next entry into the prefix if its result is in; whether it was."""
        if self.prefix == len(self.entries) or self.entries[self.prefix] not in self.results:
            return False
        row = self.results[self.entries[self.prefix]]
        self.prefix += 1
        if row["status"] == "ok" and not row.get("pruned"):     # as best_of ranks rows
            heapq.heappush(self._ranked, (row["dev_error"], row["trial"]))
        return True

    def promote_best(self):
        """The trial of the prefix with the lowest dev error (ties: the lower trial) not
        promoted yet, now promoted; None if there is none."""
        if not self._ranked:
            return None
        _, trial = heapq.heappop(self._ranked)
        self.promoted.append(trial)
        return trial


class Ladder:
    """The rungs of one asynchronous halving: an iterator of the tasks ready to run
    (a back-end's ``tasks``), and the ``done`` that decides what the results allow.

    The iterator may run dry while trials run and give more after their ``done``
    (:mod:`.backends` takes a task only when a worker is free, after the ``done``
    of those finished before); it has run dry for good when every rung has closed.
    """

    def __init__(self, candidates, budgets, factor, metric, keeper):
        self.candidates = {c.trial: c for c in candidates}
        self.factor, self.metric, self.keeper = factor, metric, keeper
        self.ladder = [Rung(b) for b in budgets]
        self.states = {}            # (rung, trial) -> model bytes the next rung continues
        self.waiting = []           # promoted (rung, trial) not started yet
        self.running = {}           # trial -> the rung it runs at
        self.fresh = iter([c.trial for c in candidates])
        self.finished = 0
        self.ladder[0].entries = [c.trial for c in candidates]
        for trial in self.ladder[0].entries:
            if (0, trial) in keeper.recorded:
                self._result(0, trial, keeper.recorded[0, trial], None)
        self._advance()

    def __iter__(self):
        return self

    def __next__(self) -> Task:
        """The next task: a promoted trial, highest rung first, else a new trial."""
        if self.waiting:
            self.waiting.sort(key=lambda entry: -entry[0])
            k, trial = self.waiting.pop(0)
            state = self.states.pop((k - 1, trial), None)
            if state is None:       # not read back: trained from scratch, the same bits
                state = self.keeper.model(trial, k - 1)
            self.running[trial] = k
            return Task(self.candidates[trial], self.ladder[k].budget, state, self.metric)
        for trial in self.fresh:
            if (0, trial) not in self.keeper.recorded:
                self.running[trial] = 0
                return Task(self.candidates[trial], self.ladder[0].budget, None, self.metric)
        raise StopIteration

    def done(self, candidate, outcome) -> None:
        """A back-end's ``done``: record the result, then decide all it allows."""
        k = self.running.pop(candidate.trial)
        row = {**outcome.row, "rung": k}
        self.keeper.keep(row, outcome.model)
        self._result(k, candidate.trial, row, outcome.model)
        self._advance()

    def _result(self, k, trial, row, model):
        self.ladder[k].results[trial] = row
        self.finished += 1
        if model is not None:       # dropped when the rung closes without promoting it
            self.states[k, trial] = model

    def _advance(self):
        """Promote what every rung allows, one more result of its prefix at a time (its
        promotions are those of the prefix, whatever arrives at once), and close the
        rungs that are done, until nothing changes (a recorded result can decide the
        next at once)."""
        changed = True
        while changed:
            changed = False
            for k, rung in enumerate(self.ladder):
                while rung.extend_prefix():
                    changed |= self._promote(k, rung)
                if not rung.closed and rung.prefix == len(rung.entries) and (
                        k == 0 or self.ladder[k - 1].closed):
                    rung.closed = changed = True
                    self._promote(k, rung)
                    self._forget(k, rung)

    def _promote(self, k, rung) -> bool:
        """Promote rung k's best not yet promoted while its count allows; whether any was."""
        if k + 1 == len(self.ladder):
            return False
        n = len(rung.entries)
        allowed = (max(1, math.ceil(n / self.factor)) if rung.closed
                   else math.floor(rung.prefix / self.factor + 1e-9))
        promoted = False
        while len(rung.promoted) < allowed and (trial := rung.promote_best()) is not None:
            self.ladder[k + 1].entries.append(trial)
            if (k + 1, trial) in self.keeper.recorded:
                self._result(k + 1, trial, self.keeper.recorded[k + 1, trial], None)
            else:
                self.waiting.append((k + 1, trial))
            promoted = True
        return promoted

    def _forget(self, k, rung):
        """Rung k has closed: the states of its trials that were not promoted go (the last
        rung's stay, for the best model)."""
        if k + 1 < len(self.ladder):
            kept = set(rung.promoted)
            for trial in rung.entries:
                if trial not in kept:
                    self.states.pop((k, trial), None)

    def rungs(self) -> list:
        """Every rung's rows, in the order they entered it, up to the last rung any trial
        reached (after a rung whose every trial failed, none goes on), as successive
        halving gives them."""
        if not all(rung.closed for rung in self.ladder):
            raise RuntimeError("the back-end stopped before every rung closed")
        rungs = [[rung.results[t] for t in rung.entries] for rung in self.ladder]
        while len(rungs) > 1 and not rungs[-1]:
            rungs.pop()
        return rungs

    def best_model(self, run):
        """The model of the best row of the last rung; one read back that cannot be is
        trained again with ``run`` (a back-end session's), its row replaced."""
        last = self.ladder[-1]
        while (best := best_of(last.results.values())) is not None:
            model = self.states.get((len(self.ladder) - 1, best["trial"]))
            model = model or self.keeper.model(best["trial"], len(self.ladder) - 1)
            if model is not None:
                return model
            trial = best["trial"]
            self.keeper.recorded.pop((len(self.ladder) - 1, trial), None)
            task = Task(self.candidates[trial], last.budget, None, self.metric)
            run([task], lambda candidate, outcome: self._retrained(candidate, outcome))
        return None

    def _retrained(self, candidate, outcome):
        row = {**outcome.row, "rung": len(self.ladder) - 1}
        self.keeper.keep(row, outcome.model)
        self.ladder[-1].results[candidate.trial] = row
        self.states[len(self.ladder) - 1, candidate.trial] = outcome.model
