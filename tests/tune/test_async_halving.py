"""Asynchronous successive halving, promotions decided in trial order (issue 21)."""

import contextlib
import json

import numpy as np
import pytest

from mllib.datasets import make_flower
from mllib.tune import async_halving, fit, loguniform, successive_halving
from mllib.tune.asynchronous import Keeper, Ladder
from mllib.tune.candidates import normalize, random_candidates
from mllib.tune.trial import Outcome, run_task

X, Y = make_flower(240, seed=3)
TRAIN, DEV = (X[:180], Y[:180]), (X[180:], Y[180:])
SPACE = {"learning_rate": loguniform(1e-3, 3e-1), "hidden": [[4], [8]]}
FIXED = {"batch_size": 32}
ARGS = {"trials": 9, "min_epochs": 1, "max_epochs": 9, "factor": 3, "settings": FIXED}


def table(rows):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def ladder_of(n, budgets=(1, 3, 9), factor=3):
    candidates = random_candidates(*normalize(SPACE, FIXED), n, seed=0)
    return Ladder(candidates, list(budgets), factor, None, Keeper(None, {}, None))


def finish(ladder, task, errors):
    """Give ``task`` the dev error ``errors[trial]`` (a failure for None)."""
    trial = task.candidate.trial
    status = "ok" if errors[trial] is not None else "failed"
    ladder.done(task.candidate, Outcome({"trial": trial, "status": status,
                                         "dev_error": errors[trial]}, b"state"))


def test_the_promotions_worked_by_hand():
    # Rung 0's errors in trial order. After 3 results, 1 promotion: the best of trials 0-2
    # (trial 1, 0.4); after 6, 2: the best of 0-5 not promoted (trial 3, 0.1); closed, 3:
    # trial 4 (0.2). Successive halving would keep 3, 4 and 5: trial 1 went on early.
    errors = [0.5, 0.4, 0.6, 0.1, 0.2, 0.3, 0.7, 0.8, 0.9]
    ladder = ladder_of(9)
    tasks = [next(ladder) for _ in range(9)]
    assert [t.epochs for t in tasks] == [1] * 9 and next(ladder, None) is None
    for task in tasks[1:3]:
        finish(ladder, task, errors)
    assert ladder.ladder[1].entries == []       # trial 0 is not in: nothing is decided
    finish(ladder, tasks[0], errors)
    assert ladder.ladder[1].entries == [1]
    promoted = next(ladder)
    assert (promoted.candidate.trial, promoted.epochs, promoted.state) == (1, 3, b"state")
    for task in tasks[3:6]:
        finish(ladder, task, errors)
    assert ladder.ladder[1].entries == [1, 3]
    for task in tasks[6:]:
        finish(ladder, task, errors)
    assert ladder.ladder[1].entries == [1, 3, 4]
    assert ladder.ladder[0].closed and not ladder.ladder[1].closed


def test_a_failure_counts_in_the_prefix_but_is_never_promoted():
    errors = [None, 0.4, 0.6, None, None, None]
    ladder = ladder_of(6, budgets=(1, 3))
    tasks = [next(ladder) for _ in range(6)]
    for task in tasks[:3]:
        finish(ladder, task, errors)
    assert ladder.ladder[1].entries == [1]
    for task in tasks[3:]:
        finish(ladder, task, errors)
    # Closed: max(1, ceil(6 / 3)) = 2 may go on; trial 2 is the only other ok one.
    assert ladder.ladder[1].entries == [1, 2]


@pytest.mark.parametrize("order_seed", range(4))
def test_any_order_of_completion_gives_the_same_promotions(order_seed):
    errors = dict(enumerate(np.random.default_rng(9).permutation(27) / 27))
    rng = np.random.default_rng(order_seed)
    ladder, running = ladder_of(27, budgets=(1, 3, 9, 27)), []
    while True:
        while len(running) < 4 and (task := next(ladder, None)) is not None:
            running.append(task)
        if not running:
            break
        finish(ladder, running.pop(rng.integers(len(running))), errors)
    in_order = ladder_of(27, budgets=(1, 3, 9, 27))
    for task in in_order:
        finish(in_order, task, errors)
    assert [r.entries for r in ladder.ladder] == [r.entries for r in in_order.ladder]
    assert [len(r.entries) for r in ladder.ladder] == [27, 9, 3, 1]


@pytest.fixture(scope="module")
def searched():
    return async_halving(SPACE, TRAIN, DEV, seed=4, **ARGS)


def test_each_rung_trains_as_many_as_halving_and_the_winner_is_a_fresh_run(searched):
    halving = successive_halving(SPACE, TRAIN, DEV, seed=4, **ARGS)
    assert [len(r) for r in searched.rungs] == [len(r) for r in halving.rungs] == [9, 3, 1]
    assert table(searched.rungs[0]) == table(halving.rungs[0])
    assert [{row["epochs"] for row in rung} for rung in searched.rungs] == [{1}, {3}, {9}]
    best = searched.best
    assert best == searched.rungs[-1][0] and best["rung"] == 2
    model = fit({**FIXED, **best["params"], "epochs": 9}, TRAIN, seed=best["seed"])
    for name, value in model.get_weights().items():
        np.testing.assert_array_equal(value, searched.best_model.get_weights()[name])
    assert list(searched.table().columns[:4]) == ["param_hidden", "param_learning_rate",
                                                  "trial", "rung"]


