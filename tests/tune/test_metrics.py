"""The metrics a search chooses by: their values against scikit-learn's functions and by
hand, their errors, and a search, its folder and its result under each."""

import json
import math
import sys

import numpy as np
import pytest
from sklearn import metrics as sk

from mllib.datasets import make_blobs, make_flower
from mllib.tune import fit, grid_search, loguniform, random_search, successive_halving
from mllib.tune.metrics import METRICS, get_metric, probabilities, score_of

X, Y = make_flower(240, seed=3)
TRAIN, DEV = (X[:180], Y[:180]), (X[180:], Y[180:])
SPACE = {"learning_rate": loguniform(1e-3, 3e-1)}
FIXED = {"epochs": 6, "batch_size": 32, "hidden": [4]}

XB, YB = make_blobs(300, n_classes=3, seed=1)
BLOBS = (XB[:200], YB[:200]), (XB[200:], YB[200:])
RX = np.random.default_rng(0).normal(size=(200, 3))
RY = RX @ np.array([1.0, -2.0, 0.5]) + 0.1 * np.random.default_rng(1).normal(size=200)
REGRESSION = (RX[:150], RY[:150]), (RX[150:], RY[150:])

# A hand-made example: labels as text, so that the classes' order is theirs, not codes'.
TRUE = np.array(["ant", "ant", "ant", "bee"])
PREDICTED = np.array(["ant", "ant", "bee", "bee"])
P_BEE = np.array([0.1, 0.4, 0.35, 0.8])
CLASSES = np.array(["ant", "bee"])


def test_classifier_metrics_by_hand_and_by_scikit_learn():
    # Recall of ant 2/3, of bee 1: balanced accuracy 5/6.
    assert score_of("balanced_accuracy", TRUE, PREDICTED) == pytest.approx(5 / 6, abs=1e-15)
    # F1 of ant 2·1·(2/3)/(1 + 2/3) = 0.8, of bee 2·(1/2)·1/(3/2) = 2/3.
    assert score_of("f1_macro", TRUE, PREDICTED) == pytest.approx((0.8 + 2 / 3) / 2, abs=1e-15)
    proba = np.column_stack([1 - P_BEE, P_BEE])
    # Of the 3 (ant, bee) pairs, the bee scores above the ant in all 3: AUC 1.
    assert score_of("roc_auc", TRUE, proba, CLASSES) == 1.0
    # −mean log p(true class)
    expected = -np.mean(np.log([0.9, 0.6, 0.65, 0.8]))
    assert score_of("log_loss", TRUE, proba, CLASSES) == pytest.approx(expected, rel=1e-14)
    assert score_of("balanced_accuracy", TRUE, PREDICTED) == \
        sk.balanced_accuracy_score(TRUE, PREDICTED)
    assert score_of("f1_macro", TRUE, PREDICTED) == sk.f1_score(TRUE, PREDICTED,
                                                                average="macro")
    assert score_of("log_loss", TRUE, proba, CLASSES) == sk.log_loss(TRUE, proba)


def test_roc_auc_of_two_classes_scores_the_second_and_of_more_one_against_the_rest():
    true = np.array(["ant", "bee", "ant", "bee", "bee"])
    p_bee = np.array([0.3, 0.2, 0.1, 0.9, 0.6])
    proba = np.column_stack([1 - p_bee, p_bee])
    # Pairs (ant, bee): (0.3, 0.2) lost, the other five won: 5/6.
    assert score_of("roc_auc", true, proba, CLASSES) == pytest.approx(5 / 6, abs=1e-15)
    assert score_of("roc_auc", true, proba, CLASSES) == sk.roc_auc_score(true == "bee", p_bee)
    three = np.array([2, 0, 1, 2, 1, 0])
    scores = np.array([[.2, .3, .5], [.6, .3, .1], [.3, .4, .3], [.1, .1, .8], [.5, .2, .3],
                       [.4, .4, .2]])
    assert score_of("roc_auc", three, scores, np.arange(3)) == sk.roc_auc_score(
        three, scores, multi_class="ovr", average="macro")


def test_regression_metrics_by_hand_and_by_scikit_learn():
    true, predicted = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])
    assert score_of("rmse", true, predicted) == pytest.approx(math.sqrt(4 / 3), rel=1e-15)
    assert score_of("mae", true, predicted) == pytest.approx(2 / 3, rel=1e-15)
    assert score_of("rmse", true, predicted) == sk.root_mean_squared_error(true, predicted)
    two = np.array([[1.0, 0.0], [2.0, 1.0]]), np.array([[1.5, 0.0], [2.0, 3.0]])
    assert score_of("rmse", *two) == sk.root_mean_squared_error(*two)    # mean over outputs
    assert score_of("mae", *two) == sk.mean_absolute_error(*two)


