"""The layers of an L-layer network, their parameter store, and the passes over them.

:func:`build_layers` turns a checked configuration (:mod:`mllib.training.model.config`) into the
layer list of the notes: for l = 1..L, ``Dense`` then batch norm, the
activator and dropout, with dropout on the input first if ``keep_probs[0] < 1``.
:class:`LayerStack` owns those layers and one :class:`~mllib.optim.ParameterSet`
that holds every parameter and gradient; it knows nothing of labels, inputs
or training loops.

The passes run with underflow silenced (``np.errstate(under="ignore")``), so
that a caller's ``np.errstate(all="raise")`` does not turn it into an error:
products and sums whose exact value lies below the dtype's smallest normal
number (a delta (a − y)/N of 1e-40 in float32, and everything it multiplies on
the way back) round correctly, by IEEE gradual underflow, to a subnormal
number or 0. Overflow and invalid operations are left to the caller: ``fit``
reports them as divergence, ``predict`` and ``evaluate`` as a clear error.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..._jit import load
from ...nn.layers import ActivationLayer, BatchNorm, Dense, Dropout
from ...nn.regularizers import LpRegularizer
from ...optim import ParameterSet

KERNELS = "mllib.nn._kernels"


def build_layers(config, rng, dtype):
    """``(layers, named)``: every layer in order, and ``(l, layer)`` for those with parameters."""
    reg = None
    if config["lp_reg"] and config["lambda_"]:
        reg = LpRegularizer(config["lp_reg"], config["lambda_"])
    nodes, L = config["nodes"], len(config["nodes"]) - 1
    layers, named = [], []
    if config["keep_probs"][0] < 1.0:
        layers.append(Dropout(config["keep_probs"][0], rng=rng))
    for l in range(1, L + 1):
        bn = config["batch_norm"][l]
        dense = Dense(nodes[l - 1], nodes[l], bias=config["bias"][l] and not bn,
                      init=config["init"], regularizer=reg, rng=rng, dtype=dtype)
        layers.append(dense)
        named.append((l, dense))
        if l == L:
            break
        if bn:
            norm = BatchNorm(nodes[l], epsilon=config["bn_epsilon"],
                             momentum=config["bn_momentum"], dtype=dtype)
            layers.append(norm)
            named.append((l, norm))
        layers.append(ActivationLayer(config["activators"][l]))
        if config["keep_probs"][l] < 1.0:
            layers.append(Dropout(config["keep_probs"][l], rng=rng))
    return layers, named


def _fused_steps(layers) -> list:
    """``(layer, None)`` for each layer, but ``(dense, activation)`` for a Dense layer
    followed by an activation layer."""
    steps, i = [], 0
    while i < len(layers):
        if isinstance(layers[i], Dense) and i + 1 < len(layers) \
                and isinstance(layers[i + 1], ActivationLayer):
            steps.append((layers[i], layers[i + 1]))
            i += 2
        else:
            steps.append((layers[i], None))
            i += 1
    return steps


def layer_shapes(config) -> tuple[dict, dict]:
    """``(parameters, state)``: the names and shapes of what :func:`build_layers` makes
    for ``config`` (nodes all known), found without making it."""
    nodes, L = config["nodes"], len(config["nodes"]) - 1
    params, state = {}, {}
    for l in range(1, L + 1):
        bn = config["batch_norm"][l]
        params[f"W{l}"] = (nodes[l], nodes[l - 1])
        if config["bias"][l] and not bn:
            params[f"b{l}"] = (nodes[l],)
        if bn and l < L:
            params[f"gamma{l}"] = params[f"beta{l}"] = (nodes[l],)
            state[f"running_mean{l}"] = state[f"running_var{l}"] = (nodes[l],)
    return params, state


class LayerStack:
    """Layers run in order, with a loss on the last one's output.

    Parameters
    ----------
    layers : list of Layer
    named : list of (int, Layer)
        The layers with parameters, by the notes' layer number l: layer l's
        ``W`` is named ``"W{l}"``.
    loss : Loss
        Fused with the output activation (:mod:`mllib.nn.losses`).
    dtype : numpy dtype
    """

    def __init__(self, layers, named, loss, dtype):
        self.layers, self.named, self.loss = layers, named, loss
        self.store = ParameterSet.from_layers(named, dtype)
        # Backward stops at the first layer with parameters: nothing needs ∂J/∂X.
        self._first = next((i for i, layer in enumerate(layers) if layer.params), len(layers))
        # The forward pass's steps: (layer, None) runs the layer; (dense, activation) runs
        # both as one, as the compiled kernels can.
        self._single = [(layer, None) for layer in layers]
        self._fused = _fused_steps(layers)

    def logits(self, X, training):
        """z[L], the last layer's output before the output activation.

        In inference mode z[L] is always a new array (the last layer is a Dense),
        and a layer whose input is an earlier layer's new output may write over it
        (:meth:`~mllib.nn.layers.Layer.forward_owned`): X itself is never written.
        """
        # The compiled kernels (mllib[fast]), if this model uses them: a Dense layer and
        # its activation then run as one (Dense.forward_activated), with the same bits.
        kernels = load(KERNELS, self.store.size, self.store.dtype)
        z, owned = X, False
        with np.errstate(under="ignore"):   # see the module's docstring
            for layer, after in self._single if kernels is None else self._fused:
                if after is None:
                    out = layer.forward_owned(z) if owned else layer.forward(z, training)
                else:
                    out = layer.forward_activated(z, after, kernels, training)
                # Owned from the first layer that made a new array; a layer that
                # returns its input (inference dropout) passes ownership on.
                owned = not training and (owned or out is not z)
                z = out
        return z

    def train_step(self, X, Y, sample_weight=None):
        """One training-mode forward and backward pass: ``(data loss, a[L])``.

        The data loss is J without the penalty. The gradients, the penalty's
        included, are left in the store's ``grads`` buffer. With
        ``sample_weight`` w (N,), the data loss is Σ w_j L_j / Σw, the output
        delta w_j (a_j − y_j)/Σw, and the penalty's gradient takes N = Σw.
        """
        rows = None if sample_weight is None else float(np.sum(sample_weight))
        for _, layer in self.named:
            layer.penalty_rows = rows
        loss, a = self.loss.forward(self.logits(X, training=True), Y, sample_weight)
        delta = self.loss.delta(a, Y, sample_weight)
        with np.errstate(under="ignore"):   # see the module's docstring
            for layer in reversed(self.layers[self._first + 1:]):
                delta = layer.backward(delta)
            if self._first < len(self.layers):
                self.layers[self._first].backward_params(delta)
        self.store.sync()   # a layer that assigned new arrays: into the store with them
        return loss, a

    def update_state(self) -> None:
        """Fold the last training batch into the untrained state (batch norm)."""
        for _, layer in self.named:
            layer.update_state()

    def penalty(self, n_samples) -> float:
        """λ/(2N) Σ_l Σ |W[l]|^p for a batch of N = ``n_samples`` rows (Σw if weighted)."""
        return sum(layer.penalty(n_samples) for _, layer in self.named)

    def state(self) -> dict:
        """Untrained state by name: ``{"running_mean1": ..., "running_var1": ...}``."""
        return {f"{k}{l}": v for l, layer in self.named for k, v in layer.state.items()}

    def get_weights(self) -> dict:
        """A copy of every parameter and running statistic, by name."""
        self.store.sync()
        return {k: v.copy() for k, v in {**self.store.params, **self.state()}.items()}

    def set_weights(self, weights: dict) -> None:
        """Copy ``weights`` into the live arrays; every name and shape, and each layer's
        rule for its state (:meth:`~mllib.nn.layers.Layer.check_state`), is checked first."""
        live = {**self.store.params, **self.state()}
        if set(weights) != set(live):
            raise ValueError(f"weights have keys {sorted(weights)}, expected {sorted(live)}")
        for name, value in weights.items():
            if np.shape(value) != live[name].shape:
                raise ValueError(f"weights[{name!r}] has shape {np.shape(value)}, "
                                 f"expected {live[name].shape}")
        for l, layer in self.named:
            layer.check_state({k: weights[f"{k}{l}"] for k in layer.state})
        for name, value in weights.items():
            live[name][...] = value

    @contextmanager
    def drawing_from(self, rng):
        """Inside the block, every layer that draws (dropout) draws from ``rng`` instead."""
        previous = [layer.use_rng(rng) for layer in self.layers]
        try:
            yield
        finally:
            for layer, old in zip(self.layers, previous):
                if old is not None:
                    layer.use_rng(old)

    @contextmanager
    def frozen(self):
        """Hold every random draw (dropout masks) fixed inside the block."""
        before = [layer.frozen for layer in self.layers]
        for layer in self.layers:
            layer.freeze(True)
        try:
            yield
        finally:
            for layer, frozen in zip(self.layers, before):
                layer.freeze(frozen)
