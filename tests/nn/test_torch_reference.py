"""An independent reference: PyTorch autograd in float64.

For each configuration the network is rebuilt in torch from mllib's config
(nodes, activators, bias, batch_norm, keep_probs, λ, p) and parameter arrays,
with mllib's dropout masks applied, and torch's cost and gradients are
compared with mllib's. Torch computes them with its own kernels and its own
autograd; nothing of mllib's backward is reused.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch  # a declared test dependency: the reference must never skip silently

import mllib
from mllib.nn.layers import Dropout

F = torch.nn.functional

RTOL = 1e-10


def _torch_activation(g):
    name = g.name
    if name == "sigmoid":
        return torch.sigmoid
    if name == "tanh":
        return torch.tanh
    if name == "relu":
        return F.relu
    if name == "leaky_relu":
        return lambda z: F.leaky_relu(z, negative_slope=g.beta)
    if name == "linear":
        return lambda z: z
    if name == "exp":
        return torch.exp
    raise AssertionError(name)


def torch_cost(net, X, Y, masks, *, training=True):
    """J of the network described by ``net.config`` and ``net.parameters()``,
    in torch. Returns (J, output a[L], {name: leaf tensor})."""
    cfg = net.config
    L = len(cfg["nodes"]) - 1
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in net.parameters().items()}
    masks = [torch.tensor(m, dtype=torch.float64) for m in masks]
    h = torch.tensor(X, dtype=torch.float64)
    if training and cfg["keep_probs"][0] < 1:
        h = h * masks.pop(0)
    for l in range(1, L + 1):
        z = h @ leaves[f"W{l}"].T
        if f"b{l}" in leaves:
            z = z + leaves[f"b{l}"]
        if l == L:
            break
        if cfg["batch_norm"][l]:
            if training:
                z = F.batch_norm(z, None, None, leaves[f"gamma{l}"], leaves[f"beta{l}"],
                                 training=True, eps=cfg["bn_epsilon"])
            else:
                state = net.state()
                mean = torch.tensor(state[f"running_mean{l}"], dtype=torch.float64)
                var = torch.tensor(state[f"running_var{l}"], dtype=torch.float64)
                z = F.batch_norm(z, mean, var, leaves[f"gamma{l}"], leaves[f"beta{l}"],
                                 training=False, eps=cfg["bn_epsilon"])
        h = _torch_activation(cfg["activators"][l])(z)
        if training and cfg["keep_probs"][l] < 1:
            h = h * masks.pop(0)
    assert not masks or not training
    N = X.shape[0]
    Yt = torch.tensor(Y, dtype=torch.float64)
    output = cfg["activators"][L].name
    if output == "sigmoid":
        data = F.binary_cross_entropy_with_logits(z, Yt, reduction="sum") / N
        a = torch.sigmoid(z)
    elif output == "softmax":
        data = F.cross_entropy(z, Yt.argmax(dim=1), reduction="sum") / N
        a = torch.softmax(z, dim=1)
    elif output == "exp":
        # torch's e^z − y z, plus y log y − y: half the Poisson deviance
        data = (F.poisson_nll_loss(z, Yt, log_input=True, full=False, reduction="sum")
                + (torch.special.xlogy(Yt, Yt) - Yt).sum()) / N
        a = torch.exp(z)
    else:
        data = F.mse_loss(z, Yt, reduction="sum") / (2 * N)
        a = z
    J = data
    if cfg["lp_reg"] and cfg["lambda_"]:
        p = cfg["lp_reg"]
        J = J + cfg["lambda_"] / (2 * N) * sum(
            (leaves[f"W{l}"].abs() ** p).sum() for l in range(1, L + 1))
    return J, a, leaves


CONFIGS = [
    dict(nodes=[3, 4, 3, 2], activators=["tanh", "relu", "sigmoid"]),
    dict(nodes=[4, 3, 3], activators=["leaky_relu", "softmax"], batch_norm=True, lp_reg=2,
         lambda_=0.5),
    dict(nodes=[3, 4, 4, 2], activators=["sigmoid", "linear", "linear"],
         keep_probs=[0.8, 0.7, 0.6, 1.0], lp_reg=1, lambda_=0.3),
    dict(nodes=[2, 3, 4, 3], activators=[{"name": "leaky_relu", "beta": 0.2}, "relu", "softmax"],
         batch_norm=True, keep_probs=0.75, lp_reg=2, lambda_=1.0, bias=[True, False, True]),
    dict(nodes=[3, 2], activators=["sigmoid"], lp_reg=1, lambda_=0.4),
    dict(nodes=[3, 5, 2], activators=["tanh", "linear"], batch_norm=True, bn_epsilon=0.1,
         bias=False),
    dict(nodes=[5, 4, 4, 4, 3], activators=["sigmoid", "tanh", "relu", "softmax"],
         batch_norm=[False, True, False, True, False], keep_probs=[1.0, 0.9, 0.9, 0.9, 1.0]),
    dict(nodes=[3, 4, 2], activators=["tanh", "exp"], lp_reg=2, lambda_=0.3),
    dict(nodes=[3, 3, 4, 1], activators=["exp", "relu", "exp"], batch_norm=[False, True,
         False, False], keep_probs=[1.0, 0.8, 1.0, 1.0], lp_reg=1, lambda_=0.2),
]


def _data(net, n, seed):
    rng = np.random.default_rng(seed)
    n0, n_out = net.config["nodes"][0], net.config["nodes"][-1]
    X = rng.normal(size=(n, n0))
    output = net.config["activators"][-1].name
    if output == "sigmoid":
        Y = rng.integers(0, 2, size=(n, n_out)).astype(float)
    elif output == "softmax":
        Y = np.eye(n_out)[rng.integers(0, n_out, size=n)]
    elif output == "exp":
        Y = rng.poisson(1.5, size=(n, n_out)).astype(float)   # counts, zeros among them
    else:
        Y = rng.normal(size=(n, n_out))
    return X, Y


def _ids(config):
    return "-".join(a if isinstance(a, str) else a["name"] for a in config["activators"])


@pytest.mark.parametrize("n", [2, 17])
@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_cost_and_gradients_match_torch(config, n):
    net = mllib.NeuralNetwork(**config, dtype="float64", seed=n)
    rng = np.random.default_rng(100 + n)
    for array in net.parameters().values():  # nonzero biases and β, γ ≠ 1
        array += rng.normal(scale=0.3, size=array.shape)
    X, Y = _data(net, n, seed=n)
    cost, grads = net.gradients(X, Y)
    masks = [layer.mask for layer in net.layers if isinstance(layer, Dropout)]

    J, _, leaves = torch_cost(net, X, Y, masks)
    J.backward()
    assert cost == pytest.approx(J.item(), rel=RTOL)
    assert set(grads) == set(leaves)
    for name, leaf in leaves.items():
        np.testing.assert_allclose(grads[name], leaf.grad.numpy(), rtol=RTOL, atol=1e-14,
                                   err_msg=name)


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_inference_matches_torch(config):
    # After one training step's update_state(), inference uses the running
    # statistics (batch norm) and no dropout.
    net = mllib.NeuralNetwork(**config, dtype="float64", seed=3)
    X, Y = _data(net, 11, seed=4)
    net.gradients(X, Y)
    for layer in net.layers:
        layer.update_state()
    X2, Y2 = _data(net, 5, seed=5)
    J, a, _ = torch_cost(net, X2, Y2, [], training=False)
    np.testing.assert_allclose(net.forward(X2), a.detach().numpy(), rtol=RTOL, atol=1e-14)
    assert net.cost(X2, Y2, training=False) == pytest.approx(J.item(), rel=RTOL)


def test_running_statistics_after_update_state_by_hand():
    # running = m·running + (1 − m)·batch, biased variance; start at 0 and 1.
    m = 0.7
    net = mllib.NeuralNetwork(nodes=[3, 4, 1], activators=["relu", "sigmoid"], batch_norm=True,
                              bn_momentum=m, dtype="float64", seed=0)
    rng = np.random.default_rng(0)
    batches = [rng.normal(size=(n, 3)) for n in (6, 9)]
    mean, var = np.zeros(4), np.ones(4)
    for X in batches:
        net.gradients(X, np.zeros(len(X)))
        U = X @ net.parameters()["W1"].T  # a batch-normalized layer has no b
        mean = m * mean + (1 - m) * U.mean(axis=0)
        var = m * var + (1 - m) * ((U - U.mean(axis=0)) ** 2).mean(axis=0)
        for layer in net.layers:
            layer.update_state()
    state = net.state()
    np.testing.assert_allclose(state["running_mean1"], mean, rtol=1e-13)
    np.testing.assert_allclose(state["running_var1"], var, rtol=1e-13)
    # the inference path by hand
    p = net.parameters()
    X = rng.normal(size=(4, 3))
    h = np.maximum((X @ p["W1"].T - mean) / np.sqrt(var + 1e-5) * p["gamma1"] + p["beta1"], 0)
    a = 1 / (1 + np.exp(-(h @ p["W2"].T + p["b2"])))
    np.testing.assert_allclose(net.forward(X), a, rtol=1e-13)
    # and torch's unbiased running variance would differ: the check can tell
    U = batches[-1] @ p["W1"].T
    assert not np.allclose(U.var(axis=0), U.var(axis=0, ddof=1), rtol=1e-3)
