"""The stochastic solvers' epochs, with scikit-learn's bookkeeping, over mllib's training protocol.

The estimators run their own epoch loop rather than ``NeuralNetwork.fit``,
because scikit-learn's MLP decides between epochs what mllib's loop fixes
for a whole run: whether to shuffle, the learning rate ("invscaling" after
each epoch, "adaptive" when the cost stops improving) and, for
``partial_fit``, one epoch per call with the state kept. The loop uses the
network's public training protocol only: ``batch_input``, ``train_step``,
``update_state``, ``penalty``, ``store``, ``rng_`` and ``epoch_``, as
:mod:`mllib.training.fit` does, so a step is the same computation as there:

    forward and backward pass → batch-norm running statistics → optimizer step.

**The learning rate.** α is ``learning_rate_init`` (or ``lr_decay``'s
α(epoch) with ``learning_rate="constant"``). With "invscaling" it becomes
α0/(t + 1)^power_t after each epoch, t being the rows trained on so far
(``t_``), as in scikit-learn. With "adaptive" it stays α0 until the cost (or
validation score) has failed to improve by ``tol`` for more than
``n_iter_no_change`` epochs; then it is divided by 5, and training stops once
it is at most 1e-6. The schedules apply to every solver but "adam", whose rate
scikit-learn keeps constant; there, as for "constant", no improvement stops
training. These rates depend on the fit's progress, not only on the epoch, so
they are not :mod:`mllib.optim.schedules` (which are functions of the epoch).

**The cost.** ``loss_curve_`` holds J on the training rows per epoch: the
batches' data losses, weighted by their sizes, plus λ/(2N) Σ|W|^p with the
weights at the end of the epoch, as mllib's History. (scikit-learn adds each
batch's penalty, so it counts the penalty once per batch.)

**Sample weights.** With ``sample_weight`` w, each batch b steps on
J_b = Σ_{j∈b} w_j L_j / Σ_{j∈b} w_j + λ/(2 Σ_{j∈b} w_j) Σ|W|^p, as scikit-learn's
MLP and mllib's own loop do; a batch whose weights are all 0 takes no step
(scikit-learn's would divide by 0). The epoch's cost weights each batch's loss
by its Σw and divides by Σw, so that it is the weighted mean loss on the rows
plus λ/(2Σw) Σ|W|^p. ``t_`` still counts rows, as in scikit-learn.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..optim import make_schedule
from ..training import History
from ..training.divergence import diverged, step_is_finite
from ..training.resume import epoch_batches

# scikit-learn's own message when its MLP's weights stop being finite.
DIVERGED = ("Solver produced non-finite parameter weights. The input data may contain large "
            "values and need to be preprocessed.")
# Below this, "adaptive" stops rather than divide the rate by 5 again (scikit-learn's bound).
SMALLEST_ADAPTIVE_RATE = 1e-6


def run_epoch(net, optimizer, X, Y, w, batches, rate, history):
    """Step once per batch at learning rate ``rate``; returns J on the rows, as above.

    ``w`` is None or the rows' sample weights: each batch then steps on its
    weighted cost (the network's ``train_step`` with the batch's weights), and
    a batch whose weights are all 0 is skipped. A step whose loss or gradients
    are not finite changes nothing and raises scikit-learn's ValueError, from
    mllib's DivergenceError.
    """
    store, total = net.store, 0.0
    for number, rows in enumerate(batches):
        wb = None if w is None else w[rows]
        if wb is not None and not wb.any():     # no data in the batch: no step
            continue
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, _ = net.train_step(net.batch_input(X, rows), Y[rows], wb)
        if not step_is_finite(loss, store):
            err = diverged(loss, net.epoch_, number, rate, history)
            raise ValueError(f"{DIVERGED} (at epoch {err.epoch})") from err
        net.update_state()
        optimizer.step(store, rate)
        total += loss * (rows.shape[0] if wb is None else float(wb.sum()))
    if not np.isfinite(store.values).all():
        err = diverged(float("inf"), net.epoch_, len(batches) - 1, rate, history)
        raise ValueError(f"{DIVERGED} (at epoch {err.epoch})") from err
    net.epoch_ += 1
    n = X.shape[0] if w is None else float(w.sum())
    return total / n + net.penalty(n)


class StochasticSolver:
    """Mix-in of the estimators: the epochs of "adam", "sgd" and mllib's other optimizers.

    Uses the estimator's parameters and its fitted state: ``model_``,
    ``_optimizer``, ``_rate`` (α now, in scikit-learn's units), ``t_``,
    ``loss_curve_``, ``best_loss_``, ``validation_scores_``,
    ``best_validation_score_`` and ``_no_improvement_count``.
    """

    def _start_stochastic(self):
        """The fitted state of a new run (a fit without warm start, or the first partial_fit)."""
        self._rate = float(self.learning_rate_init)
        self.t_ = 0
        self._no_improvement_count = 0
        self.loss_curve_ = []
        self.best_loss_ = None if self.early_stopping else np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self._history = History()

    def _fit_stochastic(self, X, Y, w, validation, incremental):
        net = self.model_
        batch_size = min(200 if self.batch_size == "auto" else self.batch_size, X.shape[0])
        self.n_iter_, best_weights = 0, None
        schedule = (make_schedule(self.lr_decay, float(self.learning_rate_init))
                    if self.lr_decay is not None else None)
        while True:
            rate = schedule(net.epoch_) if schedule is not None else self._rate
            batches = epoch_batches(net.rng_, X.shape[0], batch_size, net.needs_two_rows,
                                    self.shuffle)
            cost = run_epoch(net, self._optimizer, X, Y, w, batches, rate * self._rate_factor,
                             self._history)
            self._end_epoch(cost, rate)
            if validation is not None and self._score_epoch(*validation):
                best_weights = net.get_weights()
            if self._no_improvement_count > self.n_iter_no_change and self._stop_or_slow_down():
                break
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                              "reached and the optimization hasn't converged yet "
                              f"(max_iter={self.max_iter} epochs reached).", ConvergenceWarning)
                break
        if best_weights is not None:
            net.set_weights(best_weights)

    def _end_epoch(self, cost, rate):
        """Record the epoch's cost, print it, count no improvement, update "invscaling"."""
        self.n_iter_ += 1
        self.t_ += self._n_train_rows
        self.loss_ = float(cost)
        self.loss_curve_.append(self.loss_)
        self._history.on_epoch_end(self.model_.epoch_ - 1, {"cost": self.loss_, "lr": rate})
        if self.verbose:
            print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
        if self.validation_scores_ is None:
            if self.loss_ > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, self.loss_)
        if self.learning_rate == "invscaling" and self._schedules_rate():
            self._rate = float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t

    def _score_epoch(self, X_val, y_val, w_val):
        """Score the validation rows (weighted by ``w_val`` if given); whether this epoch is
        the best so far."""
        score = float(self._validation_score(X_val, y_val, w_val))
        self.validation_scores_.append(score)
        if self.verbose:
            print(f"Validation score: {score:f}")
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            return True
        return False

    def _schedules_rate(self):
        return self.solver != "adam"

    def _stop_or_slow_down(self):
        """After too many epochs without improvement: stop (True), or divide α by 5."""
        what = ("Validation score" if self.validation_scores_ is not None else "Training loss")
        message = (f"{what} did not improve more than tol={self.tol:f} for "
                   f"{self.n_iter_no_change} consecutive epochs.")
        if self.learning_rate != "adaptive" or not self._schedules_rate():
            ending = " Stopping."
        elif self._rate <= SMALLEST_ADAPTIVE_RATE:
            ending = " Learning rate too small. Stopping."
        else:
            self._rate /= 5.0
            self._no_improvement_count = 0
            ending = f" Setting learning rate to {self._rate:f}"
        if self.verbose:
            print(message + ending)
        return ending.endswith("Stopping.")
