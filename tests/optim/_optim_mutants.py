"""Wrong twins of the optimizers' kernels, which tests/optim/test_step_kernels.py must catch.

Each is :mod:`mllib.optim._kernels`'s kernel with one change, compiled as the
kernels are (serial, no fastmath, NumPy's error model, cached).
"""

import numba
import numpy as np

from mllib.optim._kernels import ALL, UNDERFLOW, _feclearexcept, _fetestexcept, _flush_tiny

kernel = numba.njit(error_model="numpy", cache=True)


@kernel
def gd_step_nothing(p, g, lr):
    """Leaves θ as it is."""
    return 0


@kernel
def adam_step_reordered(p, g, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, step, eps,
                        tiny):
    """step · m / (√v + eps) as (step · m) / (√v + eps), not (m / (√v + eps)) · step."""
    _feclearexcept(ALL)
    for i in range(p.shape[0]):
        gi = g[i]
        mi = m[i] * beta1 + gi * one_minus_beta1
        vi = v[i] * beta2 + (gi * gi) * one_minus_beta2
        m[i] = mi
        v[i] = vi
        p[i] -= (mi * step) / (np.sqrt(vi) + eps)
    flags = _fetestexcept(ALL)
    if flags & UNDERFLOW:
        _flush_tiny(m, tiny)
        _flush_tiny(v, tiny)
    return flags


@kernel
def rmsprop_step_reordered(p, g, s, beta2, one_minus_beta2, lr, eps, tiny):
    """(1 − β2) g² as g · ((1 − β2) g), not (g · g) · (1 − β2)."""
    _feclearexcept(ALL)
    for i in range(p.shape[0]):
        gi = g[i]
        si = s[i] * beta2 + gi * (gi * one_minus_beta2)
        s[i] = si
        p[i] -= (gi / (np.sqrt(si) + eps)) * lr
    flags = _fetestexcept(ALL)
    if flags & UNDERFLOW:
        _flush_tiny(s, tiny)
    return flags


@kernel
def adam_step_without_flush(p, g, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, step,
                            eps, tiny):
    """Keeps subnormal moments."""
    _feclearexcept(ALL)
    for i in range(p.shape[0]):
        gi = g[i]
        mi = m[i] * beta1 + gi * one_minus_beta1
        vi = v[i] * beta2 + (gi * gi) * one_minus_beta2
        m[i] = mi
        v[i] = vi
        p[i] -= (mi / (np.sqrt(vi) + eps)) * step
    return _fetestexcept(ALL)
