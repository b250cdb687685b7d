"""A layer's bias and activation, and ReLU's backward, as compiled kernels (``mllib[fast]``).

A Dense layer's ``Z = X Wᵀ`` gets its bias, ``Z += b``, and then its activation,
written over Z (:meth:`Activation.forward_into
<mllib.nn.activations.Activation.forward_into>`): two passes over an array of
rows × units, in inference far larger than the cache. A kernel here does both in
one pass, element by element with the same IEEE operations, so the same bits
(:mod:`mllib._jit` says how). Only for ReLU and leaky ReLU: the other activations
call exp or tanh, whose NumPy implementations round differently from numba's.
Their backward, δ times a slope chosen by a > 0, is one pass too, without NumPy's
temporary array of booleans and its cast.

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


@njit
def relu_backward(a, delta, out, one, slope):
    """:meth:`ReLU.backward <mllib.nn.activations.ReLU.backward>`, ``delta * (a > 0)``
    (``slope`` 0), and :meth:`LeakyReLU.backward <mllib.nn.activations.LeakyReLU.backward>`,
    δ times 1 where a > 0 and β elsewhere (``slope`` β): into ``out``, all 2-D and of one
    dtype, as ``one`` and ``slope`` are. δ · 0 is −0 for δ < 0 and NaN for δ = ±∞ or NaN,
    as NumPy's product with the boolean."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if a[i, j] > 0:
                out[i, j] = delta[i, j] * one
            else:
                out[i, j] = delta[i, j] * slope
    return out
