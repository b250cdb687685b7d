"""Hyperband: successive halving in several brackets, from many short trials to a few long ones.

One halving has to choose how many candidates to start and with how few
epochs: many with few epochs may stop a slow starter that would have won; few
with many epochs may never try the good region. Hyperband (Li et al., 2017)
hedges by running every choice. With the rung budgets
B_0 < B_1 < ... < B_S (``min_epochs`` · factor^k, then ``max_epochs``,
:func:`~mllib.tune.halving.rung_budgets`), bracket s, for s = S, S − 1, ..., 0,
is a successive halving of

    n_s = ⌈(S + 1) / (s + 1) · factor^s⌉ candidates, from B_{S−s} epochs to B_S,

so that bracket S is the most aggressive halving and bracket 0 trains n_0 =
S + 1 candidates for ``max_epochs`` each, as a random search would. The
candidates are the search's first Σ n_s random candidates, in order: bracket S
takes the first n_S trials, the next bracket the next ones.

The brackets run one after the other, each as :func:`successive_halving` runs,
with the same back-end session and one journal; so the table is the same on
every back-end and resumes after a kill. The best trial is the best of those
trained to ``max_epochs``, in any bracket. A row's ``rung`` is the index of its
budget among B_0 ... B_S, the same epochs in every bracket, and its
``bracket`` is s.
"""

from __future__ import annotations

import math

from .._validation import check_int
from .candidates import MAX_TRIALS
from .halving import Rungs, checked_epochs, opened, rung_budgets, rung_result
from .result import SearchResult, best_of


def brackets(min_epochs, max_epochs, factor) -> list:
    """``[(s, n_s, budgets)]`` for s = S, ..., 0: each bracket's candidates and its rungs'
    epochs (see the module docstring)."""
    budgets = rung_budgets(min_epochs, max_epochs, factor)
    top = len(budgets) - 1
    return [(s, math.ceil((top + 1) / (s + 1) * factor ** s - 1e-9), budgets[top - s:])
            for s in range(top, -1, -1)]


def hyperband(space, train, dev, *, min_epochs, max_epochs, factor=3, settings=None,
              seed=0, metric=None, backend="serial", workers=None, out=None, restart=False,
              on_trial=None, on_start=None, data_options=None) -> SearchResult:
    """Hyperband over ``space``: brackets of successive halving from ``min_epochs`` to
    ``max_epochs`` epochs, each keeping the best 1/``factor`` at every rung.

    The number of trials follows from the epochs and ``factor``
    (:func:`brackets`: 1 to 27 epochs with factor 3 gives brackets of 27, 12, 6 and
    4 trials). The other parameters are as for :func:`successive_halving`;
    ``result.rungs[k]`` holds every row trained to the k-th budget, of any bracket,
    and each row has its ``bracket``.
    """
    seed = check_int("seed", seed, 0)
    min_epochs, max_epochs, factor = checked_epochs(min_epochs, max_epochs, factor)
    plan = brackets(min_epochs, max_epochs, factor)
    trials = sum(n for _, n, _ in plan)
    if trials > MAX_TRIALS:
        raise ValueError(f"min_epochs={min_epochs}, max_epochs={max_epochs} and "
                         f"factor={factor!r} give {trials:,} trials, more than "
                         f"{MAX_TRIALS:,}; use a larger min_epochs or factor")
    search = opened("hyperband", "Hyperband", space, (train, dev), trials=trials,
                    epochs=(min_epochs, max_epochs, factor), settings=settings, seed=seed,
                    how=dict(backend=backend, workers=workers, out=out, restart=restart,
                             on_trial=on_trial, on_start=on_start,
                             data_options=data_options, metric=metric))
    parts, first = [], 0
    for s, n, budgets in plan:
        parts.append((s, budgets, Rungs(search.journal, search.candidates[first:first + n],
                                         on_trial, search.metric)))
        first += n
    if on_start is not None:
        on_start(sorted((dict(row) for _, _, rungs in parts for row in rungs.recorded.values()),
                        key=lambda row: (row["trial"], row["rung"])), trials)
    with search.runner.session(search.train, search.dev) as run:
        done = [(s, budgets, rungs, *rungs.run(run, budgets, factor))
                for s, budgets, rungs in parts]
        model = _best_model(done)
    return rung_result("hyperband", search, _global_rungs(done, len(plan[0][2])), model)


def _best_model(done):
    """The model of the best row trained to ``max_epochs`` in any bracket (ties: the lower
    trial), as that bracket's halving reads or trains it back."""
    finals = [(best, s) for s, budgets, _, rungs, _ in done
              if len(rungs) == len(budgets) and (best := best_of(rungs[-1])) is not None]
    if not finals:
        return None
    _, chosen = min(finals, key=lambda pair: (pair[0]["dev_error"], pair[0]["trial"]))
    (s, budgets, halving, rungs, states), = [d for d in done if d[0] == chosen]
    return halving.best_model(rungs[-1], states, budgets)


def _global_rungs(done, count) -> list:
    """Every bracket's rows, by the index of their budget among all the rungs' budgets."""
    table = [[] for _ in range(count)]
    for s, budgets, _, rungs, _ in done:
        offset = count - len(budgets)
        for k, rows in enumerate(rungs):
            table[offset + k] += [{**row, "rung": offset + k, "bracket": s} for row in rows]
    return table
