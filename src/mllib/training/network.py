"""The L-layer network of the notes (§3, §5, §9, §10), built from their config keys."""

from __future__ import annotations

import numpy as np

from ..nn.layers import ActivationLayer, BatchNorm, Dense, Dropout
from ..nn.losses import loss_for_output
from ..nn.regularizers import LpRegularizer
from .config import DTYPES, normalize_config


class NeuralNetwork:
    """An L-layer feed-forward network, configured as in the notes.

    Layer ``l = 1..L`` is ``Dense(n[l-1] → n[l])``, then batch norm if
    ``batch_norm[l]``, then the activator ``g[l]``, then inverted dropout with
    ``keep_probs[l]``; ``keep_probs[0]`` drops inputs. The output activator
    fixes the loss: sigmoid → binary cross-entropy, softmax → categorical
    cross-entropy, linear → squared error. The cost on a batch of N examples is

        J = (1/N) Σ_j L(a[L]_j, y_j) + λ/(2N) Σ_l Σ |W[l]|^p,    p = lp_reg.

    Parameters
    ----------
    nodes : list of int
        ``[n0, n1, ..., nL]``; ``n0 = None`` takes the width from the data.
    activators : str or list
        ``[g1, ..., gL]``, or the notes' ``[g0, g1, ..., gL]`` whose input
        entry is ignored. Names: sigmoid, tanh, relu, leaky_relu, softmax,
        linear; or :class:`mllib.nn.activations.Activation` instances.
    bias : bool or list of bool, default True
        Per layer; a batch-normalized layer has no ``b`` (β absorbs it).
    keep_probs : float or list of float, optional
        Length L + 1, index 0 the input; the last entry must be 1. A single
        number applies to the hidden layers only.
    batch_norm : bool or list of bool, optional
        Length L + 1; True means every hidden layer.
    lp_reg : {0, 1, 2}, lambda_ : float
        The L1/L2 penalty; 0 or λ = 0 means none.
    init : {"he", "xavier", "small"} or callable, default "he"
    bn_epsilon : float, default 1e-5
    bn_momentum : float, default 0.9
    seed : int, default 0
        Seeds the model's one Generator: weights, dropout masks, shuffling.
    dtype : {"float32", "float64"}, default "float32"

    Examples
    --------
    >>> import numpy as np, mllib
    >>> net = mllib.NeuralNetwork(nodes=[2, 4, 1], activators=["tanh", "sigmoid"])
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0]]); y = np.array([0, 1])
    >>> cost, grads = net.gradients(X, y)
    >>> sorted(grads)
    ['W1', 'W2', 'b1', 'b2']
    """

    def __init__(self, nodes, activators, *, bias=True, keep_probs=None, batch_norm=None,
                 lp_reg=0, lambda_=0.0, init="he", bn_epsilon=1e-5, bn_momentum=0.9,
                 seed=0, dtype="float32"):
        self.config = normalize_config(
            nodes=nodes, activators=activators, bias=bias, keep_probs=keep_probs,
            batch_norm=batch_norm, lp_reg=lp_reg, lambda_=lambda_, init=init,
            bn_epsilon=bn_epsilon, bn_momentum=bn_momentum, seed=seed, dtype=dtype)
        self.dtype = np.dtype(DTYPES[self.config["dtype"]])
        self.L = len(self.config["nodes"]) - 1
        self.loss = loss_for_output(self.config["activators"][self.L].name)
        self.rng = np.random.default_rng(self.config["seed"])
        self.layers = []
        self._named = []
        if self.config["nodes"][0] is not None:
            self._build(self.config["nodes"][0])

    # -- construction -------------------------------------------------------

    @property
    def built(self) -> bool:
        return bool(self.layers)

    @property
    def n_features(self):
        return self.config["nodes"][0]

    def _build(self, n0):
        cfg, dtype = self.config, self.dtype
        cfg["nodes"][0] = int(n0)
        reg = LpRegularizer(cfg["lp_reg"], cfg["lambda_"]) if cfg["lp_reg"] and cfg["lambda_"] else None
        layers, named = [], []
        if cfg["keep_probs"][0] < 1.0:
            layers.append(Dropout(cfg["keep_probs"][0], rng=self.rng))
        for l in range(1, self.L + 1):
            bn = cfg["batch_norm"][l]
            dense = Dense(cfg["nodes"][l - 1], cfg["nodes"][l], bias=cfg["bias"][l] and not bn,
                          init=cfg["init"], regularizer=reg, rng=self.rng, dtype=dtype)
            layers.append(dense)
            named.append((l, dense))
            if l == self.L:
                break
            if bn:
                norm = BatchNorm(cfg["nodes"][l], epsilon=cfg["bn_epsilon"],
                                 momentum=cfg["bn_momentum"], dtype=dtype)
                layers.append(norm)
                named.append((l, norm))
            layers.append(ActivationLayer(cfg["activators"][l]))
            if cfg["keep_probs"][l] < 1.0:
                layers.append(Dropout(cfg["keep_probs"][l], rng=self.rng))
        # The input needs no gradient: backward stops at the first Dense.
        self._first = next(i for i, layer in enumerate(layers) if isinstance(layer, Dense))
        layers[self._first].input_grad = False
        self.layers, self._named = layers, named

    # -- parameters ---------------------------------------------------------

    def parameters(self) -> dict:
        """``{"W1": ..., "b1": ..., "gamma1": ..., ...}``: the live arrays."""
        self._require_built()
        return {f"{k}{l}": v for l, layer in self._named for k, v in layer.params.items()}

    def _live_gradients(self) -> dict:
        return {f"{k}{l}": v for l, layer in self._named for k, v in layer.grads.items()}

    def state(self) -> dict:
        """Untrained state: ``{"running_mean1": ..., "running_var1": ...}``."""
        self._require_built()
        return {f"{k}{l}": v for l, layer in self._named for k, v in layer.state.items()}

    def _require_built(self):
        if not self.built:
            raise RuntimeError("the network has no weights yet: nodes[0] is None and it has "
                               "seen no data; call fit, gradients or cost first")

    # -- passes -------------------------------------------------------------

    def _logits(self, X, training):
        z = X
        for layer in self.layers:
            z = layer.forward(z, training)
        return z

    def _penalty(self, n_samples):
        return sum(layer.penalty(n_samples) for _, layer in self._named)

    def _train_pass(self, X, Y):
        """One training-mode forward and backward pass; returns the cost.

        The gradients are left in the layers' ``grads`` (see ``_live_gradients``).
        """
        z = self._logits(X, training=True)
        a = self.loss.activation.forward(z)
        cost = self.loss.cost(z, Y) + self._penalty(X.shape[0])
        delta = self.loss.delta(a, Y)
        for layer in reversed(self.layers[self._first:]):
            delta = layer.backward(delta)
        return cost

    def gradients(self, X, y):
        """Cost and gradients of one training-mode pass over ``(X, y)`` as one batch.

        Returns ``(cost, grads)``; ``grads`` has the keys of :meth:`parameters`
        and includes the regularization term. Dropout draws new masks (unless
        frozen); batch-norm running statistics are left as they are.
        """
        X, Y = self._check_data(X, y)
        cost = self._train_pass(X, Y)
        return cost, {k: v.copy() for k, v in self._live_gradients().items()}

    def cost(self, X, y, *, training=True) -> float:
        """The cost J of :meth:`gradients`, without the backward pass.

        ``training=False`` evaluates in inference mode instead: no dropout,
        and batch norm with its running statistics.
        """
        X, Y = self._check_data(X, y)
        z = self._logits(X, training=training)
        return self.loss.cost(z, Y) + self._penalty(X.shape[0])

    def forward(self, X) -> np.ndarray:
        """Inference-mode output ``a[L]`` of shape ``(n_samples, n[L])``."""
        X = self._check_X(X)
        return self.loss.activation.forward(self._logits(X, training=False))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (sigmoid or softmax outputs), in inference mode."""
        return self.forward(X)

    # -- input checks -------------------------------------------------------

    def _check_X(self, X):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("X has no rows")
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
            raise ValueError(f"X must be numeric, got dtype {X.dtype}")
        if self.n_features is not None and X.shape[1] != self.n_features:
            raise ValueError(f"X has {X.shape[1]} features, but the network expects "
                             f"nodes[0] = {self.n_features}")
        X = np.asarray(X, dtype=self.dtype)
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinite values")
        if not self.built:
            self._build(X.shape[1])
        return X

    def _check_data(self, X, y):
        X = self._check_X(X)
        Y = self._targets(y)
        if Y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {Y.shape[0]}")
        return X, Y

    def _targets(self, y) -> np.ndarray:
        """``y`` as an ``(n_samples, n[L])`` array in the model's dtype."""
        y = np.asarray(y)
        n_out, kind = self.config["nodes"][-1], self.loss.activation.name
        if y.ndim == 1:
            if kind == "softmax":
                return self._one_hot(y, n_out)
            y = y.reshape(-1, 1)
        if y.ndim != 2 or y.shape[1] != n_out:
            raise ValueError(f"y must have shape (n_samples,) or (n_samples, {n_out}), "
                             f"got {y.shape}")
        if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
            raise ValueError(f"y must be numeric here, got dtype {y.dtype}")
        Y = y.astype(self.dtype)
        if not np.isfinite(Y).all():
            raise ValueError("y contains NaN or infinite values")
        if kind == "sigmoid" and not np.isin(Y, (0.0, 1.0)).all():
            raise ValueError("y must hold 0/1 labels for a sigmoid output")
        if kind == "softmax" and not (np.isin(Y, (0.0, 1.0)).all() and (Y.sum(axis=1) == 1).all()):
            raise ValueError("one-hot y must have exactly one 1 per row")
        return Y

    def _one_hot(self, labels, n_classes):
        if not np.issubdtype(labels.dtype, np.integer):
            as_int = labels.astype(np.int64) if np.issubdtype(labels.dtype, np.number) else None
            if as_int is None or not np.array_equal(as_int, labels):
                raise ValueError("softmax labels must be integers in [0, n_classes) or one-hot rows")
            labels = as_int
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"softmax labels must lie in [0, {n_classes}), got values from "
                             f"{labels.min()} to {labels.max()}")
        Y = np.zeros((labels.shape[0], n_classes), dtype=self.dtype)
        Y[np.arange(labels.shape[0]), labels] = 1.0
        return Y

    def __repr__(self):
        cfg = self.config
        acts = [g.name for g in cfg["activators"][1:]]
        return f"NeuralNetwork(nodes={cfg['nodes']}, activators={acts})"
