"""The scikit-learn estimators word divergence as scikit-learn's MLP does (issue 11), and
with early stopping end training without an error, as it does (issue 19)."""

import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import mllib
from mllib.sklearn import LogisticRegression, MLPClassifier, MLPRegressor

from _sklearn_data import iris, no_convergence

SKLEARN = ("Solver produced non-finite parameter weights. The input data may contain large "
           "values and need to be preprocessed.")
RNG = np.random.default_rng(0)


def diverging(estimator, X, y, epoch):
    with pytest.raises(ValueError, match=re.escape(f"{SKLEARN} (at epoch {epoch})")) as caught:
        estimator.fit(X, y)
    cause = caught.value.__cause__
    assert isinstance(cause, mllib.DivergenceError) and cause.epoch == epoch
    assert f"at epoch {epoch}, batch" in str(cause)
    return caught.value


def test_inputs_near_float64s_limit_diverge_in_the_first_epoch():
    X = RNG.normal(size=(50, 3)) * 1e300
    y = RNG.normal(size=50)
    diverging(MLPRegressor((8,), dtype="float64", max_iter=5, random_state=0), X, y, 1)


def test_a_large_learning_rate_diverges_later():
    X = RNG.normal(size=(60, 3)) * 1e100
    y = X[:, 0] > 0
    clf = MLPClassifier((4,), dtype="float64", solver="sgd", learning_rate_init=1e3,
                        max_iter=50, random_state=0)
    error = diverging(clf, X, y, 2)
    assert not hasattr(clf, "model_")      # nothing fitted is left half-recorded
    assert error.__cause__.history.history["cost"]   # the first epoch was finished


def test_a_fit_that_does_not_diverge_is_unchanged():
    X = RNG.normal(size=(60, 3))
    with pytest.warns(ConvergenceWarning):
        clf = LogisticRegression(max_iter=3, random_state=0).fit(X, X[:, 0] > 0)
    assert clf.n_iter_ == 3 and np.isfinite(clf.loss_)


# -- with early stopping, as scikit-learn: no error, the best weights ------------------------

def diverging_regressor(**changes):
    """scikit-learn's own diverging case (its test_mlp_diverging_loss): a linear network
    trained by SGD at the rate 1."""
    settings = dict(hidden_layer_sizes=100, activation="identity", solver="sgd",
                    learning_rate_init=1.0, max_iter=20, early_stopping=True,
                    random_state=0)
    return MLPRegressor(**{**settings, **changes})


def test_with_early_stopping_divergence_ends_training_with_the_best_epochs_weights():
    X, y = iris()
    with pytest.warns(ConvergenceWarning, match=re.escape(SKLEARN) + r" \(at epoch (\d+)\) "
                      r"Early stopping ends training there and keeps the weights of its "
                      r"best validation score") as caught:
        reg = diverging_regressor().fit(X, y)
    epoch = int(re.search(r"at epoch (\d+)", str(caught[0].message)).group(1))
    assert len(caught) == 1
    assert reg.n_iter_ == epoch == len(reg.loss_curve_) == len(reg.validation_scores_)
    assert 1 < epoch < reg.max_iter        # some epochs were scored; it did not train on
    assert np.isnan(reg.loss_curve_[-1]) and np.isfinite(reg.loss_curve_[:-1]).all()
    last = reg.validation_scores_[-1]
    assert isinstance(last, float) and np.isnan(last)
    best = int(np.nanargmax(reg.validation_scores_))
    assert reg.best_validation_score_ == reg.validation_scores_[best]
    # Its weights are those of the best epoch: a fit stopped there by max_iter has them.
    twin = diverging_regressor(max_iter=best + 1)
    no_convergence(lambda: twin.fit(X, y))
    assert np.array_equal(reg.predict(X), twin.predict(X))


