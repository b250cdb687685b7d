"""The search space of bench/searches.py in each library's terms, and its two outside contenders.

The space is written once per library, by hand, side by side here, so that
a reader can check that the three say the same thing:

==============  ===========================  ==========================  ====================
setting         mllib (``mllib train``)      Optuna                      scikit-learn estimator
==============  ===========================  ==========================  ====================
learning rate   learning_rate loguniform     suggest_float(log=True)     learning_rate_init
hidden layers   hidden choice                suggest_categorical (text)  hidden_layer_sizes
λ (L2)          lambda loguniform            suggest_float(log=True)     alpha
keep_prob       keep_prob uniform            suggest_float               keep_prob
==============  ===========================  ==========================  ====================

Fixed for all: Adam, mini-batches of 64, ReLU hidden layers (He initialization),
float32, inputs and targets already standardized with the training statistics
(bench/searches.py does that once for every contender).

- :func:`optuna_tpe`: Optuna's TPE sampler with its MedianPruner over the same
  mllib network and optimizer, trained by :func:`mllib.tune.fit` (what a
  search's trial runs) with a callback that reports the dev error every epoch
  and stops a trial when Optuna says to prune it.
- :func:`sklearn_halving`: scikit-learn's HalvingRandomSearchCV over
  :class:`mllib.sklearn.MLPClassifier` / ``MLPRegressor``, epochs (``max_iter``)
  as the resource, scored on the dev rows through a PredefinedSplit. It
  restarts every candidate from scratch at each iteration, where mllib's halving
  continues the survivors; with ``refit=False`` the chosen candidate is trained
  again on the training rows for the full epochs, to be scored on test.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings

import numpy as np

from mllib.optim import single_threaded
from mllib.training import Callback
from mllib.tune import choice, fit, loguniform, uniform
from mllib.tune.backends import usable_cores
from mllib.tune.metrics import own_metric

LEARNING_RATE, LAMBDA, KEEP_PROB = (1e-4, 1e-1), (1e-5, 1e-1), (0.5, 1.0)
HIDDEN = {"32": [32], "64": [64], "64,32": [64, 32]}
SETTINGS = {"optimizer": "adam", "batch_size": 64, "activation": "relu", "dtype": "float32"}
SPACE = {"learning_rate": loguniform(*LEARNING_RATE), "hidden": choice(list(HIDDEN.values())),
         "lambda": loguniform(*LAMBDA), "keep_prob": uniform(*KEEP_PROB)}
FACTOR = 3


@contextlib.contextmanager
def stopwatch():
    """A dict that receives the wall ``seconds`` of the section and the load average
    (1 minute) before and after it: the machine may be shared."""
    clock = {"load_before": os.getloadavg()[0]}
    started = time.perf_counter()
    yield clock
    clock["seconds"] = time.perf_counter() - started
    clock["load_after"] = os.getloadavg()[0]


def finished(record, clock, busy, workers) -> dict:
    """``record`` with the wall time, the load and the workers' utilisation: the trials'
    own seconds over ``workers`` × wall (None when the search does not time its trials)."""
    record.update(clock, workers=workers)
    record["utilisation"] = None if busy is None else busy / (workers * clock["seconds"])
    return record


def error_of(model, X, y) -> float:
    """The model's error as a search measures it: 1 − accuracy or 1 − R², on one thread."""
    with single_threaded():
        return own_metric(model).error(model, X, y)


class OptunaReport(Callback):
    """Reports the dev error to an Optuna trial after every epoch (step = epochs so far),
    and stops training when the trial should be pruned."""

    def __init__(self, trial, dev):
        self.trial, self.dev = trial, dev
        self.error, self.pruned = None, False

    def on_epoch_end(self, epoch, logs=None):
        self.error = error_of(self.model, *self.dev)
        if not math.isfinite(self.error):
            raise FloatingPointError(f"the dev error is {self.error} at epoch "
                                     f"{self.model.epoch_}")
        self.trial.report(self.error, self.model.epoch_)
        if self.trial.should_prune():
            self.pruned, self.model.stop_training = True, True


def optuna_objective(problem, seed, epochs, kept):
    """The objective: a trial's dev error after ``epochs`` epochs; ``kept["best"]`` is
    ``(dev error, model)`` of the best trial so far."""
    import optuna

    def objective(trial):
        params = {
            "learning_rate": trial.suggest_float("learning_rate", *LEARNING_RATE, log=True),
            "hidden": HIDDEN[trial.suggest_categorical("hidden", list(HIDDEN))],
            "lambda": trial.suggest_float("lambda", *LAMBDA, log=True),
            "keep_prob": trial.suggest_float("keep_prob", *KEEP_PROB)}
        report = OptunaReport(trial, problem.dev)
        with single_threaded(), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model = fit({**SETTINGS, **params, "epochs": epochs}, problem.train,
                        seed=seed * 10_000 + trial.number, callbacks=[report])
        if report.pruned:
            raise optuna.TrialPruned()
        if "best" not in kept or report.error < kept["best"][0]:
            kept["best"] = (report.error, model)     # ties: the first, as study.best_value
        return report.error
    return objective


