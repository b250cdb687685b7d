"""Repeats: the top candidates trained again with other seeds, chosen by their mean dev error,
with the sd and the 95 % interval; the same on every back-end, and resumable."""

import json
import math

import numpy as np
import pytest

from mllib.datasets import make_flower
from mllib.io import load_model
from mllib.optim import single_threaded
from mllib.tune import MedianPruner, fit, grid_search, loguniform, random_search
from mllib.tune.candidates import trial_seed
from mllib.tune.repeats import (STATS, RepeatStage, Repeats, as_repeats, repeat_seed, summarize,
                                t_quantile)

X, Y = make_flower(240, seed=3)
TRAIN, DEV = (X[:180], Y[:180]), (X[180:], Y[180:])
SPACE = {"learning_rate": loguniform(1e-3, 3e-1)}
FIXED = {"epochs": 3, "batch_size": 32, "hidden": [4]}
# Seed 5: trial 0 has the lowest single dev error (0.35), trial 3 the lowest mean.
SEED, REPEATS = 5, Repeats(3, top=3)


def table(rows):
    """Rows without their times, the only thing allowed to differ."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def search(**kwargs):
    return random_search(SPACE, TRAIN, DEV, trials=4, settings=FIXED, seed=SEED,
                         **{"repeats": REPEATS, **kwargs})


@pytest.fixture(scope="module")
def searched():
    return search()


def dev_error_of(settings, seed):
    """A fresh ``fit``'s dev error, trained as a trial trains (BLAS on one thread)."""
    with single_threaded():
        model = fit(settings, TRAIN, seed=seed)
        return 1 - model.evaluate(*DEV)["accuracy"], model


def test_the_statistics_of_a_small_example():
    found = summarize([0.1, 0.2, 0.3])
    half = 4.302653 * 0.1 / math.sqrt(3)
    assert found["repeats"] == 3
    assert found["dev_error_mean"] == pytest.approx(0.2, rel=1e-12)
    assert found["dev_error_sd"] == pytest.approx(0.1, rel=1e-12)
    assert found["dev_error_low"] == pytest.approx(0.2 - half, rel=1e-6)
    assert found["dev_error_high"] == pytest.approx(0.2 + half, rel=1e-6)
    assert summarize([0.25]) == {"dev_error_mean": 0.25, "dev_error_sd": None,
                                 "dev_error_low": None, "dev_error_high": None, "repeats": 1}
    two = summarize([0.5, 0.7])     # t(0.975, 1) = 12.7062047...: the interval of 2 is wide
    assert two["dev_error_high"] - two["dev_error_mean"] == pytest.approx(
        12.706204736 * math.sqrt(0.02) / math.sqrt(2), rel=1e-9)


@pytest.mark.parametrize("p", [0.975, 0.5, 0.9, 0.995, 0.025])
def test_the_t_quantile_is_scipys(p):
    scipy_stats = pytest.importorskip("scipy.stats")
    for df in range(1, 51):
        assert t_quantile(p, df) == pytest.approx(scipy_stats.t.ppf(p, df), rel=1e-9,
                                                  abs=1e-15), df
    assert t_quantile(0.975, 999) == pytest.approx(scipy_stats.t.ppf(0.975, 999), rel=1e-9)


def test_a_repeat_is_fit_with_its_repeat_seed(searched):
    assert [row["seed"] for row in searched.trials] == [trial_seed(SEED, t) for t in range(4)]
    assert [(row["trial"], row["repeat"]) for row in searched.repeats] == [
        (t, j) for t in (0, 1, 3) for j in (1, 2)]      # the top 3 of 4 (trial 2 is worst)
    for row in searched.repeats:
        assert row["seed"] == repeat_seed(SEED, row["trial"], row["repeat"])
        error, model = dev_error_of({**FIXED, **row["params"]}, row["seed"])
        assert row["dev_error"] == error
        assert row["epochs"] == 3 and row["status"] == "ok"
    assert repeat_seed(SEED, 2, 0) == trial_seed(SEED, 2)
    assert repeat_seed(SEED, 2, 1) == int(np.random.SeedSequence([SEED, 2, 2]).generate_state(1)[0])
    assert len({row["seed"] for row in searched.repeats}) == 6