@pytest.mark.parametrize("name, data", [
    ("balanced_accuracy", (TRAIN, DEV)), ("f1_macro", BLOBS), ("roc_auc", (TRAIN, DEV)),
    ("roc_auc", BLOBS), ("log_loss", BLOBS), ("rmse", REGRESSION), ("mae", REGRESSION),
    ("accuracy", BLOBS), ("r2", REGRESSION)])
def test_a_metric_of_a_model_is_scikit_learns_of_its_predictions(name, data):
    (train, (X_dev, y_dev)) = data
    model = fit({**FIXED, "epochs": 20}, train, seed=0)
    metric = METRICS[name]
    predicted = model.predict(X_dev)
    expected = {"balanced_accuracy": lambda: sk.balanced_accuracy_score(y_dev, predicted),
                "f1_macro": lambda: sk.f1_score(y_dev, predicted, average="macro"),
                "accuracy": lambda: sk.accuracy_score(y_dev, predicted),
                "rmse": lambda: sk.root_mean_squared_error(y_dev, predicted),
                "mae": lambda: sk.mean_absolute_error(y_dev, predicted),
                "r2": lambda: sk.r2_score(y_dev, predicted),
                "log_loss": lambda: sk.log_loss(y_dev, model.predict_proba(X_dev)),
                "roc_auc": lambda: _auc(model, X_dev, y_dev)}[name]()
    score = metric.score(model, X_dev, y_dev)
    if name in ("accuracy", "r2"):      # mllib's own, in float32 sums: equal to rounding
        assert score == pytest.approx(expected, abs=1e-6)
    else:
        assert score == expected
    error = metric.error(model, X_dev, y_dev)
    assert error == (1.0 - score if metric.higher_is_better else score)


def _auc(model, X, y):
    proba = model.predict_proba(X)
    if proba.shape[1] == 1:
        return sk.roc_auc_score(y, proba[:, 0])
    return sk.roc_auc_score(y, proba, multi_class="ovr")


def test_a_sigmoids_probabilities_are_two_columns_in_the_classes_order():
    model = fit(FIXED, TRAIN, seed=0)
    p = probabilities(model, DEV[0])
    np.testing.assert_array_equal(p[:, 1], model.predict_proba(DEV[0])[:, 0])
    np.testing.assert_array_equal(p[:, 0], 1.0 - p[:, 1])


def test_a_search_by_a_metric_records_its_errors_and_its_name(tmp_path):
    result = random_search(SPACE, *BLOBS, trials=3, settings=FIXED, seed=1, metric="f1_macro",
                           out=tmp_path / "s")
    assert result.metric == "f1_macro"
    for row in result.trials:
        model = fit({**FIXED, **row["params"]}, BLOBS[0], seed=row["seed"])
        for (X_part, y_part), name in zip(BLOBS, ("train", "dev")):
            f1 = sk.f1_score(y_part, model.predict(X_part), average="macro")
            assert row[f"{name}_error"] == 1.0 - f1
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["metric"] == "f1_macro"
    files = result.save(tmp_path / "saved")
    best = json.loads(files["best"].read_text())
    assert best["metric"] == "f1_macro" and best["diagnosis"]["error"] == "1 - f1_macro"
    assert best["diagnosis"]["dev_error"] == result.best["dev_error"]
    frame = result.table()
    assert set(frame["metric"]) == {"f1_macro"} and "pruned" not in frame.columns
    tested = result.test(*BLOBS[1])
    assert tested["f1_macro"] == 1.0 - result.best["dev_error"]
    assert tested["error"] == result.best["dev_error"]


def test_no_metric_is_accuracy_or_r2_as_before(tmp_path):
    default = random_search(SPACE, TRAIN, DEV, trials=3, settings=FIXED, seed=2,
                            out=tmp_path / "a")
    named = random_search(SPACE, TRAIN, DEV, trials=3, settings=FIXED, seed=2,
                          metric="accuracy", out=tmp_path / "a")     # the same search: resumed
    assert default.metric == named.metric == "accuracy"
    assert [r["dev_error"] for r in default.trials] == [r["dev_error"] for r in named.trials]
    for row in default.trials:
        model = fit({**FIXED, **row["params"]}, TRAIN, seed=row["seed"])
        assert row["dev_error"] == 1.0 - model.evaluate(*DEV)["accuracy"]
    regression = random_search(SPACE, *REGRESSION, trials=2, settings=FIXED, seed=2)
    assert regression.metric == "r2"
    assert regression.test(*REGRESSION[1])["error"] == regression.best["dev_error"]


