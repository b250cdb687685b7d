"""Learning curves: nested, stratified training sets, each point a plain fit."""

import numpy as np
import pytest

from mllib.tune import fit, learning_curve
from mllib.tune.curves import _order

RNG = np.random.default_rng(0)
X = RNG.normal(size=(400, 10))
Y = ((X[:, 0] > 0) ^ (RNG.random(400) < 0.2)).astype(int)       # 20 % of labels flipped
TRAIN, DEV = (X[:300], Y[:300]), (X[300:], Y[300:])
BIG = {"hidden": [128, 128], "activation": "relu", "epochs": 300, "learning_rate": 0.01}


def test_a_high_variance_model_gains_from_more_data():
    curve = learning_curve(BIG, TRAIN, DEV, sizes=[20, 60, 300])
    assert curve.sizes == [20, 60, 300]
    assert max(curve.train_error) < 0.05                  # it fits every training set
    assert curve.dev_error[0] - curve.dev_error[-1] > 0.05  # and more data closes the gap
    assert curve.diagnosis.high_variance and not curve.diagnosis.high_bias


def test_each_point_is_a_fit_on_the_first_rows_of_one_seeded_order():
    settings = {"hidden": [4], "epochs": 5}
    curve = learning_curve(settings, TRAIN, DEV, sizes=[0.5, 1.0], seed=3)
    order = _order(TRAIN[1], True, np.random.default_rng(3))
    rows = np.sort(order[:150])
    model = fit(settings, (TRAIN[0][rows], TRAIN[1][rows]), seed=3)
    assert curve.train_error[0] == 1 - model.evaluate(TRAIN[0][rows], TRAIN[1][rows])["accuracy"]
    assert curve.dev_error[0] == 1 - model.evaluate(*DEV)["accuracy"]


def test_the_order_keeps_every_prefix_stratified():
    y = np.array([0] * 90 + [1] * 10)
    order = _order(y, True, np.random.default_rng(1))
    assert sorted(order) == list(range(100))
    for n in (10, 20, 50):
        assert abs(np.sum(y[order[:n]] == 1) - n / 10) <= 1


@pytest.mark.parametrize("sizes, match", [
    ([], r"sizes must be a non-empty list"),
    ([0.5, 0.25], r"sizes must give increasing row counts, got \[150, 75\]"),
    ([1.5], r"sizes must be a number in \(0, 1\]"),
    ([400], r"sizes: 400 is 400 rows, but the training set has 300"),
    ([1], r"sizes must be an integer >= 2, got 1"),
])
def test_bad_sizes_are_refused(sizes, match):
    with pytest.raises(ValueError, match=match):
        learning_curve({"epochs": 1}, TRAIN, DEV, sizes=sizes)
