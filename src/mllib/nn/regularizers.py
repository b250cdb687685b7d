"""L1 and L2 weight penalties (notes §5).

For a layer's weights W and a batch of N examples the penalty added to the
cost is

    R(W) = λ/(2N) Σ |W|^p,        p ∈ {1, 2},

and its gradient, which backprop adds to ∂J/∂W, is

    p = 2:  ∂R/∂W = (λ/N) W,
    p = 1:  ∂R/∂W = λ/(2N) sign(W).

Biases, γ and β are never penalized. (The notes' code added R to the cost but
left its gradient out; here the layer adds it in ``backward``.)
"""

from __future__ import annotations

import numpy as np


class LpRegularizer:
    """The penalty λ/(2N) Σ|W|^p with p in {1, 2}."""

    def __init__(self, p: int, lambda_: float):
        if p not in (1, 2):
            raise ValueError(f"the penalty exponent p must be 1 or 2, got {p!r}")
        lambda_ = float(lambda_)
        if not (np.isfinite(lambda_) and lambda_ >= 0):
            raise ValueError(f"lambda_ must be a finite number >= 0, got {lambda_!r}")
        self.p = p
        self.lambda_ = lambda_

    # Underflow is silenced in both: a square or a product below the dtype's smallest
    # normal number (weights of 1e-20 in float32) rounds correctly to a subnormal or 0.

    def penalty(self, W: np.ndarray, n_samples: int) -> float:
        with np.errstate(under="ignore"):
            if self.p == 2:
                total = float(np.einsum("ij,ij->", W, W))
            else:
                total = float(np.abs(W).sum())
        return self.lambda_ / (2.0 * n_samples) * total

    def add_gradient(self, W: np.ndarray, dW: np.ndarray, n_samples: int) -> None:
        """dW += ∂R/∂W, in place."""
        with np.errstate(under="ignore"):
            if self.p == 2:
                dW += (self.lambda_ / n_samples) * W
            else:
                dW += (self.lambda_ / (2.0 * n_samples)) * np.sign(W)

    def __repr__(self):
        return f"LpRegularizer(p={self.p}, lambda_={self.lambda_})"
