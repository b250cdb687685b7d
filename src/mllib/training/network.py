"""The L-layer network of the notes (§3, §5, §9, §10), built from their config keys."""

from __future__ import annotations

import numpy as np

from ..data import Standardizer
from ..nn.layers import ActivationLayer, BatchNorm, Dense, Dropout
from ..nn.losses import loss_for_output
from ..nn.regularizers import LpRegularizer
from ..optim.flat import pack
from . import checkpoint
from .config import DTYPES, normalize_config
from .fit import (check_batch_norm, check_callbacks, check_fit_arguments, log_names,
                  resolve_optimizer, run_epochs, split_validation)
from .metrics import EpochMetrics, predicted_codes
from .targets import TargetEncoder

# Rows per chunk when predicting or evaluating, to bound temporary memory.
CHUNK = 4096


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
    standardize : bool, default False
        Fit a :class:`~mllib.data.Standardizer` on the first training data
        and apply it to every input afterwards (notes §4).

    Attributes
    ----------
    fitted : bool
        Set by :meth:`fit` and by :func:`mllib.load`. ``predict``,
        ``predict_proba`` and ``evaluate`` need it; ``forward``,
        ``gradients`` and ``cost`` work on an unfitted network.
    epoch_ : int
        Epochs trained so far; the learning-rate schedule's position.
    optimizer_ : Optimizer or None
        The optimizer of the last ``fit``, with its state.

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
                 seed=0, dtype="float32", standardize=False):
        self.config = normalize_config(
            nodes=nodes, activators=activators, bias=bias, keep_probs=keep_probs,
            batch_norm=batch_norm, lp_reg=lp_reg, lambda_=lambda_, init=init,
            bn_epsilon=bn_epsilon, bn_momentum=bn_momentum, seed=seed, dtype=dtype)
        self.dtype = np.dtype(DTYPES[self.config["dtype"]])
        self.L = len(self.config["nodes"]) - 1
        self.loss = loss_for_output(self.config["activators"][self.L].name)
        self.rng = np.random.default_rng(self.config["seed"])
        self.targets = TargetEncoder(self.loss.activation.name)
        self.standardize = bool(standardize)
        self.standardizer_ = None
        self.optimizer_ = None
        self.epoch_ = 0
        self.fitted = False   # set by fit and by load; predict and evaluate need it
        self.stop_training = False
        self.layers = []
        self._named = []
        if None not in (self.config["nodes"][0], self.config["nodes"][-1]):
            self._build(self.config["nodes"][0])

    # -- construction -------------------------------------------------------

    @property
    def built(self) -> bool:
        return bool(self.layers)

    @property
    def n_features(self):
        return self.config["nodes"][0]

    def _build(self, n0, n_out=None):
        cfg, dtype = self.config, self.dtype
        cfg["nodes"][0] = int(n0)
        if cfg["nodes"][-1] is None:
            cfg["nodes"][-1] = int(n_out)
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
        self._pack_parameters()

    def _pack_parameters(self):
        """Make all parameters, and all gradients, views of one flat buffer each.

        The optimizer then updates every parameter in a few large NumPy calls
        (:mod:`mllib.optim.flat`) instead of a loop over small arrays.
        """
        for attribute in ("params", "grads"):
            arrays = [(layer, k, a) for _, layer in self._named
                      for k, a in getattr(layer, attribute).items()]
            views = pack([a for _, _, a in arrays], self.dtype)
            for (layer, k, _), view in zip(arrays, views):
                getattr(layer, attribute)[k] = view

    def _build_for(self, X, y=None):
        """Build the layers once the data gives the widths left as None."""
        if self.built:
            return
        if self.config["nodes"][-1] is None:
            if y is None:
                raise RuntimeError("nodes[L] is None: the output width is taken from y, "
                                   "so the network must see targets first")
            n_out = self.targets.n_outputs(y)
        else:
            n_out = None
        self._build(X.shape[1], n_out)

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

    def _require_fitted(self):
        if not self.fitted:
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet; call fit first "
                               "(or mllib.load a saved model)")

    def _require_built(self):
        if not self.built:
            raise RuntimeError("the network has no weights yet: nodes[0] is None and it has "
                               "seen no data; call fit, gradients or cost first")

    def get_weights(self) -> dict:
        """A copy of every parameter and running statistic, by qualified name."""
        return {k: v.copy() for k, v in {**self.parameters(), **self.state()}.items()}

    def set_weights(self, weights: dict) -> None:
        """Copy ``weights`` (as from :meth:`get_weights`) into the live arrays."""
        live = {**self.parameters(), **self.state()}
        if set(weights) != set(live):
            raise ValueError(f"weights have keys {sorted(weights)}, expected {sorted(live)}")
        for name, value in weights.items():
            value = np.asarray(value)
            if value.shape != live[name].shape:
                raise ValueError(f"weights[{name!r}] has shape {value.shape}, "
                                 f"expected {live[name].shape}")
        for name, value in weights.items():
            live[name][...] = value

    # -- passes -------------------------------------------------------------

    def _logits(self, X, training):
        z = X
        for layer in self.layers:
            z = layer.forward(z, training)
        return z

    def _penalty(self, n_samples):
        return sum(layer.penalty(n_samples) for _, layer in self._named)

    def _train_pass(self, X, Y):
        """One training-mode forward and backward pass: ``(data loss, a[L])``.

        The data loss is J without the penalty. The gradients, penalty term
        included, are left in the layers' ``grads`` (see ``_live_gradients``).
        """
        z = self._logits(X, training=True)
        loss, a = self.loss.forward(z, Y)
        delta = self.loss.delta(a, Y)
        for layer in reversed(self.layers[self._first:]):
            delta = layer.backward(delta)
        return loss, a

    def _update_state(self):
        for _, layer in self._named:
            layer.update_state()

    def gradients(self, X, y):
        """Cost and gradients of one training-mode pass over ``(X, y)`` as one batch.

        Returns ``(cost, grads)``; ``grads`` has the keys of :meth:`parameters`
        and includes the regularization term. Dropout draws new masks (unless
        frozen); batch-norm running statistics are left as they are.
        """
        X, Y = self._check_data(X, y)
        loss, _ = self._train_pass(X, Y)
        cost = loss + self._penalty(X.shape[0])
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
        """Inference-mode output ``a[L]`` of shape ``(n_samples, n[L])``.

        X is converted to the model's dtype chunk by chunk, never whole. This
        works on an unfitted network too (gradient checks use it).
        """
        X = self._check_X(X, convert=False, finite=False)
        self._require_built()
        out = np.empty((X.shape[0], self.config["nodes"][-1]), dtype=self.dtype)
        for start in range(0, X.shape[0], CHUNK):
            rows = slice(start, start + CHUNK)
            # Checked chunk by chunk, while the chunk is in cache: nothing has
            # changed if a later chunk is refused.
            _require_finite(X[rows], "X")
            out[rows] = self.loss.activation.forward(
                self._logits(self._batch_input(X, rows), training=False))
        return out

    # -- training and prediction ----------------------------------------------

    def fit(self, X, y, *, optimizer="adam", learning_rate=None, epochs=100, batch_size=None,
            lr_decay=None, validation_data=None, validation_split=0.0, callbacks=(),
            augment=None, verbose=0):
        """Train on ``(X, y)``; a second call continues the same run.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            Any array that supports row indexing, ``np.memmap`` included:
            mini-batches are gathered from it, it is never copied whole.
        y : array_like
            Labels of any kind for classifiers, ``(N,)`` or one column
            ``(N, 1)``; one-hot or 0/1 rows ``(N, n[L])``; floats for
            regression. The classes are fixed by the first fit; see
            :mod:`mllib.training.targets` for how ``nodes[L]`` decides them.
        optimizer : {"adam", "momentum", "rmsprop", "gd"}, config dict or Optimizer
            A name or dict equal to the current ``optimizer_`` continues it;
            another one starts fresh. An instance is used as given; one that
            has trained another model already is refused.
        learning_rate : float, optional
            α0; 0.001 for Adam and RMSProp, 0.01 for the others by default.
        epochs : int
        batch_size : int, optional
            None is full-batch gradient descent; 1 is stochastic. With batch
            norm, a last batch of one row joins the batch before it, and
            ``batch_size=1`` is refused.
        lr_decay : str, tuple, Schedule or callable, optional
            α(epoch), e.g. ``"rational:1.0"`` for α0/(1 + epoch).
        validation_data : (X_dev, y_dev), optional
        validation_split : float
            The last fraction of the rows, kept out of training, as in Keras.
        callbacks : list of Callback
        augment : callable, optional
            ``augment(X_batch, rng) -> X_batch``, applied to every batch; it
            may write in place, it never sees the caller's X.
        verbose : {0, 1, 2}

        Returns
        -------
        History
            Per epoch: ``cost``, the cost J on the N training rows, that is
            the batches' mean data loss (weighted by batch size, each taken
            in training mode before its step) plus λ/(2N) Σ|W|^p with the
            weights at the end of the epoch; ``accuracy`` (or ``r2``) over
            the batches; ``val_cost`` and ``val_accuracy`` (or ``val_r2``),
            ``evaluate`` on the dev data, so ``val_cost`` is
            ``cost(X_dev, y_dev, training=False)``; ``lr`` and ``time``.

        Everything is checked before the model changes: a call that raises
        leaves it as it was. The optimizer's state, the epoch (so the
        schedule's position) and the Generator carry over between calls:
        ``fit(epochs=6)`` gives the same bits as ``fit(epochs=3)`` twice.
        """
        callbacks = list(callbacks)
        check_fit_arguments(epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                            validation_split=validation_split, callbacks=callbacks,
                            augment=augment, verbose=verbose)
        plan = self._plan_fit(X, y, validation_data, validation_split, batch_size)
        opt, schedule = resolve_optimizer(self, optimizer, learning_rate, lr_decay)
        check_callbacks(callbacks, log_names(self, plan["validation"]))
        # Everything is checked: only now does the model change.
        self.targets, self.standardizer_, self.optimizer_ = plan["targets"], plan["scaler"], opt
        if not self.built:
            self._build(plan["X"].shape[1], plan["n_out"])
        self.fitted = True
        return run_epochs(self, plan["X"], plan["Y"], epochs=epochs, batch_size=batch_size,
                          optimizer=opt, schedule=schedule, validation=plan["validation"],
                          callbacks=callbacks, augment=augment, verbose=verbose)

    def _plan_fit(self, X, y, validation_data, validation_split, batch_size) -> dict:
        """Check the data of ``fit`` and prepare what it needs, on local variables only."""
        X = self._check_X(X, convert=False)
        y = _rows_of(y, X, "X", "y")
        X, y, X_dev, y_dev = split_validation(X, y, validation_data, validation_split)
        check_batch_norm(self, X.shape[0], batch_size)
        targets = self.targets.fitted(y, self.config["nodes"][-1])
        n_out = self.config["nodes"][-1] or targets.n_outputs(y)
        plan = {"X": X, "Y": targets.transform(y, n_out, self.dtype), "targets": targets,
                "n_out": n_out, "validation": None, "scaler": self.standardizer_}
        if X_dev is not None:
            X_dev = self._check_X(X_dev, convert=False, name="X_dev")
            if X_dev.shape[1] != X.shape[1]:
                raise ValueError(f"X_dev has {X_dev.shape[1]} features but X has {X.shape[1]}")
            y_dev = _rows_of(y_dev, X_dev, "X_dev", "y_dev")
            try:
                plan["validation"] = (X_dev, targets.transform(y_dev, n_out, self.dtype))
            except ValueError as err:
                raise ValueError(f"y_dev: {err}") from None
        if self.standardize and plan["scaler"] is None:
            plan["scaler"] = Standardizer().fit(X)
        return plan

    def predict_proba(self, X) -> np.ndarray:
        """Inference-mode outputs of a classifier: a[L] = P(y = 1 | x) for a
        sigmoid output, softmax rows that sum to 1 for a softmax output."""
        if not self.targets.is_classifier:
            raise AttributeError("predict_proba is for sigmoid and softmax outputs; "
                                 "this network has a linear output, use predict")
        self._require_fitted()
        return self.forward(X)

    def predict(self, X) -> np.ndarray:
        """Predicted labels (in the labels' own kind) or regression values."""
        self._require_fitted()
        a = self.forward(X)
        kind = self.loss.activation.name
        if kind == "linear":
            return a[:, 0] if a.shape[1] == 1 else a
        return self.targets.decode(predicted_codes(a, kind))

    def evaluate(self, X, y) -> dict:
        """Inference-mode ``{"cost": J, "accuracy": ...}`` (or ``"r2"``) on ``(X, y)``.

        ``cost`` is ``cost(X, y, training=False)``: the mean data loss plus
        λ/(2N) Σ|W|^p with N the rows of X.
        """
        self._require_fitted()
        X, Y = self._check_data(X, y, convert=False)
        return self._evaluate_encoded(X, Y)

    def _evaluate_encoded(self, X, Y) -> dict:
        sums = EpochMetrics(self.loss.activation.name)
        for start in range(0, X.shape[0], CHUNK):
            rows = slice(start, start + CHUNK)
            z = self._logits(self._batch_input(X, rows), training=False)
            sums.add(*self.loss.forward(z, Y[rows]), Y[rows])
        logs = sums.result()
        logs["cost"] += self._penalty(X.shape[0])
        return logs

    def save(self, path) -> None:
        """Write everything needed to predict and to continue training to ``path``.

        The file is an ``.npz`` archive with a JSON header and nothing pickled;
        read it back with :func:`mllib.load`. See :mod:`mllib.io.modelfile`.
        """
        checkpoint.save(self, path)

    def summary(self, file=None) -> str:
        """Print (and return) a table of layers, output shapes and parameter counts."""
        from .summary import summary_table

        text = summary_table(self)
        print(text, file=file)
        return text

    # -- input checks -------------------------------------------------------

    def _batch_input(self, X, rows):
        """Rows of X in the model's dtype, standardized if the model standardizes."""
        batch = np.asarray(X[rows], dtype=self.dtype)
        if self.standardizer_ is not None:
            batch = self.standardizer_.transform(batch)
        return batch

    def _check_X(self, X, convert=True, name="X", finite=True):
        if not isinstance(X, np.ndarray):
            X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"{name} has no rows")
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool) \
                or np.issubdtype(X.dtype, np.complexfloating):
            raise ValueError(f"{name} must be real numbers, got dtype {X.dtype}")
        if self.n_features is not None and X.shape[1] != self.n_features:
            raise ValueError(f"{name} has {X.shape[1]} features, but the network expects "
                             f"nodes[0] = {self.n_features}")
        if finite:
            _require_finite(X, name)
        return np.asarray(X, dtype=self.dtype) if convert else X

    def _check_data(self, X, y, convert=True):
        X = self._check_X(X, convert)
        y = _rows_of(y, X, "X", "y")
        self._build_for(X, y)
        if convert and self.standardizer_ is not None:
            X = self.standardizer_.transform(X)
        return X, self._targets(y)

    def _targets(self, y) -> np.ndarray:
        return self.targets.transform(y, self.config["nodes"][-1] or self.targets.n_outputs(y),
                                      self.dtype)

    def __repr__(self):
        cfg = self.config
        acts = [g.name for g in cfg["activators"][1:]]
        return f"NeuralNetwork(nodes={cfg['nodes']}, activators={acts})"


def _rows_of(y, X, x_name, y_name) -> np.ndarray:
    """``y`` as an array with one entry (or row) per row of ``X``, else ValueError."""
    y = np.asarray(y)
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        raise ValueError(f"{x_name} has {X.shape[0]} rows but {y_name} has shape {y.shape}")
    return y


def _require_finite(X, name) -> None:
    if not _all_finite(X):
        raise ValueError(f"{name} contains NaN or infinite values")


def _all_finite(X) -> bool:
    """Whether every entry of X is finite, without a temporary as large as X.

    A sum in X's own dtype is finite when every entry is (X may be a memmap, so this
    streams through it once); only if it is not, because of NaN, ±inf or an
    overflow of huge finite values, are the rows checked chunk by chunk.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(X, axis=None)):
            return True
    return all(np.isfinite(X[start:start + CHUNK]).all() for start in range(0, X.shape[0], CHUNK))
