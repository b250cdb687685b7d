"""Optimizers (notes §7): gradient descent, momentum, RMSProp and Adam.

Each class states the notes' update once, in ``_update``, on one block of the
flat buffers of a parameter store; :class:`~mllib.optim.base.Optimizer` does
the rest (see there). ``opt.step(store, lr)`` updates ``store.values`` in
place; the state holds the notes' own quantities: momentum's v, RMSProp's s,
Adam's m and v. The formulas below are the stated math; one thing is added to
them: a moment that falls below the dtype's smallest normal number is stored
as 0, since a subnormal one would make every later step slow and underflow
(see :mod:`mllib.optim.base`). It moves θ by far less than θ's rounding.

>>> import numpy as np
>>> from mllib.optim import ParameterSet
>>> params, grads = {"w": np.array([1.0])}, {"w": np.array([0.5])}
>>> store = ParameterSet.from_arrays(params, grads)
>>> RMSProp().step(store, lr=0.01)
>>> params["w"].round(4)    # 1 − 0.01 · 0.5/(√0.1 · 0.5)
array([0.9684])
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_positive, check_real
from .base import Optimizer


def _unit(name: str, value) -> float:
    """A moving-average weight β: a number in [0, 1)."""
    return check_real(name, value, 0.0, 1.0, high_open=True)


class GradientDescent(Optimizer):
    """Plain (mini-batch) gradient descent, notes §7: ``θ := θ − α ∂J/∂θ``.

    Stateless; ``get_state`` holds only the step counter ``t``.
    """

    name = "gd"
    _kernel = "gd_step"

    def _kernel_scalars(self, lr):
        return (lr,)

    def _update(self, p, g, *, buf, lr):
        # θ ← θ − α g
        np.multiply(g, lr, out=buf)
        p -= buf


class Momentum(Optimizer):
    r"""Gradient descent with momentum in the notes' EMA form (§7.2).

    Parameters
    ----------
    beta1 : float in [0, 1), default 0.9
        The momentum β1 (the β of the notes' §7.2): the weight that the
        running average keeps of its old value. Each step the velocity keeps a
        fraction β1 of itself and takes the fraction 1 − β1 of the new
        gradient, so it averages about the last 1/(1 − β1) gradients. β1 = 0
        is plain gradient descent. None is the default.
    beta : float in [0, 1), optional
        Another name of ``beta1``, as the notes write it: ``Momentum(beta=0.9)``,
        ``get_optimizer("momentum", beta=0.9)`` and ``{"name": "momentum",
        "beta": 0.9}`` are ``Momentum(beta1=0.9)``, whose :meth:`get_config`
        names it ``beta1``. Giving both with different values is an error.
    nesterov : bool, default False
        Take Nesterov's look-ahead step (see Notes). Kept in
        :meth:`get_config`, so in model files.

    Notes
    -----
    With g = ∂J/∂θ at step t and v⁰ = 0::

        v^{t} = β1 v^{t-1} + (1 − β1) g^{t}
        θ^{t} = θ^{t-1} − α v^{t}

    This is the notes' §7.2 algorithm. (The notes' code also divides v by
    1 − β1^t, Remark 7.1's bias correction; the algorithm in the text does
    not, and neither does this class.) PyTorch's ``SGD(momentum=μ)`` keeps
    ``b = μ b + g`` instead, which is v/(1 − β1): it equals this class with
    its learning rate multiplied by 1 − β1.

    **Nesterov's look-ahead** (``nesterov=True``). Nesterov's method takes
    the gradient not at θ but at the point that the velocity alone would
    carry θ to, θ − α β1 v::

        v^{t} = β1 v^{t-1} + (1 − β1) ∇J(θ^{t-1} − α β1 v^{t-1})
        θ^{t} = θ^{t-1} − α v^{t}

    Hold the look-ahead point φ = θ − α β1 v as the parameters instead, so
    that the gradient is taken where the parameters are: g^{t} = ∇J(φ^{t-1}).
    Then φ^{t} = θ^{t-1} − α v^{t} − α β1 v^{t}; and θ^{t-1} = φ^{t-1} + α β1 v^{t-1}
    with β1 v^{t-1} = v^{t} − (1 − β1) g^{t}, so that::

        v^{t} = β1 v^{t-1} + (1 − β1) g^{t}
        φ^{t} = φ^{t-1} − α (β1 v^{t} + (1 − β1) g^{t})

    This is what the class computes, the parameters it holds being φ: the
    velocity of plain momentum, and a step along the velocity one step
    further on, β1 v^{t} + (1 − β1) g^{t}. PyTorch's
    ``SGD(momentum=μ, nesterov=True)`` steps θ −= lr (g + μ b) with
    b = μ b + g. With μ = β1 and b = v/(1 − β1) that is
    θ −= lr/(1 − β1) · (β1 v + (1 − β1) g): this class with
    α = lr/(1 − β1), that is lr = α (1 − β1), the same conversion as for
    plain momentum.
    """

    name = "momentum"
    _slots = ("v",)
    _hyper = ("beta1", "nesterov")
    _aliases = {"beta": "beta1"}

    def __init__(self, beta1: float | None = None, nesterov: bool = False, *,
                 beta: float | None = None):
        beta1 = _one_of_aliases("beta", beta, "beta1", beta1)
        self.beta1 = _unit("beta1" if beta is None else "beta", 0.9 if beta1 is None else beta1)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ValueError(f"nesterov must be True or False, got {nesterov!r}")
        self.nesterov = bool(nesterov)
        super().__init__()

    @property
    def _kernel(self):
        return "nesterov_step" if self.nesterov else "momentum_step"

    def _kernel_scalars(self, lr):
        nesterov = (lr * self.beta1,) if self.nesterov else ()
        return (self.beta1, 1.0 - self.beta1, lr, *nesterov)

    def _update(self, p, g, v, *, buf, lr):
        # v ← β1 v + (1 − β1) g
        v *= self.beta1
        v += np.multiply(g, 1.0 - self.beta1, out=buf)
        if self.nesterov:
            # θ ← θ − α ((1 − β1) g + β1 v), in two steps; buf holds (1 − β1) g
            buf *= lr
            p -= buf
            np.multiply(v, lr * self.beta1, out=buf)
            p -= buf
            return
        # θ ← θ − α v
        np.multiply(v, lr, out=buf)
        p -= buf


class RMSProp(Optimizer):
    r"""Root mean squared propagation (notes §7.3).

    Parameters
    ----------
    beta2 : float in [0, 1), default 0.9
        The weight the running average of g² keeps of its old value; it
        takes 1 − β2 of the new squared gradient, so it averages about the
        last 1/(1 − β2) squared gradients. 0.9 is the default of the notes'
        code and of Keras (PyTorch's is 0.99). Adam's 0.999 is too slow here,
        with no bias correction (see Notes).
    epsilon : float > 0, default 1e-8
        Added to √s so that the division is safe where s = 0.

    Notes
    -----
    With g = ∂J/∂θ at step t, squares and roots taken elementwise, s⁰ = 0::

        s^{t} = β2 s^{t-1} + (1 − β2) (g^{t})²
        θ^{t} = θ^{t-1} − α g^{t} / (√s^{t} + ε)

    The notes' text writes √(s + ε) and their code uses √ŝ + ε with the
    bias-corrected ŝ = s/(1 − β2^t). We put ε outside the root as in Adam
    (§7.4) and PyTorch's ``RMSprop``, which this class matches exactly for
    ``alpha = β2``; and, as the text, we do not correct bias. So the first
    step is α·g/(√(1 − β2)|g| + ε) ≈ α·sign(g)/√(1 − β2): about 3.2·α for
    the default β2 = 0.9, but 31.6·α for β2 = 0.999. As s fills up, within
    a few multiples of 1/(1 − β2) steps, the step tends to α·g/RMS(g). Near
    a minimum that keeps it about α long, so with a constant α the iterates
    circle the minimum within about α/2: decay the rate to converge further.

    The module's example steps RMSProp once by hand.
    """

    name = "rmsprop"
    _slots = ("s",)
    _hyper = ("beta2", "epsilon")

    def __init__(self, beta2: float = 0.9, epsilon: float = 1e-8):
        self.beta2 = _unit("beta2", beta2)
        self.epsilon = check_positive("epsilon", epsilon)
        super().__init__()

    _kernel = "rmsprop_step"

    def _kernel_scalars(self, lr):
        return (self.beta2, 1.0 - self.beta2, lr, self.epsilon)

    def _update(self, p, g, s, *, buf, lr):
        # s ← β2 s + (1 − β2) g²
        s *= self.beta2
        np.multiply(g, g, out=buf)
        buf *= 1.0 - self.beta2
        s += buf
        # θ ← θ − α g / (√s + ε)
        np.sqrt(s, out=buf)
        buf += self.epsilon
        np.divide(g, buf, out=buf)
        buf *= lr
        p -= buf


class Adam(Optimizer):
    r"""Adaptive moment estimation (notes §7.4): momentum and RMSProp together.

    Parameters
    ----------
    beta1 : float in [0, 1), default 0.9
        Weight the first-moment average m keeps of its old value.
    beta2 : float in [0, 1), default 0.999
        Weight the second-moment average v keeps of its old value.
    epsilon : float > 0, default 1e-8
        Added to √v̂ so that the division is safe.

    Notes
    -----
    With g = ∂J/∂θ at step t = 1, 2, ..., elementwise squares and roots,
    and m⁰ = v⁰ = 0 (the notes call these v and s)::

        m^{t} = β1 m^{t-1} + (1 − β1) g^{t}
        v^{t} = β2 v^{t-1} + (1 − β2) (g^{t})²
        m̂^{t} = m^{t} / (1 − β1^t)
        v̂^{t} = v^{t} / (1 − β2^t)
        θ^{t} = θ^{t-1} − α m̂^{t} / (√v̂^{t} + ε)

    exactly as the notes' text and code, and PyTorch's ``Adam``: the state
    holds m and v (PyTorch's ``exp_avg`` and ``exp_avg_sq``). As in
    scikit-learn's Adam, the two bias corrections fold into one scalar step
    size, so no m̂ or v̂ is formed: with c = √(1 − β2^t), the last line is
    the equal

        θ^{t} = θ^{t-1} − α c/(1 − β1^t) · m^{t} / (√v^{t} + c ε).
    """

    name = "adam"
    _slots = ("m", "v")
    _hyper = ("beta1", "beta2", "epsilon")

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8):
        self.beta1 = _unit("beta1", beta1)
        self.beta2 = _unit("beta2", beta2)
        self.epsilon = check_positive("epsilon", epsilon)
        super().__init__()

    def _scalars(self, lr):
        c = math.sqrt(1.0 - self.beta2 ** self.t)
        return {"step": lr * c / (1.0 - self.beta1 ** self.t), "eps": c * self.epsilon}

    _kernel = "adam_step"

    def _kernel_scalars(self, step, eps):
        return (self.beta1, 1.0 - self.beta1, self.beta2, 1.0 - self.beta2, step, eps)

    def _update(self, p, g, m, v, *, buf, step, eps):
        # m ← β1 m + (1 − β1) g
        m *= self.beta1
        m += np.multiply(g, 1.0 - self.beta1, out=buf)
        # v ← β2 v + (1 − β2) g²
        v *= self.beta2
        np.multiply(g, g, out=buf)
        buf *= 1.0 - self.beta2
        v += buf
        # θ ← θ − α m̂ / (√v̂ + ε), as step · m / (√v + eps)
        np.sqrt(v, out=buf)
        buf += eps
        np.divide(m, buf, out=buf)
        buf *= step
        p -= buf


_OPTIMIZERS = {"gd": GradientDescent, "sgd": GradientDescent, "momentum": Momentum,
               "rmsprop": RMSProp, "adam": Adam}


def get_optimizer(spec, **kwargs) -> Optimizer:
    """Build an optimizer from a name, an instance or a ``get_config()`` dict.

    Parameters
    ----------
    spec : str, Optimizer or dict
        ``"gd"`` (alias ``"sgd"``), ``"momentum"``, ``"rmsprop"`` or ``"adam"``,
        case-insensitive; an :class:`Optimizer`, returned as is; or a dict with
        ``"name"`` and hyperparameters, as :meth:`Optimizer.get_config` returns.
    **kwargs
        Hyperparameters; they override those of a dict spec. Momentum takes
        ``beta`` for ``beta1``.

    Examples
    --------
    >>> get_optimizer("adam", beta1=0.8)
    Adam(beta1=0.8, beta2=0.999, epsilon=1e-08)
    >>> get_optimizer({"name": "momentum", "beta": 0.8})    # beta: momentum's beta1
    Momentum(beta1=0.8, nesterov=False)
    """
    if isinstance(spec, Optimizer):
        if kwargs:
            raise ValueError(f"hyperparameters {sorted(kwargs)} cannot be given with an "
                             f"Optimizer instance {spec!r}")
        return spec
    given = {}
    if isinstance(spec, dict):
        given = {k: v for k, v in spec.items() if k != "name"}
        spec = spec.get("name")
    cls = _OPTIMIZERS.get(spec.strip().lower()) if isinstance(spec, str) else None
    if cls is None:
        raise ValueError(f"unknown optimizer {spec!r}; expected one of {sorted(_OPTIMIZERS)}, "
                         f"an Optimizer or a config dict")
    unknown = sorted((set(given) | set(kwargs)) - {*cls._hyper, *cls._aliases}, key=str)
    if unknown:
        aliases = "".join(f", or {a!r} for {h!r}" for a, h in cls._aliases.items())
        takes = f"{list(cls._hyper)}{aliases}" if cls._hyper else "none"
        raise ValueError(f"unknown hyperparameters {unknown} for optimizer {spec!r}; "
                         f"it takes {takes}")
    # Each source's aliases first, so that the keyword arguments still override the dict.
    return cls(**{**_canonical(cls, given), **_canonical(cls, kwargs)})


def _canonical(cls, hyper: dict) -> dict:
    """``hyper`` with each alias (momentum's ``beta``) under its hyperparameter's name."""
    hyper = dict(hyper)
    for alias, name in cls._aliases.items():
        if alias in hyper:
            hyper[name] = _one_of_aliases(alias, hyper.pop(alias), name, hyper.get(name))
    return hyper


def _one_of_aliases(alias: str, alias_value, name: str, value):
    """The value of a hyperparameter given under its name or its alias (None if neither);
    ValueError naming both when both are given with different values."""
    if alias_value is None:
        return value
    if value is not None and value != alias_value:
        raise ValueError(f"{alias} and {name} are two names of the same hyperparameter; "
                         f"give one, got {alias}={alias_value!r} and {name}={value!r}")
    return alias_value
