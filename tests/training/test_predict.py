"""Prediction needs a fitted network and converts X chunk by chunk; augment never
writes into the caller's X."""

import tracemalloc

import numpy as np
import pytest

import mllib
from mllib.training.rows.chunks import TEMPORARY_BYTES, chunk_rows
from mllib.training.rows.inputs import CHUNK


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] > 0).astype(int)


def net(**kwargs):
    return mllib.NeuralNetwork(nodes=[3, 4, 1], activators=["tanh", "sigmoid"], seed=0,
                               **kwargs)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "forward"])
def test_predicting_converts_x_chunk_by_chunk(method):
    rng = np.random.default_rng(0)
    # float64; the network computes in float32. Chunks hold up to 16,384 rows, whose cast
    # takes 3.3 MB: X is large enough that converting it whole would break the bound.
    X = rng.normal(size=(80000, 50))
    model = mllib.NeuralNetwork(nodes=[50, 8, 1], activators=["relu", "sigmoid"])
    model.fit(X[:100], (X[:100, 0] > 0).astype(int), epochs=1)
    getattr(model, method)(X[:10])  # warm up lazily allocated buffers
    tracemalloc.start()
    try:
        getattr(model, method)(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * X.nbytes


def test_chunks_hold_as_many_rows_as_the_layer_widths_allow():
    wide = mllib.NeuralNetwork(nodes=[784, 256, 128, 10], activators=["relu", "relu", "softmax"])
    X32 = np.zeros((3, 784), dtype=np.float32)
    # 32 MiB over 4 bytes · 2 · 256 a row: 16,384 rows, the most; a float64 X adds the cast
    # of its 784 values a row: 32 MiB / (4 · 1296) = 6,472 rows, down to a power of two.
    assert TEMPORARY_BYTES == 32 << 20
    assert chunk_rows(wide, X32) == 16384
    assert chunk_rows(wide, X32.astype(np.float64)) == 4096
    huge = mllib.NeuralNetwork(nodes=[784, 40000, 10], activators=["relu", "softmax"])
    assert chunk_rows(huge, X32) == 1024     # 32 MiB / 320 kB a row is 104: the least


@pytest.mark.parametrize("row", [0, CHUNK + 5, 16384 + 5])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_predicting_refuses_nan_and_infinity_in_any_chunk(row, value):
    X, y = data()
    model = net()
    model.fit(X, y, epochs=2)
    X_big = np.tile(X, (16384 // len(X) + 2, 1))   # two chunks of this model
    X_big[row, 1] = value
    for method in (model.predict, model.predict_proba):
        with pytest.raises(ValueError, match="X contains NaN or infinite values"):
            method(X_big)


def test_huge_finite_values_are_not_mistaken_for_infinity():
    # Their sum, 4.5e38, overflows float32, but every entry is finite, and so
    # is every pre-activation, at most 5e37 · 6 < 3.4e38 with the row sums of
    # |W1| below 6.
    X, y = data()
    model = net()
    model.fit(X, y, epochs=2)
    assert np.abs(model.get_weights()["W1"]).sum(axis=1).max() < 6
    huge = np.full((3, 3), 5e37, dtype=np.float32)
    with np.errstate(over="ignore"):
        assert np.isinf(huge.sum())
    # Rows of one batch and a batch of one row go through BLAS kernels of different
    # shapes, which may round differently in float32: compare to a few ulps.
    np.testing.assert_allclose(model.predict_proba(huge), model.predict_proba(huge[:1])[[0, 0, 0]],
                               rtol=1e-6)
    assert np.isfinite(model.predict_proba(huge)).all()


def test_predict_and_evaluate_need_a_fitted_network(tmp_path):
    X, y = data()
    model = net(dtype="float64")
    for call in (lambda: model.predict(X), lambda: model.predict_proba(X),
                 lambda: model.evaluate(X, y)):
        with pytest.raises(RuntimeError, match="not fitted yet; call fit first"):
            call()
    # Gradient checks use these on an unfitted network.
    assert model.forward(X).shape == (40, 1)
    cost, grads = model.gradients(X, y)
    assert model.cost(X, y) == pytest.approx(cost) and set(grads) == {"W1", "b1", "W2", "b2"}
    with pytest.raises(ValueError, match="rows"):
        model.fit(X, y[:-1], epochs=1)
    assert not model.fitted_
    model.fit(X, y, epochs=0)
    assert model.fitted_ and model.predict(X).shape == (40,)
    model.save(tmp_path / "fitted.npz")
    np.testing.assert_array_equal(mllib.load(tmp_path / "fitted.npz").predict(X), model.predict(X))


@pytest.mark.parametrize("dtype, standardize", [("float64", False), ("float32", False),
                                                ("float64", True)])
def test_full_batch_augment_never_writes_into_the_callers_x(dtype, standardize):
    X, y = data()
    original = X.copy()
    seen = []

    def shift_in_place(batch, rng):
        seen.append(batch.copy())
        batch += 1.0
        return batch

    net(dtype=dtype, standardize=standardize).fit(X, y, epochs=3, augment=shift_in_place)
    np.testing.assert_array_equal(X, original)
    assert len(seen) == 3
    for batch in seen[1:]:  # every epoch starts from the same, unshifted rows
        np.testing.assert_array_equal(batch, seen[0])


def test_the_fitted_attributes_older_names_are_aliases():
    X, y = data()
    model = net()
    model.fit(X, y, epochs=1)
    assert model.fitted is model.fitted_ is True
    assert model.targets is model.targets_ and model.rng is model.rng_
    model.fitted = False    # code written for the older names may still assign them
    assert model.fitted_ is False


def test_build_checks_its_widths_before_it_changes_the_model():
    soft = mllib.SoftmaxRegression()
    state = soft.rng_.bit_generator.state
    for args, match in [((3, 1), r"n_outputs must be an integer >= 2, got 1"),
                        ((0, 3), r"n_features must be a positive integer, got 0"),
                        ((2.7, 3), r"n_features must be a positive integer"),
                        ((3,), r"nodes\[L\] is None: give n_outputs")]:
        with pytest.raises(ValueError, match=match):
            soft.build(*args)
        assert not soft.built and soft.config["nodes"] == [None, None]
        assert soft.rng_.bit_generator.state == state
    soft.build(3, 4)
    assert soft.config["nodes"] == [3, 4] and soft.parameters()["W1"].shape == (4, 3)
    with pytest.raises(ValueError, match=r"n_features is 5, but the network has nodes\[0\] = 3"):
        soft.build(5, 4)


def test_frozen_masks_restores_what_each_layer_had():
    model = mllib.NeuralNetwork(nodes=[3, 4, 1], activators=["relu", "sigmoid"],
                                keep_probs=[0.5, 0.5, 1])
    first, second = [layer for layer in model.layers if layer.frozen is False][:2]
    first.freeze()
    with model.frozen_masks():
        assert all(layer.frozen for layer in model.layers)
        with model.frozen_masks():
            pass
        assert all(layer.frozen for layer in model.layers)
    assert first.frozen and not second.frozen
