"""Repeats: the top candidates of a search trained again with other seeds, chosen by the mean.

A trial is one seed: its dev error mixes what its settings are worth with the
luck of its initial weights, dropout and shuffling, so a winner chosen by one
dev row cannot be told from noise. With ``repeats=r`` (or ``Repeats(r, top=k)``)
a random or grid search, once every trial is in, trains the ``k`` best ok
trials that were not pruned (by dev error, ties to the lower trial) again,
each with ``r − 1`` other seeds, and chooses the candidate with the lowest
*mean* dev error (ties to the lower trial). A pruned trial is not eligible: its
row is not what its settings train.

Seeds. Repeat ``j`` of trial ``i`` of a search of seed ``s`` trains with

    repeat_seed(s, i, j) = SeedSequence([s, i, 1 + j]).generate_state(1)[0],

so repeat 0 is the trial itself (its seed, :func:`.candidates.trial_seed`, is
drawn from ``(s, i, 1)``; its values from ``(s, i, 0)``), and repeat ``j ≥ 1``
draws from ``(s, i, 2)``, ``(s, i, 3)``, ...: a pure function of the search's
seed, the trial and ``j``, so repeats are the same on every back-end and in any
order, and a repeat is ``fit(settings, train, seed=repeat_seed(s, i, j))``.

Statistics, over the ``n`` ok seeds of a candidate (its trial and its ok
repeats), errors e_1 ... e_n:

    mean  = (1/n) Σ e_k
    sd    = √( Σ (e_k − mean)² / (n − 1) )                  (sample sd, ddof = 1)
    95 %  = mean ± t_{0.975, n−1} · sd / √n                 (Student's t)

A candidate with fewer than 2 ok seeds (its repeats failed) has no sd and no
interval (None) and is ranked by the mean of what it has, its one dev error;
its ``repeats`` column says so.

The t quantile is computed exactly, without SciPy, from the closed forms of
Student's t for a whole number of degrees of freedom ν (Abramowitz & Stegun
26.7.3–26.7.4): with θ = arctan(t / √ν), the probability A(t|ν) = P(|T| ≤ t) is

    ν odd:  (2/π) [θ + sin θ (cos θ + (2/3) cos³θ + (2·4)/(3·5) cos⁵θ + ...
                              + (2·4···(ν−3))/(1·3···(ν−2)) cos^{ν−2}θ)]
    ν even: sin θ [1 + (1/2) cos²θ + (1·3)/(2·4) cos⁴θ + ...
                     + (1·3···(ν−3))/(2·4···(ν−2)) cos^{ν−2}θ]

(ν = 1: 2θ/π), a sum of positive terms that rises with θ; the quantile of ``p``
is √ν · tan θ for the θ in (0, π/2) where A = 2p − 1, found by bisection. At
p = 0.975, the interval's, it agrees with SciPy's to 1e-9 relative for ν up to
100,000; far in the tails or near p = 0.5, where the series loses digits, less
closely (2e-6 at ν = 100,000 and p = 1 − 10⁻⁹).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .._interrupts import HeldInterrupts
from .._validation import check_int, check_real, is_int
from .candidates import MAX_TRIALS
from .journal import keep
from .trial import Task

MAX_REPEATS = 1_000         # seeds per candidate: each is a whole trial
MAX_DF = 100_000            # the series has ν/2 terms
TOP = 5                     # candidates repeated, by default
STATS = ("dev_error_mean", "dev_error_sd", "dev_error_low", "dev_error_high", "repeats")


@dataclass(frozen=True)
class Repeats:
    """Train the ``top`` best candidates with ``count`` seeds each (the trial is the first)."""

    count: int
    top: int = TOP

    def __post_init__(self):
        object.__setattr__(self, "count", check_int("repeats", self.count, 2, MAX_REPEATS))
        object.__setattr__(self, "top", check_int("top", self.top, 1, MAX_TRIALS))

    def to_json(self) -> dict:
        """As a search's manifest records it."""
        return {"count": self.count, "top": self.top}


def as_repeats(value):
    """``value`` as :class:`Repeats`: None stays None, an int is the count (top :data:`TOP`)."""
    if value is None or isinstance(value, Repeats):
        return value
    if is_int(value):
        return Repeats(value)
    raise ValueError(f"repeats must be None, an integer >= 2 (the seeds per candidate) or "
                     f"Repeats(count, top), got {value!r}")


