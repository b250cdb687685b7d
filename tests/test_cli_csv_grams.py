"""A regression target in its own units: body mass in grams, in the thousands.

``mllib train`` standardizes a regression target with the training rows' mean
and standard deviation, and maps predictions back: the defaults on grams reach
the R² of the same data with the target rescaled to kilograms by hand (and not
standardized), while the unscaled grams fail, with a note that says why.
"""

import io
import json

import numpy as np
import pandas as pd
import pytest

import mllib
from _cli_csv_testing import run_here, tune_once
from _cli_testing import assert_ok, run_cli


def masses(n=240, seed=1):
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Chinstrap", "Gentoo"], size=n)
    flipper = np.round(np.where(species == "Gentoo", 217, 192) + rng.normal(0, 6, n))
    bill = np.where(species == "Adelie", 38.8, 48.0) + rng.normal(0, 2.5, n)
    sex = rng.choice(["female", "male"], size=n)
    grams = (3500 + np.where(species == "Gentoo", 1100, 0) + 22 * (flipper - 192)
             + 30 * (bill - 44) + np.where(sex == "male", 450, 0) + rng.normal(0, 250, n))
    return pd.DataFrame({"species": species, "flipper_length_mm": flipper,
                         "bill_length_mm": bill, "sex": sex, "body_mass_g": np.round(grams)})


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("grams")
    frame = masses()
    frame.to_csv(path / "grams.csv", index=False)
    frame.assign(body_mass_g=frame["body_mass_g"] / 1000).to_csv(path / "kg.csv", index=False)
    return path


@pytest.fixture(scope="module")
def grams(folder):
    result = run_cli("train", "grams.csv", "--target", "body_mass_g", "--out", "grams", "-q",
                     cwd=folder)
    assert_ok(result)
    return folder / "grams", result


def metrics(out):
    return json.loads((out / "metrics.json").read_text())


def test_defaults_on_grams_reach_the_r2_of_kilograms_rescaled_by_hand(grams, folder):
    out, result = grams
    kg = run_here("train", "kg.csv", "--target", "body_mass_g", "--no-standardize-target",
                 "--out", "kg", "-q", cwd=folder)
    assert_ok(kg)
    in_grams, in_kg = metrics(out), metrics(folder / "kg")
    assert in_grams["test"]["r2"] > 0.8
    assert in_grams["test"]["r2"] == pytest.approx(in_kg["test"]["r2"], abs=0.05)
    # rmse and mae are in the target's units: grams, a thousand times the kilograms.
    assert in_grams["test"]["rmse"] == pytest.approx(1000 * in_kg["test"]["rmse"], rel=0.15)
    assert 100 < in_grams["test"]["rmse"] < 500 and in_grams["test"]["mae"] < 500
    # The network standardizes the target itself: μ and σ of the training rows are in
    # model.npz (and reported in metrics.json), not in preprocessing.json.
    train = pd.read_csv(folder / "grams.csv")["body_mass_g"].iloc[
        json.loads((out / "split.json").read_text())["train"]]
    scaler = mllib.load(out / "model.npz").target_scaler_
    assert scaler.mean_[0] == pytest.approx(train.mean(), rel=1e-12)
    assert scaler.scale_[0] == pytest.approx(train.std(ddof=0), rel=1e-12)
    assert in_grams["data"]["target_scaling"] == {"mean": scaler.mean_[0],
                                                  "std": scaler.scale_[0]}
    assert in_grams["network"]["standardize_target"] is True
    assert in_kg["data"]["target_scaling"] is None
    assert "target_scaling" not in json.loads((out / "preprocessing.json").read_text())
    assert "r2 " in result.stdout and "rmse     train " in result.stdout
    assert "R²" not in result.stderr


def test_unscaled_grams_fail_and_the_note_says_what_to_do(folder):
    result = run_here("train", "grams.csv", "--target", "body_mass_g",
                      "--no-standardize-target", "--epochs", "30", "--out", "raw", "-q",
                     cwd=folder)
    assert_ok(result)
    r2 = metrics(folder / "raw")["train"]["r2"]
    assert r2 < 0
    assert result.stderr.splitlines() == [
        f"mllib: note: the training R² is {r2:.3g}, below 0: the network predicts worse than "
        "the mean of the target; drop --no-standardize-target, so that the network learns "
        "the standardized target"]


