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
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..optim import make_schedule
from ..training import History
from ..training.engine.callbacks import Callback
from ..training.engine.divergence import DivergenceError, diverged
from ..training.engine.trainer import Batching, Trainer, TrainingRows

# scikit-learn's own message when its MLP's weights stop being finite.
DIVERGED = ("Solver produced non-finite parameter weights. The input data may contain large "
            "values and need to be preprocessed.")
# Below this, "adaptive" stops rather than divide the rate by 5 again (scikit-learn's bound).
SMALLEST_ADAPTIVE_RATE = 1e-6


def as_sklearn_error(err: DivergenceError) -> ValueError:
    """scikit-learn's ValueError for training that diverged, with the epoch."""
    return ValueError(f"{DIVERGED} (at epoch {err.epoch})")


class SklearnEpochs(Callback):
    """The estimator's bookkeeping after each epoch of the engine (see the module docstring).

    It refuses weights that stopped being finite (scikit-learn's check after
    each epoch), records the epoch's cost, scores the validation rows, and
    sets ``model.stop_training`` when scikit-learn's MLP would stop. At the end
    of training, the best validation epoch's weights come back; they are kept
    on the estimator meanwhile, so that a run stopped by Ctrl-C keeps them too.
    """

    def __init__(self, estimator, validation):
        self.estimator, self.validation = estimator, validation

    def on_epoch_end(self, epoch, logs=None):
        est, net = self.estimator, self.model
        if not np.isfinite(net.store.values).all():
            raise as_sklearn_error(diverged(float("inf"), epoch, 0, logs["lr"], est._history))
        est._end_epoch(logs["cost"])
        if self.validation is not None and est._score_epoch(*self.validation):
            est._best_weights = net.get_weights()
        if est._no_improvement_count > est.n_iter_no_change and est._stop_or_slow_down():
            net.stop_training = True

    def on_train_end(self, logs=None):
        if self.estimator._best_weights is not None:
            self.model.set_weights(self.estimator._best_weights)


class StochasticSolver:
    """Mix-in of the estimators: the epochs of "adam", "sgd" and mllib's other optimizers.

    Uses the estimator's parameters and its fitted state: ``model_``,
    ``_optimizer``, ``_rate`` (α now, in scikit-learn's units), ``t_``,
    ``loss_curve_``, ``best_loss_``, ``validation_scores_``,
    ``best_validation_score_``, ``_no_improvement_count``, ``_best_weights``
    (early stopping's best epoch so far) and ``_interrupted`` (a run that
    Ctrl-C stopped, which ``warm_start`` or ``partial_fit`` continues).
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
        if not (resuming and not incremental):
            self.n_iter_ = 0
        self._interrupted = False
        epochs = 1 if incremental else self.max_iter - self.n_iter_
        schedule = (make_schedule(self.lr_decay, float(self.learning_rate_init))
                    if self.lr_decay is not None else None)

        def rate(epoch):   # the optimizer's rate: α in scikit-learn's units, times its factor
            return (schedule(epoch) if schedule is not None else self._rate) * self._rate_factor

        trainer = Trainer(net, self._optimizer, TrainingRows(X, Y, w),
                          Batching(batch_size, self.shuffle))
        try:
            trainer.run(epochs, rate, history=self._history,
                        hooks=[SklearnEpochs(self, validation)])
        except DivergenceError as err:
            raise as_sklearn_error(err) from err
        if not net.stop_training and not incremental and self.n_iter_ == self.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                          "reached and the optimization hasn't converged yet "
                          f"(max_iter={self.max_iter} epochs reached).", ConvergenceWarning)

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
