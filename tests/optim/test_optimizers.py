"""Optimizers: the notes' formulas replayed by hand, PyTorch as a second reference, convergence."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mllib.optim import Adam, GradientDescent, Momentum, RMSProp, get_optimizer

from _optim_testing import N_STEPS, SHAPES, make_problem, reference, run

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
    ]:
        p = {"w": np.zeros(3)}
        opt.step(p, {"w": g}, lr)
        np.testing.assert_allclose(p["w"], expected, rtol=1e-15, err_msg=opt.name)


@settings(max_examples=50, deadline=None)
@given(beta1=st.floats(0.0, 0.999), beta2=st.floats(0.0, 0.999),
       g=st.floats(-1e3, 1e3).filter(lambda x: abs(x) > 1e-3))
def test_adams_first_step_has_length_lr_whatever_the_betas(beta1, beta2, g):
    # Bias correction makes m̂¹ = g and v̂¹ = g², so the first step is lr·g/(|g| + ε).
    p = {"w": np.array([1.0])}
    Adam(beta1, beta2).step(p, {"w": np.array([g])}, 0.01)
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
        opt.step(p, {"x": grad(p["x"])}, lr)
    return p["x"]


def rosenbrock_grad(x):
    a, b = x
    return np.array([-2.0 * (1.0 - a) - 400.0 * a * (b - a * a), 200.0 * (b - a * a)])


@pytest.mark.parametrize("kind, lr, steps", [
    ("gd", 0.1, 300), ("momentum", 0.1, 400), ("rmsprop", 0.01, 1000), ("adam", 0.05, 1000)])
def test_converges_on_a_convex_quadratic(kind, lr, steps):
    # f(x) = ½ xᵀAx − bᵀx, condition number 3.5, minimum A⁻¹b.
    x = descend(get_optimizer(kind), lambda x: A @ x - B, [5.0, -4.0], lr, steps)
    np.testing.assert_allclose(x, np.linalg.solve(A, B), atol=1e-6)


@pytest.mark.parametrize("kind, lr, steps, tol", [
    ("gd", 1e-3, 20000, 1e-3), ("momentum", 1e-3, 20000, 1e-3),
    ("rmsprop", 1e-3, 20000, 2e-3), ("adam", 1e-2, 5000, 1e-6)])
def test_finds_the_rosenbrock_minimum(kind, lr, steps, tol):
    x = descend(get_optimizer(kind), rosenbrock_grad, [-1.5, 2.0], lr, steps)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=tol)


def test_the_package_imports_only_numpy_and_the_standard_library():
    import ast
    import sys
    from pathlib import Path

    import mllib.optim

    for path in Path(mllib.optim.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top == "numpy" or top in sys.stdlib_module_names, (path.name, name)
