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

The remedies are the notes' methodology: for high bias a bigger network,
longer training or another architecture; for high variance more data,
regularization or another architecture. Bias comes first.

>>> diagnose(0.01, 0.11).verdict
'high variance'
>>> diagnose(0.15, 0.30).high_bias, diagnose(0.15, 0.30).high_variance
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


def diagnose(train_error, dev_error, *, bayes_error=0.0, tolerance=0.05) -> Diagnosis:
    """Read a train and a dev error as high bias, high variance, both or neither.

    Parameters
    ----------
    train_error, dev_error : float
        E(X) and E(D): 1 − accuracy for a classifier, 1 − R² for a regressor.
    bayes_error : float in [0, 1], default 0
        E*, the best error any model could reach (remark 4.1); at most
        ``train_error`` makes sense, but any value in [0, 1] is accepted.
    tolerance : float > 0, default 0.05
        τ: the gap, in absolute error, from which bias or variance is high.

    Returns
    -------
    Diagnosis
        ``high_bias`` when E(X) − E* ≥ τ, ``high_variance`` when
        E(D) − E(X) ≥ τ, a ``verdict`` ("high bias", "high variance",
        "high bias and high variance" or "neither high bias nor high
        variance") and the notes' ``advice``, empty when there is nothing
        to fix.
    """
    train_error = _error("train_error", train_error)
    dev_error = _error("dev_error", dev_error)
    bayes_error = check_real("bayes_error", bayes_error, 0.0, 1.0)
    tolerance = check_real("tolerance", tolerance, 0.0, low_open=True)
    # Errors come from accuracies: 1 − 0.80 − (1 − 0.85) is 0.04999999999999993, not 0.05.
    high_bias = train_error - bayes_error >= tolerance - ROUNDING
    high_variance = dev_error - train_error >= tolerance - ROUNDING
    verdict = {(True, True): "high bias and high variance", (True, False): "high bias",
               (False, True): "high variance",
               (False, False): "neither high bias nor high variance"}[high_bias, high_variance]
    advice = (BIAS_ADVICE if high_bias else []) + (VARIANCE_ADVICE if high_variance else [])
    return Diagnosis(train_error, dev_error, bayes_error, tolerance, high_bias, high_variance,
                     verdict, list(advice))


def _error(name, value) -> float:
    """An error: 1 − accuracy lies in [0, 1], 1 − R² in [0, ∞); both are finite."""
    return check_real(name, value, 0.0)
