"""Weight initializers (notes §6; the earlier notes' §2.3.1 and §3).

An initializer is called as ``init(shape, rng, dtype)`` and returns a new
array; ``shape = (n[l], n[l-1])`` for weights, so ``shape[1]`` is fan-in.

- ``"small"``: randn · 0.01, the notes' default.
- ``"he"``: randn · √(2 / n[l-1]), so E[w²] = 2/n[l-1]; for ReLU layers.
- ``"xavier"``: randn · √(1 / n[l-1]), so E[w²] = 1/n[l-1]; for tanh layers.
- ``"zeros"``: all zeros, for biases.

Any callable with the same signature is accepted as well.

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
