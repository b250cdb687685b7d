"""Inverted dropout (notes §5.1)."""

from __future__ import annotations

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
        """D = [u < keep_prob] / keep_prob, for u uniform on the 32-bit integers.

        Raw generator output, two 32-bit draws per 64-bit word, is about twice
        as fast as drawing floats, and compared with ⌊keep_prob · 2³²⌋ it keeps
        each unit with a probability within 2⁻³² of keep_prob.
        """
        n = int(np.prod(shape))
        u = self.rng.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n]
        threshold = np.uint32(min(int(self.keep_prob * 2.0**32), 2**32 - 1))
        keep = (u < threshold).reshape(shape)
        return np.multiply(keep, dtype.type(1.0 / self.keep_prob), dtype=dtype)

    def backward(self, delta):
        if self._mask_used is None:
            return delta
        return delta * self._mask_used

    def get_config(self):
        return {"keep_prob": self.keep_prob}