class Shuffled:
    """Runs up to ``workers`` tasks at a time and finishes them in a seeded random order,
    each by :func:`run_task` for real: a back-end as scrambled as a back-end can be."""

    def __init__(self, workers, seed):
        self.workers, self.rng = workers, np.random.default_rng(seed)

    @contextlib.contextmanager
    def session(self, train, dev):
        def run(tasks, done):
            tasks, running = iter(tasks), []
            while True:
                while len(running) < self.workers and (task := next(tasks, None)) is not None:
                    running.append(task)
                if not running:
                    return
                task = running.pop(self.rng.integers(len(running)))
                done(task.candidate, run_task(task, train, dev))

        yield run


@pytest.mark.parametrize("order_seed", [0, 1])
def test_a_scrambled_back_end_gives_the_serial_rungs(searched, order_seed):
    candidates = random_candidates(*normalize(SPACE, FIXED), 9, seed=4)
    ladder = Ladder(candidates, [1, 3, 9], 3, None, Keeper(None, {}, None))
    with Shuffled(3, order_seed).session(TRAIN, DEV) as run:
        run(ladder, ladder.done)
    assert [table(r) for r in ladder.rungs()] == [table(r) for r in searched.rungs]


@pytest.mark.same_bits
def test_processes_give_the_serial_rungs(searched):
    parallel = async_halving(SPACE, TRAIN, DEV, seed=4, backend="processes", workers=2, **ARGS)
    assert [table(r) for r in parallel.rungs] == [table(r) for r in searched.rungs]


def test_an_interrupted_search_resumes_to_the_same_rungs(searched, tmp_path):
    out, seen = tmp_path / "async", []

    def stop_after_five(row):
        seen.append(row)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        async_halving(SPACE, TRAIN, DEV, seed=4, out=out, on_trial=stop_after_five, **ARGS)
    journal = out / "trials.jsonl"
    assert len(journal.read_text().splitlines()) == 5
    journal.write_text(journal.read_text() + '{"trial": 7, "sta')    # a torn last line
    started, ran = [], []
    resumed = async_halving(SPACE, TRAIN, DEV, seed=4, out=out, on_trial=ran.append,
                            on_start=lambda rows, total: started.append((rows, total)),
                            **ARGS)
    assert [table(r) for r in resumed.rungs] == [table(r) for r in searched.rungs]
    ((rows, total),) = started
    assert total == 9 and table(rows) == table(sorted(seen, key=lambda r: (r["trial"], r["rung"])))
    assert len(ran) == 13 - 5
    assert {(r["rung"], r["trial"]) for r in ran}.isdisjoint((r["rung"], r["trial"]) for r in seen)
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["kind"], manifest["budgets"], manifest["factor"]) == (
        "async_halving", [1, 3, 9], 3)
    np.testing.assert_array_equal(resumed.best_model.get_weights()["W1"],
                                  searched.best_model.get_weights()["W1"])


def test_a_model_that_cannot_be_read_back_is_trained_again(searched, tmp_path):
    out = tmp_path / "async"
    async_halving(SPACE, TRAIN, DEV, seed=4, out=out, **ARGS)
    best = searched.best
    (out / "models" / f"trial-{best['trial']}-rung-1.npz").write_bytes(b"not a model")
    (out / "models" / f"trial-{best['trial']}-rung-2.npz").unlink()
    ran = []
    with pytest.warns(UserWarning, match="cannot be read back"):
        resumed = async_halving(SPACE, TRAIN, DEV, seed=4, out=out, on_trial=ran.append,
                                **ARGS)
    assert [(r["rung"], r["trial"]) for r in ran] == [(2, best["trial"])]
    assert [table(r) for r in resumed.rungs] == [table(r) for r in searched.rungs]
    np.testing.assert_array_equal(resumed.best_model.get_weights()["W1"],
                                  searched.best_model.get_weights()["W1"])


def test_a_halving_folder_is_not_resumed_as_an_asynchronous_one(tmp_path):
    successive_halving(SPACE, TRAIN, DEV, seed=4, out=tmp_path, **ARGS)
    with pytest.raises(ValueError, match="kind"):
        async_halving(SPACE, TRAIN, DEV, seed=4, out=tmp_path, **ARGS)


@pytest.mark.parametrize("kwargs, match", [
    ({"settings": {"epochs": 3}}, r"epochs cannot be set in asynchronous halving"),
    ({"trials": 0}, r"trials must be"),
    ({"max_epochs": 0}, r"max_epochs must be a positive integer, got 0"),
    ({"factor": 0.5}, r"factor must be a number in \(1, inf\), got 0.5"),
    ({"on_trial": 3}, r"on_trial must be a callable or None, got 3"),
])
def test_bad_arguments_are_refused_before_anything_runs(kwargs, match, tmp_path):
    arguments = {**ARGS, "out": tmp_path / "never", **kwargs}
    with pytest.raises(ValueError, match=match):
        async_halving(SPACE, TRAIN, DEV, **arguments)
    assert not (tmp_path / "never").exists()


def test_when_every_trial_of_a_rung_fails_the_rungs_end_there_as_in_halving():
    # A learning rate that diverges within 3 epochs: every trial fails at rung 0.
    space = {"learning_rate": [1e6, 2e6, 3e6]}
    fixed = {"optimizer": "gd", "hidden": [8], "activation": "relu", "output": "linear",
             "batch_size": None}
    args = dict(trials=3, min_epochs=3, max_epochs=9, settings=fixed, seed=0)
    asynchronous = async_halving(space, TRAIN, DEV, **args)
    halving = successive_halving(space, TRAIN, DEV, **args)
    assert [len(r) for r in asynchronous.rungs] == [len(r) for r in halving.rungs] == [3]
    assert asynchronous.best is None and halving.best is None
