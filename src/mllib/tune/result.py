"""The outcome of a search: the trial table, the best trial and its model (notes §5).

The notes' protocol: train every candidate on the training set, score it on
the dev set, choose by dev error, and evaluate the chosen model on the test
set once (step vi). :meth:`SearchResult.test` records that evaluation and
warns when it is asked for again.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from ..io import loads_model, write_atomically
from ..optim import single_threaded
from ..training.diagnosis import diagnose
from .metrics import METRICS, own_metric
from .nextspace import next_space
from .repeats import STATS

COLUMNS = ("trial", "rung", "bracket", "status", "pruned", "train_error", "dev_error",
           "fold_sd", "fold_errors", "train_cost", "dev_cost", "epochs", "metric", "seed",
           "seconds", "error")
OPTIONAL = ("bracket", "pruned", "fold_sd", "fold_errors")   # only for searches that have them


class SearchResult:
    """Trials in trial order; the best one by dev error (ties: the lower trial number).

    Attributes
    ----------
    trials : list of dict
        One row per trial: ``trial``, ``params``, ``seed``, ``status`` ("ok" or
        "failed"), ``error`` (a failure's reason), ``train_error``,
        ``dev_error``, ``train_cost``, ``dev_cost``, ``epochs`` and
        ``seconds``. An error is the search's metric turned into an error
        (:mod:`mllib.tune.metrics`): by default 1 − accuracy, or 1 − R² for a
        regressor. A pruned search's rows also have ``pruned`` and ``curve``
        (:mod:`mllib.tune.pruning`).
    best : dict or None
        The ok trial with the lowest dev error, of those not pruned; None if every
        trial failed. In a search with repeats (:mod:`mllib.tune.repeats`), the
        repeated candidate with the lowest mean dev error over its seeds (ties: the
        lower trial); its row, and every repeated one, has ``dev_error_mean``,
        ``dev_error_sd``, ``dev_error_low`` and ``dev_error_high`` (the 95 %
        interval of the mean) and ``repeats`` (its ok seeds); the other rows have
        None there.
    repeats : list of dict or None
        A search with repeats: the rows of the repeated candidates' other seeds, by
        trial and ``repeat`` (1, 2, ...; repeat 0 is the trial's own row). None
        for a search without.
    metric : str or None
        The name of the metric; None for a search of classifiers and regressors
        together, where each trial's error is its own model's.
    space : dict
        The space searched, setting → :class:`~mllib.tune.spaces.Space`.
    test_result : dict or None
        What :meth:`test` measured.
    """

    def __init__(self, trials, best_model: bytes | None, *, kind="random", rungs=None,
                 settings=None, metric=None, own_errors=None, space=None, repeats=None,
                 best=None):
        self.trials = sorted(trials, key=lambda row: row["trial"])
        self.kind, self.metric = kind, metric
        self.settings = dict(settings or {})
        self.space = dict(space or {})
        self._own_errors = own_errors
        self.rungs = rungs
        self.repeats = None if repeats is None else list(repeats)
        # With repeats, the search chose ``best`` by its mean (:mod:`.repeats`).
        self.best = best if repeats is not None else best_of(
            self.trials if rungs is None else rungs[-1])
        self._best_model = best_model
        self._model = None
        self.test_result = None

    @property
    def best_model(self):
        """The best trial's fitted network, trained on the training set only; in a search
        with repeats, the chosen candidate's repeat 0: the model of its trial, with the
        trial's own seed; in a cross-validated search (``cv``), the chosen candidate
        trained again on every row of the training and dev sets."""
        if self.best is None:
            raise ValueError("every trial failed; there is no best model")
        if self._model is None:
            self._model = loads_model(self._best_model)
        return self._model

    @property
    def diagnosis(self):
        """The best trial's bias and variance (:func:`mllib.tune.diagnose`).

        The notes read errors as fractions against a tolerance of a few points.
        The search's own errors are read when they are such fractions (1 −
        accuracy, balanced accuracy, macro F1 or ROC AUC), or 1 − R², which may
        exceed 1 (``regression=True``). Log-loss, RMSE and MAE are not: their
        scale is the data's (nats, the target's units), so a fixed tolerance
        would read noise as a verdict; for those the diagnosis reads the best
        model's 1 − accuracy (or 1 − R²) on the training and dev sets, which the
        search measured at its end (in a cross-validated search: the chosen trial's
        fold-0 network on its training rows and on fold 0, since the model returned
        has trained on both sets). :attr:`diagnosed_error` says which.
        """
        if self.best is None:
            raise ValueError("every trial failed; there is nothing to diagnose")
        errors = (self.best["train_error"], self.best["dev_error"])
        if not self._reads_own_errors():
            errors = self._own_errors
        return diagnose(*errors, regression=self.best_model.score_name == "r2")

    @property
    def diagnosed_error(self) -> str:
        """The error that :attr:`diagnosis` reads, such as ``"1 - accuracy"``."""
        metric = METRICS[self.metric] if self._reads_own_errors() else None
        return (metric or own_metric(self.best_model)).error_name

    def _reads_own_errors(self) -> bool:
        metric = METRICS.get(self.metric)
        return metric is None or metric.fraction or metric.name == "r2"

    def test(self, X_test, y_test) -> dict:
        """Evaluate the best model on the test set, once (notes §5, step vi).

        Returns and records ``{"cost", "accuracy" or "r2", "error", "n"}``, the
        error by the search's metric, and the metric itself under its name when
        it is another. A second call warns: choosing by test results leaks the
        test set. Like the trials, it runs with BLAS on one thread, so that its
        bits do not depend on the process's thread count.
        """
        if self.test_result is not None:
            warnings.warn("the test set has been used already: the notes' protocol evaluates "
                          "the chosen model on it once (step vi)", UserWarning, stacklevel=2)
        model = self.best_model
        metric = own_metric(model) if self.metric is None else METRICS[self.metric]
        with single_threaded():
            logs = {k: float(v) for k, v in model.evaluate(X_test, y_test).items()}
            score = metric.score(model, X_test, y_test, logs)
        self.test_result = {**logs, metric.name: score, "error": metric.error_of(score),
                            "n": int(len(X_test))}
        return dict(self.test_result)

    def table(self):
        """The trials as a pandas DataFrame: ``param_<key>`` per searched key, then the scores
        (``rung`` for the searches by rungs, ``bracket`` for Hyperband, ``pruned`` for a
        pruned search only, ``fold_sd`` and ``fold_errors`` for a cross-validated one; after
        ``dev_error`` its mean, sd, 95 % interval and ok seeds, for a search with repeats
        only), the
        ``metric`` whose error they are, the seed and time. A trial's epochs are those it
        ran: a pruned trial's, up to where it was stopped."""
        import pandas as pd

        keys = sorted({k for row in self.trials for k in row["params"]})
        present = {key for row in self.trials for key in OPTIONAL if key in row}
        columns = [c for c in COLUMNS if (c != "rung" or self.rungs is not None)
                   and (c not in OPTIONAL or c in present)]
        if self.repeats is not None:
            at = columns.index("dev_error") + 1
            columns[at:at] = STATS
        records = [{**{f"param_{k}": _cell(row["params"].get(k)) for k in keys},
                    **{c: _cell(row.get(c)) for c in columns}, "metric": self.metric}
                   for row in self.trials]
        return pd.DataFrame.from_records(records,
                                         columns=[*(f"param_{k}" for k in keys), *columns])

    @property
    def best_settings(self) -> dict:
        """The best trial's settings: the fixed ones and its own values (``train --config``)."""
        if self.best is None:
            raise ValueError("every trial failed; there is no best trial")
        return {**self.settings, **self.best["params"]}

    def next_space(self):
        """The next search by the notes' remedies for the best trial's :attr:`diagnosis`: a
        :class:`~mllib.tune.nextspace.Proposal`, whose ``space`` a search takes and whose
        ``reasons`` say why (:mod:`mllib.tune.nextspace`)."""
        if self.best is None:
            raise ValueError("every trial failed; there is no best trial to go on from")
        return next_space(self.space, self.settings, self.best, self.diagnosis,
                          halving=self.rungs is not None)

    def save(self, directory) -> dict:
        """Write ``trials.csv``, ``best.json`` (the best row, its settings, diagnosis and
        test result) and ``best_model.npz``; returns their paths by name. Each is written
        as a model file is (:func:`mllib.io.write_atomically`): a link or FIFO of that
        name is replaced, never written through."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        files = {"trials": folder / "trials.csv", "best": folder / "best.json"}
        _write(files["trials"], self.table().to_csv(index=False))
        best = None if self.best is None else {
            **self.best, "settings": self.best_settings, "metric": self.metric,
            "diagnosis": {**self.diagnosis.to_dict(), "error": self.diagnosed_error},
            "test": self.test_result}
        _write(files["best"], json.dumps(best, indent=2, sort_keys=True))
        if self.best is not None:
            files["model"] = folder / "best_model.npz"
            self.best_model.save(files["model"])
        return files


def best_of(rows):
    """The ok row with the lowest dev error, ties to the lower trial number, of those not
    pruned (a pruned trial's model is not what its settings train); or None."""
    ok = [row for row in rows if row["status"] == "ok" and not row.get("pruned")]
    return min(ok, key=lambda row: (row["dev_error"], row["trial"])) if ok else None


def own_errors(metric, model_bytes, train, dev):
    """The best model's own errors (1 − accuracy or 1 − R²) on ``train`` and ``dev`` when the
    search's ``metric`` is one whose errors the diagnosis does not read; else None."""
    chosen = METRICS.get(metric)
    if model_bytes is None or chosen is None or chosen.fraction or chosen.name == "r2":
        return None
    model = loads_model(model_bytes)
    with single_threaded():
        return tuple(own_metric(model).error(model, X, y) for X, y in (train, dev))


def _write(path, text):
    data = text.encode("utf-8")
    write_atomically(path, lambda handle: handle.write(data))


def _cell(value):
    """A table cell: lists as text, so that the column stays one value per row."""
    return json.dumps(value) if isinstance(value, (list, dict)) else value
