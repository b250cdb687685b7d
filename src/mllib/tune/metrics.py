"""The metric a search chooses by, turned into an error that every search minimizes.

==================  ===========  ========  ================  ====================
metric              for          better    the search's      a fraction in
                                           error             [0, 1]?
==================  ===========  ========  ================  ====================
accuracy            classifiers  higher    1 − accuracy      yes
balanced_accuracy   classifiers  higher    1 − score         yes
f1_macro            classifiers  higher    1 − score         yes
roc_auc             classifiers  higher    1 − AUC           yes
log_loss            classifiers  lower     log-loss (nats)   no: [0, ∞)
r2                  regressors   higher    1 − R²            no: [0, ∞)
rmse                regressors   lower     RMSE (y's units)  no: [0, ∞)
mae                 regressors   lower     MAE (y's units)   no: [0, ∞)
==================  ===========  ========  ================  ====================

The names are scikit-learn's scorers' where one exists. ``accuracy`` and
``r2`` are the scores mllib's ``evaluate`` logs, taken from there: they need
nothing else, and a search without ``metric=`` (the default) uses them, so
its table is that of a search before metrics existed, bit for bit. The
others are scikit-learn's functions (``balanced_accuracy_score``,
``f1_score(average="macro")``, ``roc_auc_score``, ``log_loss``,
``root_mean_squared_error``, ``mean_absolute_error``), applied to
``predict`` (labels, values) or ``predict_proba`` (columns in the order of
the model's classes); they need scikit-learn (``pip install
"mllib[sklearn]"``). ROC AUC of more than two classes is the macro average
of one class against the rest (scikit-learn's ``roc_auc_ovr``); of two, the
AUC of the second class, the positive one. A multi-output regressor's RMSE
and MAE are the means over the outputs, as scikit-learn's.

The classifiers' metrics other than accuracy take one label per row (not a
multi-label or one-hot matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..settings import choose_output, resolve

SKLEARN_EXTRA = 'pip install "mllib[sklearn]"'
CLASSIFIER_OUTPUTS = ("sigmoid", "softmax")


@dataclass(frozen=True)
class Metric:
    """One metric: its name, which models it scores, its direction and what it needs.

    ``takes`` is "logs" (the score that ``model.evaluate`` logs), "labels"
    (``predict`` of a classifier), "proba" (``predict_proba``) or "values"
    (``predict`` of a regressor).
    """

    name: str
    task: str                   # "classifier" or "regressor"
    higher_is_better: bool
    fraction: bool              # whether the error is a fraction in [0, 1]
    takes: str

    @property
    def error_name(self) -> str:
        """What the search's error is, in words: ``"1 - accuracy"`` or ``"rmse"``."""
        return f"1 - {self.name}" if self.higher_is_better else self.name

    def error_of(self, score) -> float:
        """The error to minimize for ``score``: 1 − score, or the score itself."""
        return 1.0 - score if self.higher_is_better else score

    def score(self, model, X, y, logs=None) -> float:
        """The metric of ``model`` on ``(X, y)``, in its own units; ``logs`` of
        ``model.evaluate(X, y)`` when the caller has them already."""
        if self.takes == "logs":
            logs = model.evaluate(X, y) if logs is None else logs
            return float(logs[self.name])
        if self.takes == "proba":
            return score_of(self.name, y, probabilities(model, X), classes_of(model))
        return score_of(self.name, y, model.predict(X))

    def error(self, model, X, y, logs=None) -> float:
        """:meth:`error_of` the :meth:`score`."""
        return self.error_of(self.score(model, X, y, logs))


METRICS = {m.name: m for m in (
    Metric("accuracy", "classifier", True, True, "logs"),
    Metric("balanced_accuracy", "classifier", True, True, "labels"),
    Metric("f1_macro", "classifier", True, True, "labels"),
    Metric("roc_auc", "classifier", True, True, "proba"),
    Metric("log_loss", "classifier", False, False, "proba"),
    Metric("r2", "regressor", True, False, "logs"),
    Metric("rmse", "regressor", False, False, "values"),
    Metric("mae", "regressor", False, False, "values"),
)}


