"""Hyperband: brackets of successive halving (mllib.tune.hyperband, issue 21)."""

import pytest

from mllib.datasets import make_flower
from mllib.tune import fit, hyperband, loguniform, successive_halving
from mllib.tune.hyperband import brackets

X, Y = make_flower(240, seed=3)
TRAIN, DEV = (X[:180], Y[:180]), (X[180:], Y[180:])
SPACE = {"learning_rate": loguniform(1e-3, 3e-1), "hidden": [[4], [8]]}
FIXED = {"batch_size": 32}


def table(rows):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def test_the_brackets_of_1_to_27_epochs_by_thirds():
    # n_s = ceil((S + 1) / (s + 1) * 3^s) with S = 3: 27, 12, 6 and 4 candidates.
    assert brackets(1, 27, 3) == [(3, 27, [1, 3, 9, 27]), (2, 12, [3, 9, 27]),
                                  (1, 6, [9, 27]), (0, 4, [27])]
    # S = 2, factor 2: ceil(3/3 * 4), ceil(3/2 * 2), ceil(3/1 * 1).
    assert brackets(2, 8, 2) == [(2, 4, [2, 4, 8]), (1, 3, [4, 8]), (0, 3, [8])]


@pytest.fixture(scope="module")
def searched():
    return hyperband(SPACE, TRAIN, DEV, min_epochs=1, max_epochs=9, factor=3,
                     settings=FIXED, seed=0)


def test_the_first_bracket_is_the_successive_halving_of_the_first_candidates(searched):
    # Bracket S takes the search's first n_S candidates: the halving of those.
    halving = successive_halving(SPACE, TRAIN, DEV, trials=9, min_epochs=1, max_epochs=9,
                                 factor=3, settings=FIXED, seed=0)
    first = [[row for row in rung if row["bracket"] == 2] for rung in searched.rungs]
    assert [table({k: v for k, v in r.items() if k != "bracket"} for r in rung)
            for rung in first] == [table(rung) for rung in halving.rungs]


def test_every_bracket_halves_and_the_best_is_the_best_trained_to_the_last_budget(searched):
    sizes = {s: [sum(row["bracket"] == s for row in rung) for rung in searched.rungs]
             for s in (2, 1, 0)}
    assert sizes == {2: [9, 3, 1], 1: [0, 5, 2], 0: [0, 0, 3]}
    assert [{row["epochs"] for row in rung} for rung in searched.rungs] == [{1}, {3}, {9}]
    last = [row for row in searched.rungs[-1] if row["status"] == "ok"]
    assert searched.best == min(last, key=lambda row: (row["dev_error"], row["trial"]))
    assert len(searched.trials) == 9 + 5 + 3
    model = fit({**FIXED, **searched.best["params"], "epochs": 9}, TRAIN,
                seed=searched.best["seed"])
    assert (model.get_weights()["W1"] == searched.best_model.get_weights()["W1"]).all()
    assert list(searched.table().columns[:4]) == ["param_hidden", "param_learning_rate",
                                                  "trial", "rung"]
    assert "bracket" in searched.table().columns


@pytest.mark.same_bits
def test_the_table_is_the_same_on_two_processes(searched):
    other = hyperband(SPACE, TRAIN, DEV, min_epochs=1, max_epochs=9, factor=3,
                      settings=FIXED, seed=0, backend="processes", workers=2)
    assert table(other.trials) == table(searched.trials)
    assert [table(rung) for rung in other.rungs] == [table(rung) for rung in searched.rungs]


def test_a_stopped_search_resumes_to_the_uninterrupted_table(searched, tmp_path):
    seen = []

    def stop_after_six(row):
        seen.append(row)
        if len(seen) == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        hyperband(SPACE, TRAIN, DEV, min_epochs=1, max_epochs=9, factor=3, settings=FIXED,
                  seed=0, out=tmp_path, on_trial=stop_after_six)
    ran = []
    again = hyperband(SPACE, TRAIN, DEV, min_epochs=1, max_epochs=9, factor=3,
                      settings=FIXED, seed=0, out=tmp_path, on_trial=ran.append)
    assert table(again.trials) == table(searched.trials)
    assert len(ran) == sum(len(rung) for rung in searched.rungs) - 6
    with pytest.raises(ValueError, match="holds another search"):
        successive_halving(SPACE, TRAIN, DEV, trials=9, min_epochs=1, max_epochs=9,
                           settings=FIXED, seed=0, out=tmp_path)


@pytest.mark.parametrize("kwargs, message", [
    ({"settings": {"epochs": 5}}, "epochs cannot be set in Hyperband"),
    ({"min_epochs": 1, "max_epochs": 10**6, "factor": 1.01}, "gives 1,388 rungs from 1 to 1000000 epochs"),
    ({"min_epochs": 5, "max_epochs": 4}, "max_epochs"),
    ({"min_epochs": 1, "max_epochs": 3 ** 11}, "give [0-9,]+ trials, more than 100,000"),
])
def test_bad_arguments_are_refused_before_any_trial(kwargs, message):
    arguments = {"min_epochs": 1, "max_epochs": 9, "settings": FIXED, **kwargs}
    with pytest.raises(ValueError, match=message):
        hyperband(SPACE, TRAIN, DEV, **arguments)
