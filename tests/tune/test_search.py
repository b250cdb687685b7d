"""Random and grid search: candidates, pure trials, back-ends, failures, resume, results."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from mllib.datasets import make_flower
from mllib.tune import (choice, fit, grid_search, loguniform, one_minus_loguniform,
                        random_search)
from mllib.tune.candidates import trial_seed

pytestmark = pytest.mark.same_bits   # CI runs these again under other BLAS kernels

X, Y = make_flower(240, seed=3)
TRAIN, DEV = (X[:180], Y[:180]), (X[180:], Y[180:])
SPACE = {"learning_rate": loguniform(1e-3, 3e-1), "beta1": one_minus_loguniform(0.5, 0.99),
         "hidden": choice([[4], [8, 4]])}
FIXED = {"epochs": 15, "batch_size": 32, "activation": "tanh"}


def table(result):
    """The trial table without the times, which are the only thing allowed to differ."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.trials]


def test_a_trial_is_fit_of_its_settings_with_its_seed():
    result = random_search(SPACE, TRAIN, DEV, trials=3, settings=FIXED, seed=7)
    assert [row["trial"] for row in result.trials] == [0, 1, 2]
    assert [row["seed"] for row in result.trials] == [trial_seed(7, t) for t in range(3)]
    best = result.best
    model = fit({**FIXED, **best["params"]}, TRAIN, seed=best["seed"])
    for name, value in model.get_weights().items():
        np.testing.assert_array_equal(result.best_model.get_weights()[name], value)
    assert best["dev_error"] == pytest.approx(1 - model.evaluate(*DEV)["accuracy"], abs=0)
    assert best == min((r for r in result.trials), key=lambda r: (r["dev_error"], r["trial"]))


def test_more_trials_extend_the_same_candidates():
    three = random_search(SPACE, TRAIN, DEV, trials=3, settings=FIXED, seed=1)
    five = random_search(SPACE, TRAIN, DEV, trials=5, settings=FIXED, seed=1)
    assert table(five)[:3] == table(three)
    assert table(random_search(SPACE, TRAIN, DEV, trials=3, settings=FIXED, seed=2)) != table(three)


def test_every_choice_is_drawn_beside_a_range():
    space = {"hidden": choice([[2], [3], [4]]), "learning_rate": loguniform(0.01, 0.1),
             "epochs": 1}
    result = random_search(space, TRAIN, DEV, trials=30, seed=0)
    drawn = [row["params"]["hidden"] for row in result.trials]
    assert all(6 <= drawn.count(h) <= 14 for h in ([2], [3], [4])), drawn
    assert all("epochs" not in row["params"] for row in result.trials)   # fixed, not sampled


CHOICES = {"hidden": [[2], [3]], "activation": ["relu", "tanh"], "epochs": 1}
COMBINATIONS = [{"activation": a, "hidden": h} for a in ("relu", "tanh") for h in ([2], [3])]


def test_a_space_of_choices_is_drawn_without_replacement():
    orders = []
    for seed in range(6):
        drawn = [row["params"] for row in
                 random_search(CHOICES, TRAIN, DEV, trials=4, seed=seed).trials]
        assert sorted(drawn, key=str) == sorted(COMBINATIONS, key=str), (seed, drawn)
        orders.append(str(drawn))
    assert len(set(orders)) > 1     # the order comes from the seed


def test_more_trials_than_combinations_run_each_once_and_warn():
    with pytest.warns(UserWarning, match=r"the space has 4 combination\(s\) of its choices, "
                                         r"fewer than trials=8: each runs once"):
        eight = random_search(CHOICES, TRAIN, DEV, trials=8, seed=2)
    three = random_search(CHOICES, TRAIN, DEV, trials=3, seed=2)
    assert [row["trial"] for row in eight.trials] == [0, 1, 2, 3]
    assert sorted((row["params"] for row in eight.trials), key=str) == sorted(COMBINATIONS,
                                                                              key=str)
    assert table(eight)[:3] == table(three)     # a longer search extends a shorter one
    same = {"hidden": choice([(2,), [2]]), "epochs": 1}     # equal as recorded: one candidate
    with pytest.warns(UserWarning, match=r"has 1 combination\(s\) .* fewer than trials=2"):
        assert len(random_search(same, TRAIN, DEV, trials=2, seed=0).trials) == 1


