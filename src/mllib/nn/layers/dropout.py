"""Inverted dropout (notes §5.1)."""

from __future__ import annotations

from ..._validation import check_real, check_rng
from ..fast import bernoulli
from .base import Layer


class Dropout(Layer):
    """Keeps each unit with probability ``keep_prob`` and rescales by 1/keep_prob.

    In training, with a fresh mask D of i.i.d. Bernoulli(keep_prob) entries
    drawn from the model's Generator on every call,

        A_out = A ⊙ D / keep_prob,        ∂J/∂A = δ ⊙ D / keep_prob,

    so the expected activation is unchanged and inference is the identity.
    The mask of the last training pass, already divided by keep_prob, is
    ``self.mask``. After ``freeze()`` the layer reuses it instead of drawing a
    new one while its shape fits, which a gradient check needs.

    Parameters
    ----------
    keep_prob : float in (0, 1]
    rng : numpy.random.Generator
        Draws the masks; required (the model's Generator), so that a seed
        fixes every mask. P(keep) is ⌊keep_prob · 2³²⌋ / 2³²
        (:func:`mllib.nn.fast.bernoulli`).
    """

    def __init__(self, keep_prob, *, rng=None):
        super().__init__()
        self.keep_prob = check_real("keep_prob", keep_prob, 0.0, 1.0, low_open=True)
        self.rng = check_rng(rng, "Dropout rng")
        self.mask = None
        self._mask_used = None

    def use_rng(self, rng):
        previous, self.rng = self.rng, check_rng(rng, "Dropout rng")
        return previous

    def forward(self, x, training=False):
        if not training or self.keep_prob == 1.0:
            self._mask_used = None
            return x
        if not (self.frozen and self.mask is not None and self.mask.shape == x.shape):
            D = bernoulli(self.rng, self.keep_prob, x.shape)
            self.mask = D.astype(x.dtype)
            self.mask *= 1.0 / self.keep_prob   # D ∈ {0, 1}: the bits of D / keep_prob
        self._mask_used = self.mask
        return x * self.mask

    def backward(self, delta):
        if self._mask_used is None:
            return delta
        return delta * self._mask_used

    def get_config(self):
        return {"keep_prob": self.keep_prob}
