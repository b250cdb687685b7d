"""The candidates of a search, all drawn up front from its seed, and their checks.

Trial i's values depend only on the search's seed and i (a random search
draws them from a Generator seeded by ``(seed, i, 0)``), so a search with
``trials=n`` tries the first n candidates of the same search with more
trials, and a search is extended by running it again with more. Trial i's
own seed, for its weights, dropout and shuffling, is drawn from
``(seed, i, 1)``: it does not depend on where, when or in what order the
trial runs.

A space of choices and fixed values only has finitely many combinations, and
drawing with replacement would train some of them twice and others never
(8 draws over 4 combinations often give 3, 3, 1, 1). There, as scikit-learn's
``ParameterSampler`` does for lists, the draw is without replacement: trial i
draws again from its own Generator while its values are those of an earlier
trial. Trial i still depends only on the seed and the trials before it, so
the first n candidates stay those of a longer search; and a trial whose first
draw is new gets the values it got with replacement. Asked for more trials
than there are combinations, the search runs each once and warns.

A search has at most :data:`MAX_TRIALS` candidates (a grid's points
multiplied), refused before any is drawn: each is built and checked up front,
and a journal row is kept for each.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..training import NeuralNetwork
from ..settings import build_optimizer, canonical_key, choose_output, network_config, resolve
from .spaces import as_space, choice, fixed

MAX_TRIALS = 100_000        # candidates of one search: days of trials of a second each


@dataclass(frozen=True)
class Candidate:
    """One trial to run: its number, its searched values, its full settings and its seed."""

    trial: int
    params: dict
    settings: dict
    seed: int


def normalize(space, settings):
    """``(space, settings)`` by canonical keys; ValueError for overlaps or a searched seed."""
    if not isinstance(space, dict) or not space:
        raise ValueError(f"space must be a non-empty dict of settings to search, got {space!r}")
    if settings is not None and not isinstance(settings, dict):
        raise ValueError(f"settings must be a dict or None, got {settings!r}")
    space = {key: as_space(v) for key, v in _canonical(space, "space").items()}
    settings = _canonical(settings or {}, "settings")
    if "seed" in space or "seed" in settings:
        raise ValueError("seed is set by the search for each trial; give the search's seed= "
                         "instead")
    both = sorted(set(space) & set(settings))
    if both:
        raise ValueError(f"{', '.join(both)} is both searched (space) and fixed (settings)")
    return space, settings


def _canonical(mapping, name) -> dict:
    """``mapping`` by canonical keys; ValueError when two keys name one setting."""
    out, given = {}, {}
    for key, value in mapping.items():
        canonical = canonical_key(key)
        if canonical in out:
            raise ValueError(f"{name} names {canonical} twice, as {given[canonical]!r} and "
                             f"{key!r}")
        out[canonical], given[canonical] = value, key
    return out


def trial_seed(seed, trial) -> int:
    """Trial ``trial``'s own seed, from the search's ``seed``."""
    return int(np.random.SeedSequence([seed, trial, 1]).generate_state(1)[0])


def random_candidates(space, settings, trials, seed) -> list:
    """The first ``trials`` candidates of a random search; without replacement, and at
    most one per combination, when the space is finite (see the module notes)."""
    combinations = combination_count(space)
    if combinations is not None and trials > combinations:
        warnings.warn(f"the space has {combinations} combination(s) of its choices, fewer than "
                      f"trials={trials}: each runs once, {combinations} trial(s) in all",
                      UserWarning, stacklevel=3)
        trials = combinations
    keys, out, drawn = sorted(space), [], set()
    for trial in range(trials):
        rng = np.random.default_rng(np.random.SeedSequence([seed, trial, 0]))
        params = {key: space[key].sample(rng, 1)[0] for key in keys}
        while combinations is not None and _identity(params) in drawn:
            params = {key: space[key].sample(rng, 1)[0] for key in keys}
        drawn.add(_identity(params))
        out.append(_candidate(trial, params, space, settings, seed))
    return out


def combination_count(space):
    """How many distinct candidates a space of choices and fixed values holds; None when
    a key is drawn from a range. Options equal as JSON (``(4,)`` and ``[4]``) count once,
    since a trial records them alike."""
    if not all(isinstance(s, (choice, fixed)) for s in space.values()):
        return None
    return math.prod(len({_identity(option) for option in s.grid()}) for s in space.values())


def _identity(value) -> str:
    """``value`` as its recorded JSON text: equal text, equal candidate."""
    return json.dumps(plain(value), sort_keys=True)


def grid_candidates(space, settings, points, seed) -> list:
    """Every point of the grid, ``points`` values per searched key, in a fixed order."""
    keys = sorted(space)
    axes = [space[key].grid(points) for key in keys]
    size = math.prod(len(axis) for axis in axes)
    if size > MAX_TRIALS:
        raise ValueError(f"the grid has {size:,} points ({' × '.join(str(len(a)) for a in axes)}"
                         f"), more than the {MAX_TRIALS:,} a search may try; give fewer points "
                         "or fewer choices")
    return [_candidate(trial, dict(zip(keys, values)), space, settings, seed)
            for trial, values in enumerate(itertools.product(*axes))]


def _candidate(trial, params, space, settings, seed) -> Candidate:
    # Plain JSON values, as the journal records them: a row read back equals a fresh one.
    params = plain(params)
    searched = {k: v for k, v in params.items() if not isinstance(space[k], fixed)}
    return Candidate(trial, searched, {**settings, **params}, trial_seed(seed, trial))


def plain(value):
    """``value`` as plain JSON data: NumPy scalars and arrays become Python numbers and lists."""
    return json.loads(json.dumps(value, default=_to_python))


def _to_python(value):
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{value!r} is not JSON data")


def check_candidates(candidates, X, y) -> None:
    """Build each candidate's network for the data, and its optimizer, untrained, so that
    bad settings are refused before any trial runs; ValueError names the trial and values."""
    for c in candidates:
        try:
            resolved = resolve(c.settings)
            build_optimizer(resolved)
            output = choose_output(resolved["output"], y)
            net = NeuralNetwork(**network_config(resolved, output))
            targets = net.targets_.fitted(y, net.config["nodes"][-1])
            net.build(X.shape[1], net.config["nodes"][-1] or targets.n_outputs(y))
        except ValueError as err:
            raise ValueError(f"trial {c.trial} {c.params}: {err}") from None
