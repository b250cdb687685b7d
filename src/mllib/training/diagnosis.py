"""Bias and variance from the train and dev errors (notes §4), with the notes' remedies.

The notes read the training error E(X) and the dev error E(D) against a small
error ε, assuming the best possible (Bayes) error is about 0 (remark 4.1):

- E(X) < ε and E(X) < E(D): high variance (overfitting);
- E(X) ≈ E(D) ≳ 10ε: high bias (underfitting);
- 10ε ≲ E(X) ≪ E(D): both;
- E(X), E(D) < ε: neither.

Two gaps decide these bullets: the *avoidable bias* E(X) − E*, how far the
training error lies above the Bayes error E*, and the *variance* E(D) − E(X),
how far the dev error lies above the training error. Here each is high when
it reaches a tolerance τ (default 5 percentage points):

    high bias      ⟺  E(X) − E* ≥ τ,
    high variance  ⟺  E(D) − E(X) ≥ τ.

With E* = 0 and τ = 0.05 this reads the course's classic examples as the notes
do: 1 %/11 % is high variance, 15 %/16 % high bias, 15 %/30 % both and
0.5 %/1 % neither. With a Bayes error of 15 %, 15 %/16 % is neither: no
model can do much better on the training set.

Errors are fractions, as the notes' rules take them: 0.05 is 5 %. A call
such as ``diagnose(1, 11)``, meant as 1 % and 11 %, would read as 100 % and
1100 % and give a confident wrong verdict, so an error outside [0, 1] is
refused with a ValueError, before anything is computed; so are NaN, ±inf and
anything but a real number (a string "0.1" too), for both errors and for E*.
The one error that can exceed 1 is a regressor's 1 − R², the share of the
target's variance left unexplained, which is above 1 when the model does
worse than predicting the mean; ``regression=True`` accepts errors in
[0, ∞) for it (E* and τ stay in [0, 1]).

The remedies are the notes' methodology: for high bias a bigger network,
longer training or another architecture; for high variance more data,
regularization or another architecture. Bias comes first.

>>> diagnose(0.01, 0.11).verdict
'high variance'
>>> diagnose(0.15, 0.30).high_bias, diagnose(0.15, 0.30).high_variance
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_real

# How far below the tolerance a gap still counts as reaching it: rounding, not a real gap.
ROUNDING = 1e-12

BIAS_ADVICE = [
    "High bias: the model does not fit the training set. Try a bigger network (more "
    "hidden units or layers), train longer, or change the architecture.",
]
VARIANCE_ADVICE = [
    "High variance: the model fits the training set much better than the dev set. Get more "
    "training data, add regularization (L2, dropout), or change the architecture.",
]


@dataclass(frozen=True)
class Diagnosis:
    """The reading of one pair of errors; see :func:`diagnose`."""

    train_error: float
    dev_error: float
    bayes_error: float
    tolerance: float
    high_bias: bool
    high_variance: bool
    verdict: str
    advice: list = field(default_factory=list)

    @property
    def avoidable_bias(self) -> float:
        """E(X) − E*: how much better the training set could be fitted."""
        return self.train_error - self.bayes_error

    @property
    def variance(self) -> float:
        """E(D) − E(X): how much worse the model does on data it has not seen."""
        return self.dev_error - self.train_error

    def to_dict(self) -> dict:
        """Plain JSON data: the errors, the two flags, the verdict and the advice."""
        return {"train_error": self.train_error, "dev_error": self.dev_error,
                "bayes_error": self.bayes_error, "tolerance": self.tolerance,
                "high_bias": self.high_bias, "high_variance": self.high_variance,
                "verdict": self.verdict, "advice": list(self.advice)}


def diagnose(train_error, dev_error, *, bayes_error=0.0, tolerance=0.05,
             regression=False) -> Diagnosis:
    """Read a train and a dev error as high bias, high variance, both or neither.

    Parameters
    ----------
    train_error, dev_error : float in [0, 1]
        E(X) and E(D) as fractions (0.05 for 5 %, not 5): 1 − accuracy for a
        classifier, 1 − R² for a regressor.
    bayes_error : float in [0, 1], default 0
        E*, the best error any model could reach (remark 4.1), as a fraction;
        at most ``train_error`` makes sense, but any value in [0, 1] is accepted.
    tolerance : float in (0, 1], default 0.05
        τ: the gap, in absolute error, from which bias or variance is high
        (0.05 for 5 percentage points).
    regression : bool, default False
        True when the errors are a regressor's 1 − R², which may exceed 1:
        then ``train_error`` and ``dev_error`` may lie anywhere in [0, ∞).

    Returns
    -------
    Diagnosis
        ``high_bias`` when E(X) − E* ≥ τ, ``high_variance`` when
        E(D) − E(X) ≥ τ, a ``verdict`` ("high bias", "high variance",
        "high bias and high variance" or "neither high bias nor high
        variance") and the notes' ``advice``, empty when there is nothing
        to fix.

    Raises
    ------
    ValueError
        Naming the argument and the value, for an error outside [0, 1] (or
        [0, ∞) with ``regression``), NaN, ±inf or a non-number, and for a
        ``tolerance`` outside (0, 1]; checked before anything else.
    """
    if not isinstance(regression, (bool, np.bool_)):
        raise ValueError(f"regression must be True or False, got {regression!r}")
    train_error = _error("train_error", train_error, regression)
    dev_error = _error("dev_error", dev_error, regression)
    bayes_error = _error("bayes_error", bayes_error, False)
    tolerance = _checked("tolerance", tolerance, 1.0,
                         "a fraction in (0, 1] (0.05 for 5 percentage points)", low_open=True)
    # Errors come from accuracies: 1 − 0.80 − (1 − 0.85) is 0.04999999999999993, not 0.05.
    high_bias = train_error - bayes_error >= tolerance - ROUNDING
    high_variance = dev_error - train_error >= tolerance - ROUNDING
    verdict = {(True, True): "high bias and high variance", (True, False): "high bias",
               (False, True): "high variance",
               (False, False): "neither high bias nor high variance"}[high_bias, high_variance]
    advice = (BIAS_ADVICE if high_bias else []) + (VARIANCE_ADVICE if high_variance else [])
    return Diagnosis(train_error, dev_error, bayes_error, tolerance, high_bias, high_variance,
                     verdict, list(advice))


def _error(name, value, regression) -> float:
    """An error: a fraction in [0, 1], or with ``regression`` a 1 − R² in [0, ∞); finite."""
    if regression:
        return _checked(name, value, math.inf, "a regressor's 1 − R² in [0, ∞)")
    hint = "" if name == "bayes_error" else (
        "; a regressor's 1 − R², which may exceed 1, needs regression=True")
    return _checked(name, value, 1.0, "a fraction in [0, 1] (0.05 for 5 %)", hint)


def _checked(name, value, high, what, hint="", *, low_open=False) -> float:
    """``float(value)`` if it is a real number from 0 to ``high``, else a ValueError that
    says what the argument is: 5 meant as 5 % is the likely mistake, not a typo."""
    try:
        return check_real(name, value, 0.0, high, low_open=low_open)
    except ValueError:
        raise ValueError(f"{name} must be {what}, got {value!r}{hint}") from None
