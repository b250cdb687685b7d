"""mllib.sklearn as a drop-in for scikit-learn's MLP: the behaviour that scikit-learn's own
MLP tests check, written again from that behaviour, and run against mllib's estimators.

Fits that are meant to stop early converge within their budget; those that are not say so
with ``pytest.warns(ConvergenceWarning)``, since warnings are errors in this suite.
"""

import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.utils._param_validation import InvalidParameterError

from mllib.optim import Momentum
from mllib.sklearn import MLPClassifier, MLPRegressor
from mllib.sklearn._base import make_optimizer

from _sklearn_data import (descend_quadratic, iris, no_convergence,  # noqa: F401 (the fixture)
                           one_blas_thread, wave)

# Every fit here is small: BLAS on one thread (see _sklearn_data.one_blas_thread).
pytestmark = pytest.mark.usefixtures("one_blas_thread")


# -- partial_fit ---------------------------------------------------------------------

@pytest.mark.parametrize("Estimator, data, bar", [(MLPClassifier, iris, 0.9),
                                                   (MLPRegressor, wave, 0.65)])
def test_partial_fit_calls_are_the_epochs_of_fit(Estimator, data, bar):
    """k calls of partial_fit take exactly the steps of fit(max_iter=k) from the same seed."""
    X, y = data()
    settings = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.05,
                    batch_size=32, tol=0.0, n_iter_no_change=np.inf, random_state=3)
    fitted = no_convergence(lambda: Estimator(max_iter=15, **settings).fit(X, y))
    partial = Estimator(**settings)
    extra = {"classes": np.unique(y)} if Estimator is MLPClassifier else {}
    for _ in range(15):
        partial.partial_fit(X, y, **extra)
    assert partial.n_iter_ == 1 and partial.t_ == 15 * len(X) == fitted.t_
    for ours, theirs in zip(partial.coefs_ + partial.intercepts_,
                            fitted.coefs_ + fitted.intercepts_):
        np.testing.assert_array_equal(ours, theirs)
    assert partial.loss_curve_ == fitted.loss_curve_
    assert partial.score(X, y) > bar


def test_partial_fit_learns_a_class_seen_only_in_later_calls():
    X, y = iris()
    clf = MLPClassifier((16,), learning_rate_init=0.02, random_state=0)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert clf.n_outputs_ == 3 and clf.out_activation_ == "softmax"
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    for _ in range(60):
        clf.partial_fit(X, y)
    assert clf.score(X, y) > 0.9 and clf.t_ == 100 + 60 * 150


def test_partial_fit_refuses_what_scikit_learn_refuses():
    X, y = iris()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifier().partial_fit(X, y)
    clf = MLPClassifier((4,), random_state=0).partial_fit(X[y < 2], y[y < 2], classes=[0, 1])
    with pytest.raises(ValueError, match=re.escape("`y` has classes not in `self.classes_`. "
                                                   "`self.classes_` has [0 1]. 'y' has [0 1 2].")):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match=r"`classes=\[0, 1, 2\]` is not the same as on last call"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        MLPRegressor(early_stopping=True).partial_fit(*wave())
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'"):
        MLPRegressor(solver="lbfgs").partial_fit(*wave())


# -- warm start ------------------------------------------------------------------------

def test_warm_start_continues_and_warns_each_time_it_stops_at_max_iter():
    X, y = iris()
    clf = MLPClassifier((8,), warm_start=True, max_iter=10, n_iter_no_change=np.inf,
                        random_state=0)
    no_convergence(lambda: clf.fit(X, y))
    first, curve = clf.coefs_[0].copy(), list(clf.loss_curve_)
    assert clf.n_iter_ == 10
    clf.set_params(max_iter=20)
    no_convergence(lambda: clf.fit(X, y))
    assert clf.n_iter_ == 20 and len(clf.loss_curve_) == 30
    assert clf.loss_curve_[:10] == curve and clf.loss_curve_[10] < curve[0]
    assert not np.array_equal(clf.coefs_[0], first)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same "
                                         "classes"):
        clf.fit(X[y < 2], y[y < 2])


def test_without_warm_start_fit_starts_again():
    X, y = iris()
    clf = MLPClassifier((8,), max_iter=5, random_state=0)
    no_convergence(lambda: clf.fit(X, y))
    once = [c.copy() for c in clf.coefs_]
    no_convergence(lambda: clf.fit(X, y))
    assert len(clf.loss_curve_) == 5
    for a, b in zip(once, clf.coefs_):
        np.testing.assert_array_equal(a, b)


# -- multilabel and multi-output ------------------------------------------------------