def test_predict_and_evaluate_answer_in_grams(grams, folder):
    out, _ = grams
    rows = json.loads((out / "split.json").read_text())["test"]
    test = pd.read_csv(folder / "grams.csv").iloc[rows]
    test.to_csv(folder / "test.csv", index=False)
    evaluated = run_cli("evaluate", out / "model.npz", "test.csv", cwd=folder)
    assert_ok(evaluated)
    assert json.loads(evaluated.stdout) == pytest.approx(metrics(out)["test"], rel=1e-12)

    predicted = run_cli("predict", out / "model.npz", "test.csv", cwd=folder)
    assert_ok(predicted)
    values = pd.read_csv(io.StringIO(predicted.stdout))["body_mass_g"].to_numpy()
    truth = test["body_mass_g"].to_numpy()
    r2 = 1 - np.sum((values - truth) ** 2) / np.sum((truth - truth.mean()) ** 2)
    assert r2 == pytest.approx(metrics(out)["test"]["r2"], abs=1e-5)
    assert np.sqrt(np.mean((values - truth) ** 2)) == pytest.approx(
        metrics(out)["test"]["rmse"], rel=1e-5)


def test_the_model_file_alone_predicts_in_grams_from_python(folder):
    numeric = ["flipper_length_mm", "bill_length_mm"]
    trained = run_here("train", "grams.csv", "--target", "body_mass_g", "--drop", "species,sex",
                       "--epochs", "100", "--out", "numeric", "-q", cwd=folder)
    assert_ok(trained)
    out = folder / "numeric"
    frame = pd.read_csv(folder / "grams.csv")
    test = frame.iloc[json.loads((out / "split.json").read_text())["test"]]
    # Nothing but model.npz: no preprocessing.json, no CLI.
    values = mllib.load(out / "model.npz").predict(test[numeric].to_numpy())
    truth = test["body_mass_g"].to_numpy()
    assert values.shape == truth.shape
    assert abs(values.mean() - truth.mean()) < 300       # grams, not standard deviations
    assert np.sqrt(np.mean((values - truth) ** 2)) == pytest.approx(
        metrics(out)["test"]["rmse"], rel=1e-5)
    test[numeric].to_csv(folder / "numeric.csv", index=False)
    predicted = run_cli("predict", out / "model.npz", "numeric.csv", cwd=folder)
    assert_ok(predicted)
    np.testing.assert_allclose(
        pd.read_csv(io.StringIO(predicted.stdout))["body_mass_g"], values, rtol=1e-6)


def test_a_preprocessing_file_that_scales_the_target_is_refused(grams, folder):
    out, _ = grams
    document = json.loads((out / "preprocessing.json").read_text())
    document["target_scaling"] = {"mean": 4000.0, "std": 700.0}
    (folder / "old.json").write_text(json.dumps(document))
    result = run_cli("predict", out / "model.npz", "grams.csv", "--preprocessing", "old.json",
                     cwd=folder)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        ("mllib: error: 'old.json' scales the target outside the model, as only a development "
         "version of mllib did; train the model again")]


def test_a_search_keeps_the_scaling_for_predict(folder):
    tuned = tune_once("grams.csv", "body_mass_g", {"epochs": 100}, cwd=folder)
    assert tuned.returncode == 0, tuned.stderr
    best = json.loads((folder / "search" / "best.json").read_text())
    assert best["dev_error"] < 0.2          # 1 − R², unit-free
    predicted = run_here("predict", folder / "search" / "best_model.npz", "grams.csv",
                         cwd=folder)
    assert predicted.returncode == 0, predicted.stderr
    values = pd.read_csv(io.StringIO(predicted.stdout))["body_mass_g"]
    truth = pd.read_csv(folder / "grams.csv")["body_mass_g"]
    assert np.mean(np.abs(values - truth)) < 400      # grams, not standard deviations