def test_the_best_is_the_lowest_mean_not_the_lowest_single_error(searched):
    rows = {row["trial"]: row for row in searched.trials}
    single = min(rows.values(), key=lambda row: (row["dev_error"], row["trial"]))
    assert single["trial"] == 0 and searched.best["trial"] == 3
    for t in (0, 1, 3):
        errors = [rows[t]["dev_error"]] + [r["dev_error"] for r in searched.repeats
                                           if r["trial"] == t]
        assert rows[t]["dev_error_mean"] == math.fsum(errors) / 3
        assert rows[t]["dev_error_sd"] == pytest.approx(np.std(errors, ddof=1), rel=1e-12)
        half = 4.302652729749464 * np.std(errors, ddof=1) / math.sqrt(3)
        assert rows[t]["dev_error_low"] == pytest.approx(rows[t]["dev_error_mean"] - half)
        assert rows[t]["dev_error_high"] == pytest.approx(rows[t]["dev_error_mean"] + half)
        assert rows[t]["repeats"] == 3
    assert rows[3]["dev_error_mean"] < min(rows[t]["dev_error_mean"] for t in (0, 1))
    assert rows[0]["dev_error"] < rows[3]["dev_error"]
    assert {k: rows[2][k] for k in STATS} == dict.fromkeys(STATS)   # not repeated
    assert searched.best is rows[3]
    # The best model is trial 3's own (repeat 0), with its trial's seed.
    _, model = dev_error_of({**FIXED, **rows[3]["params"]}, trial_seed(SEED, 3))
    for name, value in model.get_weights().items():
        np.testing.assert_array_equal(searched.best_model.get_weights()[name], value)


class _Best:
    """A search's best single trial, as RepeatStage.result sees it."""
    row = {"trial": 1}

    def bytes(self):
        return b"trial 1's model"


def _row(trial, error, repeat=None):
    row = {"trial": trial, "status": "ok" if error is not None else "failed",
           "dev_error": error}
    return row if repeat is None else {**row, "repeat": repeat}


def test_a_candidate_whose_repeats_failed_is_ranked_by_what_it_has():
    stage = RepeatStage(Repeats(3, top=2), {}, 0, None, None, None, None)
    stage._rows = {(0, 1): _row(0, 0.4, 1), (0, 2): _row(0, None, 2),
                   (1, 1): _row(1, None, 1), (1, 2): _row(1, None, 2)}
    trials, model, chosen = stage.result({0: _row(0, 0.3), 1: _row(1, 0.32), 2: _row(2, 0.9)},
                                         _Best())
    assert trials[0]["repeats"] == 2 and trials[0]["dev_error_mean"] == pytest.approx(0.35)
    assert trials[0]["dev_error_sd"] == pytest.approx(math.sqrt(0.005))
    assert trials[1] is chosen["best"] and model == b"trial 1's model"
    assert {k: trials[1][k] for k in STATS} == {"dev_error_mean": 0.32, "dev_error_sd": None,
                                                "dev_error_low": None, "dev_error_high": None,
                                                "repeats": 1}
    assert [(r["trial"], r["repeat"]) for r in chosen["repeats"]] == [(0, 1), (0, 2), (1, 1),
                                                                       (1, 2)]


def test_the_table_and_best_json_show_the_statistics(searched, tmp_path):
    frame = searched.table()
    columns = list(frame.columns)
    at = columns.index("dev_error")
    assert columns[at:at + 6] == ["dev_error", *STATS]
    assert frame["repeats"].tolist()[:2] == [3, 3] and math.isnan(frame["repeats"][2])
    best = json.loads(searched.save(tmp_path)["best"].read_text())
    assert {k: best[k] for k in STATS} == {k: searched.best[k] for k in STATS}
    plain = random_search(SPACE, TRAIN, DEV, trials=4, settings=FIXED, seed=SEED)
    assert plain.repeats is None and "repeats" not in plain.table().columns
    assert plain.best["trial"] == 0 and "dev_error_mean" not in plain.best
    assert table(plain.trials) == [{k: v for k, v in row.items() if k not in STATS}
                                   for row in table(searched.trials)]


@pytest.mark.same_bits
def test_two_processes_give_the_serial_table(searched):
    parallel = search(backend="processes", workers=2)
    assert table(parallel.trials) == table(searched.trials)
    assert table(parallel.repeats) == table(searched.repeats)
    assert parallel.best["trial"] == searched.best["trial"]


