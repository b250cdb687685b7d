"""Pruning: the median rule against a reference, its bounds, its decisions in trial order
whatever the scheduling, the states it keeps, and its folder."""

import contextlib
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mllib
from mllib.datasets import make_flower
from mllib.optim import single_threaded
from mllib.tune import fit, grid_search, loguniform, random_search
from mllib.tune.pruning import MAYBE, Curves, MedianPruner, Report, Standing, median_with
from mllib.tune.trial import run_task

pytestmark = pytest.mark.same_bits   # CI runs these again under other BLAS kernels

X, Y = make_flower(240, seed=3)
TRAIN, DEV = (X[:180], Y[:180]), (X[180:], Y[180:])
SPACE = {"learning_rate": loguniform(1e-3, 3e-1)}
FIXED = {"epochs": 12, "batch_size": 32, "hidden": [4]}
PRUNER = MedianPruner(warmup=3, every=1, min_trials=3)
NEVER = MedianPruner(warmup=12, every=1, min_trials=3)     # judges no epoch of 12


def table(result):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.trials]


def reference(curves, pruner, budget):
    """The epoch at which the median rule prunes each trial, from every trial's full curve,
    written from the rule's statement: against the trials before it that reached the epoch."""
    reached, pruned_at = [], []
    for curve in curves:
        epoch_of = None
        for epoch, error in curve:
            earlier = [c[epoch] for c in reached if epoch in c]
            if (pruner.warmup <= epoch < budget and epoch % pruner.every == 0
                    and len(earlier) >= pruner.min_trials
                    and error > statistics.median(earlier)):
                epoch_of = epoch
                break
        pruned_at.append(epoch_of)
        reached.append({e: v for e, v in curve if epoch_of is None or e <= epoch_of})
    return pruned_at


@pytest.fixture(scope="module")
def unpruned():
    return random_search(SPACE, TRAIN, DEV, trials=16, settings=FIXED, seed=0, pruner=NEVER)


@pytest.fixture(scope="module")
def pruned():
    return random_search(SPACE, TRAIN, DEV, trials=16, settings=FIXED, seed=0, pruner=PRUNER)


def test_the_median_rule_prunes_where_the_reference_does(unpruned, pruned):
    curves = [row["curve"] for row in unpruned.trials]
    assert all([e for e, _ in c] == list(range(1, 13)) for c in curves)
    expected = reference(curves, PRUNER, 12)
    assert [row["pruned"] for row in pruned.trials] == [e is not None for e in expected]
    assert 4 <= sum(e is not None for e in expected) <= 12      # the test prunes some, not all
    for row, full, epoch in zip(pruned.trials, curves, expected):
        assert row["epochs"] == (epoch or 12)
        assert row["curve"] == full[:row["epochs"]]
        assert row["dev_error"] == full[row["epochs"] - 1][1]


def test_a_pruned_trial_is_its_settings_trained_to_the_epoch_it_was_stopped_at(pruned):
    stopped = [row for row in pruned.trials if row["pruned"]][:2]
    for row in stopped:
        with single_threaded():
            model = fit({**FIXED, **row["params"], "epochs": row["epochs"]}, TRAIN,
                        seed=row["seed"])
        assert row["dev_error"] == 1.0 - model.evaluate(*DEV)["accuracy"]
        assert row["train_error"] == 1.0 - model.evaluate(*TRAIN)["accuracy"]


def test_reporting_changes_nothing_of_a_trial(unpruned):
    plain = random_search(SPACE, TRAIN, DEV, trials=16, settings=FIXED, seed=0)
    assert [{k: v for k, v in row.items() if k not in ("pruned", "curve")}
            for row in table(unpruned)] == table(plain)
    assert not any(row["pruned"] for row in unpruned.trials)
    for name, value in plain.best_model.get_weights().items():
        np.testing.assert_array_equal(unpruned.best_model.get_weights()[name], value)


def test_the_best_trial_is_one_not_pruned(pruned):
    best = pruned.best
    assert not best["pruned"]
    assert best["dev_error"] == min(r["dev_error"] for r in pruned.trials if not r["pruned"])
    frame = pruned.table()
    assert frame["pruned"].tolist() == [row["pruned"] for row in pruned.trials]
    assert frame["epochs"].tolist() == [row["epochs"] for row in pruned.trials]


