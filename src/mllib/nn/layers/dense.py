"""The fully connected layer (notes §3)."""

from __future__ import annotations

import numpy as np

from ..._validation import check_int, check_rng, is_sparse
from ..fast import column_sums
from ..init import get_initializer
from .base import Layer


class Dense(Layer):
    """Affine map ``Z = X Wᵀ + b``, the notes' ``z[l] = W[l] a[l-1] + b[l]`` transposed.

    Parameters
    ----------
    n_in, n_out : int
        ``n[l-1]`` and ``n[l]``; ``W`` has shape ``(n_out, n_in)`` as in the notes.
    bias : bool
        Whether the layer has ``b`` of shape ``(n_out,)``.
    init : str or callable
        Weight initializer (see :mod:`mllib.nn.init`); biases start at zero.
    regularizer : LpRegularizer, optional
        Adds λ/(2N) Σ|W|^p to the cost and its gradient to ``grads["W"]``.
    rng : numpy.random.Generator
        Draws the initial weights; required, so that a seed fixes them.
    dtype : numpy dtype

    Notes
    -----
    With X of shape (N, n_in) and upstream δ = ∂J/∂Z of shape (N, n_out):

        ∂J/∂W = δᵀ X  (+ ∂R/∂W),    ∂J/∂b = Σ_rows δ,    ∂J/∂X = δ W.

    :meth:`backward_params` computes the first two only, for the first layer
    of a network, which needs no ∂J/∂X.

    X may be a SciPy sparse matrix (CSR, say; found by duck typing, see
    :func:`mllib._validation.is_sparse`) in a first layer: ``X Wᵀ`` is then
    SciPy's sparse × dense product, a dense (N, n_out) array, and
    ``δᵀ X = (Xᵀ δ)ᵀ`` is computed as the sparse Xᵀ times the dense δ, so X is
    never densified. With sample weights (``penalty_rows = Σw``) the penalty's
    gradient takes N = Σw, as the cost's penalty λ/(2Σw) Σ|W|^p does.
    """

    def __init__(self, n_in, n_out, *, bias=True, init="he", regularizer=None,
                 rng=None, dtype=np.float32):
        super().__init__()
        self.n_in, self.n_out = check_int("Dense n_in", n_in, 1), check_int("Dense n_out", n_out, 1)
        rng = check_rng(rng, "Dense rng")
        self.bias = bool(bias)
        self.regularizer = regularizer
        self.params["W"] = get_initializer(init)((self.n_out, self.n_in), rng, dtype)
        self.grads["W"] = np.zeros_like(self.params["W"])
        if self.bias:
            self.params["b"] = np.zeros(self.n_out, dtype=dtype)
            self.grads["b"] = np.zeros_like(self.params["b"])
        self._x = None

    def forward(self, x, training=False):
        self._x = x
        z = x @ self.params["W"].T
        if self.bias:
            z += self.params["b"]
        return z

    def forward_activated(self, x, activation_layer, kernels=None, training=False):
        """``activation_layer.forward(self.forward(x, training), training)``, with its bits,
        the activation written over this layer's new output.

        The bias is left to the activation, which adds it in the same pass as it
        applies g when ``kernels`` (:mod:`mllib.nn._kernels`) has a kernel for g.
        """
        self._x = x
        z = x @ self.params["W"].T
        return activation_layer.forward_biased(z, self.params["b"] if self.bias else None,
                                               training, kernels)

    def backward(self, delta):
        self.backward_params(delta)
        return delta @ self.params["W"]           # ∂J/∂X = δ W

    def backward_params(self, delta):
        x = self._x
        if is_sparse(x):
            self.grads["W"][...] = (x.T @ delta).T  # ∂J/∂W = δᵀ X = (Xᵀ δ)ᵀ, sparse Xᵀ
        else:
            np.matmul(delta.T, x, out=self.grads["W"])  # ∂J/∂W = δᵀ X
        if self.regularizer is not None:
            rows = x.shape[0] if self.penalty_rows is None else self.penalty_rows
            self.regularizer.add_gradient(self.params["W"], self.grads["W"], rows)
        if self.bias:
            column_sums(delta, out=self.grads["b"])  # ∂J/∂b = Σ_rows δ

    def penalty(self, n_samples):
        if self.regularizer is None:
            return 0.0
        return self.regularizer.penalty(self.params["W"], n_samples)

    def get_config(self):
        return {"n_in": self.n_in, "n_out": self.n_out, "bias": self.bias}
