"""What the estimators share: parameter checks, the optimizer map, the fit.

:class:`NetworkEstimator` turns the scikit-learn parameters into a trained
mllib :class:`~mllib.training.NeuralNetwork`: it validates the parameters and
the data, draws the model's seed, builds the network and its optimizer,
holds out the validation rows for early stopping, and runs a solver: the
stochastic epochs of :mod:`._sgd` or the L-BFGS of :mod:`._lbfgs`. A fresh
fit starts again; ``warm_start`` and ``partial_fit`` continue the fitted
network. Subclasses say how the network is built and what ``y`` may be (the
classifiers' classes and labels are in :mod:`._classifier`).
``sample_weight`` is checked here and passed to the solvers, which give each
batch's weights to the network's ``train_step``; a sparse X is kept sparse.
Training that diverges raises scikit-learn's ValueError, "Solver produced
non-finite parameter weights. ...", with the epoch; with early stopping it ends
training with the best weights and a ConvergenceWarning instead (:mod:`._sgd`).
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (Interval, InvalidParameterError, Options,
                                             StrOptions)
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..optim import Adam, GradientDescent, Momentum, RMSProp
from ..training import NonFiniteOutputError
from ..training.rows.inputs import check_sample_weight
from ._docs import ATTRIBUTES_DOC, TRAINING_DOC  # noqa: F401 (re-exported for the estimators)
from ._fitted import FittedAttributes, start_from_weights_set_by_hand
from ._lbfgs import LbfgsSolver
from ._sgd import StochasticSolver

TRAINING_CONSTRAINTS = {
    "solver": [StrOptions({"adam", "sgd", "lbfgs", "momentum", "rmsprop", "gd"})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "lp_reg": [Options(Integral, {0, 1, 2})],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "lr_decay": [None, str, tuple, dict, callable],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left"), None],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    "tol": [Interval(Real, 0, None, closed="left")],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "dtype": [StrOptions({"float32", "float64"}), None],
}


def make_optimizer(solver, learning_rate, momentum, beta_1, beta_2, epsilon, nesterov=False):
    """The mllib optimizer for ``solver`` and the learning rate to give it.

    ``beta_2=None`` leaves β2 at the optimizer's default. Only "sgd" changes
    the rate: scikit-learn's ``v = μ v − α g`` is mllib's
    ``m = μ m + (1 − μ) g`` with ``v = −α m/(1 − μ)``; its Nesterov step
    ``θ += μ v − α g`` is then ``θ −= α/(1 − μ) · (μ m + (1 − μ) g)``, which is
    ``Momentum(nesterov=True)`` at the same rate α/(1 − μ).
    """
    second = {} if beta_2 is None else {"beta2": beta_2}
    if solver == "adam":
        return Adam(beta1=beta_1, epsilon=epsilon, **second), learning_rate
    if solver == "rmsprop":
        return RMSProp(epsilon=epsilon, **second), learning_rate
    if solver == "momentum":
        return Momentum(beta1=momentum), learning_rate
    if solver == "sgd" and momentum > 0:
        return Momentum(beta1=momentum, nesterov=nesterov), learning_rate / (1.0 - momentum)
    return GradientDescent(), learning_rate


def refuse(estimator, name, allowed, why):
    """scikit-learn's InvalidParameterError for a value it takes but a notes-style network cannot."""
    raise InvalidParameterError(
        f"The {name!r} parameter of {type(estimator).__name__} must be {allowed}. Got "
        f"{getattr(estimator, name)!r} instead: {why}")


