"""Momentum(nesterov=True): the notes' EMA momentum with Nesterov's look-ahead, against PyTorch.

PyTorch's ``SGD(momentum=μ, nesterov=True)`` keeps b = μ b + g and steps
θ −= lr (g + μ b). Our v = β1 v + (1 − β1) g is b (1 − β1), and our step
θ −= α (β1 v + (1 − β1) g) is θ −= α (1 − β1)(μ b + g): the same for
μ = β1 and lr = α (1 − β1). The gradients below depend on the parameters (a
quadratic bowl per array), so the test follows the look-ahead, not a fixed
sequence of gradients.
"""

import numpy as np
import pytest
import torch

from mllib.optim import Momentum, ParameterSet, get_optimizer

SHAPES = {"W1": (5, 3), "b1": (5,), "W2": (2, 5)}
STEPS = 40


def bowl(seed=0):
    """Start values, and for each array a positive-definite A and a target c: g = A(θ − c)."""
    rng = np.random.default_rng(seed)
    start, curves = {}, {}
    for k, shape in SHAPES.items():
        n = int(np.prod(shape))
        M = rng.normal(size=(n, n))
        curves[k] = (M @ M.T / n + 0.1 * np.eye(n), rng.normal(size=n))
        start[k] = rng.normal(size=shape)
    return start, curves


def gradient(k, theta, curves):
    A, c = curves[k]
    return (A @ (theta.reshape(-1) - c)).reshape(theta.shape)


def run_mllib(beta, alpha, start, curves, nesterov=True):
    params = {k: v.copy() for k, v in start.items()}
    grads = {k: np.zeros_like(v) for k, v in start.items()}
    store = ParameterSet.from_arrays(params, grads)
    opt = Momentum(beta1=beta, nesterov=nesterov)
    for t in range(STEPS):
        for k in SHAPES:
            grads[k][...] = gradient(k, params[k], curves)
        opt.step(store, alpha * (1.0 + 0.3 * np.sin(t)))
    return params


def run_torch(beta, alpha, start, curves):
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in start.items()}
    opt = torch.optim.SGD(list(tensors.values()), lr=alpha, momentum=beta, nesterov=True)
    for t in range(STEPS):
        for k, tensor in tensors.items():
            tensor.grad = torch.tensor(gradient(k, tensor.detach().numpy(), curves))
        opt.param_groups[0]["lr"] = alpha * (1.0 + 0.3 * np.sin(t)) * (1.0 - beta)
        opt.step()
    return {k: t.detach().numpy() for k, t in tensors.items()}


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99])
def test_nesterov_matches_torch_over_forty_steps(beta):
    start, curves = bowl()
    ours = run_mllib(beta, 0.05, start, curves)
    theirs = run_torch(beta, 0.05, start, curves)
    worst = max(float(np.max(np.abs(ours[k] - theirs[k]))) for k in SHAPES)
    assert worst <= 1e-12, worst
    # The run moved the parameters far from their start, so the match means something.
    assert max(float(np.max(np.abs(ours[k] - start[k]))) for k in SHAPES) > 0.1


def test_nesterov_differs_from_plain_momentum_and_is_kept_in_the_config():
    start, curves = bowl(1)
    plain = run_mllib(0.9, 0.05, start, curves, nesterov=False)
    ahead = run_mllib(0.9, 0.05, start, curves, nesterov=True)
    assert not np.allclose(plain["W1"], ahead["W1"])
    config = Momentum(beta1=0.8, nesterov=True).get_config()
    assert config == {"name": "momentum", "beta1": 0.8, "nesterov": True}
    again = get_optimizer(config)
    assert isinstance(again, Momentum) and again.nesterov and again.beta1 == 0.8
    assert get_optimizer("momentum").nesterov is False


def test_first_nesterov_step_by_hand():
    # v¹ = (1 − β) g, so the step is α (β (1 − β) g + (1 − β) g) = α (1 − β²) g.
    params, grads = {"w": np.zeros(2)}, {"w": np.array([2.0, -1.0])}
    Momentum(beta1=0.5, nesterov=True).step(ParameterSet.from_arrays(params, grads), 0.1)
    np.testing.assert_allclose(params["w"], -0.1 * 0.75 * np.array([2.0, -1.0]), rtol=1e-15)


def test_nesterov_must_be_a_bool():
    with pytest.raises(ValueError, match="nesterov must be True or False, got 'yes'"):
        Momentum(nesterov="yes")
