"""Weight initializers (notes §6 and the earlier notes' §3).

An initializer is called as ``init(shape, rng, dtype)`` and returns a new
array; ``shape = (n[l], n[l-1])`` for weights, so ``shape[1]`` is fan-in.

- ``"small"``: randn · 0.01, the notes' default.
- ``"he"``: randn · √(2 / n[l-1]), for ReLU layers, E[w²] = 2/n[l-1].
- ``"xavier"``: randn · √(1 / n[l-1]), for tanh layers, E[w²] = 1/n[l-1].
- ``"zeros"``: all zeros, for biases.

Any callable with the same signature is accepted as well.
"""

from __future__ import annotations

import numpy as np


def small(shape, rng, dtype):
    return (rng.standard_normal(shape) * 0.01).astype(dtype)


def he(shape, rng, dtype):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / _fan_in(shape))).astype(dtype)


def xavier(shape, rng, dtype):
    return (rng.standard_normal(shape) * np.sqrt(1.0 / _fan_in(shape))).astype(dtype)


def zeros(shape, rng, dtype):
    return np.zeros(shape, dtype=dtype)


def _fan_in(shape):
    return shape[1] if len(shape) > 1 else shape[0]


INITIALIZERS = {"small": small, "he": he, "xavier": xavier, "zeros": zeros}


def get_initializer(spec):
    """Return the initializer named by ``spec``, or ``spec`` if it is callable."""
    if callable(spec):
        return spec
    if spec not in INITIALIZERS:
        raise ValueError(
            f"unknown init {spec!r}; expected one of {sorted(INITIALIZERS)} or a callable"
        )
    return INITIALIZERS[spec]
