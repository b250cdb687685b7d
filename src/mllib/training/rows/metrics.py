"""Metrics reported per epoch: accuracy for classifiers, R² for regression.

Both are computed from the output ``a = g(z)`` and the encoded targets ``Y``,
so they can be accumulated batch by batch over an epoch at little cost.
"""

from __future__ import annotations

import numpy as np

from ...nn.losses import REGRESSION_OUTPUTS


def predicted_codes(a: np.ndarray, kind: str) -> np.ndarray:
    """Class codes from outputs: argmax for softmax, a ≥ ½ for sigmoid."""
    if kind == "softmax":
        return a.argmax(axis=1)
    decided = a >= 0.5
    return decided[:, 0].astype(np.int64) if a.shape[1] == 1 else decided.astype(np.int64)


def n_correct(a: np.ndarray, Y: np.ndarray, kind: str, sample_weight=None) -> float:
    """Correct decisions in a batch (their weights' sum, if weighted); multi-label
    sigmoid counts each entry, a row's entries sharing its weight."""
    if kind == "softmax":
        hits = a.argmax(axis=1) == Y.argmax(axis=1)
        if sample_weight is None:
            return float(np.count_nonzero(hits))
        return float(np.dot(sample_weight, hits))
    hits = (a >= 0.5) == (Y >= 0.5)
    if sample_weight is None:
        return float(np.count_nonzero(hits)) / a.shape[1]
    return float(np.dot(sample_weight, hits.sum(axis=1))) / a.shape[1]


class EpochMetrics:
    """Sums over the batches of an epoch: data loss, accuracy or R².

    ``cost`` is the batches' data loss weighted by batch size (the caller
    adds the penalty). R² is 1 − SS_res/SS_tot averaged over outputs. SS_tot
    is merged batch by batch from each batch's mean and M2 = Σ(y − ȳ)² by
    Chan et al.'s parallel formula, in float64, so that targets with a large
    mean keep their precision (Σy² − (Σy)²/n would cancel it away):

        δ = ȳ_b − ȳ,   ȳ ← ȳ + δ·n_b/n,   M2 ← M2 + M2_b + δ²·n_a·n_b/n.

    With sample weights w, every count is a sum of weights (n = Σw), the
    cost is Σ_b Σw_b J_b / Σw = Σ_j w_j L_j / Σ_j w_j, accuracy is the
    weight of the correct rows over Σw, and R² is weighted as scikit-learn's
    ``r2_score(..., sample_weight=w)``: SS_res = Σ w r², SS_tot = Σ w (y − ȳ_w)²
    with ȳ_w the weighted mean, merged by the same formula.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self.n = 0
        self.cost = 0.0
        self.correct = 0.0
        self.ss_res = self.mean_y = self.m2_y = 0.0

    def add(self, cost: float, a: np.ndarray, Y: np.ndarray, sample_weight=None) -> None:
        """Add a batch: its data loss ``cost``, outputs ``a``, targets ``Y`` and weights."""
        w = sample_weight
        n_a, n_b = self.n, a.shape[0] if w is None else float(np.sum(w, dtype=np.float64))
        self.n += n_b
        self.cost += cost * n_b
        if self.kind not in REGRESSION_OUTPUTS:
            self.correct += n_correct(a, Y, self.kind, w)
            return
        # Squares below the smallest normal number round correctly to a subnormal or 0.
        with np.errstate(under="ignore"):
            r = a - Y
            if w is None:
                self.ss_res = self.ss_res + np.einsum("ij,ij->j", r, r, dtype=np.float64)
                mean_b = Y.mean(axis=0, dtype=np.float64)
                centered = Y - mean_b
                m2_b = np.einsum("ij,ij->j", centered, centered, dtype=np.float64)
            else:
                self.ss_res = self.ss_res + np.einsum("ij,ij,i->j", r, r, w, dtype=np.float64)
                mean_b = np.einsum("ij,i->j", Y, w, dtype=np.float64) / n_b
                centered = Y - mean_b
                m2_b = np.einsum("ij,ij,i->j", centered, centered, w, dtype=np.float64)
            delta = mean_b - self.mean_y
            self.mean_y = self.mean_y + delta * (n_b / self.n)
            self.m2_y = self.m2_y + m2_b + delta ** 2 * (n_a * n_b / self.n)

    FIELDS = ("n", "cost", "correct", "ss_res", "mean_y", "m2_y")

    def get_state(self) -> dict:
        """The sums so far as float64 arrays, for a model saved mid-epoch."""
        return {k: np.asarray(getattr(self, k), dtype=np.float64) for k in self.FIELDS}

    @classmethod
    def from_state(cls, kind: str, state: dict) -> EpochMetrics:
        """The sums that :meth:`get_state` gave; ValueError for missing or non-finite ones."""
        sums = cls(kind)
        for key in cls.FIELDS:
            value = np.asarray(state[key], dtype=np.float64)
            if not np.isfinite(value).all() or value.ndim > 1:
                raise ValueError(f"the saved epoch sum {key!r} is not a finite number or vector")
            setattr(sums, key, float(value) if value.ndim == 0 else value.copy())
        sums.n = int(sums.n) if float(sums.n).is_integer() else float(sums.n)   # Σw if weighted
        return sums

    def result(self) -> dict:
        logs = {"cost": float(self.cost / self.n)}
        if self.kind in REGRESSION_OUTPUTS:
            logs["r2"] = float(np.mean(_r2(self.ss_res, self.m2_y)))
        else:
            logs["accuracy"] = float(self.correct / self.n)
        return logs


def _r2(ss_res, ss_tot):
    ss_res, ss_tot = np.atleast_1d(ss_res), np.atleast_1d(ss_tot)
    out = np.where(ss_res == 0, 1.0, 0.0)
    nonconstant = ss_tot > 0
    with np.errstate(under="ignore"):   # SS_res/SS_tot below the smallest normal is 0 to R²
        out[nonconstant] = 1.0 - ss_res[nonconstant] / ss_tot[nonconstant]
    return out
