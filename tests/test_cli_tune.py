"""``mllib tune`` and ``mllib diagnose`` on the built-in flower data and on a CSV file.

The module's search, and a refused second one, are the ``mllib`` command in a process
of its own, as a user runs it; the other commands call ``main`` in this process
(``run_here``), since a subprocess takes a second to import pandas and matplotlib.
"""

import functools
import json
import os
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from _cli_csv_testing import run_here
from _cli_testing import PNG_SIGNATURE, assert_ok, subcommands
from _cli_testing import run_cli as run_cli_briefly
from mllib.cli.parser import build_parser
from mllib.cli.searchprogress import resume_command
from mllib.cli.tune import where_trials_run

SPACE = {"learning_rate": {"loguniform": [1e-3, 0.3]},
         "beta1": {"one_minus_loguniform": [0.5, 0.99]}, "hidden": {"choice": [[4], [8, 4]]}}
run_cli = functools.partial(run_cli_briefly, timeout=300)    # searches take longer


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("tune")
    (path / "space.json").write_text(json.dumps(SPACE))
    (path / "settings.json").write_text(json.dumps({"epochs": 20, "batch_size": 32}))
    return path


@pytest.fixture(scope="module")
def searched(folder):
    result = run_cli("tune", "--dataset", "flower", "--space", "space.json", "--settings",
                     "settings.json", "--trials", "5", "--out", "run", cwd=folder)
    assert_ok(result)
    return folder / "run", result


def progress_lines(stderr) -> list:
    """``(trial, done, total, dev error, best, best trial)`` of each progress line."""
    pattern = re.compile(r"mllib: trial (\d+) \((\d+) of (\d+) done\): dev error (\S+); "
                         r"best (\S+) \(trial (\d+)\)")
    found = [pattern.fullmatch(line) for line in stderr.splitlines()]
    return [(int(m[1]), int(m[2]), int(m[3]), float(m[4]), float(m[5]), int(m[6]))
            for m in found if m]


def shown(value) -> float:
    """``value`` as a progress line prints it, read back."""
    return float(f"{value:.4f}")


def test_tune_writes_the_trials_the_best_model_and_plots(searched):
    out, result = searched
    trials = pd.read_csv(out / "trials.csv")
    assert list(trials["trial"]) == [0, 1, 2, 3, 4] and set(trials["status"]) == {"ok"}
    best = json.loads((out / "best.json").read_text())
    assert best["dev_error"] == trials["dev_error"].min()
    assert best["test"]["n"] == 80 and best["diagnosis"]["verdict"]
    assert best["settings"] == {"epochs": 20, "batch_size": 32, "output": "sigmoid",
                                **best["params"]}
    assert set(best["params"]) == {"learning_rate", "beta1", "hidden"}
    for name in ("dev_error_learning_rate.png", "dev_error_beta1.png", "dev_error_hidden.png"):
        assert (out / name).read_bytes().startswith(PNG_SIGNATURE)
    assert (out / "best_model.npz").exists() and (out / "preprocessing.json").exists()
    lines = result.stdout.splitlines()
    assert lines[0] == "trials   5 of 5 ok"
    assert any(line.startswith("test     error ") for line in lines)
    # By default the trials run in one worker process per usable core.
    lines = result.stderr.splitlines()
    assert lines[0] == f"mllib: 5 trials to run on {len(os.sched_getaffinity(0))} worker processes"
    progress = progress_lines(result.stderr)
    assert len(lines) == 6 and len(progress) == 5
    assert sorted(p[0] for p in progress) == [0, 1, 2, 3, 4]     # in the order they finish
    assert [p[1:3] for p in progress] == [(k, 5) for k in range(1, 6)]
    errors = dict(zip(trials["trial"], trials["dev_error"]))
    for k, (trial, _, _, error, best, best_trial) in enumerate(progress):
        assert error == shown(errors[trial])
        so_far = min((errors[p[0]], p[0]) for p in progress[:k + 1])
        assert (best, best_trial) == (shown(so_far[0]), so_far[1])


