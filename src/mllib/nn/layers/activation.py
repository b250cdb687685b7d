"""An activation function as a layer: ``A = g(Z)``."""

from __future__ import annotations

from ..activations import get_activation
from .base import Layer


class ActivationLayer(Layer):
    """Applies g elementwise (softmax: per row) and caches the output ``A``.

    Backward returns ``r g_Z(δ)``, computed from the cached output (see
    :mod:`mllib.nn.activations`).
    """

    def __init__(self, activation):
        super().__init__()
        self.activation = get_activation(activation)
        self._a = None

    def forward(self, x, training=False):
        self._a = self.activation.forward(x)
        return self._a

    def forward_owned(self, x):
        # Inference only: no backward pass follows, so no output is cached for one.
        self._a = None
        return self.activation.forward_into(x)

    def forward_owned_biased(self, z, b, kernels=None):
        """:meth:`forward_owned` of ``z + b``, the bias added in place (a Dense layer's, see
        :meth:`Dense.forward_activated <mllib.nn.layers.Dense.forward_activated>`)."""
        self._a = None
        return self.activation.forward_biased_into(z, b, kernels)

    def backward(self, delta):
        return self.activation.backward(self._a, delta)

    def get_config(self):
        return {"activation": self.activation.get_config()}
