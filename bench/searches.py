"""Benchmark: the searches side by side, at equal trials, on a classifier and a regression set.

Which search should a user run? Each spends the same budget of candidates in
its own way: random search trains every one to the end; the median pruner
stops the plainly losing ones; successive halving and Hyperband give most
candidates a few epochs and the best more; TPE chooses the later candidates
from the earlier ones; and Optuna and scikit-learn are what a user would
otherwise reach for. This script runs them all on the same data, the same
network, optimizer and space, with the same seed per repeat, and reports
what each chose and what it cost:

- the best dev error (the search's choice) and that model's test error;
- wall seconds, with the load average before and after (the machine may be
  shared: compare runs only at a similar load);
- the epochs trained in all: from the trial tables for mllib (a trial's last
  epoch, survivors counted once since they continue), for Optuna its trials'
  last reported epoch, for scikit-learn the sum of ``n_resources`` (every
  iteration trains its candidates from scratch; the chosen candidate's
  retraining for the test adds ``--epochs`` more, as its ``refit`` would);
- the trials run (Hyperband's follow from its epochs: reported), and where the
  search times its trials, the workers' utilisation: the trials' seconds over
  workers × wall; and for mllib's searches the same over workers × the window
  from the first trial's start to the last one's end ("while trials ran"), which
  leaves out the start of the worker processes, the same for every search, and
  shows what the searches' own waits cost (successive halving's at its rungs).

Contenders (``--contenders``): random, median (random search with
``pruner="median"``), halving, hyperband, async_halving, tpe and tpe_median
(mllib's TPE, without and with the median pruner), optuna (TPESampler + MedianPruner over
the mllib network, bench/searches_rivals.py) and sklearn
(HalvingRandomSearchCV over mllib's scikit-learn estimator).

Problems (``--problems``): digits (1,797 8×8 images, 10 classes; error
1 − accuracy) and diabetes (442 rows, 10 features, regression; error 1 − R²),
each split 60/20/20 once (seed 0), features (and diabetes' target)
standardized with the training statistics. Repeat r uses seed r everywhere.
The halving searches go from ``--min-epochs`` to ``--epochs`` by a factor of 3;
the default minimum is the one whose rungs the trials fill (scikit-learn's
"exhaust"): with 20 trials and 27 epochs, rungs of 3, 9 and 27 epochs for 20,
7 and 3 candidates, in mllib's halving and in scikit-learn's alike.

Usage:
  python bench/searches.py                       # 5 repeats, 20 trials, 27 epochs, serial
  python bench/searches.py --repeats 1 --trials 4 --epochs 3     # quick
  python bench/searches.py --backend processes --workers 2 --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# bench/searches_rivals.py and machine.py, beside this script
import machine  # noqa: E402
from searches_rivals import (  # noqa: E402
    FACTOR, SETTINGS, SPACE, finished, optuna_tpe, sklearn_halving, stopwatch)

import mllib.tune  # noqa: E402
from mllib.tune.backends import usable_cores  # noqa: E402

CONTENDERS = ("random", "median", "halving", "hyperband", "async_halving", "tpe", "tpe_median",
              "optuna", "sklearn")
PROBLEMS = ("digits", "diabetes")
MEASURES = ("best_dev_error", "test_error", "seconds", "epochs", "trials", "utilisation",
            "busy_utilisation")


@dataclass
class Problem:
    """A data set, split: ``train``, ``dev`` and ``test`` are (X, y) pairs."""

    name: str
    train: tuple
    dev: tuple
    test: tuple
    classifier: bool

    @property
    def error_name(self) -> str:
        return "1 − accuracy" if self.classifier else "1 − R²"


def load_problem(name) -> Problem:
    """scikit-learn's ``name`` set, split 60/20/20 by seed 0, standardized with the training
    rows' statistics (a constant column is left centred); a regression target too."""
    from sklearn import datasets

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    classifier = name == "digits"
    order = np.random.default_rng(0).permutation(len(y))
    parts = np.split(order, [int(0.6 * len(y)), int(0.8 * len(y))])
    mean, std = X[parts[0]].mean(axis=0), X[parts[0]].std(axis=0)
    X = (X - mean) / np.where(std > 0, std, 1.0)
    if not classifier:
        y = (y - y[parts[0]].mean()) / y[parts[0]].std()
    return Problem(name, *[(X[p], y[p]) for p in parts], classifier=classifier)