def test_the_same_command_resumes_and_more_trials_extend_the_search(searched, folder):
    out, _ = searched
    before = (out / "trials.jsonl").read_text()
    first = {row["trial"]: row["dev_error"] for row in map(json.loads, before.splitlines())}
    again = run_here("tune", "--dataset", "flower", "--space", "space.json", "--settings",
                     "settings.json", "--trials", "7", "--out", "run", "--scheduler", "serial",
                     cwd=folder)
    assert_ok(again)
    after = (out / "trials.jsonl").read_text()
    assert after.startswith(before) and len(after.splitlines()) == 7
    assert "trials   7 of 7 ok" in again.stdout
    error, trial = min((error, trial) for trial, error in first.items())
    lines = again.stderr.splitlines()
    assert lines[0] == (f"mllib: resuming: 5 of 7 trials read back from run, best so far "
                        f"{error:.4f} (trial {trial}); 2 left to run in this process")
    # "best" is the best of every trial so far, those read back included.
    errors = {row["trial"]: row["dev_error"] for row in map(json.loads, after.splitlines())}
    expected = []
    for new in (5, 6):
        error, trial = min((error, trial) for trial, error in errors.items() if trial <= new)
        expected.append((new, new + 1, 7, shown(errors[new]), shown(error), trial))
    assert progress_lines(again.stderr) == expected and len(lines) == 3


def test_trials_run_in_a_process_per_core_by_default_and_serial_runs_them_here(folder):
    args = build_parser().parse_args(["tune", "--space", "space.json", "--trials", "1",
                                      "--out", "o"])
    assert where_trials_run(args) == (
        "processes", len(os.sched_getaffinity(0)))
    text = " ".join(subcommands()["tune"].format_help().split())
    assert "the trial table is the same (default: processes)" in text
    assert f"(default: {len(os.sched_getaffinity(0))}, the cores this process may use)" in text
    for name in ("serial", "local"):      # local: serial's name before issue 18
        result = run_here("tune", "--dataset", "flower", "--space", "space.json", "--settings",
                          "settings.json", "--trials", "1", "--scheduler", name,
                          "--out", f"here-{name}", cwd=folder)
        assert result.returncode == 0, result.stderr
        assert result.stderr.splitlines()[0] == "mllib: 1 trial to run in this process"


