"""Validation of a network's configuration, in the notes' own keys.

The notes describe an L-layer network by lists indexed by the layer ``l``:
``nodes[0..L]``, ``activators``, ``bias``, ``keep_probs[0..L]`` and
``batch_norm[0..L]``, where index 0 is the input. :func:`normalize_config`
checks them together and returns one plain dict with every list of length
L + 1, or raises ``ValueError`` naming the problem. Nothing is built here.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..._validation import check_int, check_positive, check_real
from ...nn.activations import Activation, get_activation
from ...nn.init import init_config
from ...nn.losses import LOSS_FOR_OUTPUT

DTYPES = {"float32": np.float32, "float64": np.float64}


def normalize_config(*, nodes, activators, bias=True, keep_probs=None, batch_norm=None,
                     lp_reg=0, lambda_=0.0, init="he", bn_epsilon=1e-5, bn_momentum=0.9,
                     seed=0, dtype="float32") -> dict:
    """Check a configuration and return it with per-layer lists of length L + 1."""
    nodes = _check_nodes(nodes)
    L = len(nodes) - 1
    acts = _per_layer("activators", activators, L, allow_input_entry=True)
    if acts[0] is not None and get_activation(acts[0]).name != "linear":
        raise ValueError(f"activators[0] is the input entry of the notes' form and must be "
                         f"'linear', got {acts[0]!r}")
    acts = [None] + [_activation(g, l) for l, g in enumerate(acts[1:], start=1)]
    for l in range(1, L):
        if acts[l].name == "softmax":
            raise ValueError(f"softmax is only allowed on the output layer, found in layer {l}")
    if acts[L].name not in LOSS_FOR_OUTPUT:
        raise ValueError(
            f"output activator {acts[L].name!r} has no paired loss; "
            f"use one of {sorted(LOSS_FOR_OUTPUT)}"
        )
    if acts[L].name == "softmax" and nodes[L] == 1:
        raise ValueError("a softmax output needs nodes[L] >= 2, got nodes[L] = 1: one unit "
                         "always outputs 1; use 'sigmoid' for two classes")
    bias = _per_layer("bias", bias, L, allow_input_entry=True)
    bias = [False] + [_boolean("bias", b, l) for l, b in enumerate(bias[1:], start=1)]
    keep = _keep_probs(keep_probs, L)
    bn = _batch_norm(batch_norm, L)
    lp_reg, lambda_ = _regularization(lp_reg, lambda_)
    bn_epsilon, bn_momentum = _bn_options(bn_epsilon, bn_momentum)
    seed = check_int("seed", seed, 0)
    dtype_name = _dtype_name(dtype)
    init = _init(init, DTYPES[dtype_name])
    return {
        "nodes": nodes, "activators": acts, "bias": bias, "keep_probs": keep,
        "batch_norm": bn, "lp_reg": lp_reg, "lambda_": lambda_, "init": init,
        "bn_epsilon": bn_epsilon, "bn_momentum": bn_momentum,
        "seed": seed, "dtype": dtype_name,
    }


def _check_nodes(nodes):
    if isinstance(nodes, (str, bytes)) or not hasattr(nodes, "__len__") or len(nodes) < 2:
        raise ValueError(f"nodes must be a list [n0, n1, ..., nL] with L >= 1, got {nodes!r}")
    # n0 = None and nL = None are taken from the data: the number of features,
    # and the number of classes (softmax) or target columns.
    checked, last = [], len(nodes) - 1
    for l, n in enumerate(nodes):
        if l in (0, last) and n is None:
            checked.append(None)
        else:
            checked.append(check_int(f"nodes[{l}]", n, 1))
    return checked


def _per_layer(name, value, L, *, allow_input_entry):
    """A scalar broadcast to layers 1..L, or a list of length L (or L + 1)."""
    if isinstance(value, (str, bool, numbers.Number, Activation, dict)) or value is None:
        return [None] + [value] * L
    value = list(value)
    if len(value) == L:
        return [None] + value
    if allow_input_entry and len(value) == L + 1:
        return value
    lengths = f"{L} or {L + 1}" if allow_input_entry else f"{L}"
    raise ValueError(f"{name} has length {len(value)}, but nodes has L = {L} layers "
                     f"(expected length {lengths})")


def _activation(g, l):
    try:
        return get_activation(g)
    except ValueError as err:
        raise ValueError(f"activators[{l}]: {err}") from None


def _boolean(name, value, l):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}[{l}] must be True or False, got {value!r}")
    return bool(value)


def _keep_probs(keep_probs, L):
    if keep_probs is None:
        return [1.0] * (L + 1)
    if isinstance(keep_probs, numbers.Number):
        keep = [1.0] + [keep_probs] * (L - 1) + [1.0]
    else:
        keep = list(keep_probs)
        if len(keep) != L + 1:
            raise ValueError(f"keep_probs has length {len(keep)}; expected L + 1 = {L + 1} "
                             "(index 0 is the input)")
    keep = [check_real(f"keep_probs[{l}]", p, 0.0, 1.0, low_open=True)
            for l, p in enumerate(keep)]
    if keep[L] != 1.0:
        raise ValueError(f"keep_probs[{L}] = {keep[L]!r}: dropout on the output layer is not "
                         "allowed; it must be 1.0")
    return keep


def _batch_norm(batch_norm, L):
    if batch_norm is None or batch_norm is False:
        return [False] * (L + 1)
    if batch_norm is True:
        return [False] + [True] * (L - 1) + [False]
    bn = list(batch_norm)
    if len(bn) != L + 1:
        raise ValueError(f"batch_norm has length {len(bn)}; expected L + 1 = {L + 1} "
                         "(index 0 is the input)")
    bn = [_boolean("batch_norm", b, l) for l, b in enumerate(bn)]
    if bn[0]:
        raise ValueError("batch_norm[0] must be False: the input is standardized, not batch-normalized")
    if bn[L]:
        raise ValueError(f"batch_norm[{L}] must be False: batch norm on the output layer "
                         "is not allowed")
    return bn


def _regularization(lp_reg, lambda_):
    if isinstance(lp_reg, bool) or lp_reg not in (0, 1, 2):
        raise ValueError(f"lp_reg must be 0, 1 or 2, got {lp_reg!r}")
    return int(lp_reg), check_real("lambda_", lambda_, 0.0)


def _bn_options(epsilon, momentum):
    return (check_positive("bn_epsilon", epsilon),
            check_real("bn_momentum", momentum, 0.0, 1.0, high_open=True))


def _init(init, dtype):
    """The JSON form of ``init`` (:func:`~mllib.nn.init.init_config`); a scaled normal's
    weights randn·s must be finite in ``dtype``. NumPy's standard normal draws stay
    below 13.8 in absolute value (its ziggurat's tail, r + log(2^53)/r for r ≈ 3.654),
    so s ≤ max/16 is safe."""
    init = init_config(init)
    if isinstance(init, dict) and init["scale"] > np.finfo(dtype).max / 16:
        raise ValueError(f"init {init!r}: randn · {init['scale']:g} would overflow "
                         f"{np.dtype(dtype).name}; the scale must be at most "
                         f"{np.finfo(dtype).max / 16:g}")
    return init


def _dtype_name(dtype):
    try:
        name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    except TypeError:
        name = None
    if dtype is None or name not in DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return name


def checked_widths(nodes, n_features, n_outputs, output_kind) -> tuple[int, int]:
    """``(n_features, n_outputs)`` for layers of ``nodes``: ``n_outputs`` None means
    nodes[L]; both must match the widths that ``nodes`` fixes, and a softmax needs two."""
    n_outputs = nodes[-1] if n_outputs is None else n_outputs
    if n_outputs is None:
        raise ValueError("nodes[L] is None: give n_outputs")
    n_features = check_int("n_features", n_features, 1)
    n_outputs = check_int("n_outputs", n_outputs, 2 if output_kind == "softmax" else 1)
    for name, given, fixed in (("n_features", n_features, nodes[0]),
                               ("n_outputs", n_outputs, nodes[-1])):
        if fixed is not None and given != fixed:
            raise ValueError(f"{name} is {given}, but the network has "
                             f"nodes[{0 if name == 'n_features' else 'L'}] = {fixed}")
    return n_features, n_outputs
