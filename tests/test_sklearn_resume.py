"""Ctrl-C during an estimator's fit: held to the end of the step, and resumed to the same bits.

The estimators' stochastic solvers run on mllib's training engine, so SIGINT
takes effect between two steps, the estimator keeps its model at that step
(with the epoch under way), and ``warm_start`` (or ``partial_fit``) goes on
from there to the bits of a run that was never interrupted. The SIGINT is
sent by the data itself: a sparse X whose row gathering, once per batch,
presses Ctrl-C at a chosen batch; or the verbose output at a chosen epoch.
"""

import io
import os
import signal
import sys

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_digits

from mllib.io import dumps_model
from mllib.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.same_bits

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)
X_DIGITS = X_DIGITS / 16.0


class CtrlCAtBatch(sparse.csr_matrix):
    """A CSR matrix whose ``press``-th gathering of a batch's rows sends SIGINT (a batch
    is gathered by an array of row numbers; prediction reads chunks by slices)."""

    press, calls = None, 0

    def __getitem__(self, key):
        CtrlCAtBatch.calls += isinstance(key, np.ndarray)
        if isinstance(key, np.ndarray) and CtrlCAtBatch.calls == CtrlCAtBatch.press:
            os.kill(os.getpid(), signal.SIGINT)
        return super().__getitem__(key)


@pytest.fixture
def python_sigint_handler():
    """Python's own SIGINT handler, whatever an earlier test left there."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def interrupted_at_batch(estimator, press, X, y):
    CtrlCAtBatch.press, CtrlCAtBatch.calls = press, 0
    with pytest.raises(KeyboardInterrupt):
        estimator.fit(CtrlCAtBatch(X), y)
    CtrlCAtBatch.press = None
    return estimator


def assert_same_fit(a, b):
    assert dumps_model(a.model_) == dumps_model(b.model_)
    assert a.loss_curve_ == b.loss_curve_ and a.n_iter_ == b.n_iter_ and a.t_ == b.t_


PARAMETERS = {
    "adam": dict(hidden_layer_sizes=(16,), max_iter=4, random_state=0),
    "sgd, invscaling, no shuffle": dict(hidden_layer_sizes=(16,), solver="sgd",
                                        learning_rate="invscaling", shuffle=False, max_iter=4,
                                        random_state=1),
    "early stopping, dropout": dict(hidden_layer_sizes=(16,), early_stopping=True,
                                    keep_prob=0.8, max_iter=5, random_state=2),
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", PARAMETERS)
def test_ctrl_c_mid_epoch_then_warm_start_gives_the_bits_of_one_fit(name,
                                                                    python_sigint_handler):
    params = PARAMETERS[name]
    X = sparse.csr_matrix(X_DIGITS)
    plain = MLPClassifier(**params).fit(X, Y_DIGITS)
    # 1,797 rows (1,617 with early stopping) in batches of 200: 9 per epoch; the 13th
    # gathering is the 4th batch of the second epoch.
    stopped = interrupted_at_batch(MLPClassifier(**params), 13, X_DIGITS, Y_DIGITS)
    assert stopped.n_iter_ == 1 and stopped.model_.epoch_ == 1
    assert stopped.model_.position_.done == 4        # the step under way finished
    stopped.set_params(warm_start=True).fit(X, Y_DIGITS)
    assert_same_fit(stopped, plain)


def test_ctrl_c_between_epochs_then_warm_start_gives_the_bits_of_one_fit(
        python_sigint_handler, monkeypatch):
    """The verbose line of the third epoch presses Ctrl-C; the regressor goes on."""
    X, y = X_DIGITS[:, :20], X_DIGITS[:, 20:24].sum(axis=1)
    params = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=8,
                  n_iter_no_change=100, random_state=3)

    class PressAtThirdEpoch(io.StringIO):
        def write(self, text):
            if text.startswith("Iteration 3,"):
                os.kill(os.getpid(), signal.SIGINT)
            return super().write(text)

    with pytest.warns(Warning, match="Maximum iterations"):
        plain = MLPRegressor(**params).fit(X, y)
    monkeypatch.setattr(sys, "stdout", PressAtThirdEpoch())
    stopped = MLPRegressor(verbose=True, **params)
    with pytest.raises(KeyboardInterrupt):
        stopped.fit(X, y)
    monkeypatch.undo()
    assert stopped.n_iter_ == 3 and stopped.model_.position_ is None
    with pytest.warns(Warning, match="Maximum iterations"):
        stopped.set_params(warm_start=True, verbose=False).fit(X, y)
    assert_same_fit(stopped, plain)


def test_ctrl_c_in_partial_fit_then_partial_fit_finishes_that_epoch(python_sigint_handler):
    classes, X = np.unique(Y_DIGITS), sparse.csr_matrix(X_DIGITS)
    plain = MLPClassifier((16,), random_state=4)
    for _ in range(2):
        plain.partial_fit(X, Y_DIGITS, classes=classes)
    stopped = MLPClassifier((16,), random_state=4)
    stopped.partial_fit(X, Y_DIGITS, classes=classes)
    CtrlCAtBatch.press, CtrlCAtBatch.calls = 5, 0
    with pytest.raises(KeyboardInterrupt):
        stopped.partial_fit(CtrlCAtBatch(X_DIGITS), Y_DIGITS)
    CtrlCAtBatch.press = None
    assert stopped.model_.position_.done == 5
    stopped.partial_fit(X, Y_DIGITS)
    assert dumps_model(stopped.model_) == dumps_model(plain.model_)
    assert stopped.loss_curve_ == plain.loss_curve_


def test_ctrl_c_then_a_fit_without_warm_start_starts_afresh(python_sigint_handler):
    params = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=5)
    with pytest.warns(Warning, match="Maximum iterations"):
        plain = MLPClassifier(**params).fit(X_DIGITS, Y_DIGITS)
    stopped = interrupted_at_batch(MLPClassifier(**params), 4, X_DIGITS, Y_DIGITS)
    with pytest.warns(Warning, match="Maximum iterations"):
        stopped.fit(X_DIGITS, Y_DIGITS)
    assert_same_fit(stopped, plain)
