"""Search spaces for hyperparameters, on the scales of the notes (§8).

The notes prefer random search to grids, and sample on the scale on which a
hyperparameter matters: a learning rate as α = 10^r with r uniform, and a
moving-average weight β close to 1 through 1 − β on a log scale (remark
8.1), since β = 0.999 averages over about 1000 steps and β = 0.9995 over
2000, while 0.9 and 0.9005 are nearly the same.

Each space has ``sample(rng, n)``, n values drawn from a NumPy Generator,
and ``grid(k)``, k values spread evenly on its own scale:

>>> loguniform(1e-3, 1e-1).grid(3)
[0.001, 0.01, 0.1]
>>> one_minus_loguniform(0.9, 0.999).grid(3)
[0.9, 0.99, 0.999]
>>> randint(1, 3).grid(5)
[1, 2, 3]

In a search space, a plain value is fixed and a plain list is a choice
(:func:`as_space`). In a SPACE.json file, the key ``"$comment"`` is a note, not a
setting (``--next`` writes its reasons there).
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_int, check_real


COMMENT = "$comment"   # a key of a SPACE.json file that holds a note, not a setting


class Space:
    """A set of values to search, with a distribution and a grid."""

    #: "linear", "log" or "log1m" (log of 1 − value): the scale of plots.
    scale = "linear"

    def sample(self, rng: np.random.Generator, n: int) -> list:
        raise NotImplementedError

    def grid(self, k: int) -> list:
        raise NotImplementedError

    def to_json(self) -> dict:
        """``{kind: arguments}``, as a SPACE.json file writes it."""
        raise NotImplementedError

    def __eq__(self, other):
        return type(other) is type(self) and other.to_json() == self.to_json()

    def __hash__(self):
        return hash(repr(self))

    def __repr__(self):
        (kind, args), = self.to_json().items()
        if kind in ("choice", "fixed"):
            return f"{kind}({args!r})"
        return f"{kind}({', '.join(map(repr, args))})"


class uniform(Space):
    """Uniform on [low, high]."""

    def __init__(self, low, high):
        self.low, self.high = _bounds("uniform", low, high)

    def sample(self, rng, n):
        return [float(v) for v in rng.uniform(self.low, self.high, _count(n))]

    def grid(self, k):
        return [_clean(v) for v in np.linspace(self.low, self.high, _points(k))]

    def to_json(self):
        return {"uniform": [self.low, self.high]}


class loguniform(Space):
    """10^r with r uniform on [log10 low, log10 high]: each decade equally likely."""

    scale = "log"

    def __init__(self, low, high):
        self.low, self.high = _bounds("loguniform", low, high, positive=True)

    def sample(self, rng, n):
        r = rng.uniform(math.log10(self.low), math.log10(self.high), _count(n))
        return [float(v) for v in 10.0 ** r]

    def grid(self, k):
        r = np.linspace(math.log10(self.low), math.log10(self.high), _points(k))
        return [_clean(10.0 ** v) for v in r]

    def to_json(self):
        return {"loguniform": [self.low, self.high]}


class one_minus_loguniform(Space):
    """β with 1 − β log-uniform on [1 − high, 1 − low], for 0 < low < high < 1 (remark 8.1).

    On [0.9, 0.999], half the draws lie above 0.99.
    """

    scale = "log1m"

    def __init__(self, low, high):
        self.low, self.high = _bounds("one_minus_loguniform", low, high, positive=True)
        if self.high >= 1.0:
            raise ValueError(f"one_minus_loguniform needs high < 1, got {high!r}")
        self._inner = loguniform(1.0 - self.high, 1.0 - self.low)

    def sample(self, rng, n):
        return [1.0 - v for v in self._inner.sample(rng, n)]

    def grid(self, k):
        return [_clean(1.0 - v) for v in reversed(self._inner.grid(k))]

    def to_json(self):
        return {"one_minus_loguniform": [self.low, self.high]}


class choice(Space):
    """One of ``options``, each equally likely; the grid is the options themselves."""

    def __init__(self, options):
        if isinstance(options, np.ndarray):
            options = options.tolist()
        # A list or tuple only: a set's order changes from one run to the next.
        if not isinstance(options, (list, tuple)) or not options:
            raise ValueError(f"choice needs a non-empty list of options, got {options!r}")
        self.options = list(options)

    def sample(self, rng, n):
        return [self.options[i] for i in rng.integers(0, len(self.options), _count(n))]

    def grid(self, k=None):
        return list(self.options)

    def to_json(self):
        return {"choice": list(self.options)}


class randint(Space):
    """An integer in [low, high], both ends included."""

    def __init__(self, low, high):
        self.low, self.high = check_int("randint low", low), check_int("randint high", high)
        if self.low > self.high:
            raise ValueError(f"randint needs low <= high, got {low!r} and {high!r}")

    def sample(self, rng, n):
        return [int(v) for v in rng.integers(self.low, self.high, _count(n), endpoint=True)]

    def grid(self, k):
        values = np.linspace(self.low, self.high, _points(k))
        return sorted({int(round(v)) for v in values})

    def to_json(self):
        return {"randint": [self.low, self.high]}


class fixed(Space):
    """A single value, as a plain value in a search space is."""

    def __init__(self, value):
        self.value = value

    def sample(self, rng, n):
        return [self.value] * _count(n)

    def grid(self, k=None):
        return [self.value]

    def to_json(self):
        return {"fixed": self.value}


KINDS = {cls.__name__: cls for cls in (uniform, loguniform, one_minus_loguniform, choice,
                                       randint, fixed)}


def as_space(value) -> Space:
    """A Space as it is; a list as a choice; anything else (a tuple too) as a fixed value."""
    if isinstance(value, Space):
        return value
    if isinstance(value, list):
        return choice(value)
    return fixed(value)


def from_json(key: str, value) -> Space:
    """A space written as JSON: ``{"loguniform": [1e-4, 1e-1]}``, a list, or a value.

    Raises ValueError naming ``key`` for an unknown kind or bad arguments.
    """
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in KINDS:
            raise ValueError(f"{key}: a space is one of {{kind: arguments}} with kind in "
                             f"{sorted(KINDS)}, got {value!r}")
        (kind, args), = value.items()
        try:
            if kind in ("choice", "fixed"):
                return KINDS[kind](args)
            if not isinstance(args, list) or len(args) != 2:
                raise ValueError(f"{kind} takes [low, high], got {args!r}")
            return KINDS[kind](*args)
        except ValueError as err:
            raise ValueError(f"{key}: {err}") from None
    return as_space(value)


def _bounds(kind, low, high, positive=False):
    low = check_real(f"{kind} low", low, 0.0 if positive else -math.inf, low_open=positive)
    high = check_real(f"{kind} high", high, 0.0 if positive else -math.inf, low_open=positive)
    if not low < high:
        raise ValueError(f"{kind} needs low < high, got {low!r} and {high!r}")
    return low, high


def _count(n) -> int:
    return check_int("n", n, 0)


def _points(k) -> int:
    return check_int("k", k, 1)


def _clean(value) -> float:
    """A grid point without the last-bit noise of 10**r: 0.01, not 0.010000000000000002."""
    return float(f"{value:.12g}")
