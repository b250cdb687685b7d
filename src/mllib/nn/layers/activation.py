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
        self._kernels = None   # the compiled kernels of the last forward_biased, if any

    def forward(self, x, training=False):
        self._a, self._kernels = self.activation.forward(x), None
        return self._a

    def forward_owned(self, x):
        # Inference only: no backward pass follows, so no output is cached for one.
        self._a, self._kernels = None, None
        return self.activation.forward_into(x)

    def forward_biased(self, z, b, training, kernels=None):
        """:meth:`forward` of ``z + b`` (``b`` None: of z), written over z, which the caller
        owns: a Dense layer's new output and its bias (:meth:`Dense.forward_activated
        <mllib.nn.layers.Dense.forward_activated>`). With ``kernels``
        (:mod:`mllib.nn._kernels`) the bias and g take one pass where a kernel has g, and
        so does the backward pass after it; the bits are the same."""
        a = self.activation.forward_into(z) if b is None else \
            self.activation.forward_biased_into(z, b, kernels)
        self._a, self._kernels = (a, kernels) if training else (None, None)
        return a

    def backward(self, delta):
        if self._kernels is not None:
            return self.activation.backward_compiled(self._a, delta, self._kernels)
        return self.activation.backward(self._a, delta)

    def get_config(self):
        return {"activation": self.activation.get_config()}
