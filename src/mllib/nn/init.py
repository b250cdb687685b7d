"""Weight initializers (notes §6; the earlier notes' §2.3.1 and §3).

An initializer is called as ``init(shape, rng, dtype)`` and returns a new
array; ``shape = (n[l], n[l-1])`` for weights, so ``shape[1]`` is fan-in.
``init=`` of a network takes any of these specs:

- ``"he"``: randn · √(2 / n[l-1]), so E[w²] = 2/n[l-1]; for ReLU layers.
- ``"xavier"``: randn · √(1 / n[l-1]), so E[w²] = 1/n[l-1]; for tanh layers.
- ``"small"``: randn · 0.01, the notes' default.
- ``"zeros"``: all zeros; every unit of a layer then stays the same as the
  others (the notes' logistic regression starts there, at w = 0).
- ``{"name": "normal", "scale": s}``, or the string ``"normal:s"``, or
  ``Normal(s)``: randn · s for a finite s > 0, whatever the fan-in; the
  course's "random init scaled by 10" is ``{"name": "normal", "scale": 10}``.
  (``"small"`` is ``Normal(0.01)``, to the bit.) A network refuses an s so
  large that a weight could overflow its dtype.
- ``{"name": "he"}`` and the like: the name alone.
- Any other callable with the same signature.

Every spec but a callable is data: :func:`init_config` gives its JSON form
(a name, or the dict of ``"normal"``), which a network's ``get_config`` and
its model file keep. A callable cannot be saved in a model file.

Notes
-----
The names follow the course, not the papers. "xavier" here is √(1/n[l-1]),
as in the course (the notes point to "Xavier Initialization"); in the
literature that is LeCun normal initialization. Glorot and Bengio's own
("glorot_normal" in Keras, ``xavier_normal_`` in PyTorch) has the variance
2/(n[l-1] + n[l]), one over the mean of fan-in and fan-out.

The notes' §6 asks for E[w²] = 1/n[l-1] when g = ReLU. "he" uses
2/n[l-1] instead, after He et al. (2015): if the pre-activations z are
symmetric about 0, ReLU zeroes half of them, so E[a²] = E[z²]/2, and
keeping Var(z[l]) = n[l-1] E[w²] E[a[l-1]²] constant from layer to layer
needs E[w²] = 2/n[l-1]. With 1/n[l-1], the variance of z halves at every
ReLU layer, and signals and gradients vanish in a deep network. 1/n[l-1]
is right for tanh, which is linear near 0 and keeps E[a²] ≈ E[z²].
"""

from __future__ import annotations

import numpy as np

from .._validation import check_positive


class Normal:
    """randn · ``scale``: normal weights of standard deviation ``scale`` > 0 (finite).

    >>> Normal(10).get_config()
    {'name': 'normal', 'scale': 10.0}
    """

    name = "normal"

    def __init__(self, scale):
        self.scale = check_positive("scale", scale)

    def __call__(self, shape, rng, dtype):
        return (rng.standard_normal(shape) * self.scale).astype(dtype)

    def get_config(self) -> dict:
        """The JSON form of this initializer, as ``init=`` and model files take it."""
        return {"name": self.name, "scale": self.scale}

    def __repr__(self):
        return f"Normal(scale={self.scale!r})"


small = Normal(0.01)


def he(shape, rng, dtype):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / _fan_in(shape))).astype(dtype)


def xavier(shape, rng, dtype):
    return (rng.standard_normal(shape) * np.sqrt(1.0 / _fan_in(shape))).astype(dtype)


def zeros(shape, rng, dtype):
    return np.zeros(shape, dtype=dtype)


def _fan_in(shape):
    return shape[1] if len(shape) > 1 else shape[0]


INITIALIZERS = {"small": small, "he": he, "xavier": xavier, "zeros": zeros}
# The initializers that take parameters, and the parameters each takes.
PARAMETRIZED = {"normal": (Normal, ("scale",))}


def init_config(spec):
    """The JSON form of an ``init`` spec: a name, or ``{"name": "normal", "scale": s}``
    (a new dict); a callable other than :class:`Normal` is returned as it is.

    ValueError for an unknown name, an unknown or missing key, or a bad scale.

    >>> init_config("normal:10"), init_config({"name": "he"})
    ({'name': 'normal', 'scale': 10.0}, 'he')
    """
    if type(spec) is Normal:
        return spec.get_config()
    if callable(spec):
        return spec
    if isinstance(spec, str) and spec.partition(":")[0] in PARAMETRIZED:
        return _from_dict(_from_string(spec), spec)
    if isinstance(spec, dict):
        return _from_dict(spec, spec)
    if isinstance(spec, str) and spec in INITIALIZERS:
        return spec
    raise ValueError(f"unknown init {spec!r}; expected one of {sorted(INITIALIZERS)}, "
                     "{'name': 'normal', 'scale': s} (or 'normal:s') or a callable")


def get_initializer(spec):
    """The initializer ``init(shape, rng, dtype)`` that ``spec`` names (see
    :func:`init_config`), or ``spec`` itself if it is callable."""
    config = init_config(spec)
    if callable(config):
        return config
    if isinstance(config, str):
        return INITIALIZERS[config]
    cls, _ = PARAMETRIZED[config["name"]]
    return cls(**{k: v for k, v in config.items() if k != "name"})


def _from_string(text):
    """``"normal:10"`` as ``{"name": "normal", "scale": 10.0}``."""
    name, _, value = text.partition(":")
    try:
        scale = float(value)
    except ValueError:
        raise ValueError(f"init {text!r} must be 'normal:s' with a number s > 0, such as "
                         "'normal:10'") from None
    return {"name": name, "scale": scale}


def _from_dict(spec, shown):
    """A dict spec in its JSON form: the name alone, or the checked dict of "normal".
    ``shown`` is the spec as the user gave it, for the messages."""
    name = spec.get("name")
    known = {**{k: () for k in INITIALIZERS}, **{k: v[1] for k, v in PARAMETRIZED.items()}}
    if not isinstance(name, str) or name not in known:
        raise ValueError(f"init {shown!r} needs 'name', one of {sorted(known)}")
    keys = known[name]
    unknown = sorted(set(spec) - {"name", *keys}, key=str)
    if unknown:
        takes = f"takes only {list(keys)}" if keys else "takes no parameters"
        raise ValueError(f"unknown keys {unknown} in init {shown!r}: {name!r} {takes}")
    missing = [k for k in keys if k not in spec]
    if missing:
        raise ValueError(f"init {shown!r} needs {missing}, such as "
                         "{'name': 'normal', 'scale': 10.0}")
    if not keys:
        return name
    try:
        return PARAMETRIZED[name][0](**{k: spec[k] for k in keys}).get_config()
    except ValueError as err:
        raise ValueError(f"init {shown!r}: {err}") from None
