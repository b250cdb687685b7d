"""Helpers shared by the tests in tests/optim: a random problem and the notes' formulas.

Everything here is deterministic (fixed seeds). The formulas are written without mllib;
``step`` and ``run`` drive an optimizer through a ParameterSet bound to plain dicts.
"""

import math

import numpy as np

from mllib.optim import ParameterSet

SHAPES = {"W1": (5, 3), "b1": (5,), "gamma1": (5,), "W2": (2, 5)}
N_STEPS = 50


def make_problem(seed=0, n_steps=N_STEPS, dtype=np.float64):
    """Random params, a sequence of random grads (some entries exactly 0) and varying rates."""
    rng = np.random.default_rng(seed)
    params = {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}
    grads = []
    for t in range(n_steps):
        g = {k: (rng.standard_normal(s) * 10.0 ** rng.uniform(-3, 1)).astype(dtype)
             for k, s in SHAPES.items()}
        g["b1"][0] = 0.0
        grads.append(g)
    lrs = [0.01 * (1.0 + 0.5 * math.sin(t)) for t in range(n_steps)]
    return params, grads, lrs


def step(opt, params, grads, lr):
    """``opt.step`` on a store bound to ``params``, whose entries become the store's views."""
    opt.step(ParameterSet.from_arrays(params, dict(grads)), lr)


def run(opt, params, grads, lrs):
    """Step through the gradients ``grads[t]``; ``params`` is updated (and bound) in place."""
    live = {k: np.zeros_like(p) for k, p in params.items()}
    store = ParameterSet.from_arrays(params, live)
    for g, lr in zip(grads, lrs):
        for k, view in live.items():
            view[...] = g[k]
        opt.step(store, lr)
    return params


# ----- the notes' formulas, written out once more, not in place --------------------------

def reference(kind, hyper, params, grads, lrs):
    """Returns the final params and state, following notes §7.2–7.4 line by line."""
    theta = {k: p.copy() for k, p in params.items()}
    m = {k: np.zeros_like(p) for k, p in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    for t, (g_t, lr) in enumerate(zip(grads, lrs), start=1):
        for k, g in g_t.items():
            if kind == "gd":
                theta[k] = theta[k] - lr * g
            elif kind == "momentum":
                m[k] = hyper["beta1"] * m[k] + (1 - hyper["beta1"]) * g
                theta[k] = theta[k] - lr * m[k]
            elif kind == "rmsprop":
                v[k] = hyper["beta2"] * v[k] + (1 - hyper["beta2"]) * g ** 2
                theta[k] = theta[k] - lr * g / (np.sqrt(v[k]) + hyper["epsilon"])
            else:
                m[k] = hyper["beta1"] * m[k] + (1 - hyper["beta1"]) * g
                v[k] = hyper["beta2"] * v[k] + (1 - hyper["beta2"]) * g ** 2
                m_hat = m[k] / (1 - hyper["beta1"] ** t)
                v_hat = v[k] / (1 - hyper["beta2"] ** t)
                theta[k] = theta[k] - lr * m_hat / (np.sqrt(v_hat) + hyper["epsilon"])
    state = {"momentum": {"v": m}, "rmsprop": {"s": v}, "adam": {"m": m, "v": v}}.get(kind, {})
    return theta, state
