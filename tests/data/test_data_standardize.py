import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import mllib.data.standardize as standardize_module
from mllib.data import Standardizer


def test_three_by_two_worked_by_hand():
    X = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 8.0]])
    # Column 0: μ = 3, σ² = (4 + 0 + 4)/3.  Column 1: μ = 4, σ² = (4 + 4 + 16)/3 = 8.
    scaler = Standardizer().fit(X)
    np.testing.assert_allclose(scaler.mean_, [3.0, 4.0], rtol=1e-15)
    np.testing.assert_allclose(scaler.scale_, [np.sqrt(8 / 3), np.sqrt(8)], rtol=1e-15)
    expected = np.array([[-2 / np.sqrt(8 / 3), -1 / np.sqrt(2)],
                         [0.0, -1 / np.sqrt(2)],
                         [2 / np.sqrt(8 / 3), np.sqrt(2)]])
    np.testing.assert_allclose(scaler.transform(X), expected, rtol=1e-14)


def test_test_data_uses_the_training_statistics():
    scaler = Standardizer().fit(np.array([[0.0], [2.0]]))      # μ = 1, σ = 1
    np.testing.assert_array_equal(scaler.transform(np.array([[3.0], [-1.0]])), [[2.0], [-2.0]])
    np.testing.assert_array_equal(scaler.mean_, [1.0])     # transform did not refit


def test_zero_variance_feature_gets_scale_one_and_maps_to_zero():
    X = np.array([[1.0, 0.1], [3.0, 0.1], [5.0, 0.1]])
    scaler = Standardizer().fit(X)          # warnings are errors here: no division by 0
    assert scaler.scale_[1] == 1.0
    np.testing.assert_array_equal(scaler.transform(X)[:, 1], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(scaler.transform(np.array([[0.0, 2.1]]))[:, 1], [2.0])


def test_matches_numpy_statistics_when_read_in_many_chunks(monkeypatch):
    monkeypatch.setattr(standardize_module, "CHUNK_VALUES", 7)   # 2 rows per chunk
    X = np.random.default_rng(0).normal(5.0, 3.0, size=(101, 4))
    scaler = Standardizer().fit(X)
    np.testing.assert_allclose(scaler.mean_, X.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(scaler.scale_, X.std(axis=0), rtol=1e-13)


def test_float32_stays_float32_and_ints_become_float64():
    X32 = np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32)
    scaler = Standardizer().fit(X32)
    assert scaler.mean_.dtype == np.float64
    assert scaler.transform(X32).dtype == np.float32
    assert scaler.inverse_transform(X32).dtype == np.float32
    Xi = np.array([[1, 2], [3, 6]])
    out = Standardizer().fit_transform(Xi)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[-1.0, -1.0], [1.0, 1.0]])


def test_transform_returns_a_new_array():
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    copy = X.copy()
    out = Standardizer().fit(X).transform(X)
    np.testing.assert_array_equal(X, copy)
    assert not np.shares_memory(out, X)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(deadline=None, max_examples=200)
@given(arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 5)), elements=finite))
def test_inverse_transform_undoes_transform(X):
    scaler = Standardizer().fit(X)
    back = scaler.inverse_transform(scaler.transform(X))
    np.testing.assert_allclose(back, X, rtol=1e-9, atol=1e-9 * (1 + np.abs(X).max()))


@settings(deadline=None, max_examples=100)
@given(arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 5)),
              elements=st.integers(-1000, 1000).map(float)))
def test_transformed_training_set_has_zero_mean_and_unit_std(X):
    Z = Standardizer().fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    constant = np.ptp(X, axis=0) == 0
    np.testing.assert_allclose(Z.std(axis=0)[~constant], 1.0, rtol=1e-12)
    np.testing.assert_array_equal(Z[:, constant], 0.0)


def test_state_round_trip_through_an_npz_file(tmp_path):
    X = np.random.default_rng(1).normal(size=(20, 3))
    scaler = Standardizer().fit(X)
    state = scaler.get_state()
    assert set(state) == {"mean", "scale"}
    np.savez(tmp_path / "s.npz", **state)
    with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
        loaded = Standardizer.from_state(dict(f))
    np.testing.assert_array_equal(loaded.transform(X), scaler.transform(X))
    state["mean"][0] = 99.0                 # get_state hands out copies
    assert scaler.mean_[0] != 99.0


def test_transform_before_fit_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"not fitted yet; call fit\(X_train\) first"):
        Standardizer().transform(np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardizer().get_state()


def test_bad_inputs_are_rejected():
    scaler = Standardizer().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="X has 3 features, but the Standardizer was fitted on 2"):
        scaler.transform(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"X must be 2-D \(n_samples, n_features\), got shape \(2,\)"):
        scaler.transform(np.zeros(2))
    with pytest.raises(ValueError, match="NaN or infinite"):
        Standardizer().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        Standardizer().fit(np.array([[1.0], [np.inf]]))
    with pytest.raises(ValueError, match="no samples"):
        Standardizer().fit(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="real numbers, got dtype <U1"):
        Standardizer().fit(np.array([["a"], ["b"]]))


@pytest.mark.parametrize("state, match", [
    ({"mean": np.zeros(2)}, r"missing \['scale'\]"),
    ({"mean": np.zeros(2), "scale": np.ones(3)}, r"shapes \(2,\) and \(3,\)"),
    ({"mean": np.zeros(2), "scale": np.array([1.0, 0.0])}, "finite positive scale"),
])
def test_from_state_rejects_bad_states(state, match):
    with pytest.raises(ValueError, match=match):
        Standardizer.from_state(state)
