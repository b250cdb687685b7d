"""Inference's bias and activation as compiled kernels (the ``mllib[fast]`` extra).

In inference a Dense layer's ``Z = X Wᵀ`` gets its bias, ``Z += b``, and then its
activation, written over Z (:meth:`Activation.forward_into
<mllib.nn.activations.Activation.forward_into>`): two passes over an array of
rows × units, far larger than the cache. A kernel here does both in one pass,
element by element with the same IEEE operations, so the same bits
(:mod:`mllib._jit` says how). Only for ReLU and leaky ReLU: the other activations
call exp or tanh, whose NumPy implementations round differently from numba's.

This module imports numba; :func:`mllib._jit.load` imports it when the kernels
are wanted.
"""

from __future__ import annotations

from .._jit import njit


@njit
def bias_relu(z, b):
    """``z += b`` then :func:`mllib.nn.fast.relu` ``(z, out=z)``, in place on the 2-D ``z``.

    ``np.maximum`` gives NaN for NaN and, for −0, the +0 it is compared with;
    ``x > 0 or x != x`` keeps exactly the x it would return.
    """
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            x = z[i, j] + b[j]
            if x > 0 or x != x:
                z[i, j] = x
            else:
                z[i, j] = 0
    return z


@njit
def bias_leaky_relu(z, b, beta):
    """``z += b`` then :meth:`LeakyReLU.forward_into <mllib.nn.activations.LeakyReLU.forward_into>`,
    ``np.maximum(z, β z, out=z)``, in place on the 2-D ``z``; ``beta`` in z's dtype.

    Where x and βx are equal (zeros of one sign), either is the same bits; a NaN
    on either side is kept, as ``np.maximum`` keeps it.
    """
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            x = z[i, j] + b[j]
            scaled = x * beta
            if x > scaled or x != x:
                z[i, j] = x
            else:
                z[i, j] = scaled
    return z
