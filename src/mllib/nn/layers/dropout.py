"""Inverted dropout (notes §5.1)."""

from __future__ import annotations

import math

import numpy as np

from ..._validation import check_real
from .base import Layer, check_rng


class Dropout(Layer):
    """Keeps each unit with probability ``keep_prob`` and rescales by 1/keep_prob.

    In training, with a fresh mask D of i.i.d. Bernoulli(keep_prob) entries
    drawn from the model's Generator on every call,

        A_out = A ⊙ D / keep_prob,        ∂J/∂A = δ ⊙ D / keep_prob,

    so the expected activation is unchanged and inference is the identity.
    The mask of the last training pass, already divided by keep_prob, is
    ``self.mask``. Setting ``self.frozen = True`` reuses it instead of drawing
    a new one while its shape fits, which a gradient check needs.

    Parameters
    ----------
    keep_prob : float in (0, 1]
    rng : numpy.random.Generator
        Draws the masks; required (the model's Generator), so that a seed
        fixes every mask.
    """

    def __init__(self, keep_prob, *, rng=None):
        super().__init__()
        self.keep_prob = check_real("keep_prob", keep_prob, 0.0, 1.0, low_open=True)
        self.rng = check_rng(rng, "Dropout")
        self.mask = None
        self.frozen = False
        self._mask_used = None

    def forward(self, x, training=False):
        if not training or self.keep_prob == 1.0:
            self._mask_used = None
            return x
        if not (self.frozen and self.mask is not None and self.mask.shape == x.shape):
            self.mask = self._draw_mask(x.shape, x.dtype)
        self._mask_used = self.mask
        return x * self.mask

    def _draw_mask(self, shape, dtype):
        """D = [u < t] / keep_prob, for u uniform on the 32-bit integers and t = ⌊keep_prob · 2³²⌋.

        Each unit is kept with probability t / 2³², within 2⁻³² of keep_prob.
        The comparison is made a byte at a time, which draws a quarter of the
        random bits that comparing whole 32-bit words would: write
        t = hi · 2²⁴ + lo and u = u₁ · 2²⁴ + u₂ with u₁ a random byte. Then
        u < t exactly when u₁ < hi, or u₁ = hi and u₂ < lo; only the units
        that tie, one in 256, need the 24 further bits u₂.
        """
        n = math.prod(shape)
        hi, lo = divmod(min(int(self.keep_prob * 2.0**32), 2**32 - 1), 2**24)
        bits = self.rng.bit_generator
        u1 = bits.random_raw((n + 7) // 8).view(np.uint8)[:n]
        keep = u1 < np.uint8(hi)
        ties = np.flatnonzero(u1 == np.uint8(hi))
        if ties.size:
            # u₂ < lo for u₂ the top 24 bits of a fresh 64-bit word w: w < lo · 2⁴⁰.
            keep[ties] = bits.random_raw(ties.size) < np.uint64(lo << 40)
        mask = keep.reshape(shape).astype(dtype)
        mask *= 1.0 / self.keep_prob
        return mask

    def backward(self, delta):
        if self._mask_used is None:
            return delta
        return delta * self._mask_used

    def get_config(self):
        return {"keep_prob": self.keep_prob}
