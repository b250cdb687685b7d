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

COLUMNS = ("trial", "rung", "status", "train_error", "dev_error", "train_cost", "dev_cost",
           "epochs", "seed", "seconds", "error")


class SearchResult:
    """Trials in trial order; the best one by dev error (ties: the lower trial number).

    Attributes
    ----------
    trials : list of dict
        One row per trial: ``trial``, ``params``, ``seed``, ``status`` ("ok" or
        "failed"), ``error`` (a failure's reason), ``train_error``,
        ``dev_error``, ``train_cost``, ``dev_cost``, ``epochs`` and
        ``seconds``. An error is 1 − accuracy, or 1 − R² for a regressor.
    best : dict or None
        The ok trial with the lowest dev error; None if every trial failed.
    test_result : dict or None
        What :meth:`test` measured.
    """

    def __init__(self, trials, best_model: bytes | None, *, kind="random", rungs=None,
                 settings=None):
        self.trials = sorted(trials, key=lambda row: row["trial"])
        self.kind = kind
        self.settings = dict(settings or {})
        self.rungs = rungs
        self.best = best_of(self.trials if rungs is None else rungs[-1])
        self._best_model = best_model
        self._model = None
        self.test_result = None

    @property
    def best_model(self):
        """The best trial's fitted network, trained on the training set only."""
        if self.best is None:
            raise ValueError("every trial failed; there is no best model")
        if self._model is None:
            self._model = loads_model(self._best_model)
        return self._model

    @property
    def diagnosis(self):
        """The best trial's bias and variance (:func:`mllib.tune.diagnose`); a regressor's
        errors are 1 − R², which may exceed 1."""
        if self.best is None:
            raise ValueError("every trial failed; there is nothing to diagnose")
        return diagnose(self.best["train_error"], self.best["dev_error"],
                        regression=self.best_model.score_name == "r2")

    def test(self, X_test, y_test) -> dict:
        """Evaluate the best model on the test set, once (notes §5, step vi).

        Returns and records ``{"cost", "accuracy" or "r2", "error", "n"}``. A
        second call warns: choosing by test results leaks the test set. Like
        the trials, it runs with BLAS on one thread, so that its bits do not
        depend on the process's thread count.
        """
        if self.test_result is not None:
            warnings.warn("the test set has been used already: the notes' protocol evaluates "
                          "the chosen model on it once (step vi)", UserWarning, stacklevel=2)
        with single_threaded():
            logs = self.best_model.evaluate(X_test, y_test)
        logs = {k: float(v) for k, v in logs.items()}
        error = 1.0 - logs[self.best_model.score_name]
        self.test_result = {**logs, "error": error, "n": int(len(X_test))}
        return dict(self.test_result)

    def table(self):
        """The trials as a pandas DataFrame: ``param_<key>`` per searched key, then the scores
        (``rung`` for successive halving only)."""
        import pandas as pd

        keys = sorted({k for row in self.trials for k in row["params"]})
        columns = [c for c in COLUMNS if c != "rung" or self.rungs is not None]
        records = [{**{f"param_{k}": _cell(row["params"].get(k)) for k in keys},
                    **{c: row.get(c) for c in columns}} for row in self.trials]
        return pd.DataFrame.from_records(records,
                                         columns=[*(f"param_{k}" for k in keys), *columns])

    @property
    def best_settings(self) -> dict:
        """The best trial's settings: the fixed ones and its own values (``train --config``)."""
        if self.best is None:
            raise ValueError("every trial failed; there is no best trial")
        return {**self.settings, **self.best["params"]}

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
            **self.best, "settings": self.best_settings, "diagnosis": self.diagnosis.to_dict(),
            "test": self.test_result}
        _write(files["best"], json.dumps(best, indent=2, sort_keys=True))
        if self.best is not None:
            files["model"] = folder / "best_model.npz"
            self.best_model.save(files["model"])
        return files


def best_of(rows):
    """The ok row with the lowest dev error, ties to the lower trial number; or None."""
    ok = [row for row in rows if row["status"] == "ok"]
    return min(ok, key=lambda row: (row["dev_error"], row["trial"])) if ok else None


def _write(path, text):
    data = text.encode("utf-8")
    write_atomically(path, lambda handle: handle.write(data))


def _cell(value):
    """A table cell: lists as text, so that the column stays one value per row."""
    return json.dumps(value) if isinstance(value, (list, dict)) else value
