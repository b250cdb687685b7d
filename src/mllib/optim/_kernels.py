"""The optimizers' steps as compiled kernels (the ``mllib[fast]`` extra), one pass each.

Each kernel is the twin of one ``_update`` of :mod:`mllib.optim.optimizers` and
says which: element by element it does that method's operations in its order,
each rounded to the arrays' dtype, so θ and the state get its bits
(:mod:`mllib._jit` says how). The scalars come already rounded to the dtype, as
NumPy rounds a Python float beside a float32 array; a kernel writes no constant
of its own, since numba would type it float64. Where the NumPy code keeps a
product in its scratch buffer and uses it twice (Nesterov's (1 − β1) g), the
kernel keeps it in a variable: the same rounded value.

One pass, where NumPy makes a dozen over the whole buffers, each leaving its
result in memory for the next (bench/RESULTS.md has the figures).

Tiny moments, as :meth:`Optimizer.step <mllib.optim.base.Optimizer.step>`
handles them on the NumPy path (see :mod:`mllib.optim.base`): a kernel clears the
CPU's underflow flag, makes its pass, and reads the flag; if an operation
underflowed, it sets the state's entries with |x| < tiny to +0. The flag is
raised by the same operations on the same values in both paths, so the same
steps flush. A kernel returns the exception flags of its pass (C's
``fetestexcept``), which :func:`mllib._jit.report` hands to NumPy's error state
as the ufuncs' would have been.

This module imports numba; :func:`mllib._jit.load` imports it when the kernels
are wanted.
"""

from __future__ import annotations

import numpy as np
from numba import types

from .._jit import FLAGS, njit

_fetestexcept = types.ExternalFunction("fetestexcept", types.intc(types.intc))
_feclearexcept = types.ExternalFunction("feclearexcept", types.intc(types.intc))
UNDERFLOW = FLAGS["under"]
ALL = FLAGS["invalid"] | FLAGS["divide"] | FLAGS["over"] | FLAGS["under"]


@njit
def _flush_tiny(a, tiny):
    """:func:`mllib.optim.blocks.flush_tiny` on one array: |x| < tiny to +0."""
    for i in range(a.shape[0]):
        if abs(a[i]) < tiny:
            a[i] = 0


@njit
def gd_step(p, g, lr):
    """:meth:`GradientDescent._update <mllib.optim.optimizers.GradientDescent._update>`:
    θ ← θ − α g."""
    _feclearexcept(ALL)
    for i in range(p.shape[0]):
        p[i] -= g[i] * lr
    return _fetestexcept(ALL)


@njit
def momentum_step(p, g, v, beta1, one_minus_beta1, lr, tiny):
    """:meth:`Momentum._update <mllib.optim.optimizers.Momentum._update>` without
    Nesterov: v ← β1 v + (1 − β1) g, θ ← θ − α v."""
    _feclearexcept(ALL)
    for i in range(p.shape[0]):
        vi = v[i] * beta1 + g[i] * one_minus_beta1
        v[i] = vi
        p[i] -= vi * lr
    flags = _fetestexcept(ALL)
    if flags & UNDERFLOW:
        _flush_tiny(v, tiny)
    return flags


@njit
def nesterov_step(p, g, v, beta1, one_minus_beta1, lr, lr_beta1, tiny):
    """:meth:`Momentum._update <mllib.optim.optimizers.Momentum._update>` with
    Nesterov: v ← β1 v + (1 − β1) g, then θ ← θ − α (1 − β1) g, θ ← θ − (α β1) v."""
    _feclearexcept(ALL)
    for i in range(p.shape[0]):
        scaled = g[i] * one_minus_beta1
        vi = v[i] * beta1 + scaled
        v[i] = vi
        p[i] = (p[i] - scaled * lr) - vi * lr_beta1
    flags = _fetestexcept(ALL)
    if flags & UNDERFLOW:
        _flush_tiny(v, tiny)
    return flags


@njit
def rmsprop_step(p, g, s, beta2, one_minus_beta2, lr, eps, tiny):
    """:meth:`RMSProp._update <mllib.optim.optimizers.RMSProp._update>`:
    s ← β2 s + (1 − β2) g², θ ← θ − α g / (√s + ε)."""
    _feclearexcept(ALL)
    for i in range(p.shape[0]):
        gi = g[i]
        si = s[i] * beta2 + (gi * gi) * one_minus_beta2
        s[i] = si
        p[i] -= (gi / (np.sqrt(si) + eps)) * lr
    flags = _fetestexcept(ALL)
    if flags & UNDERFLOW:
        _flush_tiny(s, tiny)
    return flags


@njit
def adam_step(p, g, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, step, eps, tiny):
    """:meth:`Adam._update <mllib.optim.optimizers.Adam._update>`: m ← β1 m + (1 − β1) g,
    v ← β2 v + (1 − β2) g², θ ← θ − step · m / (√v + eps)."""
    _feclearexcept(ALL)
    for i in range(p.shape[0]):
        gi = g[i]
        mi = m[i] * beta1 + gi * one_minus_beta1
        vi = v[i] * beta2 + (gi * gi) * one_minus_beta2
        m[i] = mi
        v[i] = vi
        p[i] -= (mi / (np.sqrt(vi) + eps)) * step
    flags = _fetestexcept(ALL)
    if flags & UNDERFLOW:
        _flush_tiny(m, tiny)
        _flush_tiny(v, tiny)
    return flags
