"""An in-memory Optuna study that gives a search its candidates and hears their results.

:mod:`.sampling` asks it for candidates in trial order and tells it their rows
in trial order; this module is the bridge to Optuna: the sampler (``"tpe"``,
seeded from the search's seed, or the user's own, copied), and the search's
space as Optuna's distributions.

Optuna holds numbers, text, booleans and None, not lists such as a choice of
``hidden`` widths, so a choice is asked as the index of its option:

==============================  ==========================================  =====================
mllib space                     Optuna distribution                         the trial's value
==============================  ==========================================  =====================
``uniform(a, b)``               ``FloatDistribution(a, b)``                 x
``loguniform(a, b)``            ``FloatDistribution(a, b, log=True)``       x
``one_minus_loguniform(a, b)``  ``FloatDistribution(1-b, 1-a, log=True)``   1 − x, kept in [a, b]
``randint(a, b)``               ``IntDistribution(a, b)``, both ends in     x
``choice(options)``             ``CategoricalDistribution((0, ..., n-1))``  options[x]
``fixed(v)``                    not asked                                   v
==============================  ==========================================  =====================

Optuna is imported only here, and only when a model-based sampler is asked for.
"""

from __future__ import annotations

import contextlib
import copy
import sys
import warnings

import numpy as np

from .candidates import MAX_TRIALS, Candidate, _candidate
from .spaces import choice, fixed, loguniform, one_minus_loguniform, randint, uniform

OPTUNA_EXTRA = 'pip install "mllib[tune]"'


def is_optuna_sampler(value) -> bool:
    """Whether ``value`` is an Optuna sampler; without importing Optuna, since an instance
    of one can only exist once Optuna is imported."""
    samplers = sys.modules.get("optuna.samplers")
    return samplers is not None and isinstance(value, samplers.BaseSampler)


def optuna_module():
    try:
        import optuna
    except ImportError:
        raise ImportError(f"a model-based sampler (sampler='tpe', or an Optuna sampler) "
                          f"needs Optuna: {OPTUNA_EXTRA}") from None
    return optuna


def sampler_name(sampler) -> str:
    """What the search's folder records: ``"tpe"``, or the class name of the sampler given."""
    return sampler if isinstance(sampler, str) else type(sampler).__name__


def distributions(space) -> dict:
    """The Optuna distribution of each searched key of ``space``, by sorted key (see the
    module notes' table); a fixed value is not asked. ValueError for another kind of space."""
    dists = optuna_module().distributions
    found = {}
    for key in sorted(space):
        s = space[key]
        if isinstance(s, fixed):
            continue
        if isinstance(s, (uniform, loguniform)):
            found[key] = dists.FloatDistribution(s.low, s.high, log=isinstance(s, loguniform))
        elif isinstance(s, one_minus_loguniform):
            found[key] = dists.FloatDistribution(1.0 - s.high, 1.0 - s.low, log=True)
        elif isinstance(s, randint):
            found[key] = dists.IntDistribution(s.low, s.high)
        elif isinstance(s, choice):
            found[key] = dists.CategoricalDistribution(tuple(range(len(s.options))))
        else:
            raise ValueError(f"{key}: a model-based sampler cannot ask for {s!r}; use "
                             "sampler='random'")
    return found


def value_of(space, x):
    """The value of ``space`` that the asked ``x`` stands for (see the module notes)."""
    if isinstance(space, choice):
        return space.options[x]
    if isinstance(space, randint):
        return int(x)
    if isinstance(space, one_minus_loguniform):
        return min(max(1.0 - float(x), space.low), space.high)    # 1 − (1 − β) may round out
    return float(x)


@contextlib.contextmanager
def _quiet(optuna):
    """Optuna's INFO lines (a study created, a trial finished) not printed, within."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def _tpe(optuna, seed):
    """Optuna's TPESampler seeded from the search's ``seed``, multivariate and with the
    constant liar (trials asked and not yet told count as bad, so that a batch spreads
    out), as Optuna 5 has it by default; Optuna 4 had them as experimental options."""
    state = np.random.SeedSequence([seed, MAX_TRIALS, 0]).generate_state(1)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=int(state), multivariate=True,
                                          constant_liar=True)


class Asker:
    """An in-memory Optuna study that gives the search's candidates one trial at a time and
    hears their rows.

    ``sampler`` is ``"tpe"`` (Optuna's TPESampler, seeded from ``seed``) or an Optuna
    sampler, which is copied, so that the same instance gives the same candidates to
    every search it is given to: its seed is the user's.
    """

    def __init__(self, sampler, space, settings, seed):
        self.optuna = optuna_module()
        self.space, self.settings, self.seed = space, settings, seed
        self.name = sampler_name(sampler)
        self.asked_space = distributions(space)
        sampler = _tpe(self.optuna, seed) if isinstance(sampler, str) else copy.deepcopy(sampler)
        with _quiet(self.optuna):
            self.study = self.optuna.create_study(direction="minimize", sampler=sampler)
        self.pending, self.asked = {}, {}        # asked: {trial: Candidate}, in order

    def ask(self, trial) -> Candidate:
        """Trial ``trial``'s candidate; trials are asked in order, from 0."""
        with _quiet(self.optuna):
            asked = self.study.ask(self.asked_space)
        self.pending[trial] = asked
        params = {key: s.value if isinstance(s, fixed) else value_of(s, asked.params[key])
                  for key, s in self.space.items()}
        candidate = _candidate(trial, params, self.space, self.settings, self.seed)
        self.asked[trial] = candidate
        return candidate

    def tell(self, rows) -> None:
        """Tell the study the rows of asked trials, in trial order: an ok row's dev error, a
        failed one as failed; in a pruned search, each trial's curve as its intermediate
        values first, and a pruned trial as pruned, as Optuna's own pruners tell them."""
        states = self.optuna.trial.TrialState
        for row in sorted(rows, key=lambda r: r["trial"]):
            asked = self.pending.pop(row["trial"])
            with _quiet(self.optuna):
                for epoch, error in row.get("curve") or ():
                    asked.report(error, epoch)
                if row["status"] != "ok":
                    self.study.tell(asked, state=states.FAIL)
                elif row.get("pruned"):
                    self.study.tell(asked, state=states.PRUNED)
                else:
                    self.study.tell(asked, row["dev_error"])
