"""The stochastic solvers: scikit-learn's bookkeeping as a hook on mllib's training engine.

The estimators' epochs run on :class:`mllib.training.engine.trainer.Trainer`, as
``NeuralNetwork.fit`` does, so a step is the same computation as there
(forward and backward pass → batch-norm running statistics → optimizer
step), with its held Ctrl-C and its resume position. What scikit-learn's MLP
decides between epochs is a hook on that engine (:class:`SklearnEpochs`):
the loss curve, the learning rate ("invscaling" after each epoch, "adaptive"
when the cost stops improving), stopping after ``n_iter_no_change`` epochs
without improvement, and the early-stopping score. Every epoch draws its
batches from the network's Generator (in row order with ``shuffle=False``),
even when they make a single batch; ``partial_fit`` is one epoch per call
with the state kept.

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

**Divergence.** A run has diverged when a step's loss or gradients are not
finite (the engine refuses that step) or the weights after an epoch are not.
Without early stopping, the fit raises scikit-learn's ValueError, "Solver
produced non-finite parameter weights. ...", with the epoch, at once. With
early stopping, training ends there without an error, as scikit-learn's ends
without one: the epoch is recorded with a NaN cost and a NaN validation score,
the weights of this fit's best validation epoch come back (those the fit
started from, if it has none), and a ConvergenceWarning says so.

scikit-learn does not stop: it trains on through NaN weights until
``max_iter``, every epoch recording NaN, warns that it reached ``max_iter``,
and then restores the best weights (with early stopping) or raises (without).
Stopping at the diverged epoch skips those epochs and keeps the same weights,
best score and error. What differs: ``n_iter_``, ``t_`` and the lengths of
``loss_curve_`` and ``validation_scores_``, which end at the diverged epoch;
the warning's words; and, without early stopping, no ``max_iter`` warning
before the error. mllib's test is also stricter: a step whose loss or
gradients overflow is refused even where scikit-learn's weights would have
stayed finite after it. And a ``warm_start`` fit that diverges before any of
its epochs beats the earlier best score returns the weights it started from,
where scikit-learn raises (its best weights are then its live, NaN, ones).

A validation score whose outputs are not finite is NaN, as in scikit-learn:
NaN is never the best score and, as there, resets the count of epochs without
improvement.

**The rate as scikit-learn shows it.** scikit-learn's MLP keeps the rate in a
private optimizer object, ``_optimizer.learning_rate``, which its users and its
tests read. The estimators answer ``_optimizer`` with a read-only
:class:`RateView` of the same numbers; the optimizer that steps is
``model_.optimizer_``, and ``model_.history_`` logs each epoch's rate as
that optimizer takes it (``lr``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..optim import Adam, make_schedule
from ..training import History
from ..training.engine.callbacks import Callback
from ..training.engine.divergence import DivergenceError
from ..training.engine.trainer import Batching, Trainer, TrainingRows

# scikit-learn's own message when its MLP's weights stop being finite.
DIVERGED = ("Solver produced non-finite parameter weights. The input data may contain large "
            "values and need to be preprocessed.")
# Below this, "adaptive" stops rather than divide the rate by 5 again (scikit-learn's bound).
SMALLEST_ADAPTIVE_RATE = 1e-6


def as_sklearn_error(err: DivergenceError) -> ValueError:
    """scikit-learn's ValueError for training that diverged, with the epoch."""
    return ValueError(f"{DIVERGED} (at epoch {err.epoch})")


def weights_diverged(epoch, history) -> DivergenceError:
    """The error for an epoch whose steps were finite but whose weights at its end are not."""
    return DivergenceError(f"training diverged: the weights are not finite after epoch "
                           f"{epoch + 1}", history, epoch=epoch + 1)


@dataclass(frozen=True)
class RateView:
    """The learning rate as scikit-learn's MLP shows it in its private ``_optimizer``.

    ``learning_rate`` is α for the next epoch in scikit-learn's units (not
    "sgd"'s α/(1 − μ) that mllib's momentum takes); for "adam", after t steps,
    scikit-learn's bias-corrected α √(1 − β2^t)/(1 − β1^t) (α before the first
    step). A snapshot: read ``_optimizer`` again after the next fit.
    """

    learning_rate_init: float
    learning_rate: float


class SklearnEpochs(Callback):
    """The estimator's bookkeeping after each epoch of the engine (see the module docstring).

    It refuses weights that stopped being finite (scikit-learn's check after
    each epoch), records the epoch's cost, scores the validation rows, and
    sets ``model.stop_training`` when scikit-learn's MLP would stop. At the end
    of training, the weights of this fit's best validation epoch come back, or,
    as in scikit-learn, those the fit started from if no epoch has yet scored a
    number (every score NaN). They are kept on the estimator meanwhile, so that
    a run stopped by Ctrl-C keeps them too. In a ``warm_start`` fit of which no
    epoch beats the earlier best score, the last epoch's weights stay, as in
    scikit-learn.
    """

    def __init__(self, estimator, validation):
        self.estimator, self.validation = estimator, validation

    def on_epoch_end(self, epoch, logs=None):
        est, net = self.estimator, self.model
        if not np.isfinite(net.store.values).all():
            raise weights_diverged(epoch, net.history_)
        est._end_epoch(logs["cost"])
        if self.validation is not None and est._score_epoch(*self.validation):
            est._best_weights = net.get_weights()
        if est._no_improvement_count > est.n_iter_no_change and est._stop_or_slow_down():
            net.stop_training = True

    def on_train_end(self, logs=None):
        est = self.estimator
        if est._best_weights is not None:
            self.model.set_weights(est._best_weights)
        elif self.validation is not None and est.best_validation_score_ == -np.inf:
            self.model.set_weights(est._start_weights)   # no epoch has scored a number yet


