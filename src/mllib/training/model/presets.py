"""Logistic and softmax regression (notes §1 and §10) as one-layer networks.

They are presets of :class:`NeuralNetwork`, not copies of it: the same
layers, loss, fit loop and model files, with the configuration fixed.
"""

from __future__ import annotations

from ...nn.init import init_config
from .network import NeuralNetwork


class LogisticRegression(NeuralNetwork):
    """a = σ(x wᵀ + b), trained on the log-loss (notes §1).

    The gradient is ∂J/∂w = (1/N)(a − y)ᵀ X, ∂J/∂b = (1/N) Σ (a − y), the
    notes' ``(1/N)(A − Y)Xᵀ`` in our row layout, plus the L1/L2 term.

    Parameters
    ----------
    lp_reg : {0, 1, 2}, lambda_ : float
        The penalty λ/(2N) Σ|w|^p.
    init : str, dict or callable, default "zeros"
        The notes start logistic regression at w = 0; any ``init`` of
        :class:`NeuralNetwork` is taken.
    seed, dtype, standardize : as for :class:`NeuralNetwork`.
    """

    def __init__(self, *, lp_reg=0, lambda_=0.0, init="zeros", seed=0, dtype="float32",
                 standardize=False):
        super().__init__(nodes=[None, 1], activators=["sigmoid"], lp_reg=lp_reg,
                         lambda_=lambda_, init=init, seed=seed, dtype=dtype,
                         standardize=standardize)

    def get_config(self):
        return _preset_config(self)


class SoftmaxRegression(NeuralNetwork):
    """a = softmax(x Wᵀ + b) over C classes, on the cross-entropy (notes §10).

    C is taken from the labels at the first ``fit`` (or given as
    ``n_classes``); ∂J/∂W = (1/N)(A − Y)ᵀ X with Y one-hot.
    """

    def __init__(self, *, n_classes=None, lp_reg=0, lambda_=0.0, init="zeros", seed=0,
                 dtype="float32", standardize=False):
        super().__init__(nodes=[None, n_classes], activators=["softmax"], lp_reg=lp_reg,
                         lambda_=lambda_, init=init, seed=seed, dtype=dtype,
                         standardize=standardize)
        self.n_classes = n_classes

    def get_config(self):
        return {**_preset_config(self), "n_classes": self.n_classes}


def _preset_config(model) -> dict:
    """The arguments the presets share, from the model's configuration."""
    keys = ("lp_reg", "lambda_", "init", "seed", "dtype")
    config = {k: model.config[k] for k in keys}
    config["init"] = init_config(config["init"])      # a new dict, not the model's own
    return {**config, "standardize": model.standardize}