def test_two_processes_give_the_serial_table():
    serial = random_search(SPACE, TRAIN, DEV, trials=8, settings=FIXED, seed=3)
    parallel = random_search(SPACE, TRAIN, DEV, trials=8, settings=FIXED, seed=3,
                             backend="processes", workers=2)
    assert table(parallel) == table(serial)
    assert all(row["status"] == "ok" for row in serial.trials)


def test_grid_search_tries_every_point_on_each_scale():
    result = grid_search({"learning_rate": loguniform(1e-3, 1e-1), "hidden": [[2], [4]]},
                         TRAIN, DEV, points=3, settings={"epochs": 2})
    params = [row["params"] for row in result.trials]
    assert params == [{"hidden": h, "learning_rate": lr} for h in ([2], [4])
                      for lr in (1e-3, 1e-2, 1e-1)]


def test_a_diverging_trial_is_recorded_as_failed_and_the_others_complete():
    result = grid_search({"learning_rate": [0.01, 1e6]}, TRAIN, DEV,
                         settings={"optimizer": "gd", "epochs": 30, "hidden": [8],
                                   "activation": "relu", "output": "linear", "batch_size": None})
    ok, failed = result.trials
    assert ok["status"] == "ok" and ok["dev_error"] is not None
    assert failed["status"] == "failed" and failed["error"].startswith("diverged: ")
    assert all(failed[k] is None for k in ("train_error", "dev_error", "train_cost", "dev_cost"))
    assert result.best is ok


@pytest.mark.parametrize("space, settings, match", [
    ({"beta1": [0.9, 0.99]}, {"optimizer": "gd"}, r"trial 0 \{'beta1': 0\.9\}: beta1=0\.9 is "
                                                   r"not a setting of optimizer 'gd'"),
    ({"learning_rate": [0.1, -1.0]}, None, r"trial 1 \{'learning_rate': -1\.0\}: "
                                           r"learning_rate: expected a number > 0"),
    ({"activation": ["tanh", "swish"]}, None, r"trial 1 \{'activation': 'swish'\}"),
    ({"seed": [1, 2]}, None, r"seed is set by the search"),
    ({"epochs": [1, 2]}, {"epochs": 3}, r"epochs is both searched \(space\) and fixed"),
    ({"learning_rat": [0.1]}, None, r"unknown setting 'learning_rat'"),
    ({}, None, r"space must be a non-empty dict"),
])
def test_bad_settings_are_refused_before_anything_runs(space, settings, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        grid_search(space, TRAIN, DEV, settings=settings, out=tmp_path / "s")
    assert not (tmp_path / "s" / "trials.jsonl").exists()


@pytest.mark.parametrize("call, match", [
    (lambda: random_search(SPACE, TRAIN, DEV, trials=0), r"trials must be a positive integer"),
    (lambda: random_search(SPACE, X, DEV, trials=1), r"train must be a pair \(X, y\)"),
    (lambda: random_search(SPACE, TRAIN, (X[:5], Y[:4]), trials=1), r"dev X has 5 rows"),
    (lambda: random_search(SPACE, TRAIN, DEV, trials=1, backend="gpu"), r"backend must be"),
    (lambda: random_search(SPACE, TRAIN, DEV, trials=1, workers=2), r"workers=2 needs"),
])
def test_bad_arguments_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_search_resumes_from_its_folder_and_runs_only_the_missing_trials(tmp_path):
    out = tmp_path / "search"
    whole = random_search(SPACE, TRAIN, DEV, trials=5, settings=FIXED, seed=4)
    first = random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, seed=4, out=out)
    again = random_search(SPACE, TRAIN, DEV, trials=5, settings=FIXED, seed=4, out=out)
    assert table(again) == table(whole)
    lines = (out / "trials.jsonl").read_text().splitlines()
    assert [json.loads(line)["trial"] for line in lines] == [0, 1, 2, 3, 4]
    # The trials read back keep their recorded times.
    assert [row["seconds"] for row in again.trials[:2]] == [row["seconds"] for row in first.trials]
    np.testing.assert_array_equal(again.best_model.get_weights()["W1"],
                                  whole.best_model.get_weights()["W1"])