class NetworkEstimator(StochasticSolver, LbfgsSolver, FittedAttributes, BaseEstimator):
    """Base class: the fit shared by the mllib estimators.

    Subclasses define ``__init__`` with their parameters,
    ``_build(output, n_outputs, seed, dtype)`` returning an unfitted
    NeuralNetwork, ``_check_y(y)`` and ``_targets(y, fresh, classes)``;
    classifiers also ``_score_key = "accuracy"``.
    """

    _parameter_constraints: dict = dict(TRAINING_CONSTRAINTS)
    _score_key = "r2"

    def _input_dtype(self, fresh):
        """The dtype(s) ``validate_data`` converts X to."""
        if not fresh:
            return self.model_.dtype
        if self.dtype is None:
            return (np.float64, np.float32)   # float32 stays float32, as in scikit-learn
        return np.float32 if self.dtype == "float32" else np.float64

    def _check_applicable(self, incremental):
        """Refuse, with scikit-learn's error types, what a notes-style network cannot do."""
        if self.momentum == 1:
            refuse(self, "momentum", "a float in the range [0.0, 1.0)", "the notes' EMA "
                   "momentum v = β v + (1 − β) g never learns at β = 1, and 'sgd' runs it at "
                   "the rate α/(1 − μ), infinite at μ = 1")
        if self.solver == "lbfgs" and getattr(self, "keep_prob", 1.0) < 1.0:
            refuse(self, "keep_prob", "1.0 with solver='lbfgs'", "dropout makes the "
                   "full-batch cost random, which L-BFGS's line search cannot minimize")
        if self.solver == "lbfgs" and getattr(self, "batch_norm", False):
            refuse(self, "batch_norm", "False with solver='lbfgs'", "L-BFGS takes full-batch "
                   "steps, which would leave the running statistics unestimated")
        if self.lr_decay is not None and self.learning_rate != "constant":
            raise ValueError(f"lr_decay={self.lr_decay!r} is a schedule of its own; give it "
                             f"with learning_rate='constant', not {self.learning_rate!r}")
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")

    def _fit(self, X, y, sample_weight=None, *, incremental=False, classes=None):
        self._validate_params()
        self._check_applicable(incremental)
        fresh = "model_" not in self.__dict__ or not (self.warm_start or incremental)
        # A run stopped by Ctrl-C goes on where it stopped, when warm_start or
        # partial_fit continues the model (see StochasticSolver).
        resuming = not fresh and self.__dict__.get("_interrupted", False)
        X, y = validate_data(self, X, y, reset=fresh, dtype=self._input_dtype(fresh),
                             accept_sparse=SPARSE_FORMATS, multi_output=True,
                             y_numeric=not is_classifier(self))
        X = as_csr(X)
        w = checked_weights(sample_weight, X)
        y = self._check_y(y, incremental)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        validation = self._split_validation(X, y, w, rng, incremental)
        if validation is not None:
            X, y, w, validation = validation[0], validation[1], validation[2], validation[3:]
        self._batch_size_check(X.shape[0])
        try:
            self._prepare(X, y, seed, fresh, incremental, classes, resuming)
            Y = self.model_.targets_.transform(y, self.model_.config["nodes"][-1],
                                               self.model_.dtype)
            self._n_train_rows = X.shape[0]
            if self.solver == "lbfgs":
                self._fit_lbfgs(X, Y, w)
            else:
                self._fit_stochastic(X, Y, w, validation, incremental, resuming)
        except KeyboardInterrupt:
            self._keep_or_forget(fresh)
            raise
        except BaseException:
            if fresh:   # nothing fitted is left half-recorded
                self.__dict__.pop("model_", None)
            raise
        return self

    def _keep_or_forget(self, fresh):
        """After Ctrl-C: a model that took a step is kept, at the step boundary where the
        engine stopped, to go on with warm_start or partial_fit; else as after an error."""
        net = self.__dict__.get("model_")
        if net is not None and self.solver != "lbfgs" and (
                net.position_ is not None or net.epoch_ > 0):
            self._interrupted = True
        elif fresh:
            self.__dict__.pop("model_", None)

    def _prepare(self, X, y, seed, fresh, incremental, classes, resuming=False):
        """Build the network on a fresh start (from weights assigned by hand, if any, for a
        run that continues); make the optimizer for a new run (not when resuming an
        interrupted one, whose optimizer, rate and counts go on)."""
        if fresh:
            output, n_outputs, encoder = self._targets(y, True, classes)
            net = self._build(output, n_outputs, seed,
                              "float32" if X.dtype == np.float32 else "float64")
            net.build(X.shape[1], n_outputs)
            net.targets_, net.fitted_ = encoder, True
            self.model_ = net
            start_from_weights_set_by_hand(self, self.warm_start or incremental)
        else:
            self._targets(y, False, classes)
        if resuming:
            return
        if self.solver != "lbfgs" and (fresh or not incremental or
                                       self.model_.optimizer_ is None):
            self.model_.optimizer_, rate = make_optimizer(
                self.solver, 1.0, self.momentum, self.beta_1, self.beta_2, self.epsilon,
                self.nesterovs_momentum)
            self._rate_factor = rate    # the optimizer's rate per unit of scikit-learn's α
            if fresh or not incremental:
                self._rate = float(self.learning_rate_init)
            if fresh or "_no_improvement_count" not in self.__dict__:   # or after lbfgs
                self._start_stochastic()

    def _split_validation(self, X, y, w, rng, incremental):
        """``(X_train, y_train, w_train, X_val, y_val, w_val)`` for early stopping, else None.

        The weights (None, or checked) are split with their rows, and the validation
        score is weighted by its rows' weights, as in scikit-learn's MLP; the split
        itself does not depend on the weights.
        """
        if not self.early_stopping or incremental:
            return None
        single_label = is_classifier(self) and np.ndim(y) == 1
        too_small = ValueError("The validation set is too small. Increase "
                               f"'validation_fraction' (now {self.validation_fraction}) or "
                               f"the size of your dataset ({X.shape[0]} rows).")
        if self.validation_fraction == 0:
            raise too_small
        arrays = (X, y) if w is None else (X, y, w)
        # Split first, as scikit-learn: a stratified split refuses a class of one row,
        # which names the problem better than the validation rows' number.
        parts = train_test_split(*arrays, test_size=self.validation_fraction,
                                 random_state=rng, stratify=y if single_label else None)
        if parts[1].shape[0] < 2:
            raise too_small
        X_train, X_val, y_train, y_val = parts[:4]
        w_train, w_val = parts[4:] if w is not None else (None, None)
        for part, rows in ((w_train, "training"), (w_val, "validation")):
            if part is not None and not part.any():
                raise ValueError(f"sample_weight is 0 on every {rows} row of the early-stopping "
                                 f"split (validation_fraction={self.validation_fraction}); "
                                 "give positive weights to more rows")
        return (X_train, y_train, check_sample_weight(w_train, len(y_train)), X_val, y_val,
                check_sample_weight(w_val, len(y_val)))

    def _validation_score(self, X_val, y_val, w_val=None):
        """``score`` on the held-out rows, which ``validate_data`` checked with the rest.

        They are passed to the network as they are: ``score`` would check them again,
        and warn that they lost the feature names of the X that they were cut from.
        Outputs that are not finite score NaN, as in scikit-learn's MLP; outputs so
        large that the score overflows score what the metric gives (-inf or NaN),
        without a RuntimeWarning.
        """
        metric = accuracy_score if is_classifier(self) else r2_score
        try:
            a = self.model_.forward(X_val)
        except NonFiniteOutputError:
            return math.nan
        with np.errstate(over="ignore", invalid="ignore"):   # huge outputs score -inf or NaN
            return metric(y_val, self._predicted(a), sample_weight=w_val)

    def _batch_size_check(self, n_rows):
        if self.batch_size != "auto" and self.batch_size > n_rows \
                and self.solver != "lbfgs":
            warnings.warn(f"Got `batch_size` less than 1 or larger than sample size "
                          f"(batch_size={self.batch_size}, {n_rows} rows). It is going to "
                          "be clipped")

    def _forward(self, X):
        """The network's inference-mode output on validated X."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.model_.dtype,
                          accept_sparse=SPARSE_FORMATS)
        return self.model_.forward(as_csr(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


# The sparse formats of X that the estimators take, as scikit-learn's MLP; other formats
# are converted to CSR by ``validate_data``, and CSC by :func:`as_csr`.
SPARSE_FORMATS = ["csr", "csc"]


def as_csr(X):
    """A sparse X as CSR, whose rows the mini-batches gather (a copy of the stored values
    of a CSC X, never a dense array); a dense X as it is."""
    return X.tocsr() if sparse.issparse(X) and X.format != "csr" else X


def checked_weights(sample_weight, X):
    """``sample_weight`` checked as scikit-learn checks it, as float64 (n_samples,), or None.

    A number is broadcast to every row, as in scikit-learn's ``_check_sample_weight``,
    which also converts lists, Series and the like and refuses NaN, ∞ and a wrong
    shape; then mllib's core refuses negative weights (naming the first, and its row).
    All 0 is a ValueError whose message says so in the words scikit-learn's checks
    look for. Weights that are all 1 become None: the unweighted cost, bit for bit.
    """
    if sample_weight is None:
        return None
    if not isinstance(sample_weight, Real):
        sample_weight = np.asarray(sample_weight)   # a list, a Series, any array-like
        if sample_weight.ndim > 1:
            raise ValueError("sample_weight must be 1-D, one weight per row of X, or a "
                             f"number; got shape {sample_weight.shape}")
    w = _check_sample_weight(sample_weight, X, dtype=np.float64, allow_all_zero_weights=True)
    if not w.any():
        raise ValueError(f"sample_weight must contain at least one non-zero weight; got 0 on "
                         f"all {w.shape[0]} rows")
    return check_sample_weight(w, X.shape[0])



def check_hidden_layer_sizes(sizes):
    """``hidden_layer_sizes`` as a list of positive ints, or ValueError naming it."""
    listed = [sizes] if isinstance(sizes, Integral) else list(sizes)
    for n in listed:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, Integral) or n < 1:
            raise ValueError(f"hidden_layer_sizes must hold positive integers, got {sizes!r}")
    return [int(n) for n in listed]


def set_parameters(estimator, given):
    """Store the constructor's arguments (``locals()`` of ``__init__``) as attributes, unchanged."""
    for name, value in given.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def stochastic(estimator):
    """Whether ``partial_fit`` applies: every solver but "lbfgs" (scikit-learn's AttributeError)."""
    if estimator.solver == "lbfgs":
        raise AttributeError("partial_fit is only available for stochastic optimizers. lbfgs "
                             "is not stochastic.")
    return True