def by_hand_weights(estimator, sizes, value):
    """Weights assigned before the first fit, for a warm_start fit to start from."""
    estimator.coefs_ = [np.full((m, n), value) for m, n in zip(sizes, sizes[1:])]
    estimator.intercepts_ = [np.zeros(n) for n in sizes[1:]]
    return [c.copy() for c in estimator.coefs_]


def test_early_stopping_keeps_the_weights_it_started_from_if_the_first_epoch_diverges():
    X = RNG.normal(size=(50, 3)) * 1e300
    reg = MLPRegressor((8,), early_stopping=True, warm_start=True, random_state=0)
    start = by_hand_weights(reg, [3, 8, 1], 0.5)
    with pytest.warns(ConvergenceWarning, match=r"\(at epoch 1\) Early stopping ends training "
                                                r"there and keeps the weights that this fit "
                                                r"started from"):
        reg.fit(X, X[:, 0] * 0)
    assert reg.n_iter_ == 1 and np.isnan(reg.loss_curve_).all()
    assert np.isnan(reg.validation_scores_).all() and reg.best_validation_score_ == -np.inf
    assert all(np.array_equal(c, s) for c, s in zip(reg.coefs_, start))


def a_validation_row(make, X, y):
    """The index of a row that early stopping holds out, found through public behaviour:
    with weight on that row alone, the fit refuses training rows that are all 0."""
    for i in range(len(X)):
        w = np.zeros(len(X))
        w[i] = 1.0
        with pytest.raises(ValueError, match=r"sample_weight is 0 on every (\w+) row") as err:
            make().fit(X, y, sample_weight=w)
        if "every training row" in str(err.value):
            return i
    raise AssertionError("no row was held out")


def test_a_validation_score_of_outputs_that_overflow_is_nan_and_never_the_best():
    """Validation outputs that overflow score NaN, as in scikit-learn; the training goes on
    (NaN resets the count of epochs without improvement, as there), and with no epoch
    scored the weights the fit started from come back, as scikit-learn's initial ones."""
    X = RNG.normal(size=(40, 2))
    y = X[:, 0] - X[:, 1]

    def make():
        return MLPRegressor((8,), early_stopping=True, validation_fraction=0.2,
                            warm_start=True, n_iter_no_change=1, max_iter=4, random_state=0)

    i = a_validation_row(make, X, y)
    X[i] = 1e306                         # 8 units of 10 · 2e306 each: beyond float64
    reg = make()
    start = by_hand_weights(reg, [2, 8, 1], 10.0)
    no_convergence(lambda: reg.fit(X, y))
    assert reg.n_iter_ == 4 and np.isfinite(reg.loss_curve_).all()
    assert np.isnan(reg.validation_scores_).all() and reg.best_validation_score_ == -np.inf
    assert all(np.array_equal(c, s) for c, s in zip(reg.coefs_, start))


def test_weights_that_overflow_in_a_finite_step_are_divergence_too():
    """A step on finite gradients whose update overflows the weights (one full batch per
    epoch, at an absurd rate) is caught at the end of its epoch: the same error, or, with
    early stopping, the same quiet end."""
    X = RNG.normal(size=(50, 3))
    y = 1e5 * X[:, 0]
    settings = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=1e306,
                    max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # the optimizer's step overflows
        with pytest.raises(ValueError, match=re.escape(f"{SKLEARN} (at epoch 1)")) as caught:
            MLPRegressor(**settings).fit(X, y)
        assert "the weights are not finite after epoch 1" in str(caught.value.__cause__)
        reg = MLPRegressor(early_stopping=True, warm_start=True, **settings)
        start = by_hand_weights(reg, [3, 8, 1], 0.5)
        with pytest.warns(ConvergenceWarning, match=r"\(at epoch 1\) Early stopping"):
            reg.fit(X, y)
    assert reg.n_iter_ == 1 and np.isnan(reg.validation_scores_).all()
    assert all(np.array_equal(c, s) for c, s in zip(reg.coefs_, start))