class Shuffled:
    """A back-end that runs its tasks in this process in an order drawn from ``rng``: it
    takes up to ``window`` tasks ahead, as that many workers would, and finishes a random
    one of them; ``outcomes`` keeps what each trial reported."""

    def __init__(self, rng, window):
        self.rng, self.window, self.outcomes = rng, window, {}

    @contextlib.contextmanager
    def session(self, train, dev):
        def run(tasks, done):
            feed, running = iter(tasks), []
            while True:
                while len(running) < self.window and (task := next(feed, None)) is not None:
                    running.append(task)
                if not running:
                    return
                task = running.pop(int(self.rng.integers(len(running))))
                outcome = run_task(task, train, dev)
                self.outcomes[task[0].trial] = outcome
                done(task[0], outcome)

        yield run


def test_the_table_is_the_same_in_any_order_of_scheduling(pruned, monkeypatch):
    rng = np.random.default_rng(0)
    decided_from_a_kept_state = 0
    for window in (2, 3, 6, 16):
        backend = Shuffled(rng, window)
        monkeypatch.setattr("mllib.tune.search.get_backend", lambda *args: backend)
        result = random_search(SPACE, TRAIN, DEV, trials=16, settings=FIXED, seed=0,
                               pruner=PRUNER)
        assert table(result) == table(pruned), window
        for row in result.trials:
            report = backend.outcomes[row["trial"]].report
            if row["pruned"] and report.stopped != row["epochs"]:
                assert row["epochs"] in report.kept
                decided_from_a_kept_state += 1
            if window == 16:    # every trial started knowing nothing: none stopped itself
                assert report.stopped is None
    assert decided_from_a_kept_state >= 5


@pytest.mark.parametrize("known, unknown, error", [
    ([0.3, 0.1, 0.2], 0, 0.25), ([0.3, 0.1, 0.2, 0.5], 2, 0.4)])
def test_the_median_and_its_bounds_by_hand(known, unknown, error):
    values = sorted(known)
    assert median_with(values) == statistics.median(values)
    # [0.1, 0.2, 0.3, 0.5] and two more: the median lies from mean(0.1, 0.2) to mean(0.3, 0.5).
    low, high = median_with(values, unknown, -math.inf), median_with(values, unknown, math.inf)
    if unknown:
        assert (low, high) == (pytest.approx(0.15, abs=1e-16), 0.4)
    else:
        assert low == high == 0.2


@given(st.lists(st.floats(0, 1), max_size=8), st.lists(st.floats(0, 1), max_size=3),
       st.lists(st.tuples(st.floats(0, 1), st.booleans()), max_size=3),
       st.lists(st.floats(0, 1), max_size=3), st.integers(0, 3), st.floats(0, 1),
       st.integers(1, 6))
def test_a_trial_sure_of_its_verdict_is_right_whatever_the_others_report(
        decided, present, maybe, later, missing, error, min_trials):
    """At epoch 2: ``decided`` are the errors of the trials decided; ``present`` those of
    trials finished, that surely reached it; ``maybe`` those of trials finished that kept a
    state at epoch 1 (and the flag whether they are pruned there); ``later`` what the
    ``len(later) + missing`` trials still running report, ``missing`` of them not
    reaching epoch 2."""
    pruner = MedianPruner(warmup=1, every=1, min_trials=min_trials)
    before = Curves(pruner)
    for value in decided:
        before.add([[2, value]])
    standings = [Standing(Report([[1, 0.5], [2, v]]), failed=False) for v in present]
    standings += [Standing(Report([[1, 0.5], [2, v]], kept={1: ({}, b"model")}), failed=False)
                  for v, _ in maybe]
    assert all(s.at(2) is MAYBE for s in standings[len(present):])
    watch = before.watch(budget=3, running=len(later) + missing, finished=standings)
    verdict = watch.verdict(2, error)
    after = Curves(pruner)
    for value in decided + present + later + [v for v, pruned in maybe if not pruned]:
        after.add([[2, value]])
    exact = after.pruning_epoch([[2, error]], budget=3)
    if verdict == "prune":
        assert exact == 2
    elif verdict == "keep":
        assert exact is None


def test_what_a_finished_trial_says_of_later_epochs():
    sure = Standing(Report([[1, .4], [2, .3], [3, .2]]), failed=False)
    assert [sure.at(e) for e in (1, 2, 3, 4)] == [.4, .3, .2, None]
    stopped = Standing(Report([[1, .4], [2, .3]], stopped=2), failed=False)
    assert [stopped.at(e) for e in (2, 3)] == [.3, None]
    kept = Standing(Report([[1, .4], [2, .3], [3, .2]], kept={2: ({}, b"m")}), failed=False)
    assert [kept.at(e) for e in (1, 2, 3)] == [.4, .3, MAYBE]
    unscored = Standing(Report([[1, .4], [2, .3]], kept={2: ({}, None)}), failed=False)
    assert [unscored.at(e) for e in (1, 2)] == [MAYBE, MAYBE]
    failed = Standing(Report([[1, .4]]), failed=True)
    assert failed.at(1) is None
    failed_kept = Standing(Report([[1, .4], [2, .3]], kept={2: ({}, b"m")}), failed=True)
    assert failed_kept.at(1) is MAYBE


