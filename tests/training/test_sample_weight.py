"""Sample weights in the cost, its gradient and the fit loop.

The weighted cost, as scikit-learn's MLP normalizes it, is

    J = Σ_j w_j L_j / Σ_j w_j + λ/(2 Σ_j w_j) Σ_l Σ |W[l]|^p,

with the output delta w_j (a_j − y_j)/Σw. Checked here: by hand on tiny
examples, against central differences and PyTorch's autograd in float64,
by the identities it must satisfy (integer weights repeat rows, zero
weights drop them, all ones are no weights, bit for bit), and in ``fit``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mllib
from mllib.gradcheck import check_gradients

F = torch.nn.functional
GRAD_TOL = 1e-7


def _data(n=9, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.uniform(0.0, 3.0, size=n)


# -- by hand ------------------------------------------------------------------------

def test_weighted_squared_error_and_l2_penalty_by_hand():
    # a = x·w + b with w = (1, 2), b = 0.5; rows (1, 0), (0, 1), (1, 1).
    net = mllib.NeuralNetwork(nodes=[2, 1], activators=["linear"], lp_reg=2, lambda_=0.6,
                              dtype="float64")
    net.set_weights({"W1": np.array([[1.0, 2.0]]), "b1": np.array([0.5])})
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([1.0, 2.0, 4.0])        # residuals a − y = 0.5, 0.5, −0.5
    w = np.array([1.0, 3.0, 2.0])        # Σw = 6
    # J = (1·½·0.25 + 3·½·0.25 + 2·½·0.25)/6 + 0.6/(2·6)·(1 + 4) = 0.125 + 0.25
    cost, grads = net.gradients(X, y, sample_weight=w)
    assert cost == pytest.approx(0.375, rel=1e-15)
    # ∂J/∂W = Σ_j w_j r_j x_j / Σw + (λ/Σw) W = (0.5·1 − 1, 1.5 − 1)/6 + 0.1·(1, 2)
    np.testing.assert_allclose(grads["W1"], [[-0.5 / 6 + 0.1, 0.5 / 6 + 0.2]], rtol=1e-14)
    np.testing.assert_allclose(grads["b1"], [(0.5 + 1.5 - 1.0) / 6], rtol=1e-14)


def test_weighted_cross_entropies_by_hand():
    rng = np.random.default_rng(1)
    X, w = rng.normal(size=(5, 2)), np.array([0.5, 2.0, 0.0, 1.0, 4.0])
    for output, y in (("sigmoid", np.array([0, 1, 1, 0, 1])),
                      ("softmax", np.array([0, 2, 1, 1, 2]))):
        net = mllib.NeuralNetwork(nodes=[2, 1 if output == "sigmoid" else 3],
                                  activators=[output], dtype="float64", seed=2)
        a = net.forward(X)
        if output == "sigmoid":
            losses = -(y * np.log(a[:, 0]) + (1 - y) * np.log(1 - a[:, 0]))
        else:
            losses = -np.log(a[np.arange(5), y])
        assert net.cost(X, y, sample_weight=w) == pytest.approx(w @ losses / w.sum(), rel=1e-13)


# -- gradient checks ------------------------------------------------------------------

GRAD_CASES = [
    dict(nodes=[3, 4, 3], activators=["tanh", "softmax"], lp_reg=2, lambda_=0.3),
    dict(nodes=[3, 4, 2], activators=["sigmoid", "sigmoid"], lp_reg=1, lambda_=0.2),
    dict(nodes=[3, 5, 4, 2], activators=["tanh", "sigmoid", "linear"], batch_norm=True,
         bn_epsilon=0.5, keep_probs=[1.0, 0.7, 0.8, 1.0]),
    dict(nodes=[3, 4, 2], activators=["tanh", "exp"], lp_reg=2, lambda_=0.3),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: "-".join(c["activators"]))
def test_weighted_gradients_match_central_differences(case):
    net = mllib.NeuralNetwork(**case, dtype="float64", seed=3)
    rng = np.random.default_rng(4)
    for array in net.parameters().values():   # nonzero biases and β, W away from L1's kink
        array += rng.choice([-1, 1], size=array.shape) * rng.uniform(0.2, 0.5, array.shape)
    X = rng.normal(size=(11, 3))
    n_out = case["nodes"][-1]
    kind = case["activators"][-1]
    y = (rng.integers(0, n_out, 11) if kind == "softmax" else
         rng.integers(0, 2, (11, n_out)) if kind == "sigmoid" else
         rng.poisson(1.5, (11, n_out)) if kind == "exp" else rng.normal(size=(11, n_out)))
    w = rng.uniform(0.0, 3.0, 11)
    w[[2, 7]] = 0.0
    errors = check_gradients(net, X, y, eps=1e-6, sample_weight=w)
    assert max(errors.values()) < GRAD_TOL, errors


def test_the_gradient_check_sees_unweighted_deltas(monkeypatch):
    # The check can fail: a delta that forgets the weights is caught.
    from mllib.nn import losses
    net = mllib.NeuralNetwork(**GRAD_CASES[0], dtype="float64", seed=3)
    X, w = _data(11, 3, seed=5)
    y = np.arange(11) % 3
    monkeypatch.setattr(losses, "row_factors",
                        lambda sw, dtype: np.full((len(sw), 1), 1.0 / len(sw), dtype))
    assert max(check_gradients(net, X, y, sample_weight=w).values()) > 1e-3


def _torch_weighted_cost(net, X, Y, w):
    """J of a dense tanh network with its output loss, weighted, with the L2 penalty."""
    cfg = net.config
    leaves = {k: torch.tensor(v, requires_grad=True) for k, v in net.parameters().items()}
    h = torch.tensor(X)
    L = len(cfg["nodes"]) - 1
    for l in range(1, L + 1):
        z = h @ leaves[f"W{l}"].T + leaves[f"b{l}"]
        h = torch.tanh(z)
    Yt, wt = torch.tensor(Y), torch.tensor(w)
    kind = cfg["activators"][L].name
    if kind == "sigmoid":
        rows = F.binary_cross_entropy_with_logits(z, Yt, reduction="none").sum(dim=1)
    elif kind == "softmax":
        rows = F.cross_entropy(z, Yt.argmax(dim=1), reduction="none")
    elif kind == "exp":   # half the Poisson deviance, y log(y/a) − y + a
        rows = (torch.special.xlogy(Yt, Yt) - Yt * z - Yt + torch.exp(z)).sum(dim=1)
    else:
        rows = 0.5 * ((z - Yt) ** 2).sum(dim=1)
    penalty = sum((leaves[f"W{l}"] ** 2).sum() for l in range(1, L + 1))
    return (wt * rows).sum() / wt.sum() + cfg["lambda_"] / (2 * wt.sum()) * penalty, leaves


@pytest.mark.parametrize("output, n_out", [("sigmoid", 2), ("softmax", 3), ("linear", 2),
                                           ("exp", 2)])
def test_weighted_cost_and_gradients_match_torch(output, n_out):
    net = mllib.NeuralNetwork(nodes=[4, 5, n_out], activators=["tanh", output], lp_reg=2,
                              lambda_=0.4, dtype="float64", seed=6)
    rng = np.random.default_rng(7)
    for array in net.parameters().values():
        array += rng.normal(scale=0.3, size=array.shape)
    X = rng.normal(size=(13, 4))
    Y = (np.eye(n_out)[rng.integers(0, n_out, 13)] if output == "softmax" else
         rng.integers(0, 2, (13, n_out)).astype(float) if output == "sigmoid"
         else rng.poisson(1.5, (13, n_out)).astype(float) if output == "exp"
         else rng.normal(size=(13, n_out)))
    w = rng.uniform(0.0, 5.0, 13)
    cost, grads = net.gradients(X, Y, sample_weight=w)
    J, leaves = _torch_weighted_cost(net, X, Y, w)
    J.backward()
    assert cost == pytest.approx(J.item(), rel=1e-12)
    for name, leaf in leaves.items():
        np.testing.assert_allclose(grads[name], leaf.grad.numpy(), rtol=1e-10, atol=1e-14,
                                   err_msg=name)


# -- identities -----------------------------------------------------------------------

def _net(**kw):
    kw = {"lp_reg": 2, "lambda_": 0.5, **kw}
    return mllib.NeuralNetwork(nodes=[3, 4, 2], activators=["tanh", "softmax"],
                               dtype="float64", seed=8, **kw)


def test_integer_weights_repeat_rows_penalty_included():
    X, _ = _data(7, 3, seed=9)
    y = np.arange(7) % 2
    w = np.array([1, 3, 0, 2, 1, 1, 4])
    net = _net()
    cost, grads = net.gradients(X, y, sample_weight=w)
    cost_rep, grads_rep = net.gradients(np.repeat(X, w, axis=0), np.repeat(y, w))
    # Summation order differs between the two, so equality holds to rounding only.
    assert cost == pytest.approx(cost_rep, rel=1e-13)
    for name in grads:
        np.testing.assert_allclose(grads[name], grads_rep[name], rtol=1e-12, atol=1e-15)


def test_all_ones_is_bit_identical_to_no_weights():
    X, _ = _data(40, 3, seed=10)
    y = np.arange(40) % 2
    runs = []
    for w in (None, np.ones(40)):
        net = mllib.NeuralNetwork(nodes=[3, 5, 1], activators=["relu", "sigmoid"], lp_reg=2,
                                  lambda_=0.1, keep_probs=0.8, seed=11)
        history = net.fit(X, y, epochs=3, batch_size=7, sample_weight=w, validation_split=0.2)
        runs.append((history.history, net.get_weights(), net.evaluate(X, y, sample_weight=w)))
    for logs in (runs[0][0], runs[1][0]):
        del logs["time"]
    assert runs[0][0] == runs[1][0] and runs[0][2] == runs[1][2]
    for name, value in runs[0][1].items():
        assert np.array_equal(value, runs[1][1][name]), name


def test_weights_scale_the_penalty_as_scikit_learn_does():
    # The data term is unchanged by w → c·w; the penalty λ/(2Σw) is divided by c.
    X, w = _data(6, 3, seed=12)
    y = np.arange(6) % 2
    net = _net()
    penalty = net.cost(X, y, sample_weight=w) - _net(lp_reg=0).cost(X, y, sample_weight=w)
    penalty3 = net.cost(X, y, sample_weight=3 * w) - _net(lp_reg=0).cost(X, y, sample_weight=w)
    assert penalty3 == pytest.approx(penalty / 3, rel=1e-12)


def test_zero_weights_drop_rows():
    X, w = _data(8, 3, seed=13)
    y = np.arange(8) % 2
    w[[1, 4]] = 0.0
    keep = w > 0
    net = _net()
    cost, grads = net.gradients(X, y, sample_weight=w)
    cost_kept, grads_kept = net.gradients(X[keep], y[keep], sample_weight=w[keep])
    assert cost == pytest.approx(cost_kept, rel=1e-14)
    for name in grads:
        np.testing.assert_allclose(grads[name], grads_kept[name], rtol=1e-13, atol=1e-16)


# -- fit and evaluate -----------------------------------------------------------------

def test_the_logged_cost_is_the_weighted_cost():
    X, w = _data(30, 3, seed=14)
    y = X[:, 0] - X[:, 1]
    net = mllib.NeuralNetwork(nodes=[3, 4, 1], activators=["tanh", "linear"], dtype="float64")
    before = net.cost(X, y, sample_weight=w)
    history = net.fit(X, y, optimizer="gd", epochs=1, sample_weight=w)   # full batch, λ = 0
    assert history.history["cost"][0] == pytest.approx(before, rel=1e-14)


def test_evaluate_weights_the_cost_and_the_scores():
    from sklearn.metrics import accuracy_score, r2_score
    X, w = _data(50, 3, seed=15)
    w[:10] = 0.0
    y = (X[:, 0] > 0).astype(int)
    clf = mllib.NeuralNetwork(nodes=[3, 4, 1], activators=["tanh", "sigmoid"], seed=1)
    clf.fit(X, y, epochs=3, sample_weight=w)
    assert clf.evaluate(X, y, sample_weight=w)["accuracy"] == pytest.approx(
        accuracy_score(y, clf.predict(X), sample_weight=w), rel=1e-12)
    assert clf.evaluate(X, y, sample_weight=w)["cost"] == pytest.approx(
        clf.cost(X, y, training=False, sample_weight=w), rel=1e-6)
    reg = mllib.NeuralNetwork(nodes=[3, 4, 2], activators=["tanh", "linear"], dtype="float64")
    Y = np.c_[X[:, 0], 5 + X[:, 1] ** 2]
    reg.fit(X, Y, epochs=5, batch_size=8, sample_weight=w)
    got = reg.evaluate(X, Y, sample_weight=w)["r2"]
    assert got == pytest.approx(r2_score(Y, reg.predict(X), sample_weight=w), rel=1e-12)


def test_a_batch_of_zero_weight_makes_no_step():
    X, _ = _data(6, 3, seed=16)
    y = np.arange(6) % 2
    w = np.array([0.0, 0.0, 2.0, 0.0, 0.0, 0.0])
    net = _net()
    net.fit(X, y, epochs=4, batch_size=1, sample_weight=w, optimizer="adam")
    assert net.optimizer_.t == 4        # one step an epoch, on the one weighted row


def test_validation_weights_are_used_and_split():
    X, w = _data(40, 3, seed=17)
    y = np.arange(40) % 2
    net = _net()
    history = net.fit(X, y, epochs=2, sample_weight=w, validation_split=0.25)
    assert history.history["val_cost"][-1] == pytest.approx(
        net.evaluate(X[30:], y[30:], sample_weight=w[30:])["cost"], rel=1e-14)
    history = net.fit(X[:30], y[:30], epochs=1, validation_data=(X[30:], y[30:], w[30:]))
    assert history.history["val_cost"][-1] == pytest.approx(
        net.evaluate(X[30:], y[30:], sample_weight=w[30:])["cost"], rel=1e-14)


def test_weights_are_not_saved(tmp_path):
    X, w = _data(20, 3, seed=18)
    y = np.arange(20) % 2
    net = _net()
    net.fit(X, y, epochs=2, sample_weight=w)
    header, arrays = net.get_state()
    assert not any("weight" in key for key in arrays) and "sample_weight" not in str(header)


@pytest.mark.parametrize("weights, message", [
    (np.ones(4), r"sample_weight must have shape \(5,\).*got shape \(4,\)"),
    (np.ones((5, 1)), r"shape \(5,\).*got shape \(5, 1\)"),
    (np.array([1.0, np.nan, 1, 1, 1]), r"sample_weight must be finite and >= 0, got nan at row 1"),
    (np.array([1.0, 1, 1, -2.0, 1]), r"got -2.0 at row 3"),
    (np.zeros(5), r"sample_weight is 0 on all 5 rows"),
    (np.array(["a"] * 5), r"sample_weight must hold real numbers, got dtype <U1"),
])
def test_bad_weights_are_refused_by_name(weights, message):
    X, _ = _data(5, 3)
    y = np.arange(5) % 2
    net = _net()
    before = net.get_weights()
    for call in (lambda: net.fit(X, y, epochs=1, sample_weight=weights),
                 lambda: net.gradients(X, y, sample_weight=weights),
                 lambda: net.cost(X, y, sample_weight=weights)):
        with pytest.raises(ValueError, match=message):
            call()
    assert all(np.array_equal(v, net.get_weights()[k]) for k, v in before.items())
    assert not net.fitted_


def test_a_split_that_leaves_no_weight_is_refused():
    X, _ = _data(10, 3)
    y = np.arange(10) % 2
    w = np.r_[np.zeros(8), np.ones(2)]
    with pytest.raises(ValueError, match="sample_weight is 0 on every training row"):
        _net().fit(X, y, epochs=1, sample_weight=w, validation_split=0.2)


def test_a_weighted_run_stopped_mid_epoch_resumes_to_the_same_bits(tmp_path):
    from mllib import LambdaCallback
    X, w = _data(50, 3, seed=19)
    y = np.arange(50) % 2
    args = dict(optimizer="adam", batch_size=8, sample_weight=w)
    reference = _net()
    history = reference.fit(X, y, epochs=3, **args)

    def stop(batch, logs):
        if batch == 3:
            raise KeyboardInterrupt
    net = _net()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=3, callbacks=[LambdaCallback(on_batch_end=stop)], **args)
    assert net.position_.sums.n != int(net.position_.sums.n)      # Σw so far, not a count
    net.save(tmp_path / "stopped.npz")
    resumed = mllib.load(tmp_path / "stopped.npz")
    rest = resumed.fit(X, y, sample_weight=w)
    assert rest.history["cost"] == history.history["cost"]
    for name, value in reference.get_weights().items():
        assert np.array_equal(resumed.get_weights()[name], value), name
