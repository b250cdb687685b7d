"""Benchmark: random search with and without the median pruner, at equal trials, on digits.

scikit-learn's bundled digits (1,797 rows of 8×8 pixels, 10 classes) are
split 60/20/20 once (seed 0); each repeat is a random search of the same
space with its own seed, run twice: without pruning and with
``pruner="median"`` (its defaults unless the flags say). The two runs of a
repeat try the same candidates, so their difference is pruning alone. The
script reports, per run and as the median over the repeats:

- the best dev error (the search's choice) and its test error;
- the epochs the trials ran, in all (from the table: the same on every
  back-end), and the pruned run's share of the unpruned run's;
- the epochs the workers trained, from what each trial reported: on parallel
  back-ends a trial may run past an epoch it could not decide yet and be
  pruned there after all (:mod:`mllib.tune.pruning`), so this may exceed
  the table's;
- wall time, with the load average before and after, since the machine is shared.

The issue's target: the same best dev error within one standard deviation
of the unpruned best dev error over the repeats, with at most 60 % of the
epochs. Each repeat checks that its pruned table is the one a serial run
gives, when the back-end is not serial.

Usage:
  python bench/pruning.py                       # 5 repeats, 20 trials, serial
  python bench/pruning.py --repeats 1 --trials 8 --epochs 6     # quick
  python bench/pruning.py --backend processes --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time

import numpy as np

from mllib.datasets import load_digits
from mllib.tune import MedianPruner, choice, loguniform, one_minus_loguniform, random_search
from mllib.tune.ordered import InOrder

SPACE = {"learning_rate": loguniform(1e-4, 3e-1), "beta1": one_minus_loguniform(0.5, 0.999),
         "hidden": choice([[16], [32], [64], [64, 32]]), "lambda": loguniform(1e-5, 1.0)}


def split(seed=0):
    """Digits, 60/20/20, shuffled by ``seed``: ``(train, dev, test)`` as (X, y) pairs."""
    X, y = load_digits()
    order = np.random.default_rng(seed).permutation(len(y))
    cuts = [int(0.6 * len(y)), int(0.8 * len(y))]
    return [(X[part], y[part]) for part in np.split(order, cuts)]


@contextlib.contextmanager
def counting_trained_epochs():
    """A list that receives, as a pruned search decides each trial, the epochs the trial
    trained: the last epoch it reported (every=1), kept states and all."""
    trained, done = [], InOrder.done

    def counted(self, candidate, outcome):
        if outcome.report is not None and outcome.report.curve:
            trained.append(outcome.report.curve[-1][0])
        done(self, candidate, outcome)

    InOrder.done = counted
    try:
        yield trained
    finally:
        InOrder.done = done


def one_run(data, seed, args, pruner):
    """One search: its best dev and test errors, the epochs its trials ran, its wall time."""
    train, dev, test = data
    settings = {"epochs": args.epochs, "batch_size": 64, "activation": "relu"}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with counting_trained_epochs() as trained:
        result = random_search(SPACE, train, dev, trials=args.trials, settings=settings,
                               seed=seed, pruner=pruner, backend=args.backend,
                               workers=args.workers)
    seconds = time.perf_counter() - started
    rows = result.trials
    epochs = sum(row["epochs"] or 0 for row in rows)
    return result, {
        "best_dev_error": result.best["dev_error"], "best_trial": result.best["trial"],
        "test_error": result.test(*test)["error"], "epochs": epochs,
        "epochs_trained": sum(trained) if pruner is not None else epochs,
        "pruned": sum(bool(row.get("pruned")) for row in rows),
        "failed": sum(row["status"] != "ok" for row in rows),
        "seconds": seconds, "load_before": load, "load_after": os.getloadavg()[0]}


def table(result):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.trials]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--min-trials", type=int, default=None)
    parser.add_argument("--backend", default="serial", choices=("serial", "processes"))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    given = {k: v for k, v in (("warmup", args.warmup), ("min_trials", args.min_trials))
             if v is not None}
    pruner = MedianPruner(**given)
    data = split()
    runs = []
    for seed in range(args.repeats):
        _, plain = one_run(data, seed, args, None)
        pruned_result, pruned = one_run(data, seed, args, pruner)
        if args.backend != "serial":
            serial = random_search(SPACE, data[0], data[1], trials=args.trials,
                                   settings={"epochs": args.epochs, "batch_size": 64,
                                             "activation": "relu"}, seed=seed, pruner=pruner)
            assert table(serial) == table(pruned_result), "the tables differ"
        runs.append({"seed": seed, "plain": plain, "pruned": pruned})
        print(f"seed {seed}: best dev {plain['best_dev_error']:.4f} -> "
              f"{pruned['best_dev_error']:.4f}, epochs {plain['epochs']} -> {pruned['epochs']} "
              f"({pruned['pruned']} pruned; {pruned['epochs_trained']} trained), "
              f"{plain['seconds']:.1f} s -> "
              f"{pruned['seconds']:.1f} s", file=sys.stderr, flush=True)
    summary = summarize(runs)
    document = {"arguments": vars(args), "pruner": pruner.to_json(), "runs": runs,
                "summary": summary, "cpu": _cpu()}
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)


def summarize(runs) -> dict:
    """Medians over the repeats, the spread of the unpruned best, and the target's checks."""
    def median(kind, key):
        return statistics.median(run[kind][key] for run in runs)

    plain_best = [run["plain"]["best_dev_error"] for run in runs]
    spread = statistics.stdev(plain_best) if len(runs) > 1 else float("nan")
    share = [run["pruned"]["epochs"] / run["plain"]["epochs"] for run in runs]
    speed = [run["pruned"]["seconds"] / run["plain"]["seconds"] for run in runs]
    gap = median("pruned", "best_dev_error") - median("plain", "best_dev_error")
    return {
        "median_best_dev_error": {"plain": median("plain", "best_dev_error"),
                                  "pruned": median("pruned", "best_dev_error")},
        "median_test_error": {"plain": median("plain", "test_error"),
                              "pruned": median("pruned", "test_error")},
        "stdev_best_dev_error_plain": spread, "gap_of_medians": gap,
        "median_epochs": {"plain": median("plain", "epochs"),
                          "pruned": median("pruned", "epochs"),
                          "pruned_trained": median("pruned", "epochs_trained")},
        "median_epoch_share": statistics.median(share),
        "median_seconds": {"plain": median("plain", "seconds"),
                           "pruned": median("pruned", "seconds")},
        "median_time_ratio": statistics.median(speed),
        "same_best_within_one_stdev": abs(gap) <= spread,
        "at_most_60_percent_of_epochs": statistics.median(share) <= 0.6,
    }


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            return next(line.split(":", 1)[1].strip() for line in handle
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown"


if __name__ == "__main__":
    main()