def get_metric(name) -> Metric | None:
    """The :class:`Metric` called ``name``; None for None (each model's own score).

    ValueError for an unknown name; ImportError naming the extra when the metric
    needs scikit-learn and it is not installed.
    """
    if name is None:
        return None
    if not isinstance(name, str) or name not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)} (or None: 1 - accuracy "
                         f"or 1 - r2), got {name!r}")
    metric = METRICS[name]
    if metric.takes != "logs":
        try:
            import sklearn.metrics  # noqa: F401 - only to know that it is there
        except ImportError:
            raise ImportError(f"metric={name!r} uses scikit-learn's implementation: "
                              f"{SKLEARN_EXTRA}") from None
    return metric


def own_metric(model) -> Metric:
    """The metric a model logs: accuracy for a classifier, R² for a regressor."""
    return METRICS[model.score_name]


def probabilities(model, X) -> np.ndarray:
    """``predict_proba`` with one column per class, in the order of the model's classes
    (a sigmoid output's P(y = 1) becomes the two columns 1 − p, p), in the model's dtype:
    scikit-learn checks that rows sum to 1 to within that dtype's rounding."""
    p = np.asarray(model.predict_proba(X))
    return np.column_stack([1.0 - p[:, 0], p[:, 0]]) if p.shape[1] == 1 else p


def classes_of(model) -> np.ndarray:
    """The model's classes, in the order of its outputs."""
    return model.targets_.classes.classes_


def score_of(name, y_true, output, classes=None) -> float:
    """Metric ``name`` of the labels or values ``y_true`` against ``output``: predicted
    labels, values, or probabilities with one column per class of ``classes``."""
    from sklearn import metrics

    y_true = _one_column(np.asarray(y_true))
    if name == "balanced_accuracy":
        return float(metrics.balanced_accuracy_score(y_true, output))
    if name == "f1_macro":
        return float(metrics.f1_score(y_true, output, average="macro"))
    if name == "roc_auc":
        if len(classes) == 2:
            return float(metrics.roc_auc_score(y_true == classes[1], output[:, 1]))
        return float(metrics.roc_auc_score(y_true, output, multi_class="ovr",
                                           average="macro", labels=classes))
    if name == "log_loss":
        return float(metrics.log_loss(y_true, output, labels=classes))
    if name == "rmse":
        rmse = getattr(metrics, "root_mean_squared_error", None)   # scikit-learn ≥ 1.4
        if rmse is not None:
            return float(rmse(y_true, output))
        return float(np.sqrt(metrics.mean_squared_error(y_true, output,
                                                        multioutput="raw_values")).mean())
    if name == "mae":
        return float(metrics.mean_absolute_error(y_true, output))
    raise ValueError(f"{name!r} is not a metric scored from predictions")


def _one_column(y):
    return y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y


def resolve_metric(metric, candidates, train, dev) -> str | None:
    """The name of the metric a search of ``candidates`` chooses by, checked against them
    and the data before any trial runs.

    ``metric`` None is each model's own score: "accuracy" when every candidate
    is a classifier, "r2" when every one is a regressor, and None for a search
    that mixes the two (each trial then has its own). A named metric must
    suit every candidate's output; ValueError naming ``metric`` otherwise.
    """
    chosen = get_metric(metric)
    kinds = {}
    for c in candidates:
        output = choose_output(resolve(c.settings)["output"], train[1])
        kinds.setdefault("classifier" if output in CLASSIFIER_OUTPUTS else "regressor", c)
    if chosen is None:
        return None if len(kinds) > 1 else ("accuracy" if "classifier" in kinds else "r2")
    for kind, c in kinds.items():
        if kind != chosen.task:
            raise ValueError(f"metric={metric!r} scores {chosen.task}s, but trial {c.trial} "
                             f"{c.params} is a {kind}")
    if chosen.task == "classifier" and chosen.takes != "logs":
        _check_labels(chosen, train[1], dev[1])
    return chosen.name


def _check_labels(metric, y_train, y_dev):
    y_train, y_dev = np.asarray(y_train), np.asarray(y_dev)
    for y in (y_train, y_dev):
        if _one_column(y).ndim != 1:
            raise ValueError(f"metric={metric.name!r} takes one class label per row, but y has "
                             f"{y.shape[1]} columns; use metric='accuracy'")
    if metric.name == "roc_auc":
        missing = np.setdiff1d(np.unique(_one_column(y_train)), np.unique(_one_column(y_dev)))
        if missing.size:
            raise ValueError(f"metric='roc_auc' needs every class in the dev set, but it has "
                             f"no row of class(es) {missing.tolist()}")