def test_multilabel_gets_a_sigmoid_per_column():
    X, Y = make_multilabel_classification(n_samples=100, n_features=10, n_classes=5,
                                          random_state=0)
    clf = MLPClassifier((50,), solver="lbfgs", max_iter=300, tol=1e-4, random_state=0)
    clf.fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 5
    np.testing.assert_array_equal(clf.classes_, np.arange(5))
    proba = clf.predict_proba(X)
    assert proba.shape == (100, 5) and not np.allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), (proba > 0.5).astype(int))
    assert clf.score(X, Y) > 0.97    # subset accuracy, as scikit-learn's score


def test_multilabel_with_sgd_and_partial_fit():
    X, Y = make_multilabel_classification(n_samples=100, n_features=10, n_classes=4,
                                          random_state=1)
    clf = MLPClassifier((32,), learning_rate_init=0.01, random_state=0)
    for _ in range(150):
        clf.partial_fit(X, Y, classes=np.arange(4))
    assert clf.predict(X).shape == (100, 4)
    assert np.mean(clf.predict(X) == Y) > 0.9


def test_multi_output_regression():
    X, Y = make_regression(n_samples=200, n_features=10, n_targets=5, random_state=0)
    reg = MLPRegressor((32,), solver="lbfgs", max_iter=200, tol=1e-4, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, Y)
    assert reg.n_outputs_ == 5 and reg.out_activation_ == "identity"
    assert reg.predict(X).shape == (200, 5) and reg.score(X, Y) > 0.9


# -- dtypes ------------------------------------------------------------------------

@pytest.mark.parametrize("Estimator, data", [(MLPClassifier, iris), (MLPRegressor, wave)])
def test_float32_stays_float32_and_float64_stays_float64(Estimator, data):
    X, y = data()
    settings = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=0)
    fitted = {}
    for dtype in (np.float32, np.float64):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = Estimator(**settings).fit(X.astype(dtype), y)
        assert all(c.dtype == dtype for c in est.coefs_ + est.intercepts_)
        out = est.predict_proba(X) if Estimator is MLPClassifier else est.predict(X)
        assert out.dtype == dtype
        fitted[dtype] = est
    # The same fit in either precision, as far as float32 can follow 30 L-BFGS steps.
    np.testing.assert_allclose(fitted[np.float32].predict(X), fitted[np.float64].predict(X),
                               rtol=0, atol=0 if Estimator is MLPClassifier else 1e-2)
    # Integer X is not float32: it is trained in float64.
    assert Estimator(**settings, dtype=None).get_params()["dtype"] is None


# -- fitted attributes ----------------------------------------------------------------

def test_coefs_and_intercepts_are_views_in_scikit_learns_layout():
    X, y = iris()
    clf = MLPClassifier((7, 5), solver="lbfgs", max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(4, 7), (7, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [(7,), (5,), (3,)]
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3
    params = clf.model_.parameters()
    assert np.shares_memory(clf.coefs_[0], params["W1"])
    np.testing.assert_array_equal(clf.coefs_[2], params["W3"].T)
    # scikit-learn's forward pass on coefs_ and intercepts_ gives predict_proba.
    a = X
    for W, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1]):
        a = np.maximum(a @ W + b, 0)
    z = a @ clf.coefs_[-1] + clf.intercepts_[-1]
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(clf.predict_proba(X), expected / expected.sum(1, keepdims=True),
                               rtol=1e-12)
    clf.intercepts_[2][:] = [0.0, 0.0, 1e6]              # writes into the network
    assert set(clf.predict(X)) == {2}
    clf.coefs_ = [np.zeros((4, 7)), np.zeros((7, 5)), np.zeros((5, 3))]
    assert not clf.model_.parameters()["W2"].any()
    with pytest.raises(ValueError, match=r"coefs_\[1\] must have shape \(7, 5\), got \(5, 7\)"):
        clf.coefs_ = [np.zeros((4, 7)), np.zeros((5, 7)), np.zeros((5, 3))]


