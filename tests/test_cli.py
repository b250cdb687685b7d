"""Tests of the ``mllib`` command, run as a user runs it: ``python -m mllib.cli`` in a subprocess.

A module-scoped training run on a CSV with text labels and a categorical
column serves the train, evaluate and predict tests; every bad usage must
exit with status 2 and one line on stderr.

A subprocess takes a second to import pandas and matplotlib, so the tests of what
a command computes or refuses call ``main`` in this process (``run_here``); each
command and exit status is still run as a user runs it by some test: ``train``
(the module's run, and ``mllib train`` alone), ``evaluate``, ``predict``, status 2
(``evaluate`` without the target column) and status 1 (``gradcheck`` above its
threshold).
"""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mllib
import mllib.tune
from mllib.cli import main

from _cli_csv_testing import run_here
from _cli_testing import assert_ok, assert_png, run_cli

CLASSES = ["bird", "cat", "dog"]


def make_frame(n=150, seed=0):
    """Two numeric columns, a categorical one, and text labels that depend on all three."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    score = x1 + 0.5 * x2 + np.where(colour == "red", 1.5, 0.0)
    label = np.where(score > 1.0, "dog", np.where(score > -0.3, "cat", "bird"))
    return pd.DataFrame({"x1": x1, "colour": colour, "x2": x2, "label": label})


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def data_csv(workdir):
    path = workdir / "animals.csv"
    make_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def trained(workdir, data_csv):
    """The output folder of one small training run on ``data_csv``."""
    out = workdir / "run"
    result = run_cli("train", data_csv, "--target", "label", "--hidden", "8", "--epochs", "40",
                     "--test-split", "0.2", "--out", out, "--quiet")
    assert_ok(result)
    assert "test" in result.stdout and str(out) in result.stdout
    return out


# -- train, evaluate, predict on a CSV ------------------------------------------------


def test_train_writes_model_metrics_history_and_plots(trained):
    for name in ("model.npz", "preprocessing.json", "metrics.json", "config.json",
                 "history.csv", "split.json"):
        assert (trained / name).is_file(), name
    assert_png(trained / "cost.png")
    assert_png(trained / "confusion_matrix.png")
    assert not (trained / "decision_boundary.png").exists()  # 3 columns, one of them text
    metrics = json.loads((trained / "metrics.json").read_text())
    for part in ("train", "dev", "test"):
        assert set(metrics[part]) == {"cost", "accuracy", "n"}
    assert metrics["train"]["n"] + metrics["dev"]["n"] + metrics["test"]["n"] == 150
    assert metrics["config"]["epochs"] == 40 and metrics["config"]["hidden"] == [8]
    assert metrics["network"]["nodes"] == [5, 8, 3]  # x1, colour=blue/green/red, x2
    assert metrics["network"]["activators"] == ["tanh", "softmax"]
    assert metrics["data"]["classes"] == CLASSES
    history = pd.read_csv(trained / "history.csv")
    assert list(history["epoch"]) == list(range(1, 41))
    assert {"cost", "accuracy", "val_cost", "val_accuracy", "lr"} <= set(history.columns)
    prep = json.loads((trained / "preprocessing.json").read_text())
    assert prep["inputs"] == ["x1", "colour=blue", "colour=green", "colour=red", "x2"]
    diagnosis = metrics["diagnosis"]
    assert diagnosis["train_error"] == pytest.approx(1 - metrics["train"]["accuracy"])
    assert diagnosis["dev_error"] == pytest.approx(1 - metrics["dev"]["accuracy"])
    assert diagnosis == mllib.tune.diagnose(diagnosis["train_error"],
                                            diagnosis["dev_error"]).to_dict()


def test_train_prints_the_diagnosis_and_its_advice(tmp_path):
    # A network without a hidden layer cannot fit the flower: high bias, and the remedy.
    result = run_here("train", "--hidden", "", "--epochs", "30", "--out", tmp_path / "r", "-q",
                      cwd=tmp_path)
    assert_ok(result)
    lines = result.stdout.splitlines()
    verdict = next(line for line in lines if line.startswith("diagnosis "))
    assert verdict.startswith("diagnosis high bias (train error 0.")
    assert any(line.startswith("  advice: High bias: ") for line in lines)


def write_test_rows(trained, data_csv, path, columns=None):
    """The rows that train held out as its test set (split.json), as a CSV."""
    rows = json.loads((trained / "split.json").read_text())["test"]
    frame = pd.read_csv(data_csv).iloc[rows]
    frame[columns or frame.columns].to_csv(path, index=False)
    return frame


def test_evaluate_prints_the_test_metrics_of_metrics_json(trained, data_csv, tmp_path):
    write_test_rows(trained, data_csv, tmp_path / "test.csv")
    result = run_cli("evaluate", trained / "model.npz", tmp_path / "test.csv",
                     "--target", "label")
    assert_ok(result)
    printed = json.loads(result.stdout)
    expected = json.loads((trained / "metrics.json").read_text())["test"]
    assert printed.keys() == expected.keys()
    assert printed == pytest.approx(expected, rel=1e-12)


def test_predict_writes_label_names_and_probabilities_by_class(trained, data_csv, tmp_path):
    frame = write_test_rows(trained, data_csv, tmp_path / "x.csv", ["x1", "colour", "x2"])
    labels = run_cli("predict", trained / "model.npz", tmp_path / "x.csv")
    assert_ok(labels)
    predicted = pd.read_csv(io.StringIO(labels.stdout))
    assert list(predicted.columns) == ["label"] and len(predicted) == len(frame)
    assert set(predicted["label"]) <= set(CLASSES)
    accuracy = np.mean(predicted["label"].to_numpy() == frame["label"].to_numpy())
    metrics = json.loads((trained / "metrics.json").read_text())
    assert accuracy == pytest.approx(metrics["test"]["accuracy"])

    proba = run_cli("predict", trained / "model.npz", tmp_path / "x.csv", "--proba",
                    "--out", tmp_path / "p.csv")
    assert_ok(proba)
    table = pd.read_csv(tmp_path / "p.csv")
    assert list(table.columns) == CLASSES
    np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(np.array(CLASSES)[table.to_numpy().argmax(axis=1)],
                                  predicted["label"])


def test_predict_encodes_an_unseen_category_as_zeros_with_a_note(trained, tmp_path):
    pd.DataFrame({"x1": [0.1], "colour": ["purple"], "x2": [-0.2]}).to_csv(
        tmp_path / "new.csv", index=False)
    result = run_cli("predict", trained / "model.npz", tmp_path / "new.csv")
    assert_ok(result)
    assert result.stdout.splitlines()[1] in CLASSES
    assert "not seen in training" in result.stderr


# -- built-in datasets and config files -------------------------------------------------


def test_default_train_learns_the_flower(tmp_path):
    result = run_cli("train", cwd=tmp_path)
    assert_ok(result)
    (run,) = (tmp_path / "runs").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["data"]["source"] == "dataset flower"
    assert metrics["train"]["accuracy"] >= 0.88
    assert metrics["test"]["accuracy"] >= 0.8
    assert_png(run / "decision_boundary.png")
    assert "accuracy" in result.stdout and str(Path("runs") / run.name) in result.stdout


def test_dataset_moons_and_its_config_json_reproduce_the_run(tmp_path):
    first = run_here("train", "--dataset", "moons", "--nodes", "2,6,1", "--epochs", "5",
                     "--out", "a", "-q", cwd=tmp_path)
    assert_ok(first)
    assert_png(tmp_path / "a" / "decision_boundary.png")
    again = run_here("train", "--config", "a/config.json", "--out", "b", "-q", cwd=tmp_path)
    assert_ok(again)
    a, b = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in "ab")
    assert a["data"]["source"] == b["data"]["source"] == "dataset moons"
    assert a["network"]["nodes"] == b["network"]["nodes"] == [2, 6, 1]
    assert [a[p] for p in ("train", "dev", "test")] == [b[p] for p in ("train", "dev", "test")]


def test_nesterov_flag_reaches_the_model_file_and_is_refused_for_adam(tmp_path):
    assert_ok(run_here("train", "--dataset", "moons", "--epochs", "2", "--optimizer",
                       "momentum", "--nesterov", "--out", "n", "-q", cwd=tmp_path))
    assert json.loads((tmp_path / "n" / "config.json").read_text())["nesterov"] is True
    assert mllib.load(tmp_path / "n" / "model.npz").optimizer_.get_config()["nesterov"] is True
    refused = run_here("train", "--dataset", "moons", "--nesterov", "--out", "a", cwd=tmp_path)
    assert refused.returncode == 2 and not (tmp_path / "a").exists()
    assert "nesterov=True is not a setting of optimizer 'adam'" in refused.stderr


def test_flags_override_the_config_file(tmp_path):
    config = {"hidden": [4], "activation": "relu", "epochs": 50, "learning-rate": 0.05,
              "dataset": "blobs", "early_stopping": None}
    (tmp_path / "c.json").write_text(json.dumps(config))
    result = run_here("train", "--config", "c.json", "--epochs", "3", "--out", "o", "-q",
                      cwd=tmp_path)
    assert_ok(result)
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["config"]["epochs"] == 3 and metrics["epochs_run"] == 3
    assert metrics["config"]["learning_rate"] == 0.05
    assert metrics["network"]["nodes"] == [2, 4, 3]
    assert metrics["network"]["activators"] == ["relu", "softmax"]
    assert metrics["network"]["init"] == "he"


# -- bad usage: status 2, one line on stderr, nothing written ----------------------------


@pytest.fixture(scope="module")
def bad_files(workdir, data_csv):
    """A folder of broken inputs, next to a good CSV (``good.csv``)."""
    folder = workdir / "bad"
    folder.mkdir()
    make_frame(40).to_csv(folder / "good.csv", index=False)
    ids = make_frame(40).assign(name=[f"user{i}" for i in range(40)])
    ids.to_csv(folder / "ids.csv", index=False)
    mixed = make_frame(40).astype({"x2": str})
    mixed.loc[7, "x2"] = "n/a?"
    mixed.to_csv(folder / "mixed.csv", index=False)
    holes = make_frame(40)
    holes.loc[3, "x1"] = np.nan
    holes.to_csv(folder / "holes.csv", index=False)
    (folder / "empty.csv").write_text("")
    (folder / "ragged.csv").write_text("x1,x2,label\n1,2,cat\n3,4,dog,5\n")
    (folder / "header.csv").write_text("x1,x2,label\n")
    np.savez(folder / "foreign.npz", weights=np.ones(3))
    (folder / "bad.json").write_text('{"hidden": [4], "learning-rat": 0.1}')
    make_frame(10).drop(columns="label").to_csv(folder / "unlabelled.csv", index=False)
    return folder


BAD_USAGE = {
    "missing file": (["train", "nowhere.csv", "--target", "label"], "no such file"),
    "missing target column": (["train", "good.csv", "--target", "species"],
                              "its columns are: x1, colour, x2, label"),
    "no target": (["train", "good.csv"], "give --target COLUMN"),
    "identifier column": (["train", "ids.csv", "--target", "label"], "--drop name"),
    "numbers mixed with text": (["train", "mixed.csv", "--target", "label"], "'n/a?'"),
    "missing values": (["train", "holes.csv", "--target", "label", "--missing", "error"],
                       "'holes.csv' has problems in a column: x1: missing 1 cell, data row 4;"),
    "empty file": (["train", "empty.csv", "--target", "label"], "is empty"),
    "ragged rows": (["train", "ragged.csv", "--target", "label"], "Expected 3 fields"),
    "header only": (["train", "header.csv", "--target", "label"], "no data rows"),
    "CSV as model": (["evaluate", "good.csv", "good.csv"], "not an mllib model file"),
    "foreign npz as model": (["predict", "foreign.npz", "good.csv"], "not an mllib model"),
    "missing model": (["predict", "nowhere.npz", "good.csv"], "no such model file"),
    "unknown dataset": (["train", "--dataset", "mnist"], "unknown dataset 'mnist'"),
    "negative learning rate": (["train", "--learning-rate", "-1"], "--learning-rate"),
    "sigmoid for 3 classes": (["train", "--dataset", "blobs", "--output", "sigmoid"],
                              "a sigmoid output takes 2 classes, but the target has 3"),
    "keep prob above 1": (["train", "--keep-prob", "1.5"], "argument --keep-prob: expected a number in (0, 1], got '1.5'"),
    "unknown optimizer": (["train", "--optimizer", "lbfgs"], "lbfgs"),
    "unknown schedule": (["train", "--lr-decay", "cosine:1"], "cosine"),
    "unknown activation": (["gradcheck", "--activation", "swish"], "swish"),
    "bad config key": (["train", "--config", "bad.json"], "unknown setting 'learning-rat'"),
    "hidden and nodes": (["train", "--hidden", "4", "--nodes", "2,4,1"], "not both"),
    "unknown command": (["fly"], "invalid choice: 'fly'"),
}


@pytest.mark.parametrize("case", BAD_USAGE)
def test_bad_usage_exits_2_with_one_line(case, bad_files):
    argv, message = BAD_USAGE[case]
    result = run_here(*argv, cwd=bad_files)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mllib: error: "), result.stderr
    assert message in lines[0]
    assert not (bad_files / "runs").exists()  # a rejected run writes nothing


def test_evaluate_needs_the_target_column(trained, bad_files):
    result = run_cli("evaluate", trained / "model.npz", "unlabelled.csv", cwd=bad_files)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "mllib: error: column 'label' not found in 'unlabelled.csv'; "
        "its columns are: x1, colour, x2"]


@pytest.mark.parametrize("document, message", [
    ({"format": "csv"}, "'prep.json' is not an mllib preprocessing file: expected format "
                        "'mllib-preprocessing' version 1 or 2"),
    ({"format": "mllib-preprocessing", "version": 2, "target": "label", "target_kind": "str",
      "columns": [], "target_scaling": {"mean": 0.0, "std": 1.0}},
     "'prep.json' scales the target outside the model, as only a development version of "
     "mllib did; train the model again"),
])
def test_a_bad_preprocessing_file_is_one_line(trained, tmp_path, document, message):
    # mllib.preprocessing raises DataError (a ValueError); the command reports it as bad usage.
    (tmp_path / "prep.json").write_text(json.dumps(document))
    make_frame(10).to_csv(tmp_path / "good.csv", index=False)
    result = run_here("evaluate", trained / "model.npz", "good.csv", "--preprocessing",
                      "prep.json", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, f"mllib: error: {message}\n")


def test_usage_errors_leave_a_data_error_as_it_is():
    from mllib.cli.errors import CLIError, usage_errors
    from mllib.preprocessing import DataError

    with pytest.raises(DataError) as caught, usage_errors("cannot train"):
        raise DataError("no such file: 'x.csv'")
    assert str(caught.value) == "no such file: 'x.csv'"
    with pytest.raises(CLIError, match="^cannot train: bad value$"), usage_errors("cannot train"):
        raise ValueError("bad value")


def test_unexpected_errors_are_one_line_unless_debug(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr("mllib.cli.commands.run_gradcheck", broken)
    assert main(["gradcheck"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == ["mllib: error: unexpected RuntimeError: something inside "
                                "broke (run with --debug for the traceback)"]
    with pytest.raises(RuntimeError, match="something inside broke"):
        main(["gradcheck", "--debug"])


# -- gradcheck ------------------------------------------------------------------------------


def test_gradcheck_default_network_passes(tmp_path):
    result = run_here("gradcheck", cwd=tmp_path)
    assert_ok(result)
    errors = dict(line.split()[:2] for line in result.stdout.splitlines()
                  if line.split()[-1:] in (["ok"], ["FAIL"]))
    # The default network has batch norm in both hidden layers and dropout.
    assert list(errors) == ["W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3", "b3"]
    assert all(float(error) < 1e-7 for error in errors.values())
    assert "passed" in result.stdout


def test_gradcheck_exits_1_above_the_threshold():
    result = run_cli("gradcheck", "--threshold", "0")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "FAILED: 8 of 8" in result.stdout


def test_gradcheck_builds_the_network_of_a_config_file(tmp_path):
    config = {"hidden": [6], "activation": "relu", "output": "sigmoid", "batch_norm": False,
              "keep_prob": 1.0, "lp_reg": 1, "epochs": 100, "optimizer": "adam"}
    (tmp_path / "c.json").write_text(json.dumps(config))
    result = run_here("gradcheck", "--config", tmp_path / "c.json", "--features", "4",
                      cwd=tmp_path)
    assert_ok(result)
    assert "nodes [4, 6, 1]; relu -> sigmoid" in result.stdout
    assert [line.split()[0] for line in result.stdout.splitlines()[2:6]] == \
        ["W1", "b1", "W2", "b2"]


# -- help and version -------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["train"], ["evaluate"], ["predict"], ["gradcheck"]])
def test_help_exits_0(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(" ".join(["usage: mllib", *command]))


def test_version():
    result = run_cli("--version")
    assert_ok(result)
    assert result.stdout.startswith(f"mllib {mllib.__version__} (kernels: ")


def test_python_dash_m_mllib_is_the_command():
    result = subprocess.run([sys.executable, "-m", "mllib", "--version"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith(f"mllib {mllib.__version__} (kernels: ")


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("mllib")
    if not script.exists():
        pytest.skip("no mllib script beside this Python (package not installed)")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith(f"mllib {mllib.__version__} (kernels: ")
