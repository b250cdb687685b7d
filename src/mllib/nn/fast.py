"""The speed tricks of the layers, in one place, each beside the plain form it equals.

Every function here returns what its plain form returns (the same bits, or
within rounding where the order of a sum differs); ``tests/nn/test_fast.py``
compares each with its plain form. Each is here because it measured faster
than its plain form on float32 batches of the benchmark's shapes; the figures
are in bench/RESULTS.md ("Figures moved out of the docstrings").
"""

from __future__ import annotations

import math

import numpy as np


def column_sums(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Σ over the rows of the 2-D ``a``; the plain form is ``a.sum(axis=0)``.

    Computed as the BLAS product 1ᵀ a, under half the time of
    ``np.add.reduce``. It is on every training step, in every Dense bias and
    batch-norm layer. BLAS sums in another order, so the two agree to
    rounding, not bit for bit.
    """
    return np.matmul(np.ones(a.shape[0], dtype=a.dtype), a, out=out)


# Up to this many columns, row_max compares column against column.
ROW_MAX_COLUMNS = 16


def row_max(z: np.ndarray) -> np.ndarray:
    """The maximum of each row of the 2-D ``z``, shape (N, 1); the plain form is
    ``z.max(axis=1, keepdims=True)``, with the same bits.

    NumPy reduces each row by itself, at a fixed cost a row, which is nearly all
    the cost for the few columns of a classifier's output. Column against
    column, n − 1 calls of ``np.maximum`` over all the rows take a twentieth of
    that time for 10 columns. (The maximum is exact and propagates NaN
    either way; of two zeros either sign may win, which no caller can tell apart:
    they subtract it, and e^{±0} = 1.)
    """
    n = z.shape[1]
    if n > ROW_MAX_COLUMNS or n == 0:
        return z.max(axis=1, keepdims=True)
    out = z[:, :1].copy()
    for j in range(1, n):
        np.maximum(out, z[:, j:j + 1], out=out)
    return out


def relu(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """max(z, 0) elementwise, into ``out`` if given (``z`` itself may be ``out``);
    the plain form is ``np.maximum(z, 0)``, with the same bits.

    Taken against a row of zeros rather than the scalar 0, which NumPy's
    ``maximum`` handles at half the speed.
    """
    return np.maximum(z, np.zeros(z.shape[-1:], dtype=z.dtype), out=out)


def bernoulli(rng: np.random.Generator, p: float, shape) -> np.ndarray:
    """A boolean array of i.i.d. Bernoulli(p) entries, as ``u < t`` for 32-bit uniforms u.

    The plain form draws one uniform 32-bit integer u per entry and keeps it
    when u < t, t = ⌊p · 2³²⌋, so P(True) = t / 2³², within 2⁻³² of p. This
    draws a quarter of those bits: with u = u₁ · 2²⁴ + u₂ for a random byte u₁,
    u < t exactly when u₁ < t₁, or u₁ = t₁ and u₂ < t₂ (t = t₁ · 2²⁴ + t₂), so
    only the ties, one entry in 256, need the 24 further bits u₂
    (:func:`below_threshold`): half the time of whole 32-bit words, a quarter
    of ``rng.random(dtype=np.float32) < p``.
    """
    n = math.prod(shape)
    t = min(int(p * 2.0**32), 2**32 - 1)
    bits = rng.bit_generator
    u1 = bits.random_raw((n + 7) // 8).view(np.uint8)[:n]
    # u₂: the top 24 bits of a fresh 64-bit word per tie.
    keep = below_threshold(u1, lambda k: bits.random_raw(k) >> np.uint64(40), t)
    return keep.reshape(shape)


def below_threshold(u1: np.ndarray, tails, t: int) -> np.ndarray:
    """[u < t] for u = u₁ · 2²⁴ + u₂, given the top bytes ``u1`` (uint8).

    ``tails(k)`` returns the 24-bit low parts u₂ of the k entries whose top
    byte ties with t's; no others are needed.
    """
    t1, t2 = divmod(t, 2**24)
    keep = u1 < np.uint8(t1)
    ties = np.flatnonzero(u1 == np.uint8(t1))
    if ties.size:
        keep[ties] = tails(ties.size) < np.uint64(t2)
    return keep
