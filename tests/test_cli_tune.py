"""``mllib tune`` and ``mllib diagnose`` on the built-in flower data and on a CSV file."""

import functools
import json
from pathlib import Path

import pandas as pd
import pytest

from _cli_testing import PNG_SIGNATURE, assert_ok
from _cli_testing import run_cli as run_cli_briefly

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
    progress = result.stderr.splitlines()
    assert len(progress) == 5 and progress[-1].startswith("mllib: trial 4 (5 of 5 run now): dev")


def test_the_same_command_resumes_and_more_trials_extend_the_search(searched, folder):
    out, _ = searched
    before = (out / "trials.jsonl").read_text()
    again = run_cli("tune", "--dataset", "flower", "--space", "space.json", "--settings",
                    "settings.json", "--trials", "7", "--out", "run", "-q", cwd=folder)
    assert_ok(again)
    after = (out / "trials.jsonl").read_text()
    assert after.startswith(before) and len(after.splitlines()) == 7
    assert "trials   7 of 7 ok" in again.stdout


def test_halving_on_two_processes(folder):
    result = run_cli("tune", "--dataset", "flower", "--space", "space.json", "--trials", "4",
                     "--halving", "--min-epochs", "2", "--max-epochs", "8", "--factor", "2",
                     "--scheduler", "processes", "--workers", "2", "--out", "halving", "-q",
                     cwd=folder)
    assert_ok(result)
    best = json.loads((folder / "halving" / "best.json").read_text())
    assert best["rung"] == 2 and best["epochs"] == 8
    assert (folder / "halving" / "rungs.png").read_bytes().startswith(PNG_SIGNATURE)


def test_diagnose_draws_the_learning_curve_and_prints_the_verdict(folder):
    result = run_cli("diagnose", "--dataset", "flower", "--settings", "settings.json",
                     "--sizes", "0.25,0.5,1", "--out", "diag", cwd=folder)
    assert_ok(result)
    document = json.loads((folder / "diag" / "diagnosis.json").read_text())
    assert document["sizes"] == [60, 120, 240]
    assert any(line == f"diagnosis {document['diagnosis']['verdict']}"
               for line in result.stdout.splitlines())
    assert (folder / "diag" / "learning_curve.png").read_bytes().startswith(PNG_SIGNATURE)


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
    "grid and trials": (["--space", "space.json", "--grid", "--trials", "3"], "--grid tries"),
    "halving without epochs": (["--space", "space.json", "--halving", "--trials", "3"],
                               "--halving needs --min-epochs"),
    "workers without processes": (["--space", "space.json", "--trials", "2", "--workers", "2"],
                                  "--workers needs --scheduler processes"),
    "bad scheduler": (["--space", "space.json", "--trials", "2", "--scheduler", "cloud"],
                      "--scheduler must be local, processes or a Dask scheduler address"),
    "points without grid": (["--space", "space.json", "--trials", "2", "--points", "4"],
                            "--points is for --grid"),
    "seed in the settings": (["--space", "space.json", "--settings", "seeded.json", "--trials",
                              "2"], "sets seed: give --seed instead"),
    "a key twice": (["--space", "twice.json", "--trials", "2"], "learning_rate is given twice"),
    "epochs with halving": (["--space", "space.json", "--settings", "settings.json",
                             "--halving", "--trials", "3", "--min-epochs", "1",
                             "--max-epochs", "3"], "remove epochs from --settings"),
}


@pytest.fixture(scope="module")
def bad_folder(folder):
    (folder / "broken.json").write_text("{")
    (folder / "unknown.json").write_text('{"learning_rat": [0.1]}')
    (folder / "kind.json").write_text('{"beta1": {"lognormal": [0, 1]}}')
    (folder / "bounds.json").write_text('{"learning_rate": {"loguniform": [0, 1]}}')
    (folder / "gd.json").write_text('{"optimizer": "gd"}')
    (folder / "seeded.json").write_text('{"seed": 3}')
    (folder / "twice.json").write_text('{"learning_rate": [0.1], "learning-rate": [0.2]}')
    return folder


@pytest.mark.parametrize("case", BAD)
def test_bad_usage_exits_2_with_one_line(case, bad_folder):
    args, message = BAD[case]
    result = run_cli("tune", "--dataset", "flower", *args, "--out", f"bad-{case}", cwd=bad_folder)
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