def repeat_seed(seed, trial, repeat) -> int:
    """The seed of repeat ``repeat`` of trial ``trial`` (repeat 0: the trial's own seed)."""
    return int(np.random.SeedSequence([seed, trial, 1 + repeat]).generate_state(1)[0])


def t_quantile(p, df) -> float:
    """Student's t quantile of probability ``p`` with ``df`` (a whole number) degrees of
    freedom (see the module notes for its accuracy); ``t_quantile(0.975, 2)`` is 4.302653."""
    p, df = check_real("p", p, 0, 1, low_open=True, high_open=True), check_int("df", df, 1,
                                                                               MAX_DF)
    if p < 0.5:
        return -t_quantile(1 - p, df)
    target, low, high = 2 * p - 1, 0.0, math.pi / 2
    while True:
        middle = (low + high) / 2
        if not low < middle < high:
            return math.sqrt(df) * math.tan(middle)
        if _central(middle, df) < target:
            low = middle
        else:
            high = middle


def _central(theta, df) -> float:
    """A(t|ν) = P(|T| ≤ t) at θ = arctan(t / √ν) (Abramowitz & Stegun 26.7.3–4)."""
    c2, total = math.cos(theta) ** 2, 0.0
    if df % 2:
        term = math.cos(theta)
        for k in range(1, (df - 1) // 2 + 1):
            total += term
            term *= c2 * (2 * k) / (2 * k + 1)
        return 2 / math.pi * (theta + math.sin(theta) * total)
    term = 1.0
    for k in range(1, df // 2 + 1):
        total += term
        term *= c2 * (2 * k - 1) / (2 * k)
    return math.sin(theta) * total


def summarize(errors) -> dict:
    """The mean, sample sd, 95 % interval and count of ``errors`` (one per ok seed), by the
    columns of :data:`STATS`; sd and interval None for fewer than 2."""
    n = len(errors)
    mean = math.fsum(errors) / n
    if n < 2:
        return dict(zip(STATS, (mean, None, None, None, n)))
    sd = math.sqrt(math.fsum((e - mean) ** 2 for e in errors) / (n - 1))
    half = t_quantile(0.975, n - 1) * sd / math.sqrt(n)
    return dict(zip(STATS, (mean, sd, mean - half, mean + half, n)))


def top_trials(rows, top) -> list:
    """The trial numbers of the ``top`` best ok, not pruned rows of ``{trial: row}``, best
    first (dev error, ties to the lower trial)."""
    ok = [r for r in rows.values() if r["status"] == "ok" and not r.get("pruned")]
    return [r["trial"] for r in sorted(ok, key=lambda r: (r["dev_error"], r["trial"]))[:top]]


class RepeatStage:
    """The repeat stage of one search: its tasks, rows, journal lines and choice; with
    ``repeats`` None, a search without one, whose result is its trials as they are.

    ``candidates`` is ``{trial: Candidate}``; ``rows`` (``{(trial, repeat): row}``)
    starts with the repeat rows read back from the journal whose values and seed are
    this search's; :meth:`offer` keeps the models of the best trials run in this
    process, for the chosen one.
    """

    def __init__(self, repeats, candidates, seed, journal, task_of, on_trial, session):
        self.repeats, self.seed, self.journal, self.task_of = repeats, seed, journal, task_of
        self.on_trial, self.session = on_trial, session
        self.candidates = candidates    # {trial: Candidate}, filled in as they are asked
        self._rows = None
        self.models = {}        # trial → (rank key, model bytes), the best `top` offered

    @property
    def rows(self) -> dict:
        """``{(trial, repeat): row}``, those read back from the journal first (read once
        every candidate is known, on first use: a model-based sampler asks them as it goes)."""
        if self._rows is None:
            self._rows = {} if self.journal is None or self.repeats is None else {
                key: row for key, row in self.journal.repeats().items() if self._ours(key, row)}
        return self._rows

    def _ours(self, key, row) -> bool:
        trial, repeat = key
        c = self.candidates.get(trial)
        return (c is not None and repeat < self.repeats.count and row["params"] == c.params
                and row["seed"] == repeat_seed(self.seed, trial, repeat))

    def offer(self, row, model) -> None:
        """A trial's row and model as it is recorded: the model is kept while the row is
        among the best ``top`` offered."""
        if (self.repeats is not None and row["status"] == "ok" and not row.get("pruned")
                and model is not None):
            self.models[row["trial"]] = ((row["dev_error"], row["trial"]), model)
            if len(self.models) > self.repeats.top:
                del self.models[max(self.models, key=lambda t: self.models[t][0])]

    def missing(self, rows) -> list:
        """``[(trial, repeat)]`` still to run, given every trial's row ``{trial: row}``: the
        best trial's first."""
        if self.repeats is None:
            return []
        return [(t, j) for t in top_trials(rows, self.repeats.top)
                for j in range(1, self.repeats.count) if (t, j) not in self.rows]

    def progress(self, done, trials) -> str:
        """What a stopped search keeps, for its message: ``done`` of its ``trials`` trials,
        and its repeats."""
        kept = f"{done} of {trials} trials"
        return kept if self.repeats is None else f"{kept} and {len(self.rows)} repeat run(s)"

    def run(self, run, rows) -> None:
        """Run the missing repeats with ``run`` (the search's back-end session), each
        recorded and reported (``on_trial``) as it finishes, with its ``"repeat"``."""
        missing = self.missing(rows)
        which = {(t, repeat_seed(self.seed, t, j)): j for t, j in missing}

        def done(candidate, outcome):
            j = which[candidate.trial, candidate.seed]
            row = {**outcome.row, "repeat": j}
            with HeldInterrupts():    # Ctrl-C: after the run is both recorded and reported
                self.rows[candidate.trial, j] = row
                keep(self.journal, row, outcome.model, self.on_trial)

        if missing:
            run([self._task(t, j) for t, j in missing], done)

    def _task(self, trial, repeat) -> Task:
        candidate = replace(self.candidates[trial], seed=repeat_seed(self.seed, trial, repeat))
        return self.task_of(candidate)

    def result(self, rows, best) -> tuple:
        """``(trials, model, options)`` of the search's :class:`.result.SearchResult`: every
        trial's row (the repeated ones with the :data:`STATS`, the others with None), the
        chosen candidate's repeat-0 model, and ``{"best": row, "repeats": rows}``.
        ``best`` is the search's best single trial's :class:`.common.BestModel`. Without repeats:
        the rows, ``best``'s model and no options."""
        if self.repeats is None:
            return list(rows.values()), best.bytes(), {}
        top = top_trials(rows, self.repeats.top)
        stats = {t: summarize([rows[t]["dev_error"]] + [
            self.rows[t, j]["dev_error"] for j in range(1, self.repeats.count)
            if (t, j) in self.rows and self.rows[t, j]["status"] == "ok"]) for t in top}
        empty = dict.fromkeys(STATS)
        trials = {t: {**row, **stats.get(t, empty)} for t, row in rows.items()}
        chosen = min(top, key=lambda t: (stats[t]["dev_error_mean"], t), default=None)
        repeated = sorted((row for (t, _), row in self.rows.items() if t in stats),
                          key=lambda row: (row["trial"], row["repeat"]))
        model = None if chosen is None else self._model(chosen, best)
        return (list(trials.values()), model,
                {"best": trials.get(chosen), "repeats": repeated})

    def _model(self, trial, best) -> bytes:
        """Trial ``trial``'s own model (repeat 0): the best single trial's, one kept by
        :meth:`offer`, or the journal's; trained again (to the same bits) and recorded
        again if the journal's cannot be read back."""
        if best.row is not None and best.row["trial"] == trial:
            return best.bytes()
        if trial in self.models:
            return self.models[trial][1]
        model = self.journal.model(trial)
        if model is None:
            kept = []
            with self.session() as run:
                run([self.task_of(self.candidates[trial])],
                    lambda candidate, outcome: kept.append(outcome))
            model = kept[0].model
            if model is None:       # a cause outside the trial: its ok row stays as it is
                raise RuntimeError(f"trial {trial}'s model cannot be read back from "
                                   f"{str(self.journal.folder)!r}, and training it again "
                                   f"failed: {kept[0].row['error']}; run the search again")
            keep(self.journal, kept[0].row, model, None)
        return model
