"""Pruning: the median rule, decided in trial order, and what a trial reports for it.

**The rule.** Every ``every`` epochs, and at its last, a trial of a pruned
search reports its dev error (the search's metric as an error). After the
warm-up, trial n is stopped at the first report epoch e (warmup ≤ e, before
its last epoch) where

    dev error of n at e  >  median of the dev errors at e of the trials m < n that reached e,

and at least ``min_trials`` such trials reached e; ties are not worse. A
trial "reached" e when it reported there: pruned trials count up to the
epoch they were stopped at, failed trials not at all. The median of an even
count is the mean of the middle two.

**Decisions depend only on trial order.** Trial n's fate is a function of
its own curve and the curves of the trials before it, which by induction are
functions of theirs: not of when or where anything ran. The search decides
each trial, in trial order, when its outcome is in and every earlier trial
is decided (:mod:`.ordered`), from the exact curves. Were a trial to wait
for the curves of those before it, the workers would idle at every step;
so a trial starts as soon as a worker is free, and is given a
:class:`Watch`: for each epoch it may be judged at, the range the median
can take whatever the trials before it that are not decided yet turn out
to say there. Such a trial may still be running (it may report any error
there, or not reach the epoch), or it may have finished, and then it mostly
says for sure whether it reached the epoch and with what error
(:class:`Standing`). At each report the trial compares its error with that
range:

- above it: pruned whatever the others do; the trial stops there;
- at or below its low end: not pruned there; it goes on;
- inside it: it cannot tell yet, so it keeps its state at that epoch (its
  scores and model) and goes on.

When the search decides the trial, the first epoch the exact rule prunes it
at is one it stopped at or kept; its row and model are those of that epoch,
and its curve ends there: the same bits as a run that knew everything. With
one trial at a time the range is the exact median, and nothing is kept.
What parallel back-ends pay is the epochs a trial runs past an epoch it
could not decide and is pruned at after all, and the memory of the states
it keeps meanwhile (a model file per such epoch); ``bench/pruning.py``
measures the epochs.

A pruned trial's model is its state at that epoch (weights, optimizer
moments, schedule and Generator) with the run it belongs to: ``mllib.load``
it and call its ``fit(X_train, y_train)``, and it goes on to the trial's
full budget, to the unpruned trial's model bit for bit (with BLAS on one
thread, as trials run).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from .._validation import check_int
from ..training import Callback

# The defaults. A report every epoch: at the notes' 60/20 split, a dev pass is a forward
# pass over a third as many rows as an epoch's forward and backward passes. 5 epochs of
# warm-up: the first epochs mostly tell fast learning rates from slow ones, not where a
# trial ends up. The median of 5 earlier trials at least, as Optuna's MedianPruner waits
# for 5: the median of fewer is one of one to four noisy values. bench/RESULTS.md has
# what other values did on digits.
WARMUP, EVERY, MIN_TRIALS = 5, 1, 5


class MedianPruner:
    """The median rule (see the module notes).

    Parameters
    ----------
    warmup : int, default 5
        No trial is judged before this many epochs.
    every : int, default 1
        A trial reports its dev error every ``every`` epochs (and at its last).
    min_trials : int, default 5
        A trial is judged at an epoch only when at least this many earlier trials
        reported there.
    """

    rule = "median"

    def __init__(self, *, warmup=WARMUP, every=EVERY, min_trials=MIN_TRIALS):
        self.warmup = check_int("warmup", warmup, 0)
        self.every = check_int("every", every, 1)
        self.min_trials = check_int("min_trials", min_trials, 1)

    def to_json(self) -> dict:
        return {"rule": self.rule, "warmup": self.warmup, "every": self.every,
                "min_trials": self.min_trials}

    def __repr__(self):
        return (f"MedianPruner(warmup={self.warmup}, every={self.every}, "
                f"min_trials={self.min_trials})")

    def judged(self, epoch, budget) -> bool:
        """Whether a trial of ``budget`` epochs is judged at ``epoch`` (counted from 1)."""
        return self.warmup <= epoch < budget and epoch % self.every == 0


def as_pruner(pruner) -> MedianPruner | None:
    """``pruner`` as a :class:`MedianPruner`: None, "median" or one; ValueError otherwise."""
    if pruner is None or isinstance(pruner, MedianPruner):
        return pruner
    if pruner == "median":
        return MedianPruner()
    raise ValueError(f"pruner must be None, 'median' or a MedianPruner, got {pruner!r}")


def median_with(values, unknown=0, fill=math.inf) -> float:
    """The median of the sorted ``values`` and ``unknown`` more values equal to ``fill``
    (±inf): the largest (+inf) or smallest (−inf) the median can be when ``unknown``
    values are still to come; with ``unknown`` 0, the median."""
    count = len(values) + unknown

    def at(i):
        if fill > 0:
            return values[i] if i < len(values) else math.inf
        return -math.inf if i < unknown else values[i - unknown]

    return (at((count - 1) // 2) + at(count // 2)) / 2


@dataclass(frozen=True)
class Watch:
    """What a trial is told when it starts: how often to report, and per epoch it may be
    judged at, the ``(low, high)`` range of the median it is judged against."""

    every: int
    bounds: dict

    def verdict(self, epoch, error) -> str:
        """"prune", "keep" or "unsure" for ``error`` at ``epoch``."""
        low, high = self.bounds.get(epoch, (math.inf, math.inf))
        if error > high:
            return "prune"
        return "keep" if error <= low else "unsure"


class Curves:
    """The dev errors per epoch of the trials decided so far, each epoch's sorted."""

    def __init__(self, pruner: MedianPruner):
        self.pruner, self.values = pruner, {}

    def add(self, curve) -> None:
        """Count a decided trial's curve, ``[[epoch, error], ...]``."""
        for epoch, error in curve:
            bisect.insort(self.values.setdefault(epoch, []), error)

    def watch(self, budget, running, finished=()) -> Watch:
        """The :class:`Watch` of a trial of ``budget`` epochs, when ``running`` trials before
        it have not finished, and ``finished`` are the :class:`Standing` of those that have
        but are not decided yet."""
        pruner, bounds = self.pruner, {}
        for epoch in range(pruner.every, budget, pruner.every):
            if not pruner.judged(epoch, budget):
                continue
            known, unknown = self.values.get(epoch, []), running
            said = [standing.at(epoch) for standing in finished]
            unknown += sum(value is MAYBE for value in said)
            extra = [value for value in said if value is not None and value is not MAYBE]
            if extra:
                known = sorted(known + extra)
            if len(known) + unknown < pruner.min_trials:
                continue                    # never judged there, whatever comes
            high = (median_with(known, unknown, math.inf)
                    if len(known) >= pruner.min_trials else math.inf)
            bounds[epoch] = (median_with(known, unknown, -math.inf), high)
        return Watch(pruner.every, bounds)

    def pruning_epoch(self, curve, budget) -> int | None:
        """The first epoch at which the rule prunes a trial of ``budget`` epochs whose
        curve is ``curve``, against the trials counted so far; None if none."""
        for epoch, error in curve:
            known = self.values.get(epoch, [])
            if (self.pruner.judged(epoch, budget) and len(known) >= self.pruner.min_trials
                    and error > median_with(known)):
                return epoch
        return None


