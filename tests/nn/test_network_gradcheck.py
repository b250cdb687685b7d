"""Float64 gradient checks of whole networks (notes §6) with mllib.gradcheck.

What is covered
---------------
Depth 2–4 (at least one hidden layer), eight factors:

    hidden activation  sigmoid, tanh, relu, leaky_relu (β = 0.2), linear
    output / loss      sigmoid + BCE, softmax + CE, linear + squared error
    depth L            2, 3, 4
    batch size N       1, 2, 17
    bias               all layers, none, alternating
    regularization     none, L1, L2 (λ = 0.7)
    batch norm         none, every hidden layer, first hidden layer only
    dropout            none, hidden layers (keep 0.6), input (0.7) + hidden

The full product has 10,935 cases (about 5 minutes), so the cases are the rows
of a strength-3 covering array: every combination of levels of any THREE
factors (so, a fortiori, every pair) appears in at least one case
(test_covering_design_is_complete checks this). Depth 1 (no hidden layer, so
no hidden activation, batch norm or hidden dropout) is run as a full product
of output × bias × regularization × N × input dropout.

Widths are 2–4 units. Every pre-activation is kept at least 1e-3 away from
ReLU's kink, and every weight away from L1's kink (see _nn_testing.py).
With N = 2, batch norm normalizes each feature to ±√(v/(v+ε)), which hardly
depends on its input when ε ≪ v; the true gradient to everything before it
is then O(ε/v) and below what a central difference resolves, so those cases
use ε = 0.5, where it is O(1). N = 1 and N = 17 use the default ε = 1e-5.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mllib
from mllib.gradcheck import check_gradients
from mllib.nn import activations, regularizers
from mllib.nn.layers import batchnorm

from _nn_testing import (
    GRAD_TOL, build_case, covering_rows, network_gradcheck, uncovered_combinations,
)

FACTORS = {
    "hidden": ["sigmoid", "tanh", "relu", "leaky_relu", "linear"],
    "output": ["sigmoid", "softmax", "linear", "exp"],
    "depth": [2, 3, 4],
    "batch": [1, 2, 17],
    "bias": ["all", "none", "mixed"],
    "reg": ["none", "L1", "L2"],
    "bn": ["none", "all", "first"],
    "dropout": ["none", "hidden", "input+hidden"],
}
STRENGTH = 3
CASES = covering_rows(FACTORS, strength=STRENGTH, seed=0)


def _case_id(case):
    return "-".join(f"{k}={v}" for k, v in case.items())


def _assert_gradients_match(net, X, Y):
    errors, total, resolved = network_gradcheck(net, X, Y)
    assert set(errors) == set(net.parameters())
    assert total < GRAD_TOL, f"whole-network relative error {total:.3g}; per parameter {errors}"
    bad = {k: e for k, e in errors.items() if k in resolved and not e < GRAD_TOL}
    assert not bad, f"relative errors above {GRAD_TOL}: {bad} (all: {errors})"


def test_covering_design_is_complete():
    assert not uncovered_combinations(FACTORS, CASES, STRENGTH)
    # Far fewer cases than the full product, which is the point of the design.
    assert len(CASES) < np.prod([len(v) for v in FACTORS.values()]) / 50


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_network_gradients_match_central_differences(case):
    seed = CASES.index(case)
    net, X, Y = build_case(**case, seed=seed, bn_epsilon=0.5 if case["batch"] == 2 else 1e-5)
    _assert_gradients_match(net, X, Y)


DEPTH1 = list(itertools.product(["sigmoid", "softmax", "linear", "exp"], ["all", "none"],
                                ["none", "L1", "L2"], [1, 2, 17], ["none", "input"]))
# 4 × 2 × 3 × 3 × 2 = 144 small cases, the full product.


@pytest.mark.parametrize("output, bias, reg, batch, dropout", DEPTH1,
                         ids=["-".join(map(str, c)) for c in DEPTH1])
def test_one_layer_network_gradients(output, bias, reg, batch, dropout):
    seed = DEPTH1.index((output, bias, reg, batch, dropout))
    net, X, Y = build_case(hidden="linear", output=output, depth=1, batch=batch, bias=bias,
                           reg=reg, bn="none", dropout=dropout, seed=seed)
    _assert_gradients_match(net, X, Y)


# -- the checks can fail ----------------------------------------------------------

def _big_case(**overrides):
    case = dict(hidden="tanh", output="softmax", depth=3, batch=17, bias="all", reg="none",
                bn="none", dropout="none")
    case.update(overrides)
    return build_case(**case, seed=5)


def test_check_detects_a_wrong_activation_derivative(monkeypatch):
    net, X, Y = _big_case()
    assert max(check_gradients(net, X, Y, eps=1e-5).values()) < GRAD_TOL
    # tanh' = 1 − a², not 1 − a: the bug must show up in W1 and W2.
    monkeypatch.setattr(activations.Tanh, "backward", lambda self, a, d: d * (1.0 - a))
    errors = check_gradients(net, X, Y, eps=1e-5)
    assert errors["W1"] > 1e-2 and errors["W2"] > 1e-2
    assert errors["W3"] < GRAD_TOL  # the output layer does not go through tanh'


def test_check_detects_a_missing_regularization_gradient(monkeypatch):
    # The notes' own bug: λ/(2N)Σ|W|² in the cost, but not in the gradient.
    net, X, Y = _big_case(reg="L2")
    monkeypatch.setattr(regularizers.LpRegularizer, "add_gradient", lambda *args: None)
    errors = check_gradients(net, X, Y, eps=1e-5)
    assert min(errors[k] for k in ("W1", "W2", "W3")) > 1e-2
    assert max(errors[k] for k in ("b1", "b2", "b3")) < GRAD_TOL  # biases are not penalized


def test_check_detects_a_batch_norm_backward_without_the_variance_term(monkeypatch):
    net, X, Y = _big_case(bn="all")

    def backward_without_variance_term(self, delta):
        _, inv_std, centered = self._cache
        x_hat = centered * inv_std
        self.grads["gamma"][...] = (delta * x_hat).sum(axis=0)
        self.grads["beta"][...] = delta.sum(axis=0)
        return self.params["gamma"] * inv_std * (delta - delta.mean(axis=0))

    monkeypatch.setattr(batchnorm.BatchNorm, "backward", backward_without_variance_term)
    errors = check_gradients(net, X, Y, eps=1e-5)
    assert errors["W1"] > 1e-3


def test_check_holds_the_dropout_mask_fixed_and_releases_it():
    net, X, Y = _big_case(dropout="input+hidden")
    layers = [layer for layer in net.layers if isinstance(layer, mllib.nn.Dropout)]
    for layer in layers:
        layer.frozen = False
    errors = check_gradients(net, X, Y, eps=1e-5)
    # With a new mask per evaluation the cost would not be a function of the
    # parameters at all, and the errors would be of order 1.
    assert max(errors.values()) < GRAD_TOL
    assert not any(layer.frozen for layer in layers)
    before = [layer.mask.copy() for layer in layers]
    net.gradients(X, Y)
    assert any(not np.array_equal(b, layer.mask) for b, layer in zip(before, layers))
