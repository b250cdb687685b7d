"""Learning-rate schedules (notes §7.5–7.6): α as a pure function of the epoch.

A schedule is called with the epoch, counted from 0, and returns the learning
rate as a Python float::

    schedule = make_schedule("rational:1.0", 0.2)
    schedule(0), schedule(1), schedule(3)   # 0.2, 0.1, 0.05

Unlike the notes' ``learning_rate_decay_*``, nothing asserts α ≤ 1: a learning
rate above 1 is legitimate.
"""

from __future__ import annotations

import math
from numbers import Real

from .._validation import check_int, check_positive


class Schedule:
    """Base class: ``schedule(epoch) -> float`` with ``epoch = 0, 1, 2, ...``."""

    name = "schedule"
    _hyper: tuple[str, ...] = ("alpha0",)

    def __init__(self, alpha0: float):
        self.alpha0 = check_positive("alpha0", alpha0)

    def __call__(self, epoch: int) -> float:
        return self._rate(check_int("epoch", epoch, 0))

    def _rate(self, epoch: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        """JSON-serializable parameters, including ``"name"``."""
        return {"name": self.name, **{h: getattr(self, h) for h in self._hyper}}

    def __repr__(self):
        args = ", ".join(f"{h}={getattr(self, h)!r}" for h in self._hyper)
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """α(i) = α0."""

    name = "constant"

    def _rate(self, epoch):
        return self.alpha0


class Rational(Schedule):
    """α(i) = α0 / (1 + η i), the notes' ``learning_rate_decay_rational``; η > 0."""

    name = "rational"
    _hyper = ("alpha0", "eta")

    def __init__(self, alpha0: float, eta: float = 1.0):
        super().__init__(alpha0)
        self.eta = check_positive("eta", eta)

    def _rate(self, epoch):
        return self.alpha0 / (1.0 + self.eta * epoch)


class Exponential(Schedule):
    """α(i) = α0 η^i with 0 < η ≤ 1, the notes' ``learning_rate_decay_exponential``.

    η > 1 is refused: the rate would grow without bound and overflow.
    """

    name = "exponential"
    _hyper = ("alpha0", "eta")

    def __init__(self, alpha0: float, eta: float = 0.95):
        super().__init__(alpha0)
        self.eta = check_positive("eta", eta, 1.0)

    def _rate(self, epoch):
        return self.alpha0 * self.eta ** epoch


class Root(Schedule):
    """α(i) = α0 η / √(i + 1), the notes' ``learning_rate_decay_root``; η > 0.

    The notes' text writes η α0/√i, which is undefined at i = 0; their code,
    and this class, use √(i + 1), so that α(0) = α0 η.
    """

    name = "root"
    _hyper = ("alpha0", "eta")

    def __init__(self, alpha0: float, eta: float = 1.0):
        super().__init__(alpha0)
        self.eta = check_positive("eta", eta)

    def _rate(self, epoch):
        return self.alpha0 * self.eta / math.sqrt(epoch + 1)


class Piecewise(Schedule):
    """Step ("manual") decay: α(i) = α0 · f_k for the last milestone b_k ≤ i.

    Parameters
    ----------
    alpha0 : float > 0
        The rate before the first milestone.
    milestones : dict {int: float} or sequence of (int, float) pairs
        Epoch b_k ≥ 0 from which the rate is α0 · f_k, with f_k > 0. The
        factors multiply α0, not each other, and need not decrease.

    Examples
    --------
    >>> s = Piecewise(0.1, {10: 0.5, 20: 0.1})
    >>> s(9), s(10), s(19), s(20)
    (0.1, 0.05, 0.05, 0.010000000000000002)
    """

    name = "step"
    _hyper = ("alpha0", "milestones")

    def __init__(self, alpha0: float, milestones):
        super().__init__(alpha0)
        try:
            pairs = list(milestones.items() if isinstance(milestones, dict) else milestones)
            pairs = [(b, f) for b, f in pairs]
        except (TypeError, ValueError):
            raise ValueError(f"milestones must be a dict {{epoch: factor}} or (epoch, factor) "
                             f"pairs, got {milestones!r}") from None
        if not pairs:
            raise ValueError(f"milestones must not be empty, got {milestones!r}")
        for b, f in pairs:
            check_int("milestone epoch", b, 0)
            check_positive(f"factor for epoch {b}", f)
        bounds = sorted(int(b) for b, _ in pairs)
        if len(set(bounds)) != len(bounds):
            raise ValueError(f"milestone epochs must be distinct, got {bounds}")
        self.milestones = sorted([int(b), float(f)] for b, f in pairs)

    def _rate(self, epoch):
        factor = 1.0
        for bound, f in self.milestones:
            if epoch < bound:
                break
            factor = f
        return self.alpha0 * factor


class FunctionSchedule(Schedule):
    """Wraps a user function ``epoch -> rate``; checks each rate is finite and ≥ 0.

    Its config names the function but cannot rebuild it.
    """

    name = "function"
    _hyper = ()

    def __init__(self, function):
        if not callable(function):
            raise ValueError(f"function must be callable, got {function!r}")
        self.function = function

    def _rate(self, epoch):
        rate = self.function(epoch)
        ok = isinstance(rate, Real) and not isinstance(rate, bool)
        if not (ok and math.isfinite(rate) and rate >= 0):
            raise ValueError(f"schedule {self.function!r} returned {rate!r} for epoch {epoch}; "
                             f"a learning rate must be a finite number >= 0")
        return float(rate)

    def get_config(self):
        fn = self.function
        return {"name": self.name,
                "function": f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"}

    def __repr__(self):
        return f"FunctionSchedule({self.function!r})"


_SCHEDULES = {"constant": Constant, "rational": Rational, "exponential": Exponential,
              "root": Root, "step": Piecewise, "piecewise": Piecewise}


def _parse_milestones(text: str) -> list:
    pairs = []
    for item in text.split(","):
        bound, sep, factor = item.partition("=")
        if not sep:
            raise ValueError(f"milestone {item.strip()!r} is not 'epoch=factor'")
        try:
            pairs.append((int(bound), float(factor)))
        except ValueError:
            raise ValueError(f"milestone {item.strip()!r} is not 'epoch=factor'") from None
    return pairs


def _lookup(name) -> type:
    cls = _SCHEDULES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown schedule {name!r}; expected one of {sorted(_SCHEDULES)}")
    return cls


def _from_string(spec: str, learning_rate) -> Schedule:
    name, sep, arg = spec.partition(":")
    cls = _lookup(name.strip().lower())
    if cls is Piecewise and not arg.strip():
        raise ValueError("step needs milestones, as in 'step:10=0.5,20=0.1'")
    if not sep:
        return cls(learning_rate)
    if cls is Constant:
        raise ValueError(f"constant takes no parameter, got {arg!r}")
    if cls is Piecewise:
        return cls(learning_rate, _parse_milestones(arg))
    try:
        eta = float(arg)
    except ValueError:
        raise ValueError(f"eta must be a number, got {arg.strip()!r}") from None
    return cls(learning_rate, eta)


def _from_dict(spec: dict, learning_rate) -> Schedule:
    kwargs = {k: v for k, v in spec.items() if k != "name"}
    name = spec.get("name")
    if name == FunctionSchedule.name:
        raise ValueError("a 'function' schedule cannot be rebuilt from its config")
    cls = _lookup(name)
    unknown = sorted(set(kwargs) - set(cls._hyper))
    if unknown:
        raise ValueError(f"unknown parameters {unknown} for schedule {name!r}; "
                         f"it takes {list(cls._hyper)}")
    kwargs.setdefault("alpha0", learning_rate)
    return cls(**kwargs)


def make_schedule(spec, learning_rate) -> Schedule:
    """Turn a schedule spec into a :class:`Schedule` whose α0 is ``learning_rate``.

    Parameters
    ----------
    spec : None, Schedule, callable, str, tuple or dict
        - ``None``: ``Constant(learning_rate)``.
        - a :class:`Schedule`: returned as is (``learning_rate`` is ignored).
        - a callable ``epoch -> rate``: wrapped in :class:`FunctionSchedule`.
        - a string, as the CLI passes: ``"constant"``, ``"rational"``,
          ``"rational:1.0"``, ``"exponential:0.95"``, ``"root:1.0"``,
          ``"step:10=0.5,20=0.1"`` (name, then η or the milestones).
        - a tuple ``(name, *args)``: ``("rational", 1.0)``, ``("step", {10: 0.5})``.
        - a dict from :meth:`Schedule.get_config`; its ``alpha0``, if present,
          wins over ``learning_rate``.
    learning_rate : float > 0
        α0.

    Raises
    ------
    ValueError
        For unknown names and bad values; the message quotes the spec.
    """
    if spec is None:
        return Constant(learning_rate)
    if isinstance(spec, Schedule):
        return spec
    try:
        if isinstance(spec, str):
            return _from_string(spec, learning_rate)
        if isinstance(spec, tuple) and spec and isinstance(spec[0], str):
            return _lookup(spec[0].strip().lower())(learning_rate, *spec[1:])
        if isinstance(spec, dict):
            return _from_dict(spec, learning_rate)
    except (ValueError, TypeError, KeyError) as err:
        raise ValueError(f"invalid schedule spec {spec!r}: {err}") from None
    if callable(spec):
        return FunctionSchedule(spec)
    raise ValueError(f"invalid schedule spec {spec!r}: expected None, a Schedule, a callable, "
                     f"a string, a (name, *args) tuple or a config dict")