def test_another_metric_is_another_search_and_an_older_folder_resumes(tmp_path):
    out = tmp_path / "s"
    random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, seed=0, out=out)
    with pytest.raises(ValueError, match=r'metric: "accuracy" in the folder, "roc_auc" now'):
        random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, seed=0, metric="roc_auc",
                      out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["metric"]                 # as mllib wrote it before metrics were recorded
    (out / "manifest.json").write_text(json.dumps(manifest))
    seen = []
    random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, seed=0, out=out,
                  on_trial=seen.append)
    assert seen == []                      # both read back, none run again


def test_halving_chooses_by_the_metric():
    result = successive_halving(SPACE, *REGRESSION, trials=4, min_epochs=2, max_epochs=4,
                                factor=2, settings={"hidden": [4]}, seed=0, metric="mae")
    assert result.metric == "mae"
    survivors = {row["trial"] for row in result.rungs[1]}
    first = sorted(result.rungs[0], key=lambda r: (r["dev_error"], r["trial"]))
    assert survivors == {row["trial"] for row in first[:2]}
    for row in result.rungs[0]:
        model = fit({"hidden": [4], "epochs": 2, **row["params"]}, REGRESSION[0],
                    seed=row["seed"])
        assert row["dev_error"] == sk.mean_absolute_error(REGRESSION[1][1],
                                                          model.predict(REGRESSION[1][0]))


def test_metrics_not_in_0_1_are_diagnosed_by_the_models_own_error(tmp_path):
    result = grid_search(SPACE, *REGRESSION, points=2, settings=FIXED, metric="rmse")
    model = result.best_model
    expected = [1.0 - model.evaluate(*part)["r2"] for part in REGRESSION]
    diagnosis = result.diagnosis
    assert [diagnosis.train_error, diagnosis.dev_error] == expected
    assert result.diagnosed_error == "1 - r2"
    best = json.loads(result.save(tmp_path)["best"].read_text())
    assert best["diagnosis"]["error"] == "1 - r2" and best["metric"] == "rmse"
    log_loss = random_search(SPACE, TRAIN, DEV, trials=2, settings=FIXED, metric="log_loss")
    assert log_loss.diagnosed_error == "1 - accuracy"
    assert log_loss.diagnosis.dev_error == 1.0 - log_loss.best_model.evaluate(*DEV)["accuracy"]


@pytest.mark.parametrize("metric, data, match", [
    ("rmse", (TRAIN, DEV), r"metric='rmse' scores regressors, but trial 0 .* is a classifier"),
    ("f1_macro", REGRESSION, r"metric='f1_macro' scores classifiers, but trial 0 .* is a "
                             r"regressor"),
    ("f1", (TRAIN, DEV), r"metric must be one of accuracy, balanced_accuracy, f1_macro, "
                         r"roc_auc, log_loss, r2, rmse, mae .*got 'f1'"),
    (1, (TRAIN, DEV), r"metric must be one of .*got 1"),
    ("roc_auc", ((XB[:200], YB[:200]), (XB[200:], np.where(YB[200:] == 2, 0, YB[200:]))),
     r"metric='roc_auc' needs every class in the dev set, but it has no row of class\(es\) "
     r"\[2\]"),
    ("log_loss", ((X[:180], np.eye(2)[Y[:180]]), (X[180:], np.eye(2)[Y[180:]])),
     r"metric='log_loss' takes one class label per row, but y has 2 columns"),
])
def test_a_metric_that_does_not_fit_is_refused_before_anything_is_written(metric, data, match,
                                                                          tmp_path):
    settings = {**FIXED, "output": "softmax"} if "columns" in match else FIXED
    with pytest.raises(ValueError, match=match):
        random_search(SPACE, *data, trials=2, settings=settings, metric=metric,
                      out=tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_without_scikit_learn_its_metrics_name_the_extra_and_mllibs_own_work(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)    # import sklearn now fails
    monkeypatch.setitem(sys.modules, "sklearn.metrics", None)
    with pytest.raises(ImportError, match=r"metric='f1_macro' uses scikit-learn's "
                                          r"implementation: pip install \"mllib\[sklearn\]\""):
        random_search(SPACE, TRAIN, DEV, trials=1, settings=FIXED, metric="f1_macro")
    assert get_metric("accuracy").name == "accuracy"
    result = random_search(SPACE, TRAIN, DEV, trials=1, settings=FIXED, metric="accuracy")
    assert result.trials[0]["status"] == "ok"
    result = random_search(SPACE, *REGRESSION, trials=1, settings=FIXED, metric="r2")
    assert result.trials[0]["status"] == "ok"
