"""Helpers shared by the tests in tests/nn: gradient checks of single layers
and of whole networks, and a small covering-design generator.

Everything here is float64 and deterministic (fixed seeds).
"""

from __future__ import annotations

import itertools

import numpy as np

import mllib
from mllib.gradcheck import check_gradients, numerical_gradient, relative_error
from mllib.nn.layers import ActivationLayer, Dropout

# The notes' acceptance threshold for a float64 gradient check (§6.1).
GRAD_TOL = 1e-7
# No pre-activation may come closer than this to ReLU's kink at 0. The
# central difference moves a pre-activation by about eps·|input| ≈ 1e-5, so a
# margin of 1e-3 keeps both evaluations on the same side of the kink.
KINK_MARGIN = 1e-3
# A parameter's own relative error is judged only when its gradient is at
# least this fraction of the whole gradient (see network_gradcheck).
RESOLVED_FRACTION = 1e-2


def layer_gradcheck(layer, x, G, eps=1e-6):
    """Relative errors of a layer's backward pass for f = Σ out ⊙ G + penalty.

    ``G`` is a random upstream gradient, so ``backward(G)`` must return
    ∂f/∂x and leave ∂f/∂param in ``layer.grads``. Returns
    ``{"input": err, <param name>: err, ...}`` and the analytic input gradient.
    """
    n = x.shape[0]

    def f():
        return float(np.sum(layer.forward(x, training=True) * G)) + layer.penalty(n)

    layer.forward(x, training=True)
    G_before = G.copy()
    dx = layer.backward(G)
    np.testing.assert_array_equal(G, G_before, err_msg="backward modified its argument")
    analytic = {k: v.copy() for k, v in layer.grads.items()}
    errors = {"input": relative_error(numerical_gradient(f, x, eps), dx)}
    for name, array in layer.params.items():
        errors[name] = relative_error(numerical_gradient(f, array, eps), analytic[name])
    return errors, dx


# -- networks -------------------------------------------------------------------

def targets_for(output, n_out, n, rng):
    """Targets in the encoding each output expects, as a 2-D float array."""
    if output == "sigmoid":
        return rng.integers(0, 2, size=(n, n_out)).astype(float)
    if output == "softmax":
        return np.eye(n_out)[rng.integers(0, n_out, size=n)]
    if output == "exp":
        return rng.poisson(1.5, size=(n, n_out)).astype(float)   # counts ≥ 0
    return rng.normal(size=(n, n_out))


def set_parameters(net, rng):
    """Overwrite the live parameters with values safely away from 0.

    |W| ≥ 0.25/√n_in keeps L1's kink (sign(0)) out of reach of ±eps; nonzero
    biases and β and γ ≠ 1 make every parameter matter in the forward pass.
    """
    for name, array in net.parameters().items():
        if name.startswith("W"):
            magnitude = rng.uniform(0.25, 1.0, size=array.shape) / np.sqrt(array.shape[1])
            array[...] = magnitude * rng.choice([-1.0, 1.0], size=array.shape)
            array *= 1.6  # so that activations are not all in sigmoid's linear range
        elif name.startswith("gamma"):
            array[...] = rng.uniform(0.5, 1.5, size=array.shape)
        else:  # b, beta
            array[...] = rng.normal(0.0, 0.5, size=array.shape)


def preactivations(net, X):
    """Inputs of every ActivationLayer in one training-mode pass (masks as they are)."""
    seen, z = [], X
    for layer in net.layers:
        if isinstance(layer, ActivationLayer):
            seen.append(z.copy())
        z = layer.forward(z, training=True)
    return seen


def _clear_of_kink(z):
    """No entry with 0 < |z| < KINK_MARGIN.

    An exact 0 is allowed: without a bias it is the pre-activation of an
    all-zero input row (a dropped or dead row), which stays exactly 0 under
    every perturbation, so no kink is crossed.
    """
    size = np.abs(z)
    return not np.any((size > 0) & (size < KINK_MARGIN))


def dropout_layers(net):
    return [layer for layer in net.layers if isinstance(layer, Dropout)]


def freeze_masks(net, X, Y):
    """Draw every dropout mask once (in a real training pass) and keep it."""
    for layer in dropout_layers(net):
        layer.frozen = True
    net.gradients(X, Y)


def unfreeze_masks(net):
    for layer in dropout_layers(net):
        layer.frozen = False


