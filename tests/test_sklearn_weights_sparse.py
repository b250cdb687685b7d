"""mllib.sklearn with ``sample_weight`` and with sparse CSR/CSC X.

What a weight means is checked against what it stands for: an integer weight k is
the row repeated k times, a weight of 0 is the row left out, weights of 1 are no
weights. With one full batch per epoch (every fit here has fewer rows than the
"auto" batch of 200) the weighted and the repeated fits take the same steps in exact
arithmetic; in floating point the weighted cost adds w_j L_j once where the repeated
one adds L_j k times, in another order, so the two agree to rounding (1e-9 relative
after tens of steps), not to the bit. Weights of 1 take the unweighted code path, so
those fits agree to the bit, mini-batches and shuffling included.

A sparse X gives the dense fit's steps with SciPy's sparse × dense products, whose
sums run in another order than NumPy's: again equal to rounding, not to the bit.

Fits here stop at a few epochs on purpose; their ConvergenceWarning is silenced.
"""

import inspect
import tracemalloc
import warnings
from functools import lru_cache

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from mllib.sklearn import MLPClassifier, MLPRegressor, SoftmaxRegression

RTOL, ATOL = 1e-9, 1e-12


@lru_cache
def data(n=40, n_features=6):
    """Rows of which about two thirds of the entries are 0, 3 classes, a regression target."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(n, n_features)) * (rng.uniform(size=(n, n_features)) < 0.35)
    labels = rng.integers(0, 3, size=n)
    target = X @ rng.normal(size=n_features) + 0.1 * rng.normal(size=n)
    return X, labels, target


def y_for(Estimator):
    X, labels, target = data()
    return labels if Estimator is not MLPRegressor else target


def make(Estimator, solver, **extra):
    settings = dict(solver=solver, max_iter=15, random_state=0, learning_rate_init=0.01)
    if Estimator is not SoftmaxRegression:
        settings["hidden_layer_sizes"] = (5,)
    return Estimator(**{**settings, **extra})


def fit(estimator, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **kwargs)


def outputs(estimator, X):
    method = "predict_proba" if hasattr(estimator, "predict_proba") else "predict"
    return getattr(estimator, method)(X)


def assert_same_fit(ours, theirs, X, exact=False, iterations=True):
    compare = (np.testing.assert_array_equal if exact else
               lambda a, b: np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL))
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        compare(a, b)
    compare(outputs(ours, X), outputs(theirs, X))
    compare(np.asarray(ours.loss_curve_), np.asarray(theirs.loss_curve_))
    assert ours.n_iter_ == theirs.n_iter_ or not iterations


SOLVERS = pytest.mark.parametrize("Estimator, solver", [
    (MLPClassifier, "adam"), (MLPClassifier, "sgd"), (MLPClassifier, "lbfgs"),
    (MLPRegressor, "adam"), (MLPRegressor, "sgd"), (MLPRegressor, "lbfgs"),
    (SoftmaxRegression, "adam")])


# -- what a weight means ----------------------------------------------------------------

@SOLVERS
def test_integer_weights_are_repeated_rows(Estimator, solver):
    X, y = data()[0], y_for(Estimator)
    counts = np.random.default_rng(1).integers(1, 4, size=len(X))
    weighted = fit(make(Estimator, solver), X, y, sample_weight=counts)
    repeated = fit(make(Estimator, solver), np.repeat(X, counts, axis=0), np.repeat(y, counts))
    assert_same_fit(weighted, repeated, X)
    assert not np.array_equal(weighted.coefs_[0], fit(make(Estimator, solver), X, y).coefs_[0])


@SOLVERS
def test_zero_weights_are_rows_left_out(Estimator, solver):
    X, y = data()[0], y_for(Estimator)
    keep = np.random.default_rng(2).uniform(size=len(X)) < 0.6
    weighted = fit(make(Estimator, solver), X, y, sample_weight=keep.astype(float))
    dropped = fit(make(Estimator, solver), X[keep], y[keep])
    assert_same_fit(weighted, dropped, X)


@pytest.mark.parametrize("solver, extra", [
    ("adam", dict(batch_size=8)), ("sgd", dict(batch_size=8, learning_rate="invscaling")),
    ("adam", dict(batch_size=8, early_stopping=True, validation_fraction=0.2)),
    ("lbfgs", {})])
@pytest.mark.parametrize("ones", [np.ones(40), [1] * 40, 1, 1.0])
def test_weights_of_one_are_no_weights_to_the_bit(solver, extra, ones):
    X, y = data()[:2]
    weighted = fit(make(MLPClassifier, solver, **extra), X, y, sample_weight=ones)
    plain = fit(make(MLPClassifier, solver, **extra), X, y)
    assert_same_fit(weighted, plain, X, exact=True)
    assert weighted.validation_scores_ == plain.validation_scores_


def test_a_number_is_that_weight_on_every_row():
    X, y = data()[:2]
    by_number = fit(make(MLPClassifier, "adam"), X, y, sample_weight=2.5)
    by_rows = fit(make(MLPClassifier, "adam"), X, y, sample_weight=np.full(len(X), 2.5))
    assert_same_fit(by_number, by_rows, X, exact=True)


def test_a_batch_of_zero_weights_takes_no_step():
    """scikit-learn's loop would divide by the batch's Σw = 0; here the batch is skipped,
    so the fit is the one on the other batches (the same rows, in the same order)."""
    X, y = data()[:2]
    w = np.r_[np.zeros(8), np.ones(32)]
    settings = dict(batch_size=8, shuffle=False)
    weighted = fit(make(MLPClassifier, "adam", **settings), X, y, sample_weight=w)
    without = fit(make(MLPClassifier, "adam", **settings), X[8:], y[8:])
    assert_same_fit(weighted, without, X)
    assert np.isfinite(weighted.loss_curve_).all()


def test_partial_fit_takes_weights_in_scikit_learns_order():
    """partial_fit(X, y, sample_weight, classes): k calls are fit(max_iter=k), weighted."""
    X, y = data()[:2]
    w = np.random.default_rng(3).uniform(0.5, 2.0, size=len(X))
    settings = dict(solver="sgd", batch_size=8, tol=0.0, n_iter_no_change=np.inf)
    fitted = fit(make(MLPClassifier, **settings), X, y, sample_weight=w)
    partial = make(MLPClassifier, **settings)
    for _ in range(fitted.max_iter):
        partial.partial_fit(sparse.csr_array(X), y, w, np.unique(y))
    assert_same_fit(partial, fitted, X, iterations=False)
    assert partial.n_iter_ == 1 and partial.t_ == fitted.t_
    regressor = make(MLPRegressor, "adam").partial_fit(X, y_for(MLPRegressor), w)
    assert regressor.n_iter_ == 1


def test_early_stopping_scores_the_validation_rows_with_their_weights():
    X, y = data()[:2]
    w = np.random.default_rng(4).integers(1, 5, size=len(X)).astype(float)
    clf = fit(make(MLPClassifier, "adam", early_stopping=True, validation_fraction=0.25,
                   n_iter_no_change=3, learning_rate_init=0.05), X, y, sample_weight=w)
    rng = np.random.RandomState(0)     # the estimator's draws: the model's seed, then the split
    rng.randint(np.iinfo(np.int32).max)
    _, X_val, _, y_val, _, w_val = train_test_split(X, y, w, test_size=0.25, random_state=rng,
                                                    stratify=y)
    weighted, plain = clf.score(X_val, y_val, sample_weight=w_val), clf.score(X_val, y_val)
    assert weighted != plain
    assert clf.best_validation_score_ == max(clf.validation_scores_) == weighted


@pytest.mark.parametrize("ours, theirs", [(MLPClassifier, SkMLPClassifier),
                                          (MLPRegressor, SkMLPRegressor)])
@pytest.mark.parametrize("method", ["fit", "partial_fit", "score"])
def test_the_methods_take_scikit_learns_arguments_in_its_order(ours, theirs, method):
    def names(cls):
        return list(inspect.signature(getattr(cls, method)).parameters)
    assert names(ours) == names(theirs)


@pytest.mark.parametrize("weights, message", [
    (lambda n: np.r_[np.ones(n - 1), -2.0], r"sample_weight must be finite and >= 0, got -2\.0 "
                                            r"at row 39"),
    (lambda n: np.r_[np.nan, np.ones(n - 1)], "Input sample_weight contains NaN"),
    (lambda n: np.r_[np.inf, np.ones(n - 1)], "Input sample_weight contains infinity"),
    (lambda n: np.zeros(n), "sample_weight must contain at least one non-zero weight; got 0 "
                            "on all 40 rows"),
    (lambda n: 0, "sample_weight must contain at least one non-zero weight"),
    (lambda n: np.ones(n + 1), r"sample_weight\.shape == \(41,\), expected \(40,\)"),
    (lambda n: np.ones((n, 1)), r"sample_weight must be 1-D.*got shape \(40, 1\)"),
])
def test_bad_weights_are_value_errors_that_name_sample_weight(weights, message):
    X, y = data()[:2]
    clf = make(MLPClassifier, "adam")
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y, sample_weight=weights(len(X)))
    assert not hasattr(clf, "model_")


def test_all_weight_on_one_side_of_the_early_stopping_split_is_refused():
    X, y = data()[:2]
    clf = make(MLPClassifier, "adam", early_stopping=True, validation_fraction=0.25)
    rng = np.random.RandomState(0)
    rng.randint(np.iinfo(np.int32).max)
    train, _ = train_test_split(np.arange(len(X)), test_size=0.25, random_state=rng, stratify=y)
    w = np.zeros(len(X))
    w[train] = 1.0
    with pytest.raises(ValueError, match="sample_weight is 0 on every validation row"):
        clf.fit(X, y, sample_weight=w)


# -- sparse X ---------------------------------------------------------------------------

@pytest.mark.parametrize("to_sparse", [sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array,
                                       sparse.csc_array])
@pytest.mark.parametrize("Estimator, solver, extra", [
    (MLPClassifier, "sgd", dict(batch_size=8)), (MLPClassifier, "adam", dict(batch_size=8)),
    (MLPClassifier, "lbfgs", {}), (MLPRegressor, "adam", dict(batch_size=8)),
    (MLPRegressor, "lbfgs", {})])
def test_sparse_fits_are_the_dense_fit(to_sparse, Estimator, solver, extra):
    X, y = data()[0], y_for(Estimator)
    w = np.random.default_rng(5).uniform(0.2, 3.0, size=len(X))
    dense = fit(make(Estimator, solver, **extra), X, y, sample_weight=w)
    sparse_fit = fit(make(Estimator, solver, **extra), to_sparse(X), y, sample_weight=w)
    assert_same_fit(sparse_fit, dense, X)
    np.testing.assert_allclose(outputs(sparse_fit, to_sparse(X)), outputs(dense, X),
                               rtol=RTOL, atol=ATOL)
    assert sparse_fit.score(to_sparse(X), y) == pytest.approx(dense.score(X, y), abs=1e-12)


@pytest.mark.parametrize("to_sparse", [sparse.csr_array, sparse.csc_matrix])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_sparse_stays_float32(to_sparse, solver):
    X, y = data()[:2]
    X32 = to_sparse(X.astype(np.float32))
    clf = fit(make(MLPClassifier, solver), X32, y)
    assert clf.model_.dtype == np.float32
    assert {a.dtype for a in clf.coefs_ + clf.intercepts_} == {np.dtype(np.float32)}
    assert clf.predict_proba(X32).dtype == np.float32
    assert clf.predict_proba(to_sparse(X)).dtype == np.float32   # the model's dtype
    assert X32.dtype == np.float32 and X32.format == to_sparse(X).format   # left as given


def test_a_wide_sparse_X_is_never_densified():
    """2000 × 200 000 at 8000 stored values: dense it would be 3.2 GB (float64)."""
    n, width = 2000, 200_000
    rng = np.random.default_rng(6)
    X = sparse.random(n, width, density=2e-5, format="csr", random_state=rng)
    y = rng.integers(0, 2, size=n)
    clf = make(MLPClassifier, "adam", batch_size=500, max_iter=2)
    dense_bytes = n * width * 8
    tracemalloc.start()
    try:
        fit(clf, X, y, sample_weight=rng.uniform(size=n))
        clf.predict_proba(X.tocsc())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The weights, their gradients and Adam's two moments: 4 arrays of 5 × 200 000 floats,
    # 32 MB; the whole fit and prediction stay within twice that, 1/50 of the dense X.
    parameters = 4 * 5 * width * 8
    assert clf.n_features_in_ == width and clf.n_iter_ == 2
    assert peak < 2 * parameters <= dense_bytes / 50, (peak, parameters)