def test_output_attributes_follow_the_task():
    X, y = iris()
    binary = MLPClassifier((3,), solver="lbfgs", max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        binary.fit(X[y < 2], y[y < 2])
    assert (binary.out_activation_, binary.n_outputs_, binary.n_layers_) == ("logistic", 1, 3)
    assert not hasattr(MLPClassifier(), "coefs_")
    bn = MLPClassifier((3,), batch_norm=True, max_iter=2, random_state=0)
    with pytest.warns(ConvergenceWarning):
        bn.fit(X, y)
    with pytest.raises(AttributeError, match="not defined for batch_norm=True"):
        bn.coefs_


# -- learning rates, momentum, shuffling ---------------------------------------------

def test_invscaling_divides_the_rate_by_rows_seen():
    """α = α0/(t + 1)^power_t after each epoch, t the rows seen: the network's history logs
    the rate each epoch took, and partial_fit goes on at the rate that fit left."""
    X, y = iris()
    clf = MLPClassifier((4,), solver="sgd", learning_rate="invscaling", power_t=0.25,
                        learning_rate_init=0.1, max_iter=3, n_iter_no_change=np.inf,
                        random_state=0)
    no_convergence(lambda: clf.fit(X, y))
    assert clf.t_ == 450
    # The history logs the rate the optimizer takes: scikit-learn's α times 1/(1 − μ) for
    # "sgd" with momentum μ (mllib.sklearn._base.make_optimizer).
    factor = 1.0 / (1.0 - clf.momentum)
    assert clf.model_.history_.history["lr"] == [
        0.1 * factor, 0.1 / 151 ** 0.25 * factor, 0.1 / 301 ** 0.25 * factor]
    clf.partial_fit(X, y)
    assert clf.t_ == 600
    assert clf.model_.history_.history["lr"][3:] == [0.1 / 451 ** 0.25 * factor]


def test_adaptive_divides_by_five_until_one_millionth(capsys):
    """With tol so large that no epoch improves on the one before (the first one does,
    on the best cost of +inf), every second epoch after the first (n_iter_no_change=1)
    divides α by 5: 0.1/5⁸ = 2.6e-7 is the first rate at most 1e-6, and the next
    trigger stops: 9 triggers, so 1 + 18 epochs."""
    X, y = iris()
    clf = MLPClassifier((4,), solver="sgd", learning_rate="adaptive", learning_rate_init=0.1,
                        tol=1e9, n_iter_no_change=1, max_iter=100, verbose=True,
                        random_state=0).fit(X, y)
    factor = 1.0 / (1.0 - clf.momentum)
    rates = [0.1 / 5 ** k * factor for k in range(9)]
    assert clf.n_iter_ == 19
    assert clf.model_.history_.history["lr"] == pytest.approx(
        [rates[0]] * 3 + [r for r in rates[1:] for _ in range(2)], rel=1e-15)
    out = capsys.readouterr().out
    assert out.count("Setting learning rate to") == 8
    assert out.rstrip().endswith("Learning rate too small. Stopping.")


@pytest.mark.parametrize("solver", ["sgd", "momentum", "rmsprop", "gd"])
def test_optimizer_shows_the_rate_as_scikit_learns_does(solver):
    """scikit-learn's users read the rate from its private ``_optimizer.learning_rate``:
    the estimators show the same number, α in scikit-learn's units, read-only."""
    X, y = iris()
    clf = MLPClassifier((4,), solver=solver, learning_rate="invscaling", power_t=0.5,
                        learning_rate_init=0.1, max_iter=2, n_iter_no_change=np.inf,
                        random_state=0)
    with pytest.raises(AttributeError):
        clf._optimizer
    no_convergence(lambda: clf.fit(X, y))
    view = clf._optimizer
    assert (view.learning_rate_init, view.learning_rate) == (0.1, 0.1 / 301 ** 0.5)
    with pytest.raises(AttributeError):
        view.learning_rate = 1.0
    with pytest.raises(AttributeError):
        MLPClassifier((4,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)._optimizer


def test_adams_rate_is_shown_with_scikit_learns_bias_correction():
    """scikit-learn's Adam reports α √(1 − β2^t)/(1 − β1^t) after t steps; so does the view,
    with t the steps taken (150 rows in batches of 50, 2 epochs: 6)."""
    X, y = iris()
    clf = MLPClassifier((4,), learning_rate_init=0.01, batch_size=50, max_iter=2,
                        beta_1=0.8, beta_2=0.99, random_state=0)
    no_convergence(lambda: clf.fit(X, y))
    assert clf._optimizer.learning_rate == pytest.approx(
        0.01 * np.sqrt(1 - 0.99 ** 6) / (1 - 0.8 ** 6), rel=1e-15)
    theirs = SkMLPClassifier((4,), learning_rate_init=0.01, batch_size=50, max_iter=2,
                             beta_1=0.8, beta_2=0.99, random_state=0)
    no_convergence(lambda: theirs.fit(X, y))
    assert clf._optimizer.learning_rate == pytest.approx(theirs._optimizer.learning_rate,
                                                         rel=1e-15)


def test_sgd_with_nesterov_is_scikit_learns_update():
    """solver="sgd", nesterovs_momentum=True: v = μ v − α g, θ += μ v − α g."""
    optimizer, rate = make_optimizer("sgd", 0.05, 0.9, 0.9, None, 1e-8, nesterov=True)
    assert isinstance(optimizer, Momentum) and optimizer.nesterov and rate == pytest.approx(0.05 / 0.1)

    def nesterov(expected, velocity, g):
        velocity = 0.9 * velocity - 0.05 * g
        return expected + 0.9 * velocity - 0.05 * g, velocity

    theta, expected = descend_quadratic(optimizer, rate, 25, nesterov)
    np.testing.assert_allclose(theta, expected, rtol=1e-12, atol=1e-14)
    assert MLPClassifier().nesterovs_momentum is True


def test_shuffle_changes_minibatch_training_but_not_full_batch():
    X, y = iris()

    def fit(shuffle, batch_size):
        clf = MLPClassifier((5,), shuffle=shuffle, batch_size=batch_size, max_iter=3,
                            random_state=0)
        return no_convergence(lambda: clf.fit(X, y)).coefs_[0]

    assert not np.array_equal(fit(True, 16), fit(False, 16))
    np.testing.assert_array_equal(fit(True, 150), fit(False, 150))


# -- messages and verbose output -------------------------------------------------------

def test_verbose_prints_scikit_learns_lines_to_stdout(capsys):
    X, y = iris()
    clf = MLPClassifier((4,), max_iter=3, verbose=True, random_state=0)
    no_convergence(lambda: clf.fit(X, y))
    clf.partial_fit(X, y)
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert err == "" and len(lines) == 4
    for n, line in zip([1, 2, 3, 1], lines):
        assert re.fullmatch(rf"Iteration {n}, loss = \d+\.\d{{8}}", line), line
    assert float(lines[2].split("= ")[1]) == pytest.approx(clf.loss_curve_[2], abs=5e-9)


def test_verbose_early_stopping_lines(capsys):
    X, y = iris()
    MLPClassifier((8,), early_stopping=True, learning_rate_init=0.05, n_iter_no_change=2,
                  max_iter=200, verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"Validation score: \d\.\d{6}", lines[1])
    assert lines[-1] == ("Validation score did not improve more than tol=0.000100 for 2 "
                         "consecutive epochs. Stopping.")


def test_validation_set_too_small_in_scikit_learns_words():
    X, y = wave(10)
    with pytest.raises(ValueError, match="The validation set is too small. Increase "
                                         "'validation_fraction'"):
        MLPRegressor(early_stopping=True, validation_fraction=0.1).fit(X, y)


def test_stratified_early_stopping_names_the_label():
    X = np.arange(40.0).reshape(20, 2)
    with pytest.raises(ValueError, match=r"Classes with too few members are: \['rare'\]"):
        MLPClassifier(early_stopping=True, validation_fraction=0.2).fit(X, ["a"] * 19 + ["rare"])


@pytest.mark.parametrize("estimator, name, why", [
    (MLPClassifier(momentum=1.0), "momentum", "never learns at β = 1"),
])
def test_values_scikit_learn_takes_but_a_notes_network_cannot(estimator, name, why):
    X, y = iris()
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of "
                                                    f"{type(estimator).__name__}.*{why}"):
        estimator.fit(X, y)


def test_lr_decay_needs_a_constant_learning_rate():
    with pytest.raises(ValueError, match="lr_decay='rational:1.0' is a schedule of its own"):
        MLPRegressor(lr_decay="rational:1.0", learning_rate="adaptive").fit(*wave())


def test_a_batch_larger_than_the_data_warns_as_scikit_learn():
    X, y = iris()
    with pytest.warns(UserWarning, match="batch_size.*It is going to be clipped"):
        MLPClassifier((4,), batch_size=1000, tol=1e3, random_state=0).fit(X, y)


@pytest.mark.parametrize("Estimator, Theirs, data", [
    (MLPClassifier, SkMLPClassifier, iris),
    (MLPRegressor, __import__("sklearn.neural_network").neural_network.MLPRegressor, wave)])
def test_every_parameter_and_fitted_attribute_of_scikit_learns_mlp(Estimator, Theirs, data):
    X, y = data()
    assert set(Theirs().get_params()) <= set(Estimator().get_params())
    settings = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = Theirs(**settings).fit(X, y)
        ours = Estimator(**settings).fit(X, y)
    fitted = {name for name in dir(theirs) if name.endswith("_") and not name.startswith("_")
              and hasattr(theirs, name)}
    assert fitted and {name for name in fitted if not hasattr(ours, name)} == set()
    methods = {name for name in dir(theirs) if not name.startswith("_")
               and callable(getattr(theirs, name)) and not name.startswith("set_")}
    assert {name for name in methods if not hasattr(ours, name)} == set()


def test_warm_start_from_lbfgs_to_adam_continues_the_weights():
    X, y = iris()
    clf = MLPClassifier((6,), solver="lbfgs", warm_start=True, max_iter=200, tol=1e-3,
                        random_state=0).fit(X, y)
    before = clf.score(X, y)
    curve = list(clf.loss_curve_)
    clf.set_params(solver="adam", learning_rate_init=1e-4, max_iter=3)
    no_convergence(lambda: clf.fit(X, y))
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3
    assert abs(clf.score(X, y) - before) <= 0.02 and clf.loss_curve_[0] < curve[0]