def optuna_tpe(problem, seed, args) -> dict:
    """Optuna's TPESampler(seed) and MedianPruner(), ``args.trials`` trials, one job."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    kept = {}
    with stopwatch() as clock:
        study = optuna.create_study(direction="minimize",
                                    sampler=optuna.samplers.TPESampler(seed=seed),
                                    pruner=optuna.pruners.MedianPruner())
        study.optimize(optuna_objective(problem, seed, args.epochs, kept),
                       n_trials=args.trials, n_jobs=1, catch=(Exception,))
    states = optuna.trial.TrialState
    trials = study.trials
    if not any(t.state == states.COMPLETE for t in trials):
        raise RuntimeError(f"every Optuna trial failed or was pruned: "
                           f"{[t.system_attrs.get('fail_reason') for t in trials][:3]}")
    model = kept["best"][1]
    record = {"best_dev_error": study.best_value, "test_error": error_of(model, *problem.test),
              "trials": len(trials), "epochs": sum(t.last_step or 0 for t in trials),
              "pruned": sum(t.state == states.PRUNED for t in trials),
              "failed_trials": sum(t.state == states.FAIL for t in trials)}
    busy = sum(t.duration.total_seconds() for t in trials if t.duration is not None)
    return finished(record, clock, busy, 1)


def sklearn_halving(problem, seed, args) -> dict:
    """HalvingRandomSearchCV over mllib's estimator, ``max_iter`` from ``args.min_epochs``
    to ``args.epochs`` by a factor of 3, scored on the dev rows; the chosen candidate is
    then trained on the training rows alone (part of the wall time) to be tested."""
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV, PredefinedSplit

    (X_train, y_train), (X_dev, y_dev) = problem.train, problem.dev
    X, y = np.vstack([X_train, X_dev]), np.concatenate([y_train, y_dev])
    fold = np.r_[np.full(len(y_train), -1), np.zeros(len(y_dev), dtype=int)]
    jobs = 1 if args.backend == "serial" else (args.workers or usable_cores())
    estimator = sklearn_estimator(problem, seed, args.epochs)
    search = HalvingRandomSearchCV(
        estimator, sklearn_space(), n_candidates=args.trials, factor=FACTOR,
        resource="max_iter", min_resources=args.min_epochs, max_resources=args.epochs,
        cv=PredefinedSplit(fold), random_state=seed, refit=False, n_jobs=jobs,
        error_score=np.nan)
    with stopwatch() as clock, single_threaded(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
        chosen = clone(estimator).set_params(**{**search.best_params_,
                                                "max_iter": args.epochs})
        refit = time.perf_counter()
        chosen.fit(X_train, y_train)
        refit = time.perf_counter() - refit
    results = search.cv_results_
    with single_threaded():
        test_score, dev_score = chosen.score(*problem.test), chosen.score(X_dev, y_dev)
    record = {"best_dev_error": 1.0 - search.best_score_, "test_error": 1.0 - test_score,
              "refit_dev_error": 1.0 - dev_score,
              "trials": int(search.n_candidates_[0]), "fits": len(results["params"]),
              "epochs": int(np.sum(results["n_resources"])), "refit_epochs": args.epochs,
              "iterations": int(search.n_iterations_),
              "failed_trials": int(np.sum(~np.isfinite(results["mean_test_score"])))}
    busy = float(np.sum(results["mean_fit_time"]) + np.sum(results["mean_score_time"])) + refit
    return finished(record, clock, busy, jobs)


def sklearn_estimator(problem, seed, epochs):
    """mllib's MLPClassifier or MLPRegressor with the fixed settings: Adam, batches of 64,
    ReLU, He, float32, and no stopping before ``max_iter`` (tol 0, n_iter_no_change ∞)."""
    from mllib.sklearn import MLPClassifier, MLPRegressor

    kind = MLPClassifier if problem.classifier else MLPRegressor
    return kind(solver="adam", batch_size=SETTINGS["batch_size"], activation="relu",
                init="he", dtype="float32", max_iter=epochs, tol=0.0,
                n_iter_no_change=np.inf, random_state=seed)


def sklearn_space() -> dict:
    """The space as scikit-learn's ``param_distributions``: SciPy distributions and lists."""
    from scipy import stats

    return {"learning_rate_init": stats.loguniform(*LEARNING_RATE),
            "hidden_layer_sizes": [tuple(h) for h in HIDDEN.values()],
            "alpha": stats.loguniform(*LAMBDA),
            "keep_prob": stats.uniform(KEEP_PROB[0], KEEP_PROB[1] - KEEP_PROB[0])}
