"""What the four estimators share: parameter checks, the optimizer map and the fit.

:class:`NetworkEstimator` turns the scikit-learn parameters into an mllib
:class:`~mllib.training.NeuralNetwork` fit: it validates the parameters and
the data, draws the model's seed, builds the optimizer, holds out the
validation rows for early stopping, stops on ``tol`` and ``n_iter_no_change``
with a subclass of mllib's :class:`~mllib.training.EarlyStopping`, and stores
the learned attributes. Subclasses say only how the network is built and how ``y`` is
checked. Training that diverges (:class:`~mllib.training.DivergenceError`) raises
scikit-learn's ValueError, "Solver produced non-finite parameter weights. ...", with
the epoch.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..optim import Adam, GradientDescent, Momentum, RMSProp
from ..training import DivergenceError, EarlyStopping

# Shared parameter documentation, spliced into each estimator's docstring.
TRAINING_DOC = """\
    solver : {"adam", "sgd", "momentum", "rmsprop", "gd"}, default="adam"
        "adam", "rmsprop" and "gd" are mllib's optimizers (notes §7).
        "momentum" is the notes' EMA momentum ``v = β v + (1 − β) g``,
        ``θ -= α v`` with β = ``momentum``. "sgd" follows scikit-learn: with
        ``momentum == 0`` it is "gd"; otherwise it is classical (heavy-ball,
        not Nesterov) momentum ``v = μ v − α g``, ``θ += v``, which is mllib's
        EMA momentum run with learning rate ``α / (1 − μ)``: step for step
        the same while α is constant (with ``lr_decay`` the scaled rate
        decays instead).
    alpha : float >= 0, default=0.0001
        Strength of the penalty. On a batch of N rows the cost gets
        ``alpha/(2N) Σ_l Σ |W[l]|^p``, biases excluded: this is mllib's
        ``lambda_`` unchanged (``lambda_ = alpha``), and for ``lp_reg=2`` it is
        exactly scikit-learn's ``alpha/(2·n_samples)·Σ‖W‖²`` (its
        ``n_samples`` is the batch's size too). Named ``alpha``, not
        ``lambda_``: scikit-learn takes any attribute ending in ``_`` for a
        fitted one.
    lp_reg : {0, 1, 2}, default=2
        The penalty's power p (L1 or L2); 0 turns it off.
    batch_size : int or "auto", default="auto"
        Rows per mini-batch; "auto" is ``min(200, n_samples)``. A size larger
        than the training set means full-batch gradient descent.
    learning_rate_init : float > 0, default=0.001 (0.01 for the linear models)
        α0, the initial learning rate.
    lr_decay : str, tuple, dict or callable, default=None
        mllib's schedule α(epoch), e.g. ``"rational:1.0"`` for α0/(1 + epoch)
        (see :func:`mllib.optim.make_schedule`); None keeps α0.
    max_iter : int >= 1, default=200
        Maximum number of epochs.
    momentum : float in [0, 1), default=0.9
        β of "momentum" and μ of "sgd".
    beta_1 : float in [0, 1), default=0.9
        Adam's first-moment weight.
    beta_2 : float in [0, 1) or None, default=None
        The second-moment weight of Adam and RMSProp. None is each
        optimizer's own default: 0.999 for Adam (as scikit-learn's), 0.9 for
        RMSProp (as the notes' code and Keras), which does not correct bias.
    epsilon : float > 0, default=1e-8
        Adam's and RMSProp's ε.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified for
        classifiers), stop when the validation accuracy (or R²) has not
        improved by more than ``tol`` for ``n_iter_no_change`` epochs, and
        keep the weights of the best epoch.
    validation_fraction : float in (0, 1), default=0.1
    n_iter_no_change : int >= 1 or np.inf, default=10
        Epochs without an improvement larger than ``tol`` (of the training
        cost, or of the validation score with early stopping) before stopping.
    tol : float >= 0, default=1e-4
    random_state : int, RandomState instance or None, default=None
        An int seed for the network's own Generator (weights, dropout,
        shuffling) is drawn from ``check_random_state(random_state)``, which
        also splits off the validation rows. None draws from NumPy's global
        RandomState, as scikit-learn does.
    verbose : bool, default=False
        Print one line per epoch (mllib's ``verbose=2``).
    dtype : {"float64", "float32"}, default="float64"
        The network's float type; X is converted to it. float64 is the
        default, as for scikit-learn's MLP on float64 data; float32 is
        faster."""

ATTRIBUTES_DOC = """\
    model_ : mllib.NeuralNetwork
        The fitted network; ``model_.save(path)`` writes it as a model file.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names.
    n_iter_ : int
        Epochs run.
    loss_ : float
        Training cost of the last epoch, penalty included.
    loss_curve_ : list of float
        Training cost per epoch.
    best_loss_ : float or None
        The lowest training cost; None with early stopping.
    validation_scores_ : list of float or None
        Validation accuracy (or R²) per epoch with early stopping, else None.
    best_validation_score_ : float or None"""

TRAINING_CONSTRAINTS = {
    "solver": [StrOptions({"adam", "sgd", "momentum", "rmsprop", "gd"})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "lp_reg": [Options(Integral, {0, 1, 2})],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "lr_decay": [None, str, tuple, dict, callable],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left"), None],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    "tol": [Interval(Real, 0, None, closed="left")],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "dtype": [StrOptions({"float32", "float64"})],
}


def make_optimizer(solver, learning_rate, momentum, beta_1, beta_2, epsilon):
    """The mllib optimizer for ``solver`` and the learning rate to give it.

    ``beta_2=None`` leaves β2 at the optimizer's default. Only "sgd" changes
    the rate: scikit-learn's ``v = μ v − α g`` is mllib's
    ``m = μ m + (1 − μ) g`` with ``v = −α m/(1 − μ)``.
    """
    second = {} if beta_2 is None else {"beta2": beta_2}
    if solver == "adam":
        return Adam(beta1=beta_1, epsilon=epsilon, **second), learning_rate
    if solver == "rmsprop":
        return RMSProp(epsilon=epsilon, **second), learning_rate
    if solver == "momentum":
        return Momentum(beta1=momentum), learning_rate
    if solver == "sgd" and momentum > 0:
        return Momentum(beta1=momentum), learning_rate / (1.0 - momentum)
    return GradientDescent(), learning_rate


# scikit-learn's own message when its MLP's weights stop being finite.
DIVERGED = ("Solver produced non-finite parameter weights. The input data may contain large "
            "values and need to be preprocessed.")


class NoImprovementStopping(EarlyStopping):
    """:class:`~mllib.training.EarlyStopping` with scikit-learn's bookkeeping.

    An epoch counts as no improvement when its value fails to beat the best
    so far by more than ``min_delta`` (``tol``), and training stops once more
    than ``patience`` (``n_iter_no_change``) such epochs come in a row, as in
    mllib. But the best value, and with ``restore_best_weights`` the best
    weights, follow every strict improvement, however small, as in
    scikit-learn's MLP; mllib's EarlyStopping moves them only on an
    improvement larger than ``min_delta``. A NaN value counts as no
    improvement.
    """

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        sign = 1.0 if self.mode == "min" else -1.0
        first = self.best is None
        self.wait = 0 if first or sign * value <= sign * self.best - self.min_delta \
            else self.wait + 1
        if first or sign * value < sign * self.best:
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True


class NetworkEstimator(BaseEstimator):
    """Base class: the fit loop shared by the mllib estimators.

    Subclasses define ``__init__`` with their parameters, ``_build(y, seed)``
    returning an unfitted NeuralNetwork, and ``_check_y(y)``; classifiers
    also ``_score_key = "accuracy"``.
    """

    _parameter_constraints: dict = dict(TRAINING_CONSTRAINTS)
    _score_key = "r2"

    def _float_dtype(self):
        return np.float32 if self.dtype == "float32" else np.float64

    def _fit(self, X, y, multi_output=False):
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=self._float_dtype(), multi_output=multi_output,
                             y_numeric=not is_classifier(self))
        y = self._check_y(y)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        validation = self._split_validation(X, y, rng)
        if validation is not None:
            X, y = validation[0], validation[1]
            validation = validation[2:]
        network = self._build(y, seed)
        optimizer, lr = make_optimizer(self.solver, float(self.learning_rate_init), self.momentum,
                                       self.beta_1, self.beta_2, self.epsilon)
        stopper = self._stopper()
        batch_size = min(200 if self.batch_size == "auto" else self.batch_size, X.shape[0])
        try:
            history = network.fit(X, y, optimizer=optimizer, learning_rate=lr,
                                  epochs=self.max_iter, batch_size=batch_size,
                                  lr_decay=self.lr_decay, validation_data=validation,
                                  callbacks=[stopper], verbose=2 if self.verbose else 0)
        except DivergenceError as err:
            # scikit-learn's MLP words this as a ValueError; we add where it happened.
            raise ValueError(f"{DIVERGED} (at epoch {err.epoch})") from err
        self.model_ = network
        self._record(history.history, stopper)
        if stopper.stopped_epoch is None:
            # Last, so that the estimator is complete even where warnings are errors.
            warnings.warn(f"{type(self).__name__}: max_iter={self.max_iter} epochs reached and "
                          f"the optimization has not converged: the {stopper.monitor} still "
                          f"improved by more than tol={self.tol} within the last "
                          f"n_iter_no_change={self.n_iter_no_change} epochs", ConvergenceWarning)
        return self

    def _split_validation(self, X, y, rng):
        """``(X_train, y_train, X_val, y_val)`` for early stopping, else None."""
        if not self.early_stopping:
            return None
        stratify = y if is_classifier(self) else None
        X_train, X_val, y_train, y_val = train_test_split(
            X, y, test_size=self.validation_fraction, random_state=rng, stratify=stratify)
        if X_val.shape[0] < 2:
            raise ValueError(f"validation_fraction={self.validation_fraction} leaves "
                             f"{X_val.shape[0]} of {X.shape[0]} rows for validation; "
                             "early stopping needs at least 2")
        return X_train, y_train, X_val, y_val

    def _stopper(self):
        monitor = f"val_{self._score_key}" if self.early_stopping else "cost"
        patience = self.max_iter if self.n_iter_no_change == np.inf else self.n_iter_no_change
        return NoImprovementStopping(monitor=monitor, patience=int(patience),
                                     min_delta=float(self.tol),
                                     restore_best_weights=self.early_stopping)

    def _record(self, history, stopper):
        self.loss_curve_ = [float(c) for c in history["cost"]]
        self.n_iter_ = len(self.loss_curve_)
        self.loss_ = self.loss_curve_[-1]
        if self.early_stopping:
            self.validation_scores_ = [float(s) for s in history[stopper.monitor]]
            self.best_validation_score_ = max(self.validation_scores_)
            self.best_loss_ = None
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_)

    def _forward(self, X):
        """The network's inference-mode output on validated X."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self._float_dtype())
        return self.model_.forward(X)


class ClassifierOutputs:
    """Labels, probabilities and ``classes_`` for the classifiers.

    The network is fitted on the labels as given: mllib's
    :class:`~mllib.data.ClassEncoder` sorts them and ``classes_`` is its
    ``classes_``. A one-unit sigmoid output gives P(classes_[1] | x).
    """

    _score_key = "accuracy"

    def _check_y(self, y):
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.shape[0] < 2:
            raise ValueError(f"y has only one class, {classes[:1].tolist()[0]!r}; a "
                             "classifier needs at least 2 classes")
        return y

    def _record(self, history, stopper):
        super()._record(history, stopper)
        self.classes_ = self.model_.targets_.classes.classes_

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), in the order of ``classes_``."""
        a = self._forward(X)
        return np.hstack([1.0 - a, a]) if a.shape[1] == 1 else a

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``; -inf where a probability is exactly 0."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each row, shape (n_samples,)."""
        proba = self.predict_proba(X)  # first: it checks that the estimator is fitted
        return self.classes_[np.argmax(proba, axis=1)]


def check_hidden_layer_sizes(sizes):
    """``hidden_layer_sizes`` as a list of positive ints, or ValueError naming it."""
    listed = [sizes] if isinstance(sizes, Integral) else list(sizes)
    for n in listed:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, Integral) or n < 1:
            raise ValueError(f"hidden_layer_sizes must hold positive integers, got {sizes!r}")
    return [int(n) for n in listed]
