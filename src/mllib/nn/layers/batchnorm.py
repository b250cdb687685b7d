"""Batch normalization of a hidden layer's pre-activations (notes §9)."""

from __future__ import annotations

import numpy as np

from ..._validation import check_int, check_positive, check_real
from ..fast import column_sums
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
        tiny = np.finfo(dtype).tiny
        if self.epsilon < tiny:
            # A smaller ε vanishes in var + ε, and 1/√(var + ε) may be infinite.
            raise ValueError(f"bn_epsilon must be at least the smallest normal "
                             f"{np.dtype(dtype).name}, {tiny:.3g}; got {epsilon!r}")
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
            n = x.shape[0]
            mean = column_sums(x)                              # μ = (1/N) Σ U
            mean *= 1.0 / n
            x_hat = x - mean
            var = np.einsum("ij,ij->j", x_hat, x_hat)          # σ² = (1/N) Σ (U − μ)²
            var *= 1.0 / n
            self._batch = (mean, var)
            self._pending = True
        else:
            mean, var = self.state["running_mean"], self.state["running_var"]
            x_hat = x - mean
        inv_std = 1.0 / np.sqrt(var + self.epsilon)
        x_hat *= inv_std                                       # Ẑ = (U − μ) / √(σ² + ε)
        self._cache = (training, inv_std, x_hat)
        out = x_hat * self.params["gamma"]                     # Z̃ = γ ⊙ Ẑ + β
        out += self.params["beta"]
        return out

    def backward(self, delta):
        training, inv_std, x_hat = self._cache
        n = delta.shape[0]
        d_gamma, d_beta = self.grads["gamma"], self.grads["beta"]
        np.einsum("ij,ij->j", delta, x_hat, out=d_gamma)      # ∂J/∂γ = Σ δ ⊙ Ẑ
        column_sums(delta, out=d_beta)                         # ∂J/∂β = Σ δ
        scale = self.params["gamma"] * inv_std
        if not training:
            # Inference mode is the affine map γ ⊙ (U − running_mean)/√(running_var + ε) + β.
            return delta * scale
        # ∂J/∂U = γ/√(σ² + ε) ⊙ (δ − mean(δ) − Ẑ ⊙ mean(δ ⊙ Ẑ))
        dx = x_hat * (d_gamma / -n)
        dx += delta
        dx -= d_beta / n
        dx *= scale
        return dx

    def update_state(self):
        if not self._pending:
            return
        self._pending = False
        m = self.momentum
        # A running variance of a constant feature decays as m^t towards 0: its
        # underflow below the smallest normal number rounds correctly and is not an error.
        with np.errstate(under="ignore"):
            for key, batch_value in zip(("running_mean", "running_var"), self._batch):
                running = self.state[key]
                running *= m
                batch_value *= 1.0 - m  # in place: the batch statistics are used up here
                running += batch_value
        self._batch = None

    def check_state(self, state):
        """Running statistics a forward pass can use: real, finite, with running_var ≥ 0.

        A variance of 0, or a subnormal one, is allowed: a unit whose input is
        constant in every batch decays to it, and ε (at least the smallest
        normal number) is added before the square root. A negative one would
        make a NaN, or an infinite scale near −ε.
        """
        for key in ("running_mean", "running_var"):
            value = np.asarray(state[key])
            if value.dtype.kind != "f" or (
                    value.size and not np.isfinite([value.min(), value.max()]).all()):
                raise ValueError(f"BatchNorm {key} must hold finite real floats, "
                                 f"got dtype {value.dtype} with NaN or infinite values")
        if np.size(state["running_var"]) and np.min(state["running_var"]) < 0:
            raise ValueError(f"BatchNorm running_var must be >= 0, got "
                             f"{np.min(state['running_var'])!r}")

    def get_config(self):
        return {"n_units": self.n_units, "epsilon": self.epsilon, "momentum": self.momentum}
