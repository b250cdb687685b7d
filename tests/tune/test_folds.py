"""Cross-validated trials: the folds, and a trial scored on them (mllib.tune.folds, issue 21)."""

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from mllib.datasets import make_flower
from mllib.optim import single_threaded
from mllib.tune import fit, loguniform, random_search
from mllib.tune.candidates import Candidate, normalize, random_candidates
from mllib.tune.folds import Folds, check_folds, fold_ids, split
from mllib.tune.metrics import METRICS
from mllib.tune.repeats import Repeats, repeat_seed
from mllib.tune.trial import Task, run_task

X, Y = make_flower(120, seed=5)
TRAIN, DEV = (X[:90], Y[:90]), (X[90:], Y[90:])


def test_a_stratified_deal_worked_by_hand():
    # Two classes of three rows, three folds: each fold gets one row of each class.
    y = np.array([0, 1, 0, 1, 0, 1])
    ids = fold_ids(y, 3, seed=0, stratified=True)
    for fold in range(3):
        assert sorted(y[ids == fold]) == [0, 1]
    assert len({tuple(fold_ids(y, 3, seed, stratified=True)) for seed in range(6)}) > 1


@hypothesis_settings(max_examples=40, deadline=None)
@given(counts=st.lists(st.integers(5, 40), min_size=2, max_size=4),
       k=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
def test_every_fold_holds_each_class_in_proportion(counts, k, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(seed).shuffle(y)
    ids = fold_ids(y, k, seed, stratified=True)
    assert set(ids) == set(range(k))
    sizes = np.bincount(ids, minlength=k)
    assert sizes.max() - sizes.min() <= 1
    for c, count in enumerate(counts):
        per_fold = np.bincount(ids[y == c], minlength=k)
        assert per_fold.max() - per_fold.min() <= 1 and per_fold.sum() == count
    np.testing.assert_array_equal(ids, fold_ids(y, k, seed, stratified=True))


def test_a_regressor_s_rows_are_dealt_evenly_in_a_random_order():
    ids = fold_ids(np.linspace(0, 1, 23), 4, seed=3, stratified=False)
    assert sorted(np.bincount(ids)) == [5, 6, 6, 6]
    assert not np.array_equal(ids, np.arange(23) % 4)


def test_the_folds_split_train_and_dev_rows_without_loss_or_overlap():
    folds = Folds(4, 7, True)
    held = []
    for i in range(4):
        (X_fit, y_fit), (X_held, y_held) = split(TRAIN, DEV, folds, i)
        assert len(X_fit) + len(X_held) == 120 and len(y_fit) == len(X_fit)
        held.append(X_held)
    rows = np.concatenate(held)
    assert len(np.unique(rows, axis=0)) == 120
    assert sorted(map(tuple, rows)) == sorted(map(tuple, X))


def test_a_cross_validated_trial_is_the_mean_of_fresh_fits_of_its_folds():
    space, fixed = normalize({"learning_rate": [0.05]}, {"hidden": [4], "epochs": 5,
                                                        "batch_size": 16})
    (candidate,) = random_candidates(space, fixed, 1, seed=2)
    folds = Folds(3, 11, True)
    outcome = run_task(Task(candidate, metric="accuracy", folds=folds), TRAIN, DEV)
    errors = []
    for i in range(3):
        fitting, held = split(TRAIN, DEV, folds, i)
        with single_threaded():
            model = fit(candidate.settings, fitting, seed=candidate.seed)
            errors.append(METRICS["accuracy"].error(model, *held))
    row = outcome.row
    assert row["fold_errors"] == errors
    assert row["dev_error"] == pytest.approx(sum(errors) / 3, rel=1e-15)
    mean = sum(errors) / 3
    assert row["fold_sd"] == pytest.approx((sum((e - mean) ** 2 for e in errors) / 2) ** 0.5,
                                           rel=1e-12)
    assert row["status"] == "ok" and row["epochs"] == 5 and outcome.model is not None


def test_a_failed_fold_fails_the_trial_with_its_reason():
    space, fixed = normalize({"learning_rate": [1e6]}, {
        "optimizer": "gd", "epochs": 30, "hidden": [8], "activation": "relu",
        "output": "linear", "batch_size": None})
    (candidate,) = random_candidates(space, fixed, 1, seed=2)
    outcome = run_task(Task(candidate, folds=Folds(3, 0, False)), TRAIN, DEV)
    assert outcome.row["status"] == "failed" and outcome.model is None
    assert outcome.row["error"].startswith("fold 0: diverged")


@pytest.mark.parametrize("y, k, stratified, match", [
    (np.array([0, 0, 0, 1, 1]), 3, True, r"cv=3 needs at least 3 rows of every class .* "
                                           r"class 1 has 2"),
    (np.arange(4.0), 5, False, r"cv=5 needs at least 5 rows in train and dev together, "
                                r"there are 4"),
])
def test_folds_that_would_lose_a_class_or_be_empty_are_refused(y, k, stratified, match):
    with pytest.raises(ValueError, match=match):
        check_folds(y, k, stratified)


# A cross-validated search.

SPACE = {"learning_rate": loguniform(1e-3, 3e-1), "hidden": [[4], [8]]}
FIXED = {"epochs": 4, "batch_size": 16}


def table(result):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.trials]


@pytest.fixture(scope="module")
def crossed():
    return random_search(SPACE, TRAIN, DEV, trials=4, settings=FIXED, seed=3, cv=3)


def test_a_search_scores_every_trial_on_the_same_folds_and_refits_the_best(crossed):
    folds = Folds(3, 3, True)
    for row in crossed.trials:
        candidate = Candidate(row["trial"], row["params"], {**FIXED, **row["params"]},
                              row["seed"])
        alone = run_task(Task(candidate, metric="accuracy", folds=folds), TRAIN, DEV).row
        assert {k: v for k, v in alone.items() if k != "seconds"} == {
            k: v for k, v in row.items() if k != "seconds"}
    best = min(crossed.trials, key=lambda r: (r["dev_error"], r["trial"]))
    assert crossed.best == best and len(best["fold_errors"]) == 3
    every_row = (np.concatenate([TRAIN[0], DEV[0]]), np.concatenate([TRAIN[1], DEV[1]]))
    with single_threaded():
        refit = fit({**FIXED, **best["params"]}, every_row, seed=best["seed"])
    for name, value in refit.get_weights().items():
        np.testing.assert_array_equal(value, crossed.best_model.get_weights()[name])
    frame = crossed.table()
    assert list(frame.columns).index("fold_sd") == list(frame.columns).index("dev_error") + 1
    assert json.loads(frame["fold_errors"][0]) == crossed.trials[0]["fold_errors"]


@pytest.mark.same_bits
def test_two_processes_give_the_serial_table(crossed):
    parallel = random_search(SPACE, TRAIN, DEV, trials=4, settings=FIXED, seed=3, cv=3,
                             backend="processes", workers=2)
    assert table(parallel) == table(crossed)


def test_an_interrupted_search_resumes_and_other_folds_are_another_search(crossed, tmp_path):
    out = tmp_path / "cv"
    random_search(SPACE, TRAIN, DEV, trials=4, settings=FIXED, seed=3, cv=3, out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["cv"] == {"folds": 3, "stratified": True}
    journal = out / "trials.jsonl"
    journal.write_text("".join(journal.read_text().splitlines(keepends=True)[:2]))
    ran = []
    resumed = random_search(SPACE, TRAIN, DEV, trials=4, settings=FIXED, seed=3, cv=3,
                            out=out, on_trial=ran.append)
    assert table(resumed) == table(crossed) and len(ran) == 2
    with pytest.raises(ValueError, match="cv"):
        random_search(SPACE, TRAIN, DEV, trials=4, settings=FIXED, seed=3, cv=4, out=out)


def test_cv_with_repeats_and_with_tpe_scores_every_run_on_the_folds():
    folds = Folds(3, 3, True)

    def alone(row, seed):
        candidate = Candidate(row["trial"], row["params"], {**FIXED, **row["params"]}, seed)
        found = run_task(Task(candidate, metric="accuracy", folds=folds), TRAIN, DEV).row
        return {k: v for k, v in found.items() if k != "seconds"}

    repeated = random_search(SPACE, TRAIN, DEV, trials=3, settings=FIXED, seed=3, cv=3,
                             repeats=Repeats(2, top=1))
    (again,) = repeated.repeats
    assert {k: v for k, v in again.items() if k not in ("seconds", "repeat")} == alone(
        again, repeat_seed(3, again["trial"], 1))
    best = repeated.best
    assert best["dev_error_mean"] == (best["dev_error"] + again["dev_error"]) / 2
    sampled = random_search(SPACE, TRAIN, DEV, trials=3, settings=FIXED, seed=3, cv=3,
                            sampler="tpe")
    for row in sampled.trials:
        assert {k: v for k, v in row.items() if k != "seconds"} == alone(row, row["seed"])


@pytest.mark.parametrize("kwargs, match", [
    ({"cv": 1}, r"cv must be an integer >= 2, got 1"),
    ({"cv": "3"}, r"cv must be"),
    ({"cv": 3, "pruner": "median"}, r"cv=3 cannot be combined with a pruner"),
    ({"cv": 3, "settings": {**FIXED, "early_stopping": 2}},
     r"sets early_stopping, which cannot be combined with cv=3"),
    ({"cv": 61}, r"cv=61 needs at least 61 rows of every class in train and dev together; "
                  r"class 0 has 60"),
])
@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_bad_cross_validation_is_refused_before_anything_is_written(kwargs, match, sampler,
                                                                    tmp_path):
    arguments = {"trials": 2, "settings": FIXED, "out": tmp_path / "never", **kwargs}
    with pytest.raises(ValueError, match=match):
        random_search(SPACE, TRAIN, DEV, sampler=sampler, **arguments)
    assert not (tmp_path / "never").exists()


def test_tpe_refuses_fixed_settings_no_candidate_can_train_with_before_writing(tmp_path):
    with pytest.raises(ValueError, match=r"activation"):
        random_search(SPACE, TRAIN, DEV, trials=2, settings={**FIXED, "activation": "swish"},
                      sampler="tpe", out=tmp_path / "never")
    assert not (tmp_path / "never").exists()
    with pytest.raises(ValueError, match=r"early_stopping is searched, which cannot be "
                                         r"combined with cv: it would stop trials on the "
                                         r"rows that score them"):
        random_search({**SPACE, "early_stopping": [2, 3]}, TRAIN, DEV, trials=2,
                      settings=FIXED, sampler="tpe", cv=3, out=tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_a_damaged_fold_field_is_refused_naming_its_line(tmp_path):
    out = tmp_path / "cv"
    random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, seed=3, cv=3, out=out)
    journal = out / "trials.jsonl"
    for field, value, says in (("fold_sd", "oops", "'fold_sd' is \"oops\", not a finite"),
                               ("fold_sd", -1.0, "'fold_sd' is -1.0, not a number >= 0"),
                               ("fold_errors", {"a": 1}, "'fold_errors' is {\"a\": 1}, not a "
                                                         "list")):
        rows = [json.loads(line) for line in journal.read_text().splitlines()]
        rows[1][field] = value
        journal.write_text("".join(json.dumps(row) + "\n" for row in rows))
        with pytest.raises(ValueError, match=re.escape(says)) as raised:
            random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, seed=3, cv=3, out=out)
        assert "line 2" in str(raised.value)
        rows[1][field] = json.loads(journal.read_text().splitlines()[0])[field]
        journal.write_text("".join(json.dumps(row) + "\n" for row in rows))
