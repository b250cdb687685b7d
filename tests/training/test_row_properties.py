"""Properties of a fitted network's predictions: each row is predicted on its own.

Rows in another order go through BLAS kernels with other row blocks, which may
round float32 differently, so permuted predictions are compared to a tolerance of a
few ulps; the same computation run twice must give the same bits.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mllib

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 5))
LABELS = np.array(["ant", "bee", "cat"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
TOLERANCE = {"float32": 1e-6, "float64": 1e-13}


def fitted(dtype, output):
    net = mllib.NeuralNetwork(nodes=[None, 12, 12, None], activators=["tanh", "relu", output],
                              batch_norm=[False, True, False, False], standardize=True,
                              dtype=dtype, seed=0)
    y = LABELS if output == "softmax" else LABELS == "bee"
    net.fit(X, y, epochs=20, batch_size=8)
    return net


NETS = {(dtype, output): fitted(dtype, output)
        for dtype in ("float32", "float64") for output in ("sigmoid", "softmax")}
CASES = pytest.mark.parametrize("dtype, output", list(NETS))


@CASES
@settings(max_examples=25)
@given(order=st.permutations(range(len(X))))
def test_predictions_follow_any_permutation_of_the_rows(dtype, output, order):
    net = NETS[dtype, output]
    proba, labels = net.predict_proba(X), net.predict(X)
    permuted = net.predict_proba(X[order])
    np.testing.assert_allclose(permuted, proba[order], rtol=TOLERANCE[dtype], atol=1e-30)
    # A label may only change where two probabilities tie to within that tolerance.
    decided = np.abs(np.diff(np.sort(proba, axis=1), axis=1)).min(axis=1) > 1e-5 \
        if output == "softmax" else np.abs(proba[:, 0] - 0.5) > 1e-5
    assert (net.predict(X[order])[decided[order]] == labels[order][decided[order]]).all()


@CASES
@settings(max_examples=10)
@given(rows=st.lists(st.integers(0, len(X) - 1), min_size=1, max_size=len(X)))
def test_any_selection_of_rows_is_predicted_as_in_the_whole(dtype, output, rows):
    net = NETS[dtype, output]
    np.testing.assert_allclose(net.predict_proba(X[rows]), net.predict_proba(X)[rows],
                               rtol=TOLERANCE[dtype], atol=1e-30)


@CASES
def test_the_same_prediction_twice_has_the_same_bits(dtype, output):
    net = NETS[dtype, output]
    first = net.predict_proba(X[::-1])
    np.testing.assert_array_equal(net.predict_proba(X[::-1]), first)