def test_a_stopped_repeat_stage_resumes_running_only_the_missing_repeats(searched, tmp_path):
    seen = []

    def stop_after_the_first_repeat(row):
        seen.append(row)
        if "repeat" in row:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        search(out=tmp_path, on_trial=stop_after_the_first_repeat)
    assert [row.get("repeat") for row in seen] == [None] * 4 + [1]
    lines = [json.loads(line) for line in (tmp_path / "trials.jsonl").read_text().splitlines()]
    assert [(row["trial"], row.get("repeat")) for row in lines] == [
        (0, None), (1, None), (2, None), (3, None), (0, 1)]
    ran = []
    again = search(out=tmp_path, on_trial=ran.append)
    # The best first: trial 0, then 3, then 1.
    assert [(row["trial"], row["repeat"]) for row in ran] == [(0, 2), (3, 1), (3, 2), (1, 1),
                                                              (1, 2)]
    assert table(again.trials) == table(searched.trials)
    assert table(again.repeats) == table(searched.repeats)
    # Each repeat's model is kept beside the trials'; it is fit with the repeat's seed.
    row = again.repeats[-1]
    kept = load_model(tmp_path / "models" / f"trial-{row['trial']}-repeat-{row['repeat']}.npz")
    _, model = dev_error_of({**FIXED, **row["params"]}, row["seed"])
    for name, value in model.get_weights().items():
        np.testing.assert_array_equal(kept.get_weights()[name], value)
    nothing = []
    assert table(search(out=tmp_path, on_trial=nothing.append).trials) == table(searched.trials)
    assert nothing == []


def test_a_chosen_model_that_cannot_be_read_back_is_trained_again(searched, tmp_path):
    search(out=tmp_path)
    path = tmp_path / "models" / "trial-3.npz"
    path.write_bytes(b"damaged")
    with pytest.warns(UserWarning, match=r"the model of trial 3 cannot be read back"):
        again = search(out=tmp_path)
    assert table(again.trials) == table(searched.trials)
    for name, value in searched.best_model.get_weights().items():
        np.testing.assert_array_equal(again.best_model.get_weights()[name], value)
    np.testing.assert_array_equal(load_model(path).get_weights()["W1"],
                                  searched.best_model.get_weights()["W1"])


def test_the_manifest_records_repeats_and_a_resume_with_others_is_refused(tmp_path):
    search(out=tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["repeats"] == {"count": 3, "top": 3}
    with pytest.raises(ValueError, match=r"holds another search: repeats\.count: 3 in the "
                                         r"folder, 4 now; use another folder"):
        search(out=tmp_path, repeats=Repeats(4, top=3))
    with pytest.raises(ValueError, match=r"repeats: \{\"count\": 3, \"top\": 3\} in the "
                                         r"folder, absent now"):
        search(out=tmp_path, repeats=None)
    plain = tmp_path / "plain"
    random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, seed=SEED, out=plain)
    assert "repeats" not in json.loads((plain / "manifest.json").read_text())


@pytest.mark.parametrize("key, value, match", [
    ("repeat", 0, r"'repeat' is 0, not a repeat: repeat 0 is the trial's own row"),
    ("repeat", "1", r"'repeat' is \"1\", not a whole number"),
])
def test_a_damaged_repeat_row_is_refused_naming_its_line(tmp_path, key, value, match):
    search(out=tmp_path)
    journal = tmp_path / "trials.jsonl"
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    rows[5][key] = value
    journal.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(ValueError, match=r"trials\.jsonl' line 6 is damaged: " + match):
        search(out=tmp_path)


def test_a_pruned_trial_is_not_repeated_and_a_grid_repeats_too():
    pruned = random_search(SPACE, TRAIN, DEV, trials=6, settings={**FIXED, "epochs": 6},
                           seed=0, pruner=MedianPruner(warmup=2, every=1, min_trials=2),
                           repeats=Repeats(2, top=6))
    kept = [row["trial"] for row in pruned.trials if not row["pruned"]]
    assert kept == [0, 1, 4]
    assert [row["trial"] for row in pruned.repeats] == kept
    assert [row["repeats"] for row in pruned.trials] == [2, 2, None, None, 2, None]
    grid = grid_search(SPACE, TRAIN, DEV, points=3, settings=FIXED, repeats=2)
    assert len(grid.repeats) == 3 and grid.best["repeats"] == 2
    assert grid.best["dev_error_mean"] == min(row["dev_error_mean"] for row in grid.trials)


@pytest.mark.parametrize("repeats, match", [
    (1, r"repeats must be an integer >= 2, got 1"),
    ("x", r"repeats must be None, an integer >= 2 \(the seeds per candidate\) or "
          r"Repeats\(count, top\), got 'x'"),
    (True, r"repeats must be None, an integer >= 2 .*, got True"),
    (1001, r"repeats must be at most 1,000, got 1001"),
])
def test_bad_repeats_are_refused(repeats, match):
    with pytest.raises(ValueError, match=match):
        random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, repeats=repeats)


def test_a_bad_top_is_refused():
    with pytest.raises(ValueError, match=r"top must be a positive integer, got 0"):
        Repeats(3, top=0)
    with pytest.raises(ValueError, match=r"repeats must be an integer >= 2, got 1"):
        grid_search(SPACE, TRAIN, DEV, points=2, settings=FIXED, repeats=Repeats(1))
    assert as_repeats(4) == Repeats(4, top=5) and as_repeats(None) is None