def default_min_epochs(trials, epochs, factor=FACTOR) -> int:
    """The first rung's epochs such that the rungs end at ``epochs`` and the trials fill
    them: 1 + ⌊log_factor trials⌋ rungs (fewer if the epochs cannot hold them)."""
    rungs = 1
    while factor ** rungs <= trials and factor ** rungs <= epochs:
        rungs += 1
    return max(1, math.ceil(epochs / factor ** (rungs - 1)))


def mllib_search(name, args, on_trial=None):
    """mllib's search ``name`` as a function of ``((train, dev), seed)``, reporting each
    finished trial to ``on_trial``."""
    tune, trials = mllib.tune, args.trials
    where = {"backend": args.backend, "workers": args.workers, "on_trial": on_trial}
    fixed = {**where, "settings": {**SETTINGS, "epochs": args.epochs}, "trials": trials}
    rungs = {**where, "settings": dict(SETTINGS), "min_epochs": args.min_epochs,
             "max_epochs": args.epochs, "factor": FACTOR}
    return {
        "random": lambda d, s: tune.random_search(SPACE, *d, seed=s, **fixed),
        "median": lambda d, s: tune.random_search(SPACE, *d, seed=s, pruner="median", **fixed),
        "tpe": lambda d, s: tune.random_search(SPACE, *d, seed=s, sampler="tpe", batch=4,
                                               **fixed),
        "tpe_median": lambda d, s: tune.random_search(SPACE, *d, seed=s, sampler="tpe",
                                                      batch=4, pruner="median", **fixed),
        "halving": lambda d, s: tune.successive_halving(SPACE, *d, seed=s, trials=trials,
                                                        **rungs),
        "async_halving": lambda d, s: tune.async_halving(SPACE, *d, seed=s, trials=trials,
                                                         **rungs),
        "hyperband": lambda d, s: tune.hyperband(SPACE, *d, seed=s, **rungs),
    }[name]


def mllib_contender(name, problem, seed, args) -> dict:
    """One run of mllib's search ``name``: the choice, its test error, the table's epochs."""
    ends = []                   # (when a trial's row came back, the trial's seconds)
    search = mllib_search(name, args, lambda row: ends.append(
        (time.perf_counter(), row.get("seconds") or 0.0)))
    with stopwatch() as clock:
        result = search((problem.train, problem.dev), seed)
    rows = result.trials if result.rungs is None else [r for rung in result.rungs for r in rung]
    record = {"best_dev_error": result.best["dev_error"],
              "test_error": result.test(*problem.test)["error"],
              "trials": len(result.trials),
              "epochs": sum(row["epochs"] or 0 for row in result.trials),
              "pruned": sum(bool(row.get("pruned")) for row in result.trials),
              "failed_trials": sum(row["status"] != "ok" for row in result.trials),
              "table": [{k: v for k, v in row.items() if k not in ("seconds", "curve")}
                        for row in rows]}
    workers = 1 if args.backend == "serial" else (args.workers or usable_cores())
    busy = sum(row.get("seconds") or 0.0 for row in rows)
    # The window from the first trial's start to the last one's end: the workers' use
    # while trials ran, without the start of the worker processes and the search's end.
    window = max(at for at, _ in ends) - min(at - took for at, took in ends)
    record["busy_utilisation"] = busy / (workers * window)
    return finished(record, clock, busy, workers)


def run_contender(name, problem, seed, args) -> dict:
    """The record of one contender's run."""
    if name == "optuna":
        return optuna_tpe(problem, seed, args)
    if name == "sklearn":
        return sklearn_halving(problem, seed, args)
    return mllib_contender(name, problem, seed, args)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=27)
    parser.add_argument("--min-epochs", type=int, default=None,
                        help="first rung of the halving searches (default: see above)")
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--backend", default="serial", choices=("serial", "processes"))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    for option, allowed in (("problems", PROBLEMS), ("contenders", CONTENDERS)):
        chosen = [part.strip() for part in getattr(args, option).split(",") if part.strip()]
        unknown = sorted(set(chosen) - set(allowed))
        if unknown or not chosen:
            parser.error(f"--{option}: choose from {','.join(allowed)}, got {unknown or '[]'}")
        setattr(args, option, chosen)
    if args.min_epochs is None:
        args.min_epochs = default_min_epochs(args.trials, args.epochs)
    return args


