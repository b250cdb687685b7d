"""Multi-layer perceptrons with scikit-learn's parameters, trained by mllib."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, StrOptions

from ..nn.init import init_config
from ..training import NeuralNetwork
from ..training.rows.targets import TargetEncoder
from ._base import (ATTRIBUTES_DOC, TRAINING_DOC, check_hidden_layer_sizes,
                    NetworkEstimator, refuse, set_parameters, stochastic)
from ._classifier import ClassifierOutputs

# scikit-learn's names for hidden activations, and mllib's own, to mllib's.
ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
               "linear": "linear", "sigmoid": "sigmoid", "leaky_relu": "leaky_relu"}

MLP_DOC = """\
    hidden_layer_sizes : int or array-like of int, default=(100,)
        Units n[1], ..., n[L-1] of the hidden layers; the input and output
        widths come from the data.
    activation : str, default="relu"
        Hidden activation g: scikit-learn's "identity", "logistic", "tanh",
        "relu", or mllib's "linear", "sigmoid", "leaky_relu" (slope 0.01).
    keep_prob : float in (0, 1], default=1.0
        Inverted-dropout keep probability of every hidden layer (notes §5.2);
        1 is no dropout. Inputs and outputs are never dropped.
    batch_norm : bool, default=False
        Batch-normalize every hidden layer before its activation (notes §9).
    init : {"he", "xavier", "small", "zeros", "normal:s"}, dict or callable, default="he"
        Weight initializer (:mod:`mllib.nn.init`); ``"normal:s"`` or
        ``{"name": "normal", "scale": s}`` draws randn·s and can be saved. Biases start at 0.
"""


class MLP(NetworkEstimator):
    """The parameters and network of :class:`MLPClassifier` and :class:`MLPRegressor`."""

    _parameter_constraints: dict = {
        **NetworkEstimator._parameter_constraints,
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "keep_prob": [Interval(Real, 0, 1, closed="right")],
        "batch_norm": ["boolean"],
        "init": [str, dict, callable],      # checked whole by _check_applicable
    }

    def _check_applicable(self, incremental):
        super()._check_applicable(incremental)
        try:
            init_config(self.init)
        except ValueError as err:
            refuse(self, "init", "'he', 'xavier', 'small', 'zeros', 'normal:s', "
                   "{'name': 'normal', 'scale': s} or a callable", str(err))

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, lp_reg=2, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, lr_decay=None, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=None, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000, keep_prob=1.0, batch_norm=False,
                 init="he", dtype=None):
        set_parameters(self, locals())

    def _build(self, output, n_outputs, seed, dtype):
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
        return NeuralNetwork(
            nodes=[None, *hidden, None],
            activators=[ACTIVATIONS[self.activation]] * len(hidden) + [output],
            keep_probs=self.keep_prob, batch_norm=self.batch_norm, lp_reg=self.lp_reg,
            lambda_=self.alpha, init=self.init, seed=seed, dtype=dtype)

    @available_if(stochastic)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on ``(X, y)``, continuing the fitted network; returns self.

        The first call starts a network; each later call continues it, with
        its optimizer state, learning rate and ``t_``. ``sample_weight`` weights
        this call's rows, as in :meth:`fit`. Only for the stochastic solvers, as
        in scikit-learn.
        """
        return self._fit(X, y, sample_weight, incremental=True)


