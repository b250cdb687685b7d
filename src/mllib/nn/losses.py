"""Cost functions paired with their output activations (notes §1, §2.2, §10).

Each loss is declared for exactly one output activation, and the pair is
differentiated as one piece: for sigmoid + binary cross-entropy, softmax +
categorical cross-entropy, linear + squared error and exp + Poisson deviance,
the reverse differential of ``J = (1/N) Σ_j L(g(z_j), y_j)`` with respect to
the logits is

    ∂J/∂z = (a − y) / N,        a = g(z).

Both the cost and that delta are computed from the logits ``z`` of shape
``(n_samples, n_outputs)``: the cost through log-sum-exp forms that never take
the log of 0, and the delta through the stable activation, so both stay finite
for any finite logit; the exponential alone is unbounded, and its a = e^z, its
delta and its cost are +∞ beyond the dtype's range (see :class:`PoissonDeviance`).
Targets ``y`` have the shape of ``z`` (one-hot rows for softmax).

Sample weights. Given ``sample_weight`` w ≥ 0 of shape (N,), not all 0, the
cost is the weighted mean, as scikit-learn's MLP takes it,

    J = Σ_j w_j L(g(z_j), y_j) / Σ_j w_j,

and its reverse differential with respect to the logits is, row by row,

    ∂J/∂z_j = w_j (a_j − y_j) / Σ_k w_k,

since ∂L_j/∂z_j = a_j − y_j for each pair above. With w_j = 1 both reduce to
the unweighted forms (Σw = N); integer weights count a row that many times.
``sample_weight=None`` takes the unweighted code path, bit for bit as before.

As in :mod:`.activations`, underflow is silenced where it occurs: a value
below the dtype's smallest normal number rounds correctly to a subnormal
number or 0 (say e^{-|z|} for z = −800, or a squared residual of 1e-200 in
float64), which is not an error. The cost is summed in float64
whatever the dtype, so that a float32 model's cost stays finite where its
terms are (residuals of 1e30, say, whose squares float32 cannot hold).
"""

from __future__ import annotations

import numpy as np

from . import fast
from .activations import Exp, Linear, Sigmoid, Softmax


class Loss:
    """A loss L(a, y) fused with its output activation g."""

    name = "loss"
    activation = None

    def cost(self, z: np.ndarray, y: np.ndarray, sample_weight=None) -> float:
        """J = (1/N) Σ_j L(g(z_j), y_j), or Σ_j w_j L_j / Σ_j w_j, from the logits."""
        raise NotImplementedError

    def forward(self, z: np.ndarray, y: np.ndarray, sample_weight=None):
        """``(J, a)``: the cost and the output ``a = g(z)`` in one pass where possible."""
        return self.cost(z, y, sample_weight), self.activation.forward(z)

    def delta(self, a: np.ndarray, y: np.ndarray, sample_weight=None) -> np.ndarray:
        """∂J/∂z = (a − y)/N, or w_j (a_j − y_j)/Σw by rows, where ``a = g(z)``."""
        with np.errstate(under="ignore"):   # (a − y)/N below the smallest normal: see above
            if sample_weight is None:
                return (a - y) * (1.0 / a.shape[0])
            return (a - y) * row_factors(sample_weight, a.dtype)

    def __repr__(self):
        return f"{type(self).__name__}()"


class BinaryCrossEntropy(Loss):
    """The notes' log-loss, L(a, y) = −[y log a + (1 − y) log(1 − a)], a = σ(z).

    From the logits, L = max(z, 0) − z·y + log(1 + e^{−|z|}). Several sigmoid
    outputs are independent binary problems; their losses add up.
    """

    name = "binary_crossentropy"
    activation = Sigmoid()

    def cost(self, z, y, sample_weight=None):
        return self.forward(z, y, sample_weight)[0]

    def forward(self, z, y, sample_weight=None):
        # One e^{−|z|} serves both σ(z) and log(1 + e^{−|z|}).
        with np.errstate(under="ignore"):   # e^{-|z|} → 0, log(1 + e) → e, J/N → 0
            e = np.exp(-np.abs(z))
            loss = np.log1p(e)
            loss += np.maximum(z, 0)
            loss -= z * y
            if sample_weight is None:
                return float(loss.sum(dtype=np.float64) / z.shape[0]), Sigmoid.from_exp(z, e)
            return weighted_mean("ij,i", sample_weight, loss), Sigmoid.from_exp(z, e)


class CategoricalCrossEntropy(Loss):
    """L(a, y) = −Σ_k y_k log a_k, a = softmax(z) (notes §10).

    From the logits, log a_k = z_k − logsumexp(z), with the row maximum
    subtracted before exponentiating.
    """

    name = "categorical_crossentropy"
    activation = Softmax()

    def cost(self, z, y, sample_weight=None):
        return self.forward(z, y, sample_weight)[0]

    def forward(self, z, y, sample_weight=None):
        # One exp serves both: a = e^{s}/Σe^{s} and log a = s − log Σe^{s}.
        shifted = z - fast.row_max(z)
        with np.errstate(under="ignore"):
            e = np.exp(shifted)
            norm = e.sum(axis=1, keepdims=True)
            shifted -= np.log(norm)
            e /= norm
            if sample_weight is None:
                return float(-np.einsum("ij,ij->", y, shifted, dtype=np.float64) / z.shape[0]), e
            return -weighted_mean("ij,ij,i", sample_weight, y, shifted), e


