"""scikit-learn estimators over mllib's networks (needs ``pip install "mllib[sklearn]"``).

:class:`MLPClassifier` and :class:`MLPRegressor` take scikit-learn's
parameter names where it has one (``hidden_layer_sizes``, ``alpha``,
``learning_rate_init``, ``max_iter``, ``early_stopping``, ...) and the notes'
own for the rest (``keep_prob``, ``batch_norm``, ``lp_reg``, ``init``,
``lr_decay``); :class:`LogisticRegression` and :class:`SoftmaxRegression`
wrap mllib's presets. All four pass scikit-learn's estimator checks, so
they work in ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``; the
fitted mllib network is ``model_``.

Like scikit-learn's MLP, a fit that reaches ``max_iter`` before the training
cost (or validation score) has stopped improving by ``tol`` warns with
``sklearn.exceptions.ConvergenceWarning``, and a fit whose weights stop
being finite raises its ValueError, "Solver produced non-finite parameter
weights. ...", here with the epoch where it happened.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from mllib.sklearn import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = make_pipeline(StandardScaler(), MLPClassifier((16,), learning_rate_init=0.01,
...                                                   tol=1e-3, random_state=0))
>>> clf.fit(X, y).score(X, y) > 0.9
True
"""

from ._linear import LogisticRegression, SoftmaxRegression
from ._mlp import MLPClassifier, MLPRegressor

__all__ = ["LogisticRegression", "MLPClassifier", "MLPRegressor", "SoftmaxRegression"]