@dataclass
class Report:
    """What a trial reported: its curve, the states it kept where it could not decide
    (``{epoch: (scores, model bytes)}``), and the epoch it stopped at, pruned, or None."""

    curve: list = field(default_factory=list)
    kept: dict = field(default_factory=dict)
    stopped: int | None = None


MAYBE = object()     # a trial's error at an epoch that counts or not, as decisions go


class Standing:
    """What a trial that finished, but is not decided yet, says of the epochs of the trials
    after it, from its :class:`Report` and whether it failed.

    Every judged epoch before e was one it could decide (it kept no state
    there) and did not stop at: then no decision can prune it before e, and
    it surely reached e, with the error it reported there. It surely did not
    when it stopped before e, or failed without keeping any state. Otherwise
    (a state kept before e, or kept states of a failed trial, or a kept state
    that could not be scored) it is :data:`MAYBE`.
    """

    def __init__(self, report, failed):
        self.errors = {epoch: error for epoch, error in report.curve}
        kept = report.kept
        self.first_kept = (min(kept) if kept and not failed
                           and all(model is not None for _, model in kept.values())
                           else (0 if kept else math.inf))
        self.failed, self.stopped = failed, report.stopped

    def at(self, epoch):
        """The trial's error at ``epoch``; None if it surely does not count there; MAYBE."""
        if self.first_kept < epoch:
            return MAYBE
        if self.failed or (self.stopped is not None and self.stopped < epoch):
            return None
        return self.errors.get(epoch)


class Reporter(Callback):
    """The trial's side of pruning: at each report epoch, its dev error by ``error_of(model)``
    (which raises if it is not finite) is judged by the :class:`Watch`; ``keep(model)`` gives
    the state to keep, as ``(scores, model bytes)``."""

    def __init__(self, watch, error_of, keep):
        self.watch, self.error_of, self.keep = watch, error_of, keep
        self.report, self.end, self.last = Report(), None, None

    def on_train_begin(self, logs=None):
        self.end = logs["initial_epoch"] + logs["epochs"]

    def on_epoch_end(self, epoch, logs=None):
        done = self.model.epoch_
        if done % self.watch.every and done != self.end:
            return
        error = self.error_of(self.model)
        self.report.curve.append([done, error])
        verdict = self.watch.verdict(done, error)
        if verdict == "prune":
            self.report.stopped, self.last = done, self.keep(self.model)
            self.model.stop_training = True
        elif verdict == "unsure":
            self.report.kept[done] = self.keep(self.model)
