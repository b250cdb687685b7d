"""Sparse first-layer input: SciPy CSR/CSC X, multiplied without densifying it.

A sparse fit is compared with the dense fit of the same data in float64. They
are equal to rounding, not bit for bit: SciPy's sparse × dense products add
the nonzero terms of each dot product in another order than BLAS adds all
of them, so each product may differ in its last bits (about 1e-16
relative), and a few epochs carry that to about 1e-14; 1e-12 leaves room.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import mllib
from mllib.nn.layers import Dense

TOL = 1e-12


def _sparse_data(n=120, d=30, density=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed)
    X.data = rng.normal(size=X.nnz)
    y = np.asarray(X @ rng.normal(size=d)).ravel()
    return X, y


def _net(output="linear", n_out=1, **kw):
    return mllib.NeuralNetwork(nodes=[None, 6, n_out], activators=["tanh", output],
                               dtype="float64", seed=3, lp_reg=2, lambda_=0.1, **kw)


def test_dense_layer_gradients_on_sparse_input():
    X, _ = _sparse_data(9, 7)
    layer = Dense(7, 4, rng=np.random.default_rng(0), dtype=np.float64)
    delta = np.random.default_rng(1).normal(size=(9, 4))
    z_sparse = layer.forward(X)
    layer.backward_params(delta)
    dW_sparse = layer.grads["W"].copy()
    z_dense = layer.forward(X.toarray())
    layer.backward_params(delta)
    assert isinstance(z_sparse, np.ndarray)
    np.testing.assert_allclose(z_sparse, z_dense, rtol=TOL, atol=1e-15)
    np.testing.assert_allclose(dW_sparse, layer.grads["W"], rtol=TOL, atol=1e-15)


@pytest.mark.parametrize("fmt", ["csr", "csc", "csr_array"])
def test_sparse_fit_matches_the_dense_fit(fmt):
    X, y = _sparse_data()
    Xs = sp.csr_array(X) if fmt == "csr_array" else X.asformat(fmt)
    dense, sparse = _net(keep_probs=[1.0, 0.8, 1.0]), _net(keep_probs=[1.0, 0.8, 1.0])
    h_dense = dense.fit(X.toarray(), y, epochs=3, batch_size=16, validation_split=0.2)
    h_sparse = sparse.fit(Xs, y, epochs=3, batch_size=16, validation_split=0.2)
    for key in ("cost", "r2", "val_cost", "val_r2"):
        np.testing.assert_allclose(h_sparse.history[key], h_dense.history[key], rtol=TOL)
    for name, value in dense.get_weights().items():
        np.testing.assert_allclose(sparse.get_weights()[name], value, rtol=TOL, atol=1e-15)
    np.testing.assert_allclose(sparse.predict(Xs), dense.predict(X.toarray()), rtol=TOL,
                               atol=1e-14)
    got, want = sparse.evaluate(Xs, y), dense.evaluate(X.toarray(), y)
    assert got["cost"] == pytest.approx(want["cost"], rel=TOL)
    assert got["r2"] == pytest.approx(want["r2"], rel=TOL)


def test_sparse_classifier_with_weights_gradients_and_probabilities():
    X, y = _sparse_data(60, 12, seed=4)
    labels = (y > 0).astype(int)
    w = np.random.default_rng(5).uniform(0, 2, 60)
    net = _net("sigmoid")
    cost_s, grads_s = net.gradients(X, labels, sample_weight=w)
    cost_d, grads_d = net.gradients(X.toarray(), labels, sample_weight=w)
    assert cost_s == pytest.approx(cost_d, rel=TOL)
    for name in grads_d:
        np.testing.assert_allclose(grads_s[name], grads_d[name], rtol=1e-10, atol=1e-15)
    net.fit(X, labels, epochs=2, batch_size=8, sample_weight=w)
    np.testing.assert_allclose(net.predict_proba(X), net.predict_proba(X.toarray()), rtol=TOL)
    assert net.evaluate(X.tocsc(), labels, sample_weight=w)["accuracy"] == pytest.approx(
        net.evaluate(X.toarray(), labels, sample_weight=w)["accuracy"])


def test_float32_model_gathers_float32_rows():
    X, y = _sparse_data(50, 10)
    net = mllib.NeuralNetwork(nodes=[None, 4, 1], activators=["relu", "linear"])
    net.fit(X, y, epochs=2, batch_size=8)
    assert net.batch_input(X.tocsr(), np.arange(5)).dtype == np.float32
    assert net.predict(X).dtype == np.float32


def test_an_all_zero_sparse_matrix_works():
    X = sp.csr_matrix((10, 5))
    net = _net()
    net.fit(X, np.arange(10.0), epochs=1)
    assert np.isfinite(net.predict(X)).all()


def test_fit_and_predict_do_not_densify_X():
    # 4000 × 4000 float64 would be 128 MB dense; the sparse X holds 16,000 values.
    n = d = 4000
    rng = np.random.default_rng(6)
    X = sp.csr_matrix((rng.normal(size=4 * n), (np.repeat(np.arange(n), 4),
                                                rng.integers(0, d, 4 * n))), shape=(n, d))
    y = rng.normal(size=n)
    net = mllib.NeuralNetwork(nodes=[d, 8, 1], activators=["relu", "linear"],
                              dtype="float64", seed=0)
    tracemalloc.start()
    try:
        net.fit(X, y, epochs=1, batch_size=500)
        net.predict(X)
        net.evaluate(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # W1 and its gradient and optimizer moments are 4 × 8 × 4000 × 8 B = 1 MB; a dense X
    # or even a dense batch of it (16 MB) would be far above the bound.
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_what_would_densify_is_refused():
    X, y = _sparse_data(20, 5)
    with pytest.raises(ValueError, match="X is sparse, but this network has standardize=True"):
        _net(standardize=True).fit(X, y, epochs=1)
    dense_fitted = _net(standardize=True)
    dense_fitted.fit(X.toarray(), y, epochs=1)
    with pytest.raises(ValueError, match="standardize=True"):
        dense_fitted.predict(X)
    dropping = _net(keep_probs=[0.8, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"drops inputs in training \(keep_probs\[0\] = 0.8\)"):
        dropping.fit(X, y, epochs=1)
    with pytest.raises(ValueError, match="keep_probs"):
        dropping.gradients(X, y)
    dropping.fit(X.toarray(), y, epochs=1)
    np.testing.assert_allclose(dropping.predict(X), dropping.predict(X.toarray()), rtol=TOL)
    with pytest.raises(ValueError, match="X_dev is sparse"):
        _net(standardize=True).fit(X.toarray(), y, epochs=1, validation_data=(X, y))


def test_bad_sparse_input_is_refused_by_name():
    X, y = _sparse_data(20, 5)
    bad = X.copy()
    bad.data[3] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinite values"):
        _net().fit(bad, y, epochs=1)
    net = _net()
    net.fit(X, y, epochs=1)
    with pytest.raises(ValueError, match="X contains NaN"):
        net.predict(bad)
    with pytest.raises(ValueError, match=r"X has 4 features, but the network expects"):
        net.predict(X[:, :4])
    with pytest.raises(ValueError, match="X has no rows"):
        net.predict(X[:0])
    huge = X.copy()
    huge.data[0] = 1e300
    with pytest.raises(ValueError, match="beyond the largest float32"):
        mllib.NeuralNetwork(nodes=[None, 3, 1], activators=["relu", "linear"]).fit(huge, y)