class StochasticSolver:
    """Mix-in of the estimators: the epochs of "adam", "sgd" and mllib's other optimizers.

    Uses the estimator's parameters and its fitted state: ``model_`` (whose
    ``optimizer_`` steps and whose ``history_`` logs the epochs), ``_rate`` (α
    now, in scikit-learn's units), ``t_``, ``loss_curve_``, ``best_loss_``,
    ``validation_scores_``, ``best_validation_score_``,
    ``_no_improvement_count``, ``_best_weights`` (the best epoch's of this fit,
    with early stopping), ``_start_weights`` (those it started from) and
    ``_interrupted`` (a run that Ctrl-C stopped, which ``warm_start`` or
    ``partial_fit`` continues).
    """

    @property
    def _optimizer(self) -> RateView:
        """scikit-learn's ``_optimizer.learning_rate`` and ``learning_rate_init``, read-only
        (see :class:`RateView`); AttributeError before a stochastic fit, as there."""
        net = self.__dict__.get("model_")
        if net is None or net.optimizer_ is None:
            raise AttributeError(f"this {type(self).__name__} has no stochastic optimizer "
                                 "until a stochastic solver fitted it")
        alpha = (make_schedule(self.lr_decay, float(self.learning_rate_init))(net.epoch_)
                 if self.lr_decay is not None else self._rate)
        opt = net.optimizer_
        if isinstance(opt, Adam) and opt.t > 0:   # scikit-learn folds in the bias correction
            alpha *= math.sqrt(1.0 - opt.beta2 ** opt.t) / (1.0 - opt.beta1 ** opt.t)
        return RateView(float(self.learning_rate_init), float(alpha))

    def _start_stochastic(self):
        """The fitted state of a new run (a fit without warm start, or the first partial_fit)."""
        self._rate = float(self.learning_rate_init)
        self.t_ = 0
        self._no_improvement_count = 0
        self.loss_curve_ = []
        self.best_loss_ = None if self.early_stopping else np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self.model_.history_ = History()

    def _fit_stochastic(self, X, Y, w, validation, incremental, resuming=False):
        """Run the epochs of a fit (``max_iter``), or of a ``partial_fit`` (one).

        ``resuming`` goes on with a run that Ctrl-C stopped (the model's
        ``position_`` and the counts of its finished epochs), to the bits the
        uninterrupted run would have given, for the same data and an int
        ``random_state`` (which draws the same early-stopping split).
        """
        net = self.model_
        batch_size = min(200 if self.batch_size == "auto" else self.batch_size, X.shape[0])
        if not resuming:
            self._best_weights = None
            self._start_weights = net.get_weights() if validation is not None else None
        if not (resuming and not incremental):
            self.n_iter_ = 0
        self._interrupted = False
        epochs = 1 if incremental else self.max_iter - self.n_iter_
        schedule = (make_schedule(self.lr_decay, float(self.learning_rate_init))
                    if self.lr_decay is not None else None)

        def rate(epoch):   # the optimizer's rate: α in scikit-learn's units, times its factor
            return (schedule(epoch) if schedule is not None else self._rate) * self._rate_factor

        trainer = Trainer(net, net.optimizer_, TrainingRows(X, Y, w),
                          Batching(batch_size, self.shuffle))
        try:
            trainer.run(epochs, rate, history=net.history_,
                        hooks=[SklearnEpochs(self, validation)])
        except DivergenceError as err:
            if validation is None:
                raise as_sklearn_error(err) from err
            self._end_diverged(err)
        else:
            if not net.stop_training and not incremental and self.n_iter_ == self.max_iter:
                warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                              "reached and the optimization hasn't converged yet "
                              f"(max_iter={self.max_iter} epochs reached).",
                              ConvergenceWarning)
        self._best_weights = self._start_weights = None   # only an interrupted run needs them

    def _end_epoch(self, cost):
        """Record the epoch's cost, print it, count no improvement, update "invscaling"."""
        self.n_iter_ += 1
        self.t_ += self._n_train_rows
        self.loss_ = float(cost)
        self.loss_curve_.append(self.loss_)
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

    def _end_diverged(self, err):
        """End a run with early stopping that diverged: record the epoch as NaN, bring back
        the best weights (or the first), and warn (see the module docstring)."""
        net = self.model_
        if net.position_ is not None:    # the refused step's epoch was under way: it ends
            net.epoch_, net.position_ = net.epoch_ + 1, None
        self._end_epoch(math.nan)
        self._record_score(math.nan)
        best = self._best_weights is not None
        net.set_weights(self._best_weights if best else self._start_weights)
        kept = (f"of its best validation score, {self.best_validation_score_:f}" if best
                else "that this fit started from")
        warnings.warn(f"{DIVERGED} (at epoch {err.epoch}) Early stopping ends training there "
                      f"and keeps the weights {kept}.", ConvergenceWarning)

    def _score_epoch(self, X_val, y_val, w_val):
        """Score the validation rows (weighted by ``w_val`` if given); whether this epoch is
        the best so far."""
        return self._record_score(float(self._validation_score(X_val, y_val, w_val)))

    def _record_score(self, score):
        """Record a validation score and count no improvement, as scikit-learn: a NaN
        score is never the best and resets the count. Whether it is the best so far."""
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
