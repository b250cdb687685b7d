"""Regression targets in their own units: ``NeuralNetwork(standardize_target=True)``.

A linear-output network whose targets are in grams, say, starts with outputs
near 0 and a cost of order y²; every step is then dominated by the targets'
scale. With ``standardize_target=True`` the network is fitted to

    ŷ_k = (y_k − μ_k) / σ_k,

with μ_k and σ_k (biased, as ``np.std``; 1 for a constant column) the mean and
standard deviation of output k over the **first** fit's training targets, as
the input :class:`~mllib.data.Standardizer` is fitted on the first fit's X.
Later fits, ``evaluate``, ``cost`` and ``gradients`` use the same μ and σ.

- ``predict`` returns σ ⊙ a + μ, in the target's units.
- ``forward`` returns the network's own output a[L], in standardized units.
- The cost that ``fit`` logs, ``val_cost``, ``evaluate``'s ``cost``, ``cost``
  and ``gradients`` are the J that the network minimizes: in standardized
  units, J = 1/(2N) Σ_j Σ_k (a_jk − ŷ_jk)² + λ/(2N) Σ|W|^p, which is the
  squared error in the target's units with output k divided by σ_k². So
  ``evaluate(X_dev, y_dev)["cost"]`` is ``fit``'s ``val_cost``, as without scaling.
- R² is unit-free: an affine map of both y and the prediction multiplies
  SS_res and SS_tot of an output by the same σ_k², so R² is the same (to
  rounding) in either units.

μ and σ are saved in the model file (``target_standardizer/mean`` and
``/scale``, 2 × n[L] floats). Classifiers refuse the option: their targets are
labels, not quantities. μ and σ ignore sample weights.
"""

from __future__ import annotations

import numpy as np

from ...data import Standardizer


def check_standardize_target(value, output_kind) -> bool:
    """``bool(value)``, or ValueError for True on any output but a linear one."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"standardize_target must be True or False, got {value!r}")
    if value and output_kind == "exp":
        raise ValueError("standardize_target=True is for a linear output; this network's "
                         "output is exp, whose targets are counts ≥ 0 on their own scale: "
                         "standardized, some would be negative")
    if value and output_kind != "linear":
        raise ValueError(f"standardize_target=True is for regression (a linear output); this "
                         f"network's output is {output_kind}, whose targets are class labels")
    return bool(value)


def fit_target_scaler(Y) -> Standardizer:
    """μ and σ of each column of the encoded training targets Y, (N, n[L])."""
    return Standardizer().fit(Y)


def scale_targets(Y, scaler):
    """(Y − μ)/σ in Y's dtype, or Y itself without a scaler."""
    return Y if scaler is None else scaler.transform(Y)


def unscale_outputs(a, scaler):
    """σ ⊙ a + μ: outputs in the target's units, or ``a`` itself without a scaler."""
    return a if scaler is None else scaler.inverse_transform(a)
