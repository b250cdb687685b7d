"""Batch normalization of a hidden layer's pre-activations (notes §9)."""

from __future__ import annotations

import numpy as np

from ..._validation import check_int, check_positive, check_real
from .base import Layer


class BatchNorm(Layer):
    """``Z̃ = γ ⊙ Ẑ + β`` with ``Ẑ = (U − μ) / √(σ² + ε)``, per feature.

    In training, μ and σ² are the batch mean and biased batch variance
    (divided by N) of U over the rows. At inference the running averages are
    used instead. After each training step, :meth:`update_state` folds the
    batch statistics into them by the notes' exponential moving average with
    momentum m (notes §9.2):

        running_mean ← m · running_mean + (1 − m) · μ
        running_var  ← m · running_var  + (1 − m) · σ²

    They start at 0 and 1, as in Keras and PyTorch, so that an untrained model
    predicts with the identity normalization.

    Backward uses the closed form, O(n·N) rather than the notes' (n, N, n, N)
    tensor. With δ = ∂J/∂Z̃ and means over the batch rows, in training mode

        ∂J/∂γ = Σ δ ⊙ Ẑ,     ∂J/∂β = Σ δ,
        ∂J/∂U = γ / √(σ² + ε) ⊙ (δ − mean(δ) − Ẑ ⊙ mean(δ ⊙ Ẑ)),

    and after an inference-mode forward, where the map is affine,
    ∂J/∂U = γ / √(running_var + ε) ⊙ δ.

    Parameters
    ----------
    n_units : int
    epsilon : float, default 1e-5
    momentum : float in [0, 1), default 0.9
    dtype : numpy dtype
    """

    def __init__(self, n_units, *, epsilon=1e-5, momentum=0.9, dtype=np.float32):
        super().__init__()
        self.n_units = n_units = check_int("BatchNorm n_units", n_units, 1)
        self.epsilon = check_positive("bn_epsilon", epsilon)
        self.momentum = check_real("bn_momentum", momentum, 0.0, 1.0, high_open=True)
        self.params["gamma"] = np.ones(n_units, dtype=dtype)
        self.params["beta"] = np.zeros(n_units, dtype=dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.state["running_mean"] = np.zeros(n_units, dtype=dtype)
        self.state["running_var"] = np.ones(n_units, dtype=dtype)
        self._batch = None
        self._cache = None
        self._pending = False

    def forward(self, x, training=False):
        if training:
            mean = x.sum(axis=0)
            mean *= 1.0 / x.shape[0]
            centered = x - mean
            var = np.einsum("ij,ij->j", centered, centered) / x.shape[0]
            inv_std = 1.0 / np.sqrt(var + self.epsilon)
            x_hat = centered
            x_hat *= inv_std
            self._batch = (mean, var, inv_std, x_hat)
            self._pending = True
        else:
            inv_std = 1.0 / np.sqrt(self.state["running_var"] + self.epsilon)
            x_hat = (x - self.state["running_mean"]) * inv_std
        self._cache = (training, inv_std, x_hat)
        out = x_hat * self.params["gamma"]
        out += self.params["beta"]
        return out

    def backward(self, delta):
        training, inv_std, x_hat = self._cache
        n = delta.shape[0]
        np.einsum("ij,ij->j", delta, x_hat, out=self.grads["gamma"])
        np.sum(delta, axis=0, out=self.grads["beta"])
        if not training:
            # Inference mode is the affine map γ ⊙ (U − running_mean)/√(running_var + ε) + β.
            return delta * (self.params["gamma"] * inv_std)
        dx = x_hat * (self.grads["gamma"] / -n)
        dx += delta
        dx -= self.grads["beta"] / n
        dx *= self.params["gamma"] * inv_std
        return dx

    def update_state(self):
        if not self._pending:
            return
        self._pending = False
        mean, var = self._batch[0], self._batch[1]
        m = self.momentum
        for key, batch_value in (("running_mean", mean), ("running_var", var)):
            running = self.state[key]
            running *= m
            running += (1.0 - m) * batch_value

    def get_config(self):
        return {"n_units": self.n_units, "epsilon": self.epsilon, "momentum": self.momentum}