def test_more_trials_than_a_space_of_choices_holds_run_each_once_with_a_warning(folder):
    (folder / "choices.json").write_text('{"hidden": [[4], [8]], "activation": ["relu", "tanh"]}')
    result = run_here("tune", "--dataset", "flower", "--space", "choices.json", "--settings",
                      "settings.json", "--trials", "8", "--scheduler", "serial",
                      "--out", "choices", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[:2] == [
        "mllib: warning: the space has 4 combination(s) of its choices, fewer than trials=8: "
        "each runs once, 4 trial(s) in all", "mllib: 4 trials to run in this process"]
    trials = pd.read_csv(folder / "choices" / "trials.csv")
    assert len(trials) == 4
    assert len(set(zip(trials["param_hidden"], trials["param_activation"]))) == 4


@pytest.mark.parametrize("started, command", [
    (True, "mllib tune d.csv --target y --out 'my runs' -- --restart"),
    (False, "mllib tune d.csv --target y --restart --out 'my runs' -- --restart")])
def test_the_command_that_goes_on_keeps_restart_only_until_the_search_starts(started, command):
    argv = ["tune", "d.csv", "--target", "y", "--restart", "--out", "my runs", "--", "--restart"]
    assert resume_command(argv, started) == command


def test_halving_on_two_processes(folder):
    result = run_here("tune", "--dataset", "flower", "--space", "space.json", "--trials", "4",
                      "--halving", "--min-epochs", "2", "--max-epochs", "8", "--factor", "2",
                      "--scheduler", "processes", "--workers", "2", "--out", "halving", "-q",
                      cwd=folder)
    assert_ok(result)
    best = json.loads((folder / "halving" / "best.json").read_text())
    assert best["rung"] == 2 and best["epochs"] == 8
    assert (folder / "halving" / "rungs.png").read_bytes().startswith(PNG_SIGNATURE)


def test_diagnose_draws_the_learning_curve_and_prints_the_verdict(folder):
    result = run_here("diagnose", "--dataset", "flower", "--settings", "settings.json",
                      "--sizes", "0.25,0.5,1", "--out", "diag", cwd=folder)
    assert_ok(result)
    document = json.loads((folder / "diag" / "diagnosis.json").read_text())
    assert document["sizes"] == [60, 120, 240]
    # Batches of 32: B(240) = 8, so S = 20 · 8 = 160 steps; B(60) = 2 and B(120) = 4.
    assert (document["epochs"], document["steps"]) == ([80, 40, 20], [160, 160, 160])
    assert document["budget"] == "steps"
    lines = result.stdout.splitlines()
    assert lines[0].startswith("rows     60  epochs    80  steps    160  train error ")
    assert any(line == f"diagnosis {document['diagnosis']['verdict']}" for line in lines)
    assert (folder / "diag" / "learning_curve.png").read_bytes().startswith(PNG_SIGNATURE)


def test_diagnose_with_budget_epochs_gives_every_size_the_same_epochs(folder):
    result = run_here("diagnose", "--dataset", "flower", "--settings", "settings.json",
                      "--sizes", "0.25,0.5,1", "--budget", "epochs", "--out", "diag_epochs",
                      cwd=folder)
    assert_ok(result)
    document = json.loads((folder / "diag_epochs" / "diagnosis.json").read_text())
    assert (document["epochs"], document["steps"]) == ([20, 20, 20], [40, 80, 160])
    assert document["budget"] == "epochs"


BAD = {
    "no space file": (["--space", "nowhere.json", "--trials", "2"], "no such space file"),
    "space not JSON": (["--space", "broken.json", "--trials", "2"], "is not valid JSON"),
    "unknown key": (["--space", "unknown.json", "--trials", "2"], "unknown setting 'learning_rat'"),
    "unknown kind": (["--space", "kind.json", "--trials", "2"], "beta1: a space is one of"),
    "bad bounds": (["--space", "bounds.json", "--trials", "2"],
                   "learning_rate: loguniform low must be a number in (0, inf)"),
    "a key the optimizer lacks": (["--space", "space.json", "--settings", "gd.json", "--trials",
                                   "2"], "beta1="),
    "no mode": (["--space", "space.json"], "give --trials N"),
    "grid and trials": (["--space", "space.json", "--grid", "--trials", "3"],
                        "--grid sets its trials itself; --trials is for random search"),
    "hyperband and trials": (["--space", "space.json", "--hyperband", "--trials", "3",
                              "--min-epochs", "1", "--max-epochs", "3"],
                             "--hyperband sets its trials itself"),
    "hyperband and halving": (["--space", "space.json", "--hyperband", "--halving"],
                              "give one of --grid, --halving, --async and --hyperband, not "
                              "--halving and --hyperband"),
    "async and trials missing": (["--space", "space.json", "--async", "--min-epochs", "1",
                                  "--max-epochs", "3"], "give --trials N (random search, "
                                 "--halving or --async)"),
    "async without epochs": (["--space", "space.json", "--async", "--trials", "3"],
                             "--async needs --min-epochs"),
    "cv with halving": (["--space", "space.json", "--halving", "--trials", "3", "--min-epochs",
                         "1", "--max-epochs", "3", "--cv", "3"],
                        "--cv is for random and grid search, not --halving"),
    "cv of 1": (["--space", "space.json", "--trials", "3", "--cv", "1"],
                "argument --cv: expected an integer >= 2, got 1"),
    "cv with a pruner": (["--space", "space.json", "--trials", "3", "--cv", "3", "--pruner",
                          "median"], "--cv cannot be combined with --pruner"),
    "batch without tpe": (["--space", "space.json", "--trials", "3", "--batch", "2"],
                          "--batch is for --sampler tpe"),
    "tpe with a grid": (["--space", "space.json", "--grid", "--sampler", "tpe"],
                        "--sampler tpe is for random search (--trials N), not --grid"),
    "another sampler": (["--space", "space.json", "--trials", "3", "--sampler", "cmaes"],
                        "argument --sampler: invalid choice: 'cmaes'"),
    "top without repeats": (["--space", "space.json", "--trials", "3", "--top", "2"],
                            "--top is for --repeats R"),
    "repeats of 1": (["--space", "space.json", "--trials", "3", "--repeats", "1"],
                     "argument --repeats: expected an integer >= 2, got 1"),
    "repeats with hyperband": (["--space", "space.json", "--hyperband", "--min-epochs", "1",
                                "--max-epochs", "3", "--repeats", "2"],
                               "--repeats is for random and grid search, not --hyperband"),
    "factor without rungs": (["--space", "space.json", "--trials", "3", "--factor", "2"],
                             "--factor are for --halving, --async and --hyperband"),
    "hyperband without epochs": (["--space", "space.json", "--hyperband"],
                                 "--hyperband needs --min-epochs"),
    "epochs with hyperband": (["--space", "space.json", "--settings", "settings.json",
                               "--hyperband", "--min-epochs", "1", "--max-epochs", "3"],
                              "--hyperband sets every trial's epochs: remove epochs"),
    "halving without epochs": (["--space", "space.json", "--halving", "--trials", "3"],
                               "--halving needs --min-epochs"),
    "workers without processes": (["--space", "space.json", "--trials", "2", "--scheduler",
                                   "serial", "--workers", "2"], "--workers is for --scheduler "
                                  "processes; --scheduler serial runs one trial at a time"),
    "workers with local": (["--space", "space.json", "--trials", "2", "--scheduler", "local",
                            "--workers", "2"], "--workers is for --scheduler processes"),
    "bad scheduler": (["--space", "space.json", "--trials", "2", "--scheduler", "cloud"],
                      "--scheduler must be processes, serial or a Dask scheduler address"),
    "points without grid": (["--space", "space.json", "--trials", "2", "--points", "4"],
                            "--points is for --grid"),
    "seed in the settings": (["--space", "space.json", "--settings", "seeded.json", "--trials",
                              "2"], "sets seed: give --seed instead"),
    "a key twice": (["--space", "twice.json", "--trials", "2"], "learning_rate is given twice"),
    "epochs with halving": (["--space", "space.json", "--settings", "settings.json",
                             "--halving", "--trials", "3", "--min-epochs", "1",
                             "--max-epochs", "3"], "remove epochs from --settings"),
    "pruner with halving": (["--space", "space.json", "--halving", "--trials", "3",
                             "--min-epochs", "1", "--max-epochs", "3", "--pruner", "median"],
                            "--pruner is for random and grid search"),
    "warmup without pruner": (["--space", "space.json", "--trials", "2", "--warmup", "3",
                               "--min-trials", "2"],
                              "--warmup, --min-trials are for --pruner median"),
    "another pruner": (["--space", "space.json", "--trials", "2", "--pruner", "mean"],
                       "argument --pruner: invalid choice: 'mean'"),
    "every 0": (["--space", "space.json", "--trials", "2", "--pruner", "median", "--every",
                 "0"], "argument --every: expected an integer >= 1, got 0"),
    "negative warmup": (["--space", "space.json", "--trials", "2", "--pruner", "median",
                         "--warmup", "-1"], "argument --warmup: expected an integer >= 0"),
    "unknown metric": (["--space", "space.json", "--trials", "2", "--metric", "f1"],
                       "argument --metric: invalid choice: 'f1'"),
    "a regressor's metric": (["--space", "space.json", "--trials", "2", "--metric", "rmse"],
                             "metric='rmse' scores regressors, but trial 0"),
    "early stopping with a pruner": (["--space", "space.json", "--settings", "patient.json",
                                      "--trials", "2", "--pruner", "median"],
                                     "sets early_stopping, which cannot be combined with a "
                                     "pruner"),
}


@pytest.fixture(scope="module")
def bad_folder(folder):
    (folder / "broken.json").write_text("{")
    (folder / "unknown.json").write_text('{"learning_rat": [0.1]}')
    (folder / "kind.json").write_text('{"beta1": {"lognormal": [0, 1]}}')
    (folder / "bounds.json").write_text('{"learning_rate": {"loguniform": [0, 1]}}')
    (folder / "gd.json").write_text('{"optimizer": "gd"}')
    (folder / "seeded.json").write_text('{"seed": 3}')
    (folder / "patient.json").write_text('{"early_stopping": 3, "epochs": 4}')
    (folder / "twice.json").write_text('{"learning_rate": [0.1], "learning-rate": [0.2]}')
    return folder


@pytest.mark.parametrize("case", BAD)
def test_bad_usage_exits_2_with_one_line(case, bad_folder):
    args, message = BAD[case]
    # In this process: the one-line refusal from a subprocess is the next test's.
    result = run_here("tune", "--dataset", "flower", *args, "--out", f"bad-{case}",
                      cwd=bad_folder)
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mllib: error: "), result.stderr
    assert message in lines[0]
    assert not (Path(bad_folder) / f"bad-{case}").exists()


def test_another_search_in_the_same_folder_exits_2(searched, folder):
    result = run_cli("tune", "--dataset", "flower", "--space", "space.json", "--trials", "2",
                     "--seed", "4", "--out", "run", cwd=folder)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("mllib: error: cannot search: 'run' holds another search: data: rows "
                           "of fingerprint ")
    assert ("; seed: 0 in the folder, 4 now; settings.batch_size: 32 in the folder, 64 now; "
            "settings.epochs: 20 in the folder, 500 now; use another folder, or restart to "
            "start over in this one (restart=True; mllib tune --restart)") in line


def test_a_pruned_search_by_another_metric(folder):
    result = run_here("tune", "--dataset", "flower", "--space", "space.json", "--settings",
                      "settings.json", "--trials", "8", "--pruner", "median", "--warmup", "3",
                      "--every", "1", "--min-trials", "2", "--metric", "balanced_accuracy",
                      "--scheduler", "processes", "--workers", "2", "--out", "pruned",
                      cwd=folder)
    assert_ok(result)
    out = folder / "pruned"
    trials = pd.read_csv(out / "trials.csv")
    assert set(trials["metric"]) == {"balanced_accuracy"}
    pruned = trials[trials["pruned"]]
    assert len(pruned) >= 1 and set(pruned["epochs"]) <= set(range(3, 20))
    assert set(trials[~trials["pruned"]]["epochs"]) == {20}
    best = json.loads((out / "best.json").read_text())
    assert best["metric"] == "balanced_accuracy" and not best["pruned"]
    assert best["diagnosis"]["error"] == "1 - balanced_accuracy"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pruner"] == {"rule": "median", "warmup": 3, "every": 1, "min_trials": 2}
    assert manifest["metric"] == "balanced_accuracy"
    assert (out / "curves.png").read_bytes().startswith(PNG_SIGNATURE)
    lines = result.stdout.splitlines()
    assert lines[0] == f"trials   8 of 8 ok, {len(pruned)} pruned"
    assert lines[2].endswith("  (1 - balanced_accuracy)")
    said = [line for line in result.stderr.splitlines() if "pruned after" in line]
    assert [int(re.search(r"trial (\d+) ", line)[1]) for line in said] == list(pruned["trial"])
    assert [int(re.search(r"pruned after (\d+) epochs", line)[1]) for line in said] == \
        list(pruned["epochs"])
    progress = [int(m[1]) for m in re.finditer(r"mllib: trial (\d+) ", result.stderr)]
    assert progress == list(range(8))      # decided, and reported, in trial order


def test_a_metric_without_scikit_learn_names_the_extra(folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.metrics", None)
    result = run_here("tune", "--dataset", "flower", "--space", "space.json", "--trials", "2",
                      "--metric", "roc_auc", "--out", "no-sklearn", cwd=folder)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line == ("mllib: error: --metric roc_auc: metric='roc_auc' uses scikit-learn's "
                    'implementation: pip install "mllib[sklearn]"')
    assert not (folder / "no-sklearn").exists()


def test_next_writes_the_next_space_with_its_reasons_and_tune_takes_it_back(folder):
    # Two epochs of a small network on the flower: the training error is high (bias).
    (folder / "short.json").write_text(json.dumps({"epochs": 2, "hidden": [2],
                                                   "batch_size": 32}))
    (folder / "rates.json").write_text(json.dumps({"learning_rate": SPACE["learning_rate"]}))
    result = run_here("tune", "--dataset", "flower", "--space", "rates.json", "--settings",
                      "short.json", "--trials", "2", "--next", "-q", "--out", "nextrun",
                      "--scheduler", "serial", cwd=folder)
    assert_ok(result)
    document = json.loads((folder / "nextrun" / "space.next.json").read_text())
    reasons = document.pop("$comment").split("; ")
    assert reasons[:2] == ["high bias: a larger network (hidden [2], twice as wide, or one "
                           "layer deeper)", "high bias: longer training (2 or 4 epochs)"]
    assert document["hidden"] == {"choice": [[2], [4], [2, 2]]}
    assert document["epochs"] == {"choice": [2, 4]}
    assert document["learning_rate"] == SPACE["learning_rate"]
    shown_lines = [line for line in result.stdout.splitlines() if line.startswith("next ")]
    assert [line.split(": ", 1)[1] for line in shown_lines] == reasons
    again = run_here("tune", "--dataset", "flower", "--space", "nextrun/space.next.json",
                     "--settings", "short.json", "--trials", "2", "-q", "--out", "again",
                     "--scheduler", "serial", cwd=folder)
    assert_ok(again)
    table = pd.read_csv(folder / "again" / "trials.csv")
    assert set(table.columns) >= {"param_hidden", "param_epochs", "param_learning_rate"}
    assert not (folder / "again" / "space.next.json").exists()     # not asked for


def test_async_halving_writes_its_rungs_and_resumes(folder):
    (folder / "rates.json").write_text(json.dumps({"learning_rate": SPACE["learning_rate"]}))
    (folder / "small.json").write_text(json.dumps({"hidden": [4], "batch_size": 32}))
    command = ("tune", "--dataset", "flower", "--space", "rates.json", "--settings",
               "small.json", "--async", "--trials", "6", "--min-epochs", "1", "--max-epochs",
               "4", "--factor", "2", "-q", "--out", "asha", "--scheduler", "serial")
    assert_ok(run_here(*command, cwd=folder))
    table = pd.read_csv(folder / "asha" / "trials.csv")
    # Budgets 1, 2, 4, factor 2: 6, then 3, then 2 trials reach each rung.
    assert len(table) == 6 and sorted(table["rung"]) == [0, 0, 0, 1, 2, 2]
    assert (folder / "asha" / "rungs.png").stat().st_size > 0
    manifest = json.loads((folder / "asha" / "manifest.json").read_text())
    assert manifest["kind"] == "async_halving" and manifest["budgets"] == [1, 2, 4]
    before = (folder / "asha" / "trials.csv").read_text()
    journal = (folder / "asha" / "trials.jsonl").read_text()
    again = run_here(*command, cwd=folder)      # everything is recorded: nothing trains
    assert_ok(again)
    assert (folder / "asha" / "trials.csv").read_text() == before
    assert (folder / "asha" / "trials.jsonl").read_text() == journal


def test_tpe_with_cv_and_tpe_pruned_with_repeats_write_their_columns(folder):
    (folder / "rates.json").write_text(json.dumps({"learning_rate": SPACE["learning_rate"]}))
    (folder / "small.json").write_text(json.dumps({"hidden": [4], "batch_size": 32,
                                                   "epochs": 3}))
    common = ("tune", "--dataset", "flower", "--space", "rates.json", "--settings",
              "small.json", "--trials", "4", "--scheduler", "serial")
    result = run_here(*common, "--sampler", "tpe", "--batch", "2", "--cv", "3", "--out", "tpe",
                      cwd=folder)
    assert_ok(result)
    table = pd.read_csv(folder / "tpe" / "trials.csv")
    assert len(table) == 4 and all(len(json.loads(cell)) == 3 for cell in table["fold_errors"])
    manifest = json.loads((folder / "tpe" / "manifest.json").read_text())
    assert (manifest["sampler"], manifest["batch"], manifest["cv"]) == (
        "tpe", 2, {"folds": 3, "stratified": True})
    assert any(line.startswith("folds    3: dev error ") for line in result.stdout.splitlines())
    result = run_here(*common, "--repeats", "3", "--top", "2", "--sampler", "tpe", "--pruner",
                      "median", "--warmup", "1", "--min-trials", "1", "--out", "repeated",
                      cwd=folder)
    assert_ok(result)
    table = pd.read_csv(folder / "repeated" / "trials.csv")
    repeated = min(2, int((~table["pruned"]).sum()))      # pruned trials are not repeated
    assert len(table) == 4 and table["dev_error_mean"].notna().sum() == repeated >= 1
    assert table["pruned"].any()
    best = json.loads((folder / "repeated" / "best.json").read_text())
    assert best["repeats"] == 3 and best["dev_error_low"] <= best["dev_error_mean"]
    assert best["dev_error_mean"] == min(table["dev_error_mean"].dropna())
    assert any(line.startswith("repeats  3 seeds: mean dev error ")
               for line in result.stdout.splitlines())
    assert len([line for line in result.stderr.splitlines() if " repeat " in line]) == (
        2 * repeated)
    assert "(4 of 4 done)" in result.stderr and "(5 of 4 done)" not in result.stderr


def test_hyperband_writes_every_bracket_and_rung(folder):
    (folder / "rates.json").write_text(json.dumps({"learning_rate": SPACE["learning_rate"]}))
    (folder / "small.json").write_text(json.dumps({"hidden": [4], "batch_size": 32}))
    result = run_here("tune", "--dataset", "flower", "--space", "rates.json", "--settings",
                      "small.json", "--hyperband", "--min-epochs", "1", "--max-epochs", "4",
                      "--factor", "2", "-q", "--out", "hb", "--scheduler", "serial",
                      cwd=folder)
    assert_ok(result)
    table = pd.read_csv(folder / "hb" / "trials.csv")
    # Budgets 1, 2, 4 (S = 2): brackets of 4, 3 and 3 candidates.
    assert sorted(table.groupby("bracket").size().items()) == [(0, 3), (1, 3), (2, 4)]
    assert set(table["epochs"]) <= {1, 2, 4} and table["rung"].max() == 2
    best = json.loads((folder / "hb" / "best.json").read_text())
    assert best["epochs"] == 4 and best["rung"] == 2