def build_case(*, hidden, output, depth, batch, bias, reg, bn, dropout, seed,
               bn_epsilon=1e-5):
    """A float64 network, data and targets, with pre-activations away from 0.

    Widths are 2–4 units (softmax: at least 2 outputs). The seed is tried,
    then seed + 1000, ..., until no pre-activation is within KINK_MARGIN of 0
    (and, for L1, no weight is: guaranteed by ``set_parameters``). Dropout
    masks are drawn and frozen; ``check_gradients`` reuses them.
    """
    for attempt in range(50):
        rng = np.random.default_rng(seed + 1000 * attempt)
        n_out = {"softmax": int(rng.integers(2, 4)), "sigmoid": int(rng.integers(1, 3)),
                 "linear": int(rng.integers(1, 4)), "exp": int(rng.integers(1, 4))}[output]
        nodes = [int(rng.integers(2, 5))] + [int(rng.integers(2, 5)) for _ in range(depth - 1)]
        nodes.append(n_out)
        L = depth
        keep = [1.0] * (L + 1)
        if dropout in ("hidden", "input+hidden"):
            keep[1:L] = [0.6] * (L - 1)
        if dropout in ("input", "input+hidden"):
            keep[0] = 0.7
        batch_norm = [False] * (L + 1)
        if bn == "all":
            batch_norm[1:L] = [True] * (L - 1)
        elif bn == "first" and L > 1:
            batch_norm[1] = True
        bias_list = {"all": [True] * L, "none": [False] * L,
                     "mixed": [l % 2 == 0 for l in range(L)]}[bias]
        lp_reg = {"none": 0, "L1": 1, "L2": 2}[reg]
        # β = 0.2, not the default 0.01, so that the negative side carries
        # gradients large enough to be resolved by central differences.
        g = {"name": "leaky_relu", "beta": 0.2} if hidden == "leaky_relu" else hidden
        net = mllib.NeuralNetwork(
            nodes=nodes, activators=[g] * (L - 1) + [output], bias=bias_list,
            keep_probs=keep, batch_norm=batch_norm, lp_reg=lp_reg,
            lambda_=0.7 if lp_reg else 0.0, bn_epsilon=bn_epsilon,
            seed=seed + attempt, dtype="float64")
        set_parameters(net, rng)
        X = rng.normal(size=(batch, nodes[0]))
        Y = targets_for(output, n_out, batch, rng)
        freeze_masks(net, X, Y)
        if all(_clear_of_kink(z) for z in preactivations(net, X)):
            return net, X, Y
        unfreeze_masks(net)
    raise RuntimeError("could not keep pre-activations away from 0")


def network_gradcheck(net, X, Y, eps=1e-5):
    """Per-parameter errors from ``check_gradients`` and the whole-network error.

    Returns ``(errors, total, resolved)``:

    - ``errors``: ``{name: relative error}`` from
      :func:`mllib.gradcheck.check_gradients`;
    - ``total``: the notes' relative error of all gradients stacked into one
      vector θ (notes §6.1), from the same central differences;
    - ``resolved``: the names whose gradient norm is at least RESOLVED_FRACTION
      of the whole gradient's norm (numeric or analytic, whichever is larger,
      so that a backward pass that wrongly returns 0 is still caught).

    Why not demand every parameter's own error below GRAD_TOL: a central
    difference carries rounding noise of about u·|J|/eps ≈ 2e-11·|J| per
    entry (u = 2.2e-16, eps = 1e-5), so the relative error of a parameter with
    a gradient norm of 1e-4 is about 1e-7 from noise alone; and some
    gradients are exactly 0 by the model's structure (β of a batch norm whose
    shift the next batch norm removes again), where the ratio of two rounding
    noises is about 1. Such a parameter's error is still bounded by
    ``total < GRAD_TOL``: a wrong gradient of size s in it raises ``total`` to
    about s / ‖∇J‖. eps = 1e-5 (not 1e-6) balances that noise against the
    truncation error, O(eps²).
    """
    errors = check_gradients(net, X, Y, eps=eps)
    for layer in dropout_layers(net):
        layer.frozen = True
    try:
        _, analytic = net.gradients(X, Y)
        params = net.parameters()
        numeric = {k: numerical_gradient(lambda: net.cost(X, Y), a, eps) for k, a in params.items()}
    finally:
        unfreeze_masks(net)
    num = np.concatenate([numeric[k].ravel() for k in params])
    ana = np.concatenate([analytic[k].ravel() for k in params])
    total = relative_error(num, ana)
    scale = max(np.linalg.norm(num), np.linalg.norm(ana))
    resolved = {k for k in params
                if max(np.linalg.norm(numeric[k]), np.linalg.norm(analytic[k]))
                >= RESOLVED_FRACTION * scale}
    return errors, total, resolved


# -- covering designs -------------------------------------------------------------

def covering_rows(factors: dict, strength=2, seed=0, candidates=30) -> list[dict]:
    """Rows over ``factors`` (name -> levels) in which, for every ``strength``
    factors, every combination of their levels appears in at least one row
    (a covering array of that strength).

    Greedy, AETG style: each new row starts from one uncovered combination and
    fills the other factors with the best of a few random candidates, the one
    that covers the most new combinations. Deterministic for a given seed.
    """
    names = list(factors)
    rng = np.random.default_rng(seed)
    uncovered = required_combinations(factors, strength)

    def combos(row):
        return {tuple((n, row[n]) for n in group)
                for group in itertools.combinations(names, strength)}

    rows = []
    while uncovered:
        target = min(uncovered, key=repr)
        best, best_gain = None, -1
        for _ in range(candidates):
            row = {n: factors[n][rng.integers(len(factors[n]))] for n in names}
            row.update(dict(target))
            gain = len(combos(row) & uncovered)
            if gain > best_gain:
                best, best_gain = row, gain
        rows.append(best)
        uncovered -= combos(best)
    return rows


def required_combinations(factors: dict, strength: int) -> set:
    return {tuple(zip(group, levels))
            for group in itertools.combinations(list(factors), strength)
            for levels in itertools.product(*(factors[n] for n in group))}


def uncovered_combinations(factors: dict, rows: list[dict], strength: int) -> set:
    """The level combinations that no row contains (empty for a covering array)."""
    have = {tuple((n, r[n]) for n in group)
            for r in rows for group in itertools.combinations(list(factors), strength)}
    return required_combinations(factors, strength) - have
