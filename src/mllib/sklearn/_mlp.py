"""Multi-layer perceptrons with scikit-learn's parameters, trained by mllib."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ..training import NeuralNetwork
from ._base import (ATTRIBUTES_DOC, TRAINING_DOC, ClassifierOutputs, NetworkEstimator,
                    check_hidden_layer_sizes)

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
    init : {"he", "xavier", "small", "zeros"} or callable, default="he"
        Weight initializer (:mod:`mllib.nn.init`); biases start at 0.
"""


class MLP(NetworkEstimator):
    """The parameters and network of :class:`MLPClassifier` and :class:`MLPRegressor`."""

    _parameter_constraints: dict = {
        **NetworkEstimator._parameter_constraints,
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "keep_prob": [Interval(Real, 0, 1, closed="right")],
        "batch_norm": ["boolean"],
        "init": [StrOptions({"he", "xavier", "small", "zeros"}), callable],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, lp_reg=2, batch_size="auto", learning_rate_init=0.001,
                 lr_decay=None, max_iter=200, momentum=0.9, beta_1=0.9, beta_2=None,
                 epsilon=1e-8, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, tol=1e-4, keep_prob=1.0, batch_norm=False, init="he",
                 random_state=None, verbose=False, dtype="float64"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.lp_reg = lp_reg
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.lr_decay = lr_decay
        self.max_iter = max_iter
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.keep_prob = keep_prob
        self.batch_norm = batch_norm
        self.init = init
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    def _network(self, output, seed):
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
        return NeuralNetwork(
            nodes=[None, *hidden, None],
            activators=[ACTIVATIONS[self.activation]] * len(hidden) + [output],
            keep_probs=self.keep_prob, batch_norm=self.batch_norm, lp_reg=self.lp_reg,
            lambda_=self.alpha, init=self.init, seed=seed, dtype=self.dtype)


class MLPClassifier(ClassifierOutputs, ClassifierMixin, MLP):
    __doc__ = f"""Multi-layer perceptron classifier: an mllib network on the log-loss.

    Two classes get one sigmoid output unit and the binary cross-entropy,
    more get a softmax layer and the categorical cross-entropy, as in
    scikit-learn's :class:`sklearn.neural_network.MLPClassifier`.

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

    def fit(self, X, y):
        """Train on X of shape (n_samples, n_features) and labels y; returns self."""
        return self._fit(X, y)

    def _build(self, y, seed):
        return self._network("sigmoid" if np.unique(y).shape[0] == 2 else "softmax", seed)


class MLPRegressor(RegressorMixin, MLP):
    __doc__ = f"""Multi-layer perceptron regressor: an mllib network on the squared error.

    The output layer is linear and the cost is ``1/(2N) Σ ||a − y||²``. For
    one target this is scikit-learn's loss; for several, scikit-learn also
    divides by the number of targets, which scales the data term against
    ``alpha``.

    Parameters
    ----------
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

    def fit(self, X, y):
        """Train on X of shape (n_samples, n_features) and y of shape (n_samples,)
        or (n_samples, n_targets); returns self."""
        return self._fit(X, y, multi_output=True)

    def _check_y(self, y):
        return y

    def _build(self, y, seed):
        return self._network("linear", seed)

    def predict(self, X):
        """Predictions, shape (n_samples,), or (n_samples, n_targets) for several targets."""
        a = self._forward(X)
        return a[:, 0] if a.shape[1] == 1 else a

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