class MLPClassifier(ClassifierOutputs, ClassifierMixin, MLP):
    __doc__ = f"""Multi-layer perceptron classifier: an mllib network on the log-loss.

    Two classes get one sigmoid output unit and the binary cross-entropy,
    more get a softmax layer and the categorical cross-entropy, as in
    scikit-learn's :class:`sklearn.neural_network.MLPClassifier`. A 0/1
    indicator matrix y (multilabel) gets one sigmoid unit per column, and
    ``predict`` returns the matrix of the columns whose probability exceeds
    1/2. ``partial_fit(X, y, sample_weight=None, classes=None)`` trains one
    epoch per call.

    ``fit`` and ``partial_fit`` take ``sample_weight``: each batch's cost is
    ``Σ w_j L_j / Σw + alpha/(2Σw) Σ|W|^p`` over its rows, as in scikit-learn,
    so an integer weight counts a row that many times and a weight of 0
    leaves it out (up to rounding, with one batch per epoch or "lbfgs");
    weights of 1 are no weights, to the bit. A batch whose weights are all 0
    takes no step. X may be a SciPy sparse CSR or CSC matrix or array, in
    every method: it is kept sparse (a CSC X is converted to CSR once, its
    stored values copied) and multiplied as such, never densified, and
    float32 stays float32.

    Parameters
    ----------
{MLP_DOC}{TRAINING_DOC}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The sorted class labels.
{ATTRIBUTES_DOC}

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from mllib.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = MLPClassifier((16,), learning_rate_init=0.01, tol=1e-3, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    >>> clf.model_
    NeuralNetwork(nodes=[4, 16, 3], activators=['relu', 'softmax'])
    """

    def fit(self, X, y, sample_weight=None):
        """Train on X of shape (n_samples, n_features), dense or sparse CSR/CSC, and
        labels y (or a 0/1 indicator matrix, for multilabel); returns self.

        ``sample_weight`` (n_samples,), or a number for every row: finite, ≥ 0, not
        all 0; each batch's cost is then its rows' weighted mean loss (see
        :mod:`mllib.sklearn._sgd`).
        """
        return self._fit(X, y, sample_weight)

    @available_if(stochastic)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch on ``(X, y)``, continuing the fitted network; returns self.

        The first call starts a network and needs ``classes``, every label that
        any call will bring; each later call continues it, with its optimizer
        state, learning rate and ``t_``. ``sample_weight`` weights this call's
        rows, as in :meth:`fit`. The order of the arguments is scikit-learn's
        (1.9): ``sample_weight`` before ``classes``. Only for the stochastic
        solvers, as in scikit-learn.
        """
        self._partial_fit_classes(classes)
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, MLP):
    __doc__ = f"""Multi-layer perceptron regressor: an mllib network on the squared error,
    or on the Poisson deviance.

    With ``loss="squared_error"`` the output layer is linear and the cost is
    ``1/(2N) Σ ||a − y||²``. For one target this is scikit-learn's loss; for
    several, scikit-learn also divides by the number of targets, which scales
    the data term against ``alpha``. With ``loss="poisson"`` the output is
    ``a = exp(z)``, the mean of a count, and the cost is half the Poisson
    deviance, ``1/N Σ (y log(y/a) − y + a)`` summed over the targets, as
    scikit-learn's (see :class:`mllib.nn.losses.PoissonDeviance`); y must be
    ≥ 0. y may be ``(n_samples,)`` or ``(n_samples, n_targets)``: one output
    unit per target.

    ``loss`` is keyword-only here, while scikit-learn also takes it as the
    first positional argument: ``MLPRegressor((32,))`` keeps meaning
    ``hidden_layer_sizes=(32,)``, as in mllib's earlier releases.

    Parameters
    ----------
    loss : {{"squared_error", "poisson"}}, default="squared_error"
        "squared_error": a linear output on the squared error (notes §3).
        "poisson": an exp output on half the Poisson deviance, for counts y ≥ 0
        (``out_activation_`` is "exp"). A ``warm_start`` fit or a
        ``partial_fit`` keeps the loss that the network was built with.
{MLP_DOC}{TRAINING_DOC}

    Attributes
    ----------
{ATTRIBUTES_DOC}

    Examples
    --------
    >>> import numpy as np
    >>> from mllib.sklearn import MLPRegressor
    >>> X = np.linspace(-2, 2, 200).reshape(-1, 1); y = np.sin(X[:, 0])
    >>> reg = MLPRegressor((32,), activation="tanh", learning_rate_init=0.01,
    ...                    batch_size=32, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.95
    True
    """

    _parameter_constraints: dict = {**MLP._parameter_constraints,
                                    "loss": [StrOptions({"squared_error", "poisson"})]}

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, loss="squared_error",
                 solver="adam", alpha=0.0001, lp_reg=2, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 lr_decay=None, max_iter=200, shuffle=True, random_state=None, tol=1e-4,
                 verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=None,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000, keep_prob=1.0,
                 batch_norm=False, init="he", dtype=None):
        set_parameters(self, locals())

    def fit(self, X, y, sample_weight=None):
        """Train on X of shape (n_samples, n_features), dense or sparse CSR/CSC, and y
        of shape (n_samples,) or (n_samples, n_targets); returns self.

        ``sample_weight`` (n_samples,), or a number for every row: finite, ≥ 0, not
        all 0; each batch's cost is then its rows' weighted mean loss.
        """
        return self._fit(X, y, sample_weight)

    def _check_y(self, y, incremental):
        return y

    def _targets(self, y, fresh, classes):
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        output = "exp" if self.loss == "poisson" else "linear"
        if fresh:
            return output, n_outputs, TargetEncoder(output)
        if output != self.model_.output_kind:
            raise ValueError(f"loss={self.loss!r} needs a {output} output, but the fitted "
                             f"network's is {self.model_.output_kind}: fit it again without "
                             "warm_start")
        if n_outputs != self.n_outputs_:
            raise ValueError(f"y has {n_outputs} target(s), but the fitted network predicts "
                             f"{self.n_outputs_}")
        return None

    def predict(self, X):
        """Predictions, shape (n_samples,), or (n_samples, n_targets) for several targets."""
        return self._predicted(self._forward(X))

    def _predicted(self, a):
        """``predict`` from the network's output a[L]: one target's column as a vector."""
        return a[:, 0] if a.shape[1] == 1 else a

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