def test_a_recorded_trial_drawn_with_other_values_runs_again(tmp_path):
    # As an older mllib drew a space of choices: trial 1 the same values as trial 0.
    first = random_search(CHOICES, TRAIN, DEV, trials=2, seed=0, out=tmp_path)
    journal = tmp_path / "trials.jsonl"
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    rows[1]["params"] = rows[0]["params"]
    journal.write_text("".join(json.dumps(row) + "\n" for row in rows))
    seen = []
    again = random_search(CHOICES, TRAIN, DEV, trials=2, seed=0, out=tmp_path,
                          on_trial=seen.append)
    assert [row["trial"] for row in seen] == [1]
    assert table(again) == table(first)


def test_another_search_in_the_same_folder_is_refused_unless_restarted(tmp_path):
    out = tmp_path / "search"
    random_search(SPACE, TRAIN, DEV, trials=1, settings=FIXED, seed=4, out=out)
    with pytest.raises(ValueError, match=r"holds another search: seed: 4 in the folder, 5 "
                                         r"now; use another folder, or restart"):
        random_search(SPACE, TRAIN, DEV, trials=1, settings=FIXED, seed=5, out=out)
    with pytest.raises(ValueError, match=r": data: rows of fingerprint [0-9a-f]{10}… in the "
                                         r"folder, rows of fingerprint [0-9a-f]{10}… now; "
                                         r"settings\.activation: \"tanh\" in the folder, "
                                         r"\"relu\" now; settings\.epochs: 15 in the folder, 1 "
                                         r"now; use another"):
        random_search(SPACE, (X[:100], Y[:100]), DEV, trials=1,
                      settings={"epochs": 1, "batch_size": 32, "activation": "relu"}, seed=4,
                      out=out)
    random_search({"beta1": one_minus_loguniform(0.5, 0.99)}, TRAIN, DEV, trials=1,
                  settings={**FIXED, "learning_rate": 0.01}, out=tmp_path / "other")
    with pytest.raises(ValueError, match=r": settings\.learning_rate: 0\.01 in the folder, "
                                         r"0\.1 now; space\.beta1: \{\"one_minus_loguniform\": "
                                         r"\[0\.5, 0\.99\]\} in the folder, "
                                         r"\{\"one_minus_loguniform\": \[0\.5, 0\.9\]\} now; "
                                         r"use another"):
        random_search({"beta1": one_minus_loguniform(0.5, 0.9)}, TRAIN, DEV, trials=1,
                      settings={**FIXED, "learning_rate": 0.1}, out=tmp_path / "other")
    redone = random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, seed=5, out=out,
                           restart=True)
    assert len((out / "trials.jsonl").read_text().splitlines()) == 2
    assert table(redone) == table(random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED,
                                                seed=5))


# Trials of about 0.05 s: 17 of them are left to run when the test sees 3 in the journal.
SCRIPT = textwrap.dedent("""
    import sys
    from mllib.datasets import make_flower
    from mllib.tune import choice, loguniform, random_search
    X, Y = make_flower(240, seed=3)
    random_search({"learning_rate": loguniform(1e-3, 3e-1), "hidden": choice([[16], [32]])},
                  (X[:180], Y[:180]), (X[180:], Y[180:]), trials=20,
                  settings={"epochs": 40, "batch_size": 16}, seed=9, out=sys.argv[1])
""")


def test_a_search_whose_process_is_killed_resumes_to_the_uninterrupted_table(tmp_path):
    out = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out)])
    journal = out / "trials.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done_before = len(journal.read_text().splitlines())
    assert 3 <= done_before < 20
    space = {"learning_rate": loguniform(1e-3, 3e-1), "hidden": choice([[16], [32]])}
    settings = {"epochs": 40, "batch_size": 16}
    resumed = random_search(space, TRAIN, DEV, trials=20, settings=settings, seed=9, out=out)
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sorted(row["trial"] for row in rows) == list(range(20))   # none run twice
    whole = random_search(space, TRAIN, DEV, trials=20, settings=settings, seed=9)
    assert table(resumed) == table(whole)


