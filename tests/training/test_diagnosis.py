"""Bias and variance (notes §4): the four bullets, remark 4.1's Bayes error, and from data."""

import numpy as np
import pytest

import mllib
from mllib.datasets import make_flower
from mllib.training.diagnosis import BIAS_ADVICE, VARIANCE_ADVICE, diagnose


@pytest.mark.parametrize("train, dev, bias, variance, verdict", [
    # The course's classic examples, read as the notes read them (Bayes error 0).
    (0.01, 0.11, False, True, "high variance"),
    (0.15, 0.16, True, False, "high bias"),
    (0.15, 0.30, True, True, "high bias and high variance"),
    (0.005, 0.01, False, False, "neither high bias nor high variance"),
    # The bullets' edges: E(X) < ε with E(D) a little above it is not yet high variance.
    (0.0, 0.049, False, False, "neither high bias nor high variance"),
    (0.0, 0.05, False, True, "high variance"),
    (0.05, 0.05, True, False, "high bias"),
])
def test_the_notes_four_bullets(train, dev, bias, variance, verdict):
    d = diagnose(train, dev)
    assert (d.high_bias, d.high_variance, d.verdict) == (bias, variance, verdict)
    assert d.advice == (BIAS_ADVICE if bias else []) + (VARIANCE_ADVICE if variance else [])
    assert d.avoidable_bias == pytest.approx(train) and d.variance == pytest.approx(dev - train)


@pytest.mark.parametrize("bayes, train, dev, bias, variance", [
    (0.15, 0.16, 0.17, False, False),   # near the best any model can do: nothing to fix
    (0.15, 0.16, 0.30, False, True),
    (0.08, 0.15, 0.16, True, False),    # 7 points above the Bayes error
    (0.10, 0.149, 0.15, False, False),
])
def test_the_bayes_error_moves_the_bias_threshold(bayes, train, dev, bias, variance):
    d = diagnose(train, dev, bayes_error=bayes)
    assert (d.high_bias, d.high_variance) == (bias, variance)
    assert d.avoidable_bias == pytest.approx(train - bayes)


def test_a_gap_of_exactly_the_tolerance_counts_despite_rounding():
    train, dev = 1 - 0.85, 1 - 0.80          # 0.15000000000000002 and 0.19999999999999996
    assert dev - train < 0.05 and diagnose(train, dev).high_variance


def test_the_tolerance_is_a_parameter():
    assert diagnose(0.01, 0.11, tolerance=0.2).verdict == "neither high bias nor high variance"
    assert diagnose(0.01, 0.04, tolerance=0.02).verdict == "high variance"
    assert diagnose(0.15, 0.30).to_dict()["verdict"] == "high bias and high variance"


@pytest.mark.parametrize("kwargs, match", [
    ({"train_error": -0.1, "dev_error": 0.1}, r"train_error .*got -0\.1"),
    ({"train_error": 0.1, "dev_error": float("nan")}, r"dev_error .*nan"),
    ({"train_error": 0.1, "dev_error": 0.2, "bayes_error": 1.5}, r"bayes_error .*1\.5"),
    ({"train_error": 0.1, "dev_error": 0.2, "tolerance": 0}, r"tolerance .*got 0"),
    ({"train_error": "0.1", "dev_error": 0.2}, r"train_error .*'0\.1'"),
])
def test_bad_errors_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        diagnose(**kwargs)


def test_a_regressors_error_may_exceed_one():
    assert diagnose(1.8, 2.5).verdict == "high bias and high variance"


def test_from_data_a_linear_model_on_the_flower_has_high_bias():
    X, y = make_flower(400, seed=1)
    model = mllib.LogisticRegression()
    model.fit(X[:300], y[:300], optimizer="gd", learning_rate=1.0, epochs=300)
    d = model.diagnose((X[:300], y[:300]), (X[300:], y[300:]))
    assert d.high_bias and not d.high_variance
    assert d.train_error == pytest.approx(1 - model.evaluate(X[:300], y[:300])["accuracy"])


def test_from_data_a_big_network_on_a_few_noisy_rows_has_high_variance():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 10))
    y = ((X[:, 0] > 0) ^ (rng.random(240) < 0.2)).astype(int)     # 20 % of labels flipped
    model = mllib.NeuralNetwork(nodes=[None, 128, 128, 1], activators=["relu", "relu", "sigmoid"],
                                seed=0, dtype="float64")
    model.fit(X[:40], y[:40], learning_rate=0.01, epochs=400)
    d = model.diagnose((X[:40], y[:40]), (X[40:], y[40:]))
    assert d.train_error < 0.05 and d.high_variance and not d.high_bias