class SquaredError(Loss):
    """L(a, y) = ½‖a − y‖², a = z; so J = 1/(2N) Σ_j ‖a_j − y_j‖²."""

    name = "squared_error"
    activation = Linear()

    def cost(self, z, y, sample_weight=None):
        r = z - y
        with np.errstate(under="ignore"):   # squares of residuals below √tiny count as 0
            if sample_weight is None:
                return float(np.einsum("ij,ij->", r, r, dtype=np.float64) / (2.0 * z.shape[0]))
            return weighted_mean("ij,ij,i", sample_weight, r, r) / 2.0


class PoissonDeviance(Loss):
    """Half the Poisson deviance, L(a, y) = y log(y/a) − y + a, a = e^z (0 log 0 = 0).

    For counts y ≥ 0 whose mean a is modelled on a log scale (z = log a), as
    scikit-learn's ``MLPRegressor(loss="poisson")`` does. Forward and reverse:

        L = e^z − y z + (y log y − y),    ∂L/∂a = 1 − y/a,    da/dz = a,
        so ∂L/∂z = (1 − y/a) a = a − y    and    ∂J/∂z = (a − y)/N,

    the delta of the other pairs: the exponential is the Poisson's canonical
    link. Why this form rather than a − y log a (PyTorch's ``poisson_nll_loss``,
    Keras' "poisson"): the two differ by y log y − y, which does not depend on
    the weights, so they have the same gradient and the same minimizers; but
    the deviance is 0 at a perfect fit (a = y) and positive elsewhere, as the
    squared error is, so the cost reads the same way, and it is scikit-learn's
    "poisson" loss, so an estimator's ``loss_curve_`` is theirs.

    From the logits, with r = z − log y for y > 0, L = y (e^r − 1 − r), written
    as ``y·(expm1(r) − r)`` for r ≤ 1. Near a fit that difference alone loses
    digits, a relative error of about 2ε/|r|, where the expanded form, in which
    e^z, y z and y log y − y almost cancel, would lose about 2ε |log y|/r². For
    r > 1 it is e^z − y (1 + r), where e^z dominates (it exceeds (1 + r) y by a
    factor e^r/(1 + r) > 1.35). For
    y = 0, L = e^z. Each is computed in float64, and is +∞ where e^z exceeds
    float64's range (z > 709.78). Targets must be ≥ 0: for y < 0, L → −∞ as
    z → −∞, and J has no minimum.
    """

    name = "poisson"
    activation = Exp()

    def cost(self, z, y, sample_weight=None):
        loss = half_poisson_deviance(np.asarray(z, dtype=np.float64),
                                     np.asarray(y, dtype=np.float64))
        if sample_weight is None:
            return float(loss.sum() / z.shape[0])
        return weighted_mean("ij,i", sample_weight, loss)


def half_poisson_deviance(z, y) -> np.ndarray:
    """L = y log(y/a) − y + a elementwise, a = e^z, from float64 logits and targets."""
    with np.errstate(over="ignore", under="ignore"):   # e^z beyond float64 is +∞, below 0
        loss = np.exp(z)                               # the loss where y = 0
        counted = y > 0
        yc = y[counted]
        r = z[counted] - np.log(yc)
        near = r <= 1.0
        loss[counted] = np.where(near, yc * (np.expm1(np.minimum(r, 1.0)) - r),
                                 loss[counted] - yc * (1.0 + r))
    return loss


def weighted_mean(subscripts, sample_weight, *operands) -> float:
    """Σ_j w_j (Σ over row j of the product of ``operands``) / Σ_j w_j, in float64.

    ``subscripts`` names the operands and ``sample_weight`` last, e.g. ``"ij,i"``.
    """
    total = np.einsum(subscripts + "->", *operands, sample_weight, dtype=np.float64)
    return float(total / np.sum(sample_weight, dtype=np.float64))


def row_factors(sample_weight, dtype) -> np.ndarray:
    """The column w_j / Σ_k w_k, shape (N, 1) in ``dtype``: the rows' shares of the cost."""
    w = np.asarray(sample_weight, dtype=np.float64)
    return (w / w.sum()).astype(dtype)[:, None]


LOSS_FOR_OUTPUT = {
    "sigmoid": BinaryCrossEntropy,
    "softmax": CategoricalCrossEntropy,
    "linear": SquaredError,
    "exp": PoissonDeviance,
}

# The outputs whose targets are numbers to predict rather than class labels.
REGRESSION_OUTPUTS = ("linear", "exp")


def loss_for_output(activation_name: str) -> Loss:
    """The loss paired with an output activation, or a ValueError."""
    if activation_name not in LOSS_FOR_OUTPUT:
        raise ValueError(
            f"output activation {activation_name!r} has no paired loss; "
            f"the output layer must be one of {sorted(LOSS_FOR_OUTPUT)}"
        )
    return LOSS_FOR_OUTPUT[activation_name]()