def test_the_result_tests_once_and_saves_its_files(tmp_path):
    result = random_search(SPACE, TRAIN, DEV, trials=3, settings=FIXED, seed=6)
    first = result.test(*DEV)
    assert first["error"] == pytest.approx(result.best["dev_error"])
    with pytest.warns(UserWarning, match="the test set has been used already"):
        result.test(*DEV)
    frame = result.table()
    assert list(frame.columns[:4]) == ["param_beta1", "param_hidden", "param_learning_rate",
                                       "trial"]
    assert "rung" not in frame.columns
    assert frame["dev_error"].tolist() == [row["dev_error"] for row in result.trials]
    files = result.save(tmp_path / "saved")
    best = json.loads(files["best"].read_text())
    assert best["trial"] == result.best["trial"] and best["diagnosis"]["verdict"]
    assert best["settings"] == {**FIXED, **result.best["params"]} == result.best_settings
    assert best["test"]["n"] == len(DEV[0]) and files["model"].exists()


def test_on_trial_sees_each_row_as_it_finishes_and_on_start_those_read_back(tmp_path):
    seen, started = [], []
    first = random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, seed=8,
                          out=tmp_path / "s", on_trial=seen.append,
                          on_start=lambda *args: started.append(args))
    assert [row["trial"] for row in seen] == [0, 1] and seen == first.trials
    assert started == [([], 2)]
    seen.clear(), started.clear()
    random_search(SPACE, TRAIN, DEV, trials=3, settings=FIXED, seed=8, out=tmp_path / "s",
                  on_trial=seen.append, on_start=lambda *args: started.append(args))
    assert [row["trial"] for row in seen] == [2]
    assert started == [(first.trials, 3)]
    with pytest.raises(ValueError, match="on_trial must be a callable or None, got 3"):
        random_search(SPACE, TRAIN, DEV, trials=1, on_trial=3)
    with pytest.raises(ValueError, match="on_start must be a callable or None, got 'x'"):
        grid_search(SPACE, TRAIN, DEV, on_start="x")


def test_data_options_are_recorded_and_a_change_is_refused(tmp_path):
    options = {"drop": ["id"], "missing": "impute"}
    random_search(SPACE, TRAIN, DEV, trials=1, settings=FIXED, out=tmp_path, data_options=options)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["data_options"] == options
    with pytest.raises(ValueError, match=r"holds another search: data_options\.drop: \[\"id\"\] "
                                         r"in the folder, \[\] now; use another folder"):
        random_search(SPACE, TRAIN, DEV, trials=1, settings=FIXED, out=tmp_path,
                      data_options={**options, "drop": []})
    with pytest.raises(ValueError, match=r"data_options must hold JSON data: \{'id'\} is not"):
        random_search(SPACE, TRAIN, DEV, trials=1, data_options={"drop": {"id"}})
    with pytest.raises(ValueError, match=r"data_options must be a dict or None, got \['id'\]"):
        random_search(SPACE, TRAIN, DEV, trials=1, data_options=["id"])


def test_a_worker_process_that_dies_does_not_lose_the_search(tmp_path):
    import multiprocessing
    import threading

    # Trials of about 0.2 s: when the first is in the journal, the other worker is in the
    # middle of one and six more are to run (the journal is checked below).
    settings = {"epochs": 60, "batch_size": 8}
    results = {}
    existing = {child.pid for child in multiprocessing.active_children()}
    runner = threading.Thread(target=lambda: results.setdefault("r", random_search(
        SPACE, TRAIN, DEV, trials=8, settings=settings, seed=3, backend="processes",
        workers=2, out=tmp_path)))
    runner.start()
    journal = tmp_path / "trials.jsonl"
    deadline = time.monotonic() + 120
    while not (journal.exists() and journal.read_text().count("\n") >= 1):
        assert time.monotonic() < deadline and runner.is_alive()
        time.sleep(0.05)
    workers = [c.pid for c in multiprocessing.active_children() if c.pid not in existing]
    os.kill(workers[0], signal.SIGKILL)            # a worker in the middle of a trial
    assert journal.read_text().count("\n") < 8
    runner.join(timeout=300)
    serial = random_search(SPACE, TRAIN, DEV, trials=8, settings=settings, seed=3)
    assert table(results["r"]) == table(serial)


