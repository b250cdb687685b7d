"""A pruned search's trials, started as workers come free and decided in trial order.

:class:`InOrder` gives a back-end its tasks from a generator, so that each
trial is given, when it starts, the :class:`.pruning.Watch` of what is known
then (the curves of the trials decided so far, and how many before it are
not). Its outcomes come back in any order; it decides each trial once every
earlier one is decided, by the exact rule (:meth:`.pruning.Curves.pruning_epoch`),
and only then records it: the journal of a pruned search holds decided
trials only, in trial order, so that a search killed at any moment resumes
to the table of one never stopped (a trial finished but not yet decided runs
again, to the same bits).

A recorded trial is read back with its curve, which the trials after it are
judged against; one whose row has no curve (a row of a search before
pruning, or damaged) runs again.
"""

from __future__ import annotations

from ..settings import resolve
from .pruning import Curves, Standing
from .trial import Task


class InOrder:
    """The tasks of a pruned search and the ``done`` that decides them.

    Parameters
    ----------
    pruner : MedianPruner
    candidates : list of Candidate
        In trial order.
    recorded : dict
        ``{trial: row}`` read back from the search's folder.
    record : callable
        ``record(row, model)``, called in trial order with each decided trial.
    metric : str or None
        The name of the metric of every task.
    curves : Curves, optional
        The curves of the trials decided before ``candidates`` (a model-based sampler's
        earlier batches), which this adds its own to; default: none.
    """

    def __init__(self, pruner, candidates, recorded, record, metric, curves=None):
        self.curves = Curves(pruner) if curves is None else curves
        self.candidates = candidates
        self.recorded = {t: row for t, row in recorded.items() if decided(row)}
        self.record, self.metric = record, metric
        self.budgets = {c.trial: resolve(c.settings)["epochs"] for c in candidates}
        self.finished, self.decided = {}, 0
        self._advance()

    def tasks(self):
        """The trials to run, in trial order, each with its watch as it starts: what the
        trials before it that are not decided yet say (:class:`.pruning.Standing`) when
        they have finished, and the number of those still running."""
        for position, c in enumerate(self.candidates):
            if c.trial in self.recorded:
                continue
            # Trials read back past a gap (a trial that runs again) count as running.
            before = [self.finished.get(t.trial) for t in self.candidates[self.decided:position]]
            finished = [Standing(o.report, o.row["status"] != "ok") for o in before
                        if o is not None and o.report is not None]
            watch = self.curves.watch(self.budgets[c.trial], len(before) - len(finished),
                                      finished)
            yield Task(c, metric=self.metric, watch=watch)

    def done(self, candidate, outcome) -> None:
        """A back-end's ``done``: keep the outcome, and decide every trial that can be."""
        self.finished[candidate.trial] = outcome
        self._advance()

    def _advance(self):
        while self.decided < len(self.candidates):
            candidate = self.candidates[self.decided]
            row = self.recorded.get(candidate.trial)
            if row is None:
                outcome = self.finished.pop(candidate.trial, None)
                if outcome is None:
                    return
                row, model = self._decide(candidate, outcome)
                self.record(row, model)
            if row["status"] == "ok":
                self.curves.add(row["curve"])
            self.decided += 1

    def _decide(self, candidate, outcome):
        """The row and model of a trial by the exact rule, from what it reported."""
        row, model, report = dict(outcome.row), outcome.model, outcome.report
        if report is None:                  # it failed before it trained
            return {**row, "pruned": False}, None
        epoch = self.curves.pruning_epoch(report.curve, self.budgets[candidate.trial])
        if epoch is not None and epoch != report.stopped:
            if epoch not in report.kept:
                raise RuntimeError(f"trial {candidate.trial} is pruned at epoch {epoch}, "
                                   "which it neither stopped at nor kept")
            scores, model = report.kept[epoch]    # scores of a failure: status and error
            row.update({"status": "ok", "error": None, **scores})
        elif epoch is None and report.stopped is not None:
            raise RuntimeError(f"trial {candidate.trial} stopped at epoch {report.stopped}, "
                               "which the rule does not prune it at")
        row["pruned"] = epoch is not None
        if row["status"] == "ok":
            row["curve"] = [point for point in report.curve if epoch is None or point[0] <= epoch]
        return row, model


def decided(row) -> bool:
    """Whether a row read back is a decided trial of a pruned search: a failure, or an ok
    row with its curve."""
    return row["status"] != "ok" or isinstance(row.get("curve"), list)
