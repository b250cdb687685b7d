"""Logistic and softmax regression (notes §1, §10) as scikit-learn classifiers.

They wrap mllib's presets :class:`mllib.LogisticRegression` and
:class:`mllib.SoftmaxRegression`: one Dense layer started at w = 0, trained
with the same loop, optimizers and penalty as the multi-layer perceptrons.
"""

from __future__ import annotations

from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import type_of_target

from .. import training
from ._base import ATTRIBUTES_DOC, TRAINING_DOC, NetworkEstimator, set_parameters
from ._classifier import ClassifierOutputs

LINEAR_DOC = """\
    The parameters and attributes are those of :class:`MLPClassifier`
    without the hidden layers; the defaults differ only in
    ``learning_rate_init=0.01``, since w starts at 0.

    Parameters
    ----------
{training}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The sorted class labels.
{attributes}
"""


class LinearClassifier(ClassifierOutputs, ClassifierMixin, NetworkEstimator):
    """The parameters shared by :class:`LogisticRegression` and :class:`SoftmaxRegression`."""

    def __init__(self, *, solver="adam", alpha=0.0001, lp_reg=2, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.01, power_t=0.5, lr_decay=None,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=None, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000, dtype=None):
        set_parameters(self, locals())

    def fit(self, X, y, sample_weight=None):
        """Train on X of shape (n_samples, n_features), dense or sparse CSR/CSC, and
        labels y, with optional ``sample_weight`` as :meth:`MLPClassifier.fit`; returns self."""
        return self._fit(X, y, sample_weight)

    def _check_y(self, y, incremental):
        y = super()._check_y(y, incremental)
        if type_of_target(y, input_name="y") == "multilabel-indicator":
            raise ValueError(f"{type(self).__name__} takes one label per row, not a multilabel "
                             "indicator matrix; use MLPClassifier for multilabel y")
        return y


class LogisticRegression(LinearClassifier):
    __doc__ = """Binary logistic regression a = σ(x wᵀ + b) on the log-loss (notes §1).

    Two classes only: y with more raises ValueError; use
    :class:`SoftmaxRegression` for those. ``predict_proba(X)[:, 1]`` is
    P(classes_[1] | x).

""" + LINEAR_DOC.format(training=TRAINING_DOC, attributes=ATTRIBUTES_DOC) + """
    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from mllib.sklearn import LogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), LogisticRegression(random_state=0)).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    """

    def _check_y(self, y, incremental):
        y = super()._check_y(y, incremental)
        y_type = type_of_target(y, input_name="y")
        if y_type != "binary":
            raise ValueError("Only binary classification is supported. The type of the "
                             f"target is {y_type}; use SoftmaxRegression for more classes")
        return y

    def _build(self, output, n_outputs, seed, dtype):
        return training.LogisticRegression(lp_reg=self.lp_reg, lambda_=self.alpha, seed=seed,
                                           dtype=dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


class SoftmaxRegression(LinearClassifier):
    __doc__ = """Softmax regression a = softmax(x Wᵀ + b) on the cross-entropy (notes §10).

    Any number of classes ≥ 2, each with its own output unit, so two classes
    get two units (unlike :class:`LogisticRegression`'s one).

""" + LINEAR_DOC.format(training=TRAINING_DOC, attributes=ATTRIBUTES_DOC) + """
    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from mllib.sklearn import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxRegression(learning_rate_init=0.1, tol=1e-3, random_state=0)
    >>> make_pipeline(StandardScaler(), clf).fit(X, y).score(X, y) > 0.9
    True
    """

    def _output_layer(self, n_classes):
        return "softmax", n_classes

    def _build(self, output, n_outputs, seed, dtype):
        return training.SoftmaxRegression(lp_reg=self.lp_reg, lambda_=self.alpha, seed=seed,
                                          dtype=dtype)
