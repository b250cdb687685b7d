"""Optimizers: the notes' formulas replayed by hand, PyTorch as a second reference, convergence."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mllib.optim import Adam, GradientDescent, Momentum, RMSProp, get_optimizer

from _optim_testing import N_STEPS, SHAPES, make_problem, reference, run, step

CASES = [
    ("gd", {}),
    ("momentum", {"beta1": 0.9}),
    ("momentum", {"beta1": 0.5}),
    ("rmsprop", {"beta2": 0.999, "epsilon": 1e-8}),
    ("rmsprop", {"beta2": 0.9, "epsilon": 1e-2}),
    ("adam", {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}),
    ("adam", {"beta1": 0.7, "beta2": 0.95, "epsilon": 1e-2}),
]


@pytest.mark.parametrize("kind, hyper", CASES)
def test_fifty_steps_follow_the_notes_formulas(kind, hyper):
    params, grads, lrs = make_problem()
    expected, expected_state = reference(kind, hyper, params, grads, lrs)
    opt = get_optimizer(kind, **hyper)
    run(opt, params, grads, lrs)
    state = opt.get_state()
    assert int(state["t"]) == N_STEPS
    for k in SHAPES:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-12, atol=1e-14)
        for slot, arrays in expected_state.items():
            np.testing.assert_allclose(state[f"{slot}.{k}"], arrays[k], rtol=1e-12, atol=1e-14)


def test_first_steps_worked_by_hand():
    g = np.array([2.0, -0.5, 0.0])
    lr = 0.1
    for opt, expected in [
        (GradientDescent(), -lr * g),
        (Momentum(beta1=0.9), -lr * 0.1 * g),                            # v¹ = (1 − β1) g
        (RMSProp(beta2=0.99, epsilon=1e-8), -lr * g / (0.1 * np.abs(g) + 1e-8)),  # √s¹ = 0.1|g|
        (Adam(beta1=0.8, beta2=0.9), -lr * g / (np.abs(g) + 1e-8)),       # m̂¹ = g, v̂¹ = g²
        (RMSProp(), -lr * g / (np.sqrt(0.1) * np.abs(g) + 1e-8)),          # default β2 = 0.9
    ]:
        p = {"w": np.zeros(3)}
        step(opt, p, {"w": g}, lr)
        np.testing.assert_allclose(p["w"], expected, rtol=1e-15, err_msg=opt.name)


def test_rmsprops_default_first_step_is_about_three_learning_rates():
    # No bias correction: step 1 is lr·g/(√(1 − β2)|g| + ε), about lr/√(1 − β2) in each
    # coordinate: 3.16·lr with the notes' and Keras' β2 = 0.9; Adam's 0.999 gives 31.6·lr.
    p = {"w": np.zeros(2)}
    step(RMSProp(), p, {"w": np.array([5.0, -0.02])}, 0.01)
    np.testing.assert_allclose(p["w"], [-0.01 / np.sqrt(0.1), 0.01 / np.sqrt(0.1)], rtol=1e-5)


@settings(max_examples=50, deadline=None)
@given(beta1=st.floats(0.0, 0.999), beta2=st.floats(0.0, 0.999),
       g=st.floats(-1e3, 1e3).filter(lambda x: abs(x) > 1e-3))
def test_adams_first_step_has_length_lr_whatever_the_betas(beta1, beta2, g):
    # Bias correction makes m̂¹ = g and v̂¹ = g², so the first step is lr·g/(|g| + ε).
    p = {"w": np.array([1.0])}
    step(Adam(beta1, beta2), p, {"w": np.array([g])}, 0.01)
    assert p["w"][0] == pytest.approx(1.0 - 0.01 * g / (abs(g) + 1e-8), rel=1e-12)


# ----- PyTorch as an independent reference --------------------------------------------------

def torch_run(make, params, grads, lrs):
    tensors = {k: torch.tensor(p, dtype=torch.float64) for k, p in params.items()}
    opt = make(list(tensors.values()))
    for g_t, lr in zip(grads, lrs):
        for k, tensor in tensors.items():
            tensor.grad = torch.tensor(g_t[k])
        opt.param_groups[0]["lr"] = lr
        opt.step()
    return {k: t.numpy() for k, t in tensors.items()}


TORCH_CASES = [
    ("adam", {"beta1": 0.85, "beta2": 0.99, "epsilon": 1e-6},
     lambda ps: torch.optim.Adam(ps, betas=(0.85, 0.99), eps=1e-6), 1.0),
    ("rmsprop", {"beta2": 0.95, "epsilon": 1e-6},
     lambda ps: torch.optim.RMSprop(ps, alpha=0.95, eps=1e-6), 1.0),
    ("gd", {}, lambda ps: torch.optim.SGD(ps), 1.0),
    # torch's SGD keeps b = μ b + g, which is v/(1 − β1) for our EMA v = β1 v + (1 − β1) g,
    # so SGD(momentum=β1, dampening=0) with lr·(1 − β1) takes exactly our steps.
    ("momentum", {"beta1": 0.8}, lambda ps: torch.optim.SGD(ps, momentum=0.8), 1 - 0.8),
]


@pytest.mark.parametrize("kind, hyper, make, lr_factor", TORCH_CASES,
                         ids=[c[0] for c in TORCH_CASES])
def test_matches_torch_over_a_hundred_steps(kind, hyper, make, lr_factor):
    params, grads, lrs = make_problem(seed=1, n_steps=100)
    expected = torch_run(make, params, grads, [lr * lr_factor for lr in lrs])
    run(get_optimizer(kind, **hyper), params, grads, lrs)
    for k in SHAPES:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-12, atol=1e-14)


# ----- convergence --------------------------------------------------------------------------

A = np.array([[3.0, 2.0], [2.0, 6.0]])
B = np.array([1.0, -2.0])


def descend(opt, grad, x0, lr, steps):
    p = {"x": np.array(x0, dtype=np.float64)}
    for _ in range(steps):
        step(opt, p, {"x": grad(p["x"])}, lr)
    return p["x"]


def rosenbrock_grad(x):
    a, b = x
    return np.array([-2.0 * (1.0 - a) - 400.0 * a * (b - a * a), 200.0 * (b - a * a)])


@pytest.mark.parametrize("kind, hyper, lr, steps", [
    ("gd", {}, 0.1, 300), ("momentum", {}, 0.1, 400), ("rmsprop", {"beta2": 0.999}, 0.01, 1000),
    ("adam", {}, 0.05, 1000)])
def test_converges_on_a_convex_quadratic(kind, hyper, lr, steps):
    # f(x) = ½ xᵀAx − bᵀx, condition number 3.5, minimum A⁻¹b.
    x = descend(get_optimizer(kind, **hyper), lambda x: A @ x - B, [5.0, -4.0], lr, steps)
    np.testing.assert_allclose(x, np.linalg.solve(A, B), atol=1e-6)


@pytest.mark.parametrize("lr", [0.1, 0.01])
def test_rmsprop_with_the_default_beta2_circles_the_minimum_within_half_a_step(lr):
    # With β2 = 0.9, s forgets the large early gradients within a few dozen steps, so near
    # the minimum each step is ≈ lr·g/|g| and x ends in a cycle of amplitude lr/2 about it:
    # to converge further, decay the rate. (β2 = 0.999 remembers them, and anneals.)
    x = descend(RMSProp(), lambda x: A @ x - B, [5.0, -4.0], lr, 1000)
    error = np.abs(x - np.linalg.solve(A, B))
    assert lr / 4 < error.max() <= lr / 2 * (1 + 1e-9)


@pytest.mark.parametrize("kind, lr, steps, tol", [
    ("gd", 1e-3, 20000, 1e-3), ("momentum", 1e-3, 20000, 1e-3),
    ("rmsprop", 1e-3, 20000, 2e-3), ("adam", 1e-2, 5000, 1e-6)])
def test_finds_the_rosenbrock_minimum(kind, lr, steps, tol):
    x = descend(get_optimizer(kind), rosenbrock_grad, [-1.5, 2.0], lr, steps)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=tol)


def test_adam_state_is_torchs_exp_avg_and_exp_avg_sq():
    params, grads, lrs = make_problem(seed=5, n_steps=30)
    tensors = {k: torch.tensor(p, dtype=torch.float64) for k, p in params.items()}
    reference_opt = torch.optim.Adam(list(tensors.values()), betas=(0.8, 0.95), eps=1e-7)
    for g_t, lr in zip(grads, lrs):
        for k, tensor in tensors.items():
            tensor.grad = torch.tensor(g_t[k])
        reference_opt.param_groups[0]["lr"] = lr
        reference_opt.step()
    opt = Adam(0.8, 0.95, 1e-7)
    run(opt, params, grads, lrs)
    state = opt.get_state()
    assert int(state["t"]) == 30
    for k, tensor in tensors.items():
        torch_state = reference_opt.state[tensor]
        np.testing.assert_allclose(state[f"m.{k}"], torch_state["exp_avg"].numpy(), rtol=1e-13)
        np.testing.assert_allclose(state[f"v.{k}"], torch_state["exp_avg_sq"].numpy(), rtol=1e-13)
        np.testing.assert_allclose(params[k], tensor.detach().numpy(), rtol=1e-12, atol=1e-14)


# -- momentum's beta, the notes' name of beta1 ----------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: Momentum(beta=0.8),
    lambda: get_optimizer("momentum", beta=0.8),
    lambda: get_optimizer({"name": "momentum", "beta": 0.8}),
    lambda: get_optimizer({"name": "momentum", "beta": 0.8, "beta1": 0.8}),
    lambda: get_optimizer({"name": "momentum", "beta1": 0.3}, beta=0.8),   # keywords win
    lambda: get_optimizer({"name": "momentum", "beta": 0.3}, beta1=0.8),
    lambda: Momentum(beta=0.8, beta1=0.8),
])
def test_momentums_beta_is_beta1(make):
    opt = make()
    assert opt.beta1 == 0.8
    assert set(opt.get_config()) == {"name", "beta1", "nesterov"}   # files keep writing beta1
    params, grads, lrs = make_problem()
    expected, _ = reference("momentum", {"beta1": 0.8}, params, grads, lrs)
    run(opt, params, grads, lrs)
    for k in SHAPES:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-12, atol=1e-14)


def test_momentums_default_is_still_0_9_and_its_config_unchanged():
    assert Momentum().get_config() == {"name": "momentum", "beta1": 0.9, "nesterov": False}
    assert Momentum(0.5).beta1 == 0.5
    assert Momentum(beta=0.5, nesterov=True).get_config() == {
        "name": "momentum", "beta1": 0.5, "nesterov": True}


@pytest.mark.parametrize("make", [
    lambda: Momentum(beta=0.8, beta1=0.9),
    lambda: get_optimizer("momentum", beta=0.8, beta1=0.9),
    lambda: get_optimizer({"name": "momentum", "beta": 0.8, "beta1": 0.9}),
])
def test_beta_and_beta1_that_differ_are_refused_naming_both(make):
    with pytest.raises(ValueError, match=r"beta and beta1 are two names of the same "
                                         r"hyperparameter; give one, got beta=0.8 and beta1=0.9"):
        make()


def test_a_bad_beta_is_named_as_given():
    with pytest.raises(ValueError, match=r"beta must be a number in \[0, 1\), got 1.0"):
        Momentum(beta=1.0)


@pytest.mark.parametrize("name, given, match", [
    ("momentum", {"momentum": 0.9},        # Keras's and PyTorch's name for it
     r"unknown hyperparameters \['momentum'\] for optimizer 'momentum'; it takes "
     r"\['beta1', 'nesterov'\], or 'beta' for 'beta1'"),
    ("adam", {"beta": 0.9, "lr": 0.1},
     r"unknown hyperparameters \['beta', 'lr'\] for optimizer 'adam'; it takes "
     r"\['beta1', 'beta2', 'epsilon'\]$"),
    ("gd", {"momentum": 0.9}, r"unknown hyperparameters \['momentum'\] for optimizer 'gd'; "
                              r"it takes none"),
])
def test_unknown_hyperparameters_are_refused_listing_the_accepted_names(name, given, match):
    with pytest.raises(ValueError, match=match):
        get_optimizer(name, **given)
    with pytest.raises(ValueError, match=match):
        get_optimizer({"name": name, **given})
