"""``solver="lbfgs"``: J minimized over the flat parameter vector by SciPy's L-BFGS-B.

The network keeps every parameter in one flat buffer, ``store.values``, and
every gradient in another, ``store.grads`` (:class:`mllib.optim.ParameterSet`).
So J is a function of one vector θ, and one training-mode pass over all N rows
gives it with its gradient::

    J(θ) = (1/N) Σ_j L(a[L]_j, y_j) + λ/(2N) Σ_l Σ |W[l]|^p,    ∇J(θ) = store.grads

With ``sample_weight`` w, J(θ) = Σ_j w_j L_j / Σw + λ/(2Σw) Σ_l Σ |W[l]|^p, as in
scikit-learn's lbfgs. A sparse X stays sparse: the pass multiplies it as it is.

``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` then runs at most
``max_iter`` iterations and ``max_fun`` evaluations of J, and stops when the
largest component of the projected gradient is at most ``tol`` (its
``gtol``), as scikit-learn's lbfgs. SciPy works in float64: θ is copied into
the store in the network's dtype for each evaluation, and the gradient out of
it in float64.

J must be a deterministic function of θ for L-BFGS's line search, so dropout
(``keep_prob < 1``) and batch norm (whose running statistics a full-batch
pass would not estimate) are refused with this solver. SciPy is imported here,
in the scikit-learn layer only; mllib's core never imports it.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning

from ._sgd import DIVERGED


def objective(net, X, Y, w=None):
    """``J(θ) -> (J, ∇J)`` for SciPy, over the network's flat parameter buffer.

    ``w`` is None or the rows' sample weights: J is then the weighted cost, with Σw
    in place of N, by the network's weighted ``train_step``.
    """
    store = net.store
    n_rows = X.shape[0] if w is None else float(w.sum())

    def cost_and_gradient(theta):
        store.values[...] = theta
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, _ = net.train_step(X, Y, w)
            cost = float(loss) + net.penalty(n_rows)
        return cost, store.grads.astype(np.float64)

    return cost_and_gradient


class LbfgsSolver:
    """Mix-in of the estimators: ``_fit_lbfgs`` for ``solver="lbfgs"``."""

    def _fit_lbfgs(self, X, Y, w=None):
        net = self.model_
        fun = objective(net, net.batch_input(X, slice(None)), Y, w)
        curve = []

        def after_iteration(intermediate_result):
            curve.append(float(intermediate_result.fun))
            if self.verbose:
                print(f"Iteration {len(curve)}, loss = {curve[-1]:.8f}")

        result = minimize(fun, net.store.values.astype(np.float64), method="L-BFGS-B",
                          jac=True, callback=after_iteration,
                          options={"maxiter": self.max_iter, "maxfun": self.max_fun,
                                   "gtol": self.tol})
        if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
            raise ValueError(f"{DIVERGED} (at L-BFGS iteration {result.nit})")
        net.store.values[...] = result.x
        self.n_iter_ = min(int(result.nit), self.max_iter)
        self.loss_ = float(fun(result.x)[0])
        self.loss_curve_ = curve or [self.loss_]
        self.best_loss_ = min(self.loss_curve_)
        self.validation_scores_ = self.best_validation_score_ = None
        self.t_ = X.shape[0] * self.n_iter_
        if result.status != 0:
            message = result.message.decode() if isinstance(result.message, bytes) \
                else str(result.message)
            warnings.warn(f"lbfgs failed to converge after {result.nit} iteration(s) "
                          f"(status={result.status}): {message}. Increase the number of "
                          f"iterations (max_iter={self.max_iter}) or of evaluations "
                          f"(max_fun={self.max_fun}), or scale the data.", ConvergenceWarning)