def test_values_read_back_from_the_journal_equal_fresh_ones(tmp_path):
    space = {"learning_rate": choice([np.float32(0.02), np.float32(0.05)]),
             "hidden": choice([(4,), (3,)])}
    fresh = random_search(space, TRAIN, DEV, trials=3, settings={"epochs": 2}, seed=1)
    random_search(space, TRAIN, DEV, trials=2, settings={"epochs": 2}, seed=1, out=tmp_path)
    resumed = random_search(space, TRAIN, DEV, trials=3, settings={"epochs": 2}, seed=1,
                            out=tmp_path)
    assert table(resumed) == table(fresh)
    assert all(isinstance(row["params"]["hidden"], list) for row in fresh.trials)


def test_the_record_compares_settings_by_value(tmp_path):
    random_search(SPACE, TRAIN, DEV, trials=1, settings={"epochs": "2"}, seed=1, out=tmp_path)
    again = random_search(SPACE, TRAIN, DEV, trials=2, settings={"epochs": 2, "lp_reg": 2},
                          seed=1, out=tmp_path)           # lp_reg 2 is the default
    assert len(again.trials) == 2


@pytest.mark.parametrize("space, settings, match", [
    ({"learning_rate": [0.1]}, {"lambda": 0.1, "lambda_": 0.2},
     r"settings names lambda twice, as 'lambda' and 'lambda_'"),
    ({"hidden": [[4]]}, {"nodes": [3, 4, 1]}, r"trial 0 \{'hidden': \[4\]\}: give hidden or "
                                               r"nodes, not both"),
    ({"output": ["softmax"]}, {"nodes": [2, 4, 1]}, r"trial 0 \{'output': 'softmax'\}: a "
                                                   r"softmax output needs nodes\[L\] >= 2"),
    ({"nodes": [[3, 4, 1]]}, None, r"n_features is 2, but the network has nodes\[0\] = 3"),
])
def test_settings_that_do_not_fit_the_data_are_refused_up_front(space, settings, match):
    with pytest.raises(ValueError, match=match):
        random_search(space, TRAIN, DEV, trials=1, settings=settings)


def test_early_stopping_watches_the_dev_set():
    result = random_search({"learning_rate": [50.0]}, TRAIN, DEV, trials=1,
                           settings={"optimizer": "gd", "epochs": 60, "early_stopping": 1})
    row = result.trials[0]
    assert row["status"] == "ok" and row["epochs"] < 60


def test_a_regressors_best_trial_worse_than_the_mean_is_still_diagnosed():
    # Untrained, without target scaling, a linear model predicts about 0 for targets about
    # 100: 1 − R² far above 1, which diagnose reads as a regressor's error, not a fraction.
    y = X[:, 0] + 100.0
    result = grid_search({"hidden": [[]]}, (X[:180], y[:180]), (X[180:], y[180:]),
                         settings={"epochs": 0, "standardize_target": False}, seed=0)
    assert result.best["train_error"] > 1
    assert result.diagnosis.high_bias and result.diagnosis.train_error == result.best["train_error"]


def test_a_folder_from_before_data_options_were_recorded_resumes(tmp_path):
    first = random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, out=tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "data_options" not in manifest     # as a folder of an earlier mllib has it
    started = []
    again = random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, out=tmp_path,
                          data_options={"drop": []}, on_start=lambda rows, n: started.append(n))
    assert again.trials == first.trials and started == [2]
    assert json.loads((tmp_path / "manifest.json").read_text())["data_options"] == {"drop": []}


def test_a_folder_from_before_a_setting_was_added_resumes_at_that_settings_default(tmp_path):
    first = random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, out=tmp_path)
    path = tmp_path / "manifest.json"
    manifest = json.loads(path.read_text())
    assert manifest["settings"]["nesterov"] is None
    del manifest["settings"]["nesterov"]      # as a folder of an earlier mllib has it
    path.write_text(json.dumps(manifest))
    started = []
    again = random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, out=tmp_path,
                          on_start=lambda rows, n: started.append(n))
    assert again.trials == first.trials and started == [2]
    # The same folder, asked for a value other than the default, is another search.
    path.write_text(json.dumps(manifest))
    momentum = {**FIXED, "optimizer": "momentum", "nesterov": True}
    with pytest.raises(ValueError, match=r"settings\.nesterov: absent in the folder, true now"):
        random_search({"learning_rate": loguniform(1e-3, 3e-1)}, TRAIN, DEV, trials=2,
                      settings=momentum, out=tmp_path)
