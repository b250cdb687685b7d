"""Bias and variance (notes §4): the four bullets, remark 4.1's Bayes error, and from data."""

import numpy as np
import pytest

import mllib
from mllib.datasets import make_flower
from mllib.optim import single_threaded
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


FRACTION = r"must be a fraction in \[0, 1\] \(0\.05 for 5 %\), got "


@pytest.mark.parametrize("args, kwargs, match", [
    # 1 % and 11 % written as percentages: 1 is a valid 100 %, 11 is no fraction.
    ((1, 11), {}, r"^dev_error " + FRACTION + r"11; a regressor's 1 − R², which may exceed 1, "
                  r"needs regression=True$"),
    ((11, 0.5), {}, r"^train_error " + FRACTION + r"11;"),
    ((1.0000001, 0.5), {}, r"^train_error " + FRACTION + r"1\.0000001;"),
    ((-0.1, 0.1), {}, r"^train_error " + FRACTION + r"-0\.1;"),
    ((0.1, float("nan")), {}, r"^dev_error " + FRACTION + r"nan;"),
    ((0.1, float("inf")), {}, r"^dev_error " + FRACTION + r"inf;"),
    ((float("-inf"), 0.1), {}, r"^train_error " + FRACTION + r"-inf;"),
    (("0.1", 0.2), {}, r"^train_error " + FRACTION + r"'0\.1';"),
    ((0.1, None), {}, r"^dev_error " + FRACTION + r"None;"),
    ((True, 0.2), {}, r"^train_error " + FRACTION + r"True;"),
    ((0.1, 0.2), {"bayes_error": 1.5}, r"^bayes_error " + FRACTION + r"1\.5$"),
    ((0.1, 0.2), {"bayes_error": 5}, r"^bayes_error " + FRACTION + r"5$"),
    ((0.1, 0.2), {"bayes_error": float("nan")}, r"^bayes_error " + FRACTION + r"nan$"),
    ((0.1, 0.2), {"bayes_error": -0.01}, r"^bayes_error " + FRACTION + r"-0\.01$"),
    ((0.1, 0.2), {"tolerance": 0}, r"^tolerance must be a fraction in \(0, 1\] \(0\.05 for 5 "
                                   r"percentage points\), got 0$"),
    ((0.1, 0.2), {"tolerance": 5}, r"^tolerance must be a fraction in \(0, 1\].*got 5$"),
    ((0.1, 0.2), {"regression": "yes"}, r"^regression must be True or False, got 'yes'$"),
    ((1.8, -0.1), {"regression": True}, r"^dev_error must be a regressor's 1 − R² in \[0, ∞\), "
                                        r"got -0\.1$"),
    ((float("inf"), 2.0), {"regression": True}, r"^train_error must be a regressor's .*got inf$"),
    ((0.1, 0.2), {"regression": True, "bayes_error": 1.5}, r"^bayes_error " + FRACTION + r"1\.5$"),
])
def test_errors_that_are_not_fractions_are_refused(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        diagnose(*args, **kwargs)


@pytest.mark.parametrize("train, dev, kwargs, verdict", [
    (0, 0, {}, "neither high bias nor high variance"),
    (1, 1, {}, "high bias"),                                   # 100 % error: as bad as it gets
    (0.0, 1.0, {}, "high variance"),
    (np.float32(0.25), np.float64(0.5), {}, "high bias and high variance"),
    (0.5, 0.5, {"bayes_error": 1.0, "tolerance": 1.0}, "neither high bias nor high variance"),
    (0.5, 0.5, {"bayes_error": 0, "tolerance": 1e-9}, "high bias"),
])
def test_every_fraction_in_0_1_is_accepted(train, dev, kwargs, verdict):
    d = diagnose(train, dev, **kwargs)
    assert d.verdict == verdict and (d.train_error, d.dev_error) == (float(train), float(dev))


def test_a_regressors_error_may_exceed_one_when_it_says_so():
    assert diagnose(1.8, 2.5, regression=True).verdict == "high bias and high variance"
    assert diagnose(0.01, 0.11, regression=True).verdict == "high variance"


def test_a_regressor_worse_than_the_mean_is_diagnosed_from_data():
    # Untrained, without target scaling, it predicts about 0 for targets about 100: R² ≪ 0.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X[:, 0] + 100.0
    model = mllib.NeuralNetwork(nodes=[None, 1], activators=["linear"],
                                standardize_target=False, seed=0)
    model.fit(X[:40], y[:40], epochs=0)
    d = model.diagnose((X[:40], y[:40]), (X[40:], y[40:]))
    assert d.train_error == 1 - model.evaluate(X[:40], y[:40])["r2"] and d.train_error > 1
    assert d.high_bias


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
    # BLAS on one thread: products of 40 × 128 × 128 are too small for a second thread to
    # pay, and waiting for it made these 400 steps take 5 s, not 0.2 s, on a busy machine.
    with single_threaded():
        model.fit(X[:40], y[:40], learning_rate=0.01, epochs=400)
        d = model.diagnose((X[:40], y[:40]), (X[40:], y[40:]))
    assert d.train_error < 0.05 and d.high_variance and not d.high_bias
