"""The classifiers' side of the estimators: classes, labels and probabilities.

:class:`ClassifierOutputs` turns the network's output a[L] into what a
scikit-learn classifier returns, and checks the labels of later fits against
the classes of the first.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from ..training.rows.targets import TargetEncoder


class ClassifierOutputs:
    """Labels, probabilities and ``classes_`` for the classifiers.

    ``classes_`` are the sorted labels of the first fit (or ``classes=`` of
    the first ``partial_fit``), and the network's
    :class:`~mllib.training.rows.targets.TargetEncoder` encodes them, so that
    ``model_`` predicts the same labels on its own. Two classes get one
    sigmoid unit, giving P(classes_[1] | x); more get a softmax layer. A 0/1
    indicator matrix y is multilabel: one sigmoid unit per column, and
    ``classes_`` is ``arange(n_columns)``, as in scikit-learn.
    """

    _score_key = "accuracy"

    def _check_y(self, y, incremental):
        if y.ndim == 2 and y.shape[1] == 1:   # one column of labels: warn, as scikit-learn
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not incremental and np.ndim(y) == 1 and np.unique(y).shape[0] < 2:
            raise ValueError(f"y has only one class, {np.unique(y)[:1].tolist()[0]!r}; a "
                             "classifier needs at least 2 classes")
        return y

    def _output_layer(self, n_classes):
        """``(activation, units)`` of the output layer for ``n_classes`` single labels."""
        return ("sigmoid", 1) if n_classes == 2 else ("softmax", n_classes)
    def _targets(self, y, fresh, classes):
        """On a fresh start ``(output, n_outputs, encoder)``; else check ``y``'s classes."""
        multilabel = type_of_target(y, input_name="y") == "multilabel-indicator"
        if fresh:
            self._multilabel = multilabel
            if multilabel:
                self.classes_ = np.arange(y.shape[1])
                return "sigmoid", y.shape[1], TargetEncoder("sigmoid")
            labels = np.unique(y if classes is None else np.asarray(classes))
            if labels.shape[0] < 2:
                raise ValueError(f"classes={classes!r} has fewer than 2 classes")
            output, units = self._output_layer(labels.shape[0])
            encoder = TargetEncoder(output).fitted(labels, units)
            self.classes_ = encoder.classes.classes_
            return output, units, encoder
        self._check_same_classes(y, multilabel)
        return None

    def _check_same_classes(self, y, multilabel):
        if multilabel != self._multilabel or (multilabel and y.shape[1] != len(self.classes_)):
            first = (f"a 0/1 indicator matrix of {len(self.classes_)} columns"
                     if self._multilabel else "class labels, 1-D")
            raise ValueError(f"y must be {first}, as in the first fit")
        if multilabel:
            return
        found = np.unique(y)
        if self.warm_start and set(found) != set(self.classes_):
            raise ValueError("warm_start can only be used where `y` has the same classes as "
                             f"in the previous call to fit. Previously got {self.classes_}, "
                             f"`y` has {found}")
        if np.setdiff1d(found, self.classes_).shape[0]:
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                             f"{self.classes_}. 'y' has {found}.")

    def _partial_fit_classes(self, classes):
        """scikit-learn's rule: ``classes`` on the first call, and the same ones afterwards."""
        if "model_" not in self.__dict__:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                             f"partial_fit, was: {self.classes_!r}")

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), in the order of ``classes_``.

        Multilabel: each column's own probability, which need not sum to 1.
        """
        return self._probabilities(self._forward(X))

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``; -inf where a probability is exactly 0."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each row, shape (n_samples,); multilabel: the 0/1
        matrix of the columns whose probability exceeds 1/2."""
        return self._predicted(self._forward(X))

    def _probabilities(self, a):
        """``predict_proba`` from the network's output a[L]: one sigmoid unit is P(classes_[1])."""
        return np.hstack([1.0 - a, a]) if a.shape[1] == 1 and not self._multilabel else a

    def _predicted(self, a):
        """``predict`` from the network's output a[L]."""
        proba = self._probabilities(a)
        if self._multilabel:
            return (proba > 0.5).astype(np.int64)
        return self.classes_[np.argmax(proba, axis=1)]