def test_a_pruned_trials_model_goes_on_to_the_unpruned_one_bit_for_bit(tmp_path, unpruned):
    result = random_search(SPACE, TRAIN, DEV, trials=16, settings=FIXED, seed=0, pruner=PRUNER,
                           out=tmp_path / "s")
    row = next(r for r in result.trials if r["pruned"])
    model = mllib.load(tmp_path / "s" / "models" / f"trial-{row['trial']}.npz")
    assert model.epoch_ == row["epochs"]
    with single_threaded():
        model.fit(*TRAIN)               # the rest of its run: to its budget, 12 epochs
        whole = fit({**FIXED, **row["params"]}, TRAIN, seed=row["seed"])
    assert model.epoch_ == 12
    for name, value in whole.get_weights().items():
        np.testing.assert_array_equal(model.get_weights()[name], value)
    assert 1.0 - model.evaluate(*DEV)["accuracy"] == unpruned.trials[row["trial"]]["dev_error"]


def test_two_processes_give_the_serial_table(pruned):
    result = random_search(SPACE, TRAIN, DEV, trials=16, settings=FIXED, seed=0, pruner=PRUNER,
                           backend="processes", workers=2)
    assert table(result) == table(pruned)


def test_a_back_end_takes_a_task_only_when_a_worker_is_free():
    from mllib.tune.backends import get_backend
    from mllib.tune.candidates import normalize, random_candidates
    from mllib.tune.trial import Task

    space, settings = normalize(SPACE, {"epochs": 2, "hidden": [4]})
    candidates = random_candidates(space, settings, 8, 0)
    finished, taken = [], []

    def tasks():
        for c in candidates:
            taken.append(len(finished))     # how many had finished when it was taken
            yield Task(c)

    with get_backend("processes", 2).session(TRAIN, DEV) as run:
        run(tasks(), lambda candidate, outcome: finished.append(candidate.trial))
    assert sorted(finished) == list(range(8))
    assert all(i - done_then <= 2 for i, done_then in enumerate(taken)), taken
    assert taken[:2] == [0, 0]


def test_the_folder_records_decided_trials_in_order_and_resumes(tmp_path, pruned):
    out = tmp_path / "s"
    first = random_search(SPACE, TRAIN, DEV, trials=10, settings=FIXED, seed=0, pruner=PRUNER,
                          out=out)
    assert table(first) == table(pruned)[:10]
    lines = [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()]
    assert [row["trial"] for row in lines] == list(range(10))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pruner"] == {"rule": "median", "warmup": 3, "every": 1, "min_trials": 3}
    seen = []
    more = random_search(SPACE, TRAIN, DEV, trials=16, settings=FIXED, seed=0, pruner=PRUNER,
                         out=out, on_trial=seen.append)
    assert [row["trial"] for row in seen] == list(range(10, 16))    # judged against 0-9 read back
    assert table(more) == table(pruned)
    with pytest.raises(ValueError, match=r"pruner.warmup: 3 in the folder, 4 now"):
        random_search(SPACE, TRAIN, DEV, trials=16, settings=FIXED, seed=0, out=out,
                      pruner=MedianPruner(warmup=4, min_trials=3))
    with pytest.raises(ValueError, match=r"pruner: .* in the folder, absent now"):
        random_search(SPACE, TRAIN, DEV, trials=16, settings=FIXED, seed=0, out=out)


def test_a_trial_read_back_without_its_curve_runs_again(tmp_path, pruned):
    out = tmp_path / "s"
    random_search(SPACE, TRAIN, DEV, trials=6, settings=FIXED, seed=0, pruner=PRUNER, out=out)
    journal = out / "trials.jsonl"
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    del rows[2]["curve"]
    journal.write_text("".join(json.dumps(row) + "\n" for row in rows))
    seen = []
    again = random_search(SPACE, TRAIN, DEV, trials=6, settings=FIXED, seed=0, pruner=PRUNER,
                          out=out, on_trial=seen.append)
    assert [row["trial"] for row in seen] == [2]
    assert table(again) == table(pruned)[:6]


@pytest.mark.parametrize("curve", [[[1, 0.5], [1, 0.4]], [[0, 0.5]], [[1, "x"]], [1, 2],
                                   "curve", [[1.0, 0.5]]])