def main(argv=None):
    args = parse_args(argv)
    results, errors = {}, {}
    for problem_name in args.problems:
        problem = load_problem(problem_name)
        errors[problem_name] = problem.error_name
        results[problem_name] = {name: {"runs": []} for name in args.contenders}
        for seed in range(args.repeats):
            for name in args.contenders:
                record = run_contender(name, problem, seed, args)
                record.pop("table", None)       # for the tests' determinism check only
                results[problem_name][name]["runs"].append({"seed": seed, **record})
                print(f"{problem_name} seed {seed} {name}: {describe(record)}", file=sys.stderr,
                      flush=True)
        for entry in results[problem_name].values():
            entry["median"] = medians(entry["runs"])
    document = {"arguments": vars(args), "space": {k: v.to_json() for k, v in SPACE.items()},
                "settings": SETTINGS, "errors": errors, "results": results,
                "cpu": machine.cpu_model(), "cores": usable_cores()}
    print(markdown(document))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)


def describe(record) -> str:
    """One line of progress for a run."""
    utilisation = record["utilisation"]
    return (f"best dev {record['best_dev_error']:.4f}, test {record['test_error']:.4f}, "
            f"{record['trials']} trials, {record['epochs']} epochs, {record['seconds']:.2f} s"
            + ("" if utilisation is None else f", utilisation {utilisation:.2f}")
            + f" (load {record['load_before']:.2f} -> {record['load_after']:.2f})")


def medians(runs) -> dict | None:
    """The median of each measure over the runs (None for a measure that none of them has)."""
    found = {}
    for key in MEASURES:
        values = [run[key] for run in runs if run.get(key) is not None]
        found[key] = statistics.median(values) if values else None
    return found


LABELS = {"random": "mllib random search", "median": "mllib random + median pruner",
          "halving": "mllib successive halving", "hyperband": "mllib Hyperband",
          "async_halving": "mllib asynchronous halving", "tpe": "mllib TPE (batch 4)",
          "tpe_median": "mllib TPE + median pruner (batch 4)",
          "optuna": "Optuna TPE + MedianPruner",
          "sklearn": "scikit-learn HalvingRandomSearchCV"}


def markdown(document) -> str:
    """The medians as a Markdown table, one row per problem and contender."""
    args = document["arguments"]
    lines = [f"Medians over {args['repeats']} repeat(s) (seeds 0..{args['repeats'] - 1}); "
             f"{args['trials']} trials, {args['epochs']} epochs (rungs from "
             f"{args['min_epochs']}, factor {FACTOR}), back-end {args['backend']}"
             f"{'' if args['workers'] is None else ' × ' + str(args['workers'])}; "
             f"{document['cpu']}, {document['cores']} cores; {load_range(document)}.", "",
             "| problem (error) | search | trials | best dev error | test error | seconds "
             "| epochs | utilisation | while trials ran |", "|---|---|---|---|---|---|---|---|---|"]
    for problem, entries in document["results"].items():
        for name, entry in entries.items():
            head = f"| {problem} ({document['errors'][problem]}) | {LABELS[name]} |"
            median = entry["median"]
            cells = [_cell(median[key], fmt) for key, fmt in (
                ("trials", "{:.0f}"), ("best_dev_error", "{:.4f}"), ("test_error", "{:.4f}"),
                ("seconds", "{:.2f}"), ("epochs", "{:.0f}"), ("utilisation", "{:.2f}"),
                ("busy_utilisation", "{:.2f}"))]
            lines.append(head + " " + " | ".join(cells) + " |")
    return "\n".join(lines)


def load_range(document) -> str:
    """The lowest load average before a run and the highest after one: the machine's
    other work, which the timings include."""
    runs = [run for entries in document["results"].values() for entry in entries.values()
            for run in entry["runs"] if "load_before" in run]
    if not runs:
        return "no run timed"
    return (f"load average {min(r['load_before'] for r in runs):.2f} to "
            f"{max(r['load_after'] for r in runs):.2f}")


def _cell(value, fmt) -> str:
    return "" if value is None else fmt.format(value)


if __name__ == "__main__":
    main()
