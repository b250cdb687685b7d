"""Successive halving over epochs: rungs, survivors, exact continuation, back-ends, resume."""

import json

import numpy as np
import pytest

from mllib.datasets import make_flower
from mllib.tune import fit, loguniform, successive_halving
from mllib.tune.halving import rung_budgets

pytestmark = pytest.mark.same_bits   # CI runs these again under other BLAS kernels

X, Y = make_flower(240, seed=3)
TRAIN, DEV = (X[:180], Y[:180]), (X[180:], Y[180:])
SPACE = {"learning_rate": loguniform(1e-3, 3e-1), "hidden": [[4], [8]]}
FIXED = {"batch_size": 32, "keep_prob": 0.9}


def table(rows):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


@pytest.mark.parametrize("low, high, factor, budgets", [
    (1, 27, 3, [1, 3, 9, 27]), (2, 20, 3, [2, 6, 20]), (5, 5, 3, [5]), (1, 10, 2, [1, 2, 4, 10]),
    (3, 8, 3, [3, 8]), (4, 100, 2.5, [4, 10, 25, 100]), (10, 12, 1.05, [10, 11, 12]),
    (1, 3, 1.1, [1, 2, 3])])
def test_rung_budgets(low, high, factor, budgets):
    assert rung_budgets(low, high, factor) == budgets


def test_the_best_third_goes_on_and_the_winner_is_a_fresh_run_bit_for_bit():
    result = successive_halving(SPACE, TRAIN, DEV, trials=9, min_epochs=2, max_epochs=18,
                                settings=FIXED, seed=5)
    assert [len(rung) for rung in result.rungs] == [9, 3, 1]
    assert [row["epochs"] for row in result.rungs[1]] == [6, 6, 6]
    for rung, following in zip(result.rungs, result.rungs[1:]):
        ranked = sorted(rung, key=lambda r: (r["dev_error"], r["trial"]))
        assert [r["trial"] for r in following] == sorted(r["trial"] for r in ranked[:len(following)])
    best = result.best
    assert best["rung"] == 2 and best["epochs"] == 18 and best is result.rungs[-1][0]
    fresh = fit({**FIXED, **best["params"], "epochs": 18}, TRAIN, seed=best["seed"])
    for name, value in fresh.get_weights().items():
        np.testing.assert_array_equal(result.best_model.get_weights()[name], value)
    assert result.best_model.epoch_ == 18
    # Each trial's row is the one of the last rung it reached.
    assert sorted(row["rung"] for row in result.trials) == [0] * 6 + [1] * 2 + [2]


def test_processes_give_the_serial_rungs():
    serial = successive_halving(SPACE, TRAIN, DEV, trials=6, min_epochs=2, max_epochs=8,
                                factor=2, settings=FIXED, seed=1)
    parallel = successive_halving(SPACE, TRAIN, DEV, trials=6, min_epochs=2, max_epochs=8,
                                  factor=2, settings=FIXED, seed=1, backend="processes",
                                  workers=2)
    assert [table(r) for r in parallel.rungs] == [table(r) for r in serial.rungs]


def test_an_interrupted_halving_resumes_to_the_same_rungs(tmp_path):
    out = tmp_path / "halving"
    whole = successive_halving(SPACE, TRAIN, DEV, trials=9, min_epochs=2, max_epochs=18,
                               settings=FIXED, seed=5, out=out)
    journal = out / "trials.jsonl"
    lines = journal.read_text().splitlines()
    assert len(lines) == 9 + 3 + 1
    # As if stopped in the middle of rung 1, with a torn last line.
    journal.write_text("\n".join(lines[:10]) + '\n{"trial": 4, "sta')
    started = []
    resumed = successive_halving(SPACE, TRAIN, DEV, trials=9, min_epochs=2, max_epochs=18,
                                 settings=FIXED, seed=5, out=out,
                                 on_start=lambda *args: started.append(args))
    assert [table(r) for r in resumed.rungs] == [table(r) for r in whole.rungs]
    (read_back, total), = started
    # Each line carries its search's identity, which the rows read back leave out.
    search = json.loads((out / "manifest.json").read_text())["search"]
    recorded = [json.loads(line) for line in lines[:10]]
    assert {row.pop("search") for row in recorded} == {search}
    assert total == 9 and read_back == sorted(recorded, key=lambda r: (r["trial"], r["rung"]))
    rows = [json.loads(line) for line in journal.read_text().splitlines()[:10]]
    rows += [json.loads(line) for line in journal.read_text().splitlines()[11:]]
    assert sorted((r["rung"], r["trial"]) for r in rows) == sorted(
        (r["rung"], r["trial"]) for rung in whole.rungs for r in rung)
    np.testing.assert_array_equal(resumed.best_model.get_weights()["W1"],
                                  whole.best_model.get_weights()["W1"])


@pytest.mark.parametrize("kwargs, match", [
    ({"settings": {"epochs": 3}}, r"epochs cannot be set in successive halving"),
    ({"space": {"early_stopping": [2, 3]}}, r"early_stopping cannot be set"),
    ({"min_epochs": 0}, r"min_epochs must be a positive integer"),
    ({"max_epochs": 1}, r"max_epochs must be an integer >= 2, got 1"),
    ({"factor": 1}, r"factor must be a number in \(1, inf\), got 1"),
])
def test_bad_halving_arguments_are_refused(kwargs, match):
    arguments = {"space": SPACE, "trials": 3, "min_epochs": 2, "max_epochs": 6, **kwargs}
    space = arguments.pop("space")
    with pytest.raises(ValueError, match=match):
        successive_halving(space, TRAIN, DEV, **arguments)