def test_a_damaged_curve_is_refused_naming_the_line(tmp_path, curve):
    out = tmp_path / "s"
    random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, seed=0, pruner=PRUNER, out=out)
    journal = out / "trials.jsonl"
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    rows[1]["curve"] = curve
    journal.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(ValueError, match=r"line 2 is damaged: 'curve' holds .*, not "
                                         r"\[epoch, error\]"):
        random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, seed=0, pruner=PRUNER,
                      out=out)


def test_grid_search_prunes_too():
    rates = {"learning_rate": [0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001]}
    grid = grid_search(rates, TRAIN, DEV, settings=FIXED, pruner=PRUNER)
    full = grid_search(rates, TRAIN, DEV, settings=FIXED, pruner=NEVER)
    expected = reference([row["curve"] for row in full.trials], PRUNER, 12)
    assert [row["epochs"] for row in grid.trials] == [e or 12 for e in expected]
    assert any(expected)


@pytest.mark.parametrize("pruner, match", [
    ("mean", r"pruner must be None, 'median' or a MedianPruner, got 'mean'"),
    (3, r"pruner must be None, 'median' or a MedianPruner, got 3")])
def test_bad_pruners_are_refused(pruner, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, pruner=pruner,
                      out=tmp_path / "s")
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("arguments, match", [
    ({"warmup": -1}, r"warmup must be .*-1"), ({"every": 0}, r"every must be .*0"),
    ({"min_trials": 0}, r"min_trials must be .*0"), ({"every": 1.5}, r"every must be .*1.5")])
def test_bad_pruner_arguments_are_refused_naming_them(arguments, match):
    with pytest.raises(ValueError, match=match):
        MedianPruner(**arguments)


def test_early_stopping_and_a_pruner_are_refused_together(tmp_path):
    with pytest.raises(ValueError, match=r"trial 0 .* sets early_stopping, which cannot be "
                                         r"combined with a pruner"):
        random_search(SPACE, TRAIN, DEV, trials=2, settings={**FIXED, "early_stopping": 3},
                      pruner="median", out=tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_pruning_by_another_metric_reports_that_metric():
    result = random_search(SPACE, TRAIN, DEV, trials=8, settings=FIXED, seed=0, pruner=PRUNER,
                           metric="log_loss")
    for row in result.trials:
        assert row["curve"][-1] == [row["epochs"], row["dev_error"]]
    with single_threaded():
        model = fit({**FIXED, **result.trials[0]["params"], "epochs": 4}, TRAIN,
                    seed=result.trials[0]["seed"])
    from sklearn.metrics import log_loss
    assert result.trials[0]["curve"][3][1] == log_loss(DEV[1], model.predict_proba(DEV[0]))


# A pruned search on 2 processes: 30 trials of about 0.05 s, killed once 4 are recorded.
SCRIPT = textwrap.dedent("""
    import sys
    from mllib.datasets import make_flower
    from mllib.tune import loguniform, random_search
    from mllib.tune.pruning import MedianPruner
    if __name__ == "__main__":
        X, Y = make_flower(240, seed=3)
        random_search({"learning_rate": loguniform(1e-3, 3e-1)}, (X[:180], Y[:180]),
                      (X[180:], Y[180:]), trials=30,
                      settings={"epochs": 30, "batch_size": 16, "hidden": [16]}, seed=4,
                      pruner=MedianPruner(warmup=3, min_trials=3), backend="processes",
                      workers=2, out=sys.argv[1])
""")


def test_a_killed_pruned_search_resumes_to_the_uninterrupted_table(tmp_path):
    out = tmp_path / "killed"
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    process = subprocess.Popen([sys.executable, str(script), str(out)])
    journal = out / "trials.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 4:
            break
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = [json.loads(line)["trial"] for line in journal.read_text().splitlines()
              if line.endswith("}")]
    assert before == list(range(len(before))) and 4 <= len(before) < 30
    arguments = dict(trials=30, settings={"epochs": 30, "batch_size": 16, "hidden": [16]},
                     seed=4, pruner=MedianPruner(warmup=3, min_trials=3))
    resumed = random_search(SPACE, TRAIN, DEV, out=out, **arguments)
    rows = [json.loads(line) for line in journal.read_text().splitlines() if line.endswith("}")]
    assert [row["trial"] for row in rows] == list(range(30))     # none twice, in order
    whole = random_search(SPACE, TRAIN, DEV, **arguments)
    assert table(resumed) == table(whole)
    assert any(row["pruned"] for row in whole.trials)
