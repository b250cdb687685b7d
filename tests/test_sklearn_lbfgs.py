"""mllib.sklearn's solver="lbfgs": SciPy's L-BFGS-B over the network's flat parameters,
checked against the behaviour of scikit-learn's own lbfgs MLP."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from mllib.sklearn import MLPClassifier, MLPRegressor
from mllib.sklearn._lbfgs import objective

from _sklearn_data import digits, iris, one_blas_thread, wave  # noqa: F401 (the fixture)

# Every fit here is small: BLAS on one thread (see _sklearn_data.one_blas_thread).
pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
def test_lbfgs_classifies_digits(activation):
    X, y = digits()
    clf = MLPClassifier((50,), activation=activation, solver="lbfgs", max_iter=150,
                        tol=1e-3, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.95
    assert 0 < clf.n_iter_ <= 150 and clf.loss_ == pytest.approx(clf.loss_curve_[-1])


@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
def test_lbfgs_regression(activation):
    X, y = wave()
    reg = MLPRegressor((32,), activation=activation, solver="lbfgs", max_iter=300,
                       tol=1e-6, random_state=0)
    with warnings.catch_warnings():   # may stop at max_iter: only its R² is the point here
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    assert reg.score(X, y) > 0.95


def test_lbfgs_stops_at_max_fun_and_warns():
    X, y = digits()
    with pytest.warns(ConvergenceWarning, match=r"lbfgs failed to converge.*max_fun=8"):
        clf = MLPClassifier((20,), solver="lbfgs", max_fun=8, random_state=0).fit(X, y)
    assert clf.n_iter_ < 8


def test_lbfgs_matches_scikit_learns_loss_on_digits_in_as_many_iterations():
    """The digits data, tanh (32,), alpha=1, tol=1e-4, each with its own seed-0 init.

    Measured with scikit-learn 1.9.1: scikit-learn stops on tol after 58 iterations at
    J = 0.03948; mllib after 63 at 0.9905 times that. Given 1.2 x 58 = 69 iterations at
    most, mllib must reach scikit-learn's J within 1 %.
    """
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    settings = dict(hidden_layer_sizes=(32,), activation="tanh", solver="lbfgs", alpha=1.0,
                    tol=1e-4, random_state=0)
    theirs = SkMLPClassifier(max_iter=400, **settings).fit(X, y)
    assert theirs.n_iter_ < 400
    budget = int(1.2 * theirs.n_iter_)
    with warnings.catch_warnings():   # stopping at the budget is allowed
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(max_iter=budget, **settings).fit(X, y)
    assert ours.n_iter_ <= budget
    assert ours.loss_ <= 1.01 * theirs.loss_, (ours.loss_, theirs.loss_)
    assert ours.loss_ >= 0.95 * theirs.loss_   # the same J, not another one


def test_lbfgs_refuses_dropout_and_batch_norm_and_says_why():
    X, y = iris()
    with pytest.raises(InvalidParameterError, match="'keep_prob' parameter.*dropout makes"):
        MLPClassifier(solver="lbfgs", keep_prob=0.5).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'batch_norm' parameter.*running stat"):
        MLPClassifier(solver="lbfgs", batch_norm=True).fit(X, y)


def test_lbfgs_on_huge_inputs_fails_with_scikit_learns_value_error():
    X = np.random.default_rng(0).normal(size=(50, 3)) * 1e300
    with pytest.raises(ValueError, match=r"Solver produced non-finite parameter weights\..*"
                                         r"\(at L-BFGS iteration \d+\)"):
        MLPRegressor((8,), solver="lbfgs", max_iter=5, random_state=0).fit(X, X[:, 0] * 0)


def test_lbfgs_verbose_prints_one_line_per_iteration(capsys):
    X, y = iris()
    clf = MLPClassifier((4,), solver="lbfgs", max_iter=5, verbose=True, random_state=0)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        clf.fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [f"Iteration {n}" for n in range(1, 6)]
    assert float(lines[-1].split("= ")[1]) == pytest.approx(clf.loss_, abs=5e-9)


@pytest.mark.parametrize("n_labels", [2, 3])
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_lbfgs_minimizes_a_cost_whose_gradient_is_right(activation, n_labels):
    """The check of scikit-learn's test_gradient, on mllib's own L-BFGS objective (that test
    calls scikit-learn's private _loss_grad_lbfgs): ∇J over the flat parameter vector
    against central differences, on its data (5 rows, 10 features, 2 or 3 classes), its
    network (10 hidden units, alpha=1e-5, one iteration of fitting) and its tolerance."""
    rng = np.random.RandomState(42)
    X = rng.rand(5, 10)
    y = 1 + np.mod(np.arange(5) + 1, n_labels)
    clf = MLPClassifier(10, activation=activation, solver="lbfgs", alpha=1e-5, max_iter=1,
                        random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    net = clf.model_
    Y = net.targets_.transform(y, net.config["nodes"][-1], net.dtype)
    cost_and_gradient = objective(net, net.batch_input(X, slice(None)), Y)
    theta = net.store.values.astype(np.float64)
    _, grad = cost_and_gradient(theta.copy())
    step = 1e-5 * np.eye(theta.size)
    numeric = [(cost_and_gradient(theta + e)[0] - cost_and_gradient(theta - e)[0]) / 2e-5
               for e in step]
    np.testing.assert_almost_equal(numeric, grad, decimal=7)
