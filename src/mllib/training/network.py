"""The L-layer network of the notes (§3, §5, §9, §10), built from their config keys.

:class:`NeuralNetwork` is the user's object: it owns the configuration, the
label targets, the standardizer, prediction and the model file. The layers,
their parameter store and the passes over them are a :class:`~.stack.LayerStack`,
reached through the methods of :class:`~.model.StackModel`; fit planning and
input checks live in :mod:`.plan` and :mod:`.inputs`. The training loop
(:mod:`.fit`) uses only public methods of the model.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from ..io import register_model, save_model
from ..nn.losses import REGRESSION_OUTPUTS, loss_for_output
from . import single_step
from . import state as model_state
from .config import DTYPES, normalize_config
from .diagnosis import diagnose
from .fit import (adopt, check_callbacks, check_fit_arguments, log_names, resolve_run,
                  run_epochs)
from .chunks import forward_in_chunks
from .inputs import check_X
from .metrics import predicted_codes
from .inspection import Inspection
from .model import StackModel
from .plan import plan_fit
from .prepare import Preparation
from .sparse import check_sparse_use
from .stack import LayerStack, build_layers
from .summary import summary_table
from .target_scaling import check_standardize_target, unscale_outputs
from .targets import TargetEncoder


@register_model
class NeuralNetwork(Inspection, Preparation, StackModel):
    """An L-layer feed-forward network, configured as in the notes.

    Layer ``l = 1..L`` is ``Dense(n[l-1] → n[l])``, then batch norm if
    ``batch_norm[l]``, then the activator ``g[l]``, then inverted dropout with
    ``keep_probs[l]``; ``keep_probs[0]`` drops inputs. The output activator
    fixes the loss: sigmoid → binary cross-entropy, softmax → categorical
    cross-entropy, linear → squared error, exp → half the Poisson deviance (for
    counts y ≥ 0). The cost on a batch of N examples is

        J = (1/N) Σ_j L(a[L]_j, y_j) + λ/(2N) Σ_l Σ |W[l]|^p,    p = lp_reg.

    :meth:`fit` draws its batches; :meth:`train_on_batch` takes one step of
    the same engine on the rows given (J and ∂J/∂θ by the forward and backward
    pass, then θ := θ − α ∂J/∂θ, or the optimizer's update) and returns J
    before the step: for a batch order of one's own, or one step at a time.

    Parameters
    ----------
    nodes : list of int
        ``[n0, n1, ..., nL]``; ``n0 = None`` takes the width from the data.
    activators : str or list
        ``[g1, ..., gL]``, or the notes' ``[g0, g1, ..., gL]`` whose input
        entry is ignored. Names: sigmoid, tanh, relu, leaky_relu, softmax,
        linear, exp; or :class:`mllib.nn.activations.Activation` instances.
    bias : bool or list of bool, default True
        Per layer; a batch-normalized layer has no ``b`` (β absorbs it).
    keep_probs : float or list of float, optional
        Length L + 1, index 0 the input; the last entry must be 1. A single
        number applies to the hidden layers only.
    batch_norm : bool or list of bool, optional
        Length L + 1; True means every hidden layer.
    lp_reg : {0, 1, 2}, lambda_ : float
        The L1/L2 penalty; 0 or λ = 0 means none.
    init : str, dict or callable, default "he"
        The weights' draw (:mod:`mllib.nn.init`): "he" randn·√(2/n[l-1]),
        "xavier" randn·√(1/n[l-1]), "small" randn·0.01, "zeros", or
        ``{"name": "normal", "scale": s}`` (also "normal:s") randn·s. A
        callable ``init(shape, rng, dtype)`` works, but cannot be saved.
    bn_epsilon : float, default 1e-5
    bn_momentum : float, default 0.9
    seed : int, default 0
        Seeds the model's one Generator: weights, dropout masks, shuffling.
    dtype : {"float32", "float64"}, default "float32"
    standardize : bool, default False
        Fit a :class:`~mllib.data.Standardizer` on the first training data
        and apply it to every input afterwards (notes §4). Not for sparse X.
    standardize_target : bool, default False
        Linear output only: fit on (y − μ)/σ from the first fit's targets;
        ``predict`` answers in y's units (:mod:`mllib.training.target_scaling`).

    Attributes
    ----------
    Names that end in ``_`` change as the model trains.

    fitted_ : bool
        Set by :meth:`fit`, :meth:`train_on_batch` and :func:`mllib.load`. ``predict``,
        ``predict_proba`` and ``evaluate`` need it; ``forward``,
        ``gradients`` and ``cost`` work on an unfitted network.
        (``fitted`` is an alias.)
    epoch_ : int
        Epochs trained so far by ``fit``; the learning-rate schedule's position.
    optimizer_ : Optimizer or None
        The optimizer of the last ``fit`` or ``train_on_batch``, with its state.
    run_ : RunSettings or None
        How the last ``fit`` trained: schedule, batch size, the epoch it was
        to reach (a ``train_on_batch`` given a rate keeps it there). A later
        ``fit`` continues them (:mod:`mllib.training.resume`).
    position_ : Position or None
        The epoch under way, once ``fit`` stopped in the middle of one.
    targets_ : TargetEncoder
        How labels become targets; the classes are fixed by the first fit.
        (``targets`` is an alias.)
    standardizer_ : Standardizer or None
    target_scaler_ : Standardizer or None
        μ and σ of the targets, with ``standardize_target``.
    history_ : History
        What the last call of :meth:`fit` returned.
    rng_ : numpy.random.Generator
        The model's one Generator, seeded by ``seed``. (``rng`` is an alias.)
    store : ParameterSet, once built
        Every parameter and gradient, as views into two flat buffers.

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
                 seed=0, dtype="float32", standardize=False, standardize_target=False):
        self.config = normalize_config(
            nodes=nodes, activators=activators, bias=bias, keep_probs=keep_probs,
            batch_norm=batch_norm, lp_reg=lp_reg, lambda_=lambda_, init=init,
            bn_epsilon=bn_epsilon, bn_momentum=bn_momentum, seed=seed, dtype=dtype)
        self.dtype = np.dtype(DTYPES[self.config["dtype"]])
        self.L = len(self.config["nodes"]) - 1
        self.standardize = bool(standardize)
        self._loss = loss_for_output(self.config["activators"][self.L].name)
        self.standardize_target = check_standardize_target(standardize_target,
                                                           self._loss.activation.name)
        self.target_scaler_ = None
        self.rng_ = np.random.default_rng(self.config["seed"])
        self.targets_ = TargetEncoder(self._loss.activation.name)
        self.standardizer_ = None
        self.optimizer_ = None
        self.epoch_ = 0
        self.run_ = None           # how the last fit trained (mllib.training.resume)
        self.position_ = None      # the epoch under way, while one is
        self.fitted_ = False
        self.stop_training = False
        self._stack = None
        self._inspect_rng = None   # the dropout masks of gradients() and cost() (Inspection)
        # Not while mllib.load makes the model: it builds the layers once it checked their sizes.
        if None not in (self.config["nodes"][0], self.config["nodes"][-1]) \
                and not model_state.building_deferred():
            self.build(self.config["nodes"][0])

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        register_model(cls)   # so that mllib.load finds every model class by name

    # -- construction -------------------------------------------------------

    n_features = property(lambda self: self.config["nodes"][0])

    @property
    def loss(self):
        """The output activation fused with its loss (:mod:`mllib.nn.losses`)."""
        return self._loss

    # The fitted attributes' older names, kept as aliases.
    fitted = property(lambda self: self.fitted_, lambda self, v: setattr(self, "fitted_", v))
    targets = property(lambda self: self.targets_, lambda self, v: setattr(self, "targets_", v))
    rng = property(lambda self: self.rng_, lambda self, v: setattr(self, "rng_", v))

    def build(self, n_features, n_outputs=None) -> None:
        """Create the layers for ``n_features`` inputs (and ``n_outputs`` if nodes[L] is None).

        ``fit``, ``gradients`` and ``cost`` call this with the data's widths;
        a built network only accepts its own widths again.
        """
        nodes = self.config["nodes"]
        n_outputs = nodes[-1] if n_outputs is None else n_outputs
        if n_outputs is None:
            raise ValueError("nodes[L] is None: give n_outputs")
        n_features = check_int("n_features", n_features, 1)
        n_outputs = check_int("n_outputs", n_outputs, 2 if self.output_kind == "softmax" else 1)
        for name, given, fixed in (("n_features", n_features, nodes[0]),
                                   ("n_outputs", n_outputs, nodes[-1])):
            if fixed is not None and given != fixed:
                raise ValueError(f"{name} is {given}, but the network has "
                                 f"nodes[{0 if name == 'n_features' else 'L'}] = {fixed}")
        if self.built:
            return
        config = {**self.config, "nodes": [n_features, *nodes[1:-1], n_outputs]}
        layers, named = build_layers(config, self.rng_, self.dtype)
        self._stack = LayerStack(layers, named, self._loss, self.dtype)
        nodes[0], nodes[-1] = n_features, n_outputs

    def _require_fitted(self):
        if not self.fitted_:
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet; call fit first "
                               "(or mllib.load a saved model)")

    # -- the training protocol (used by the loop in mllib.training.fit) ---------

    # The output activation: "sigmoid", "softmax", "linear" or "exp".
    output_kind = property(lambda self: self._loss.activation.name)
    # Whether every training batch needs two rows or more (batch norm).
    needs_two_rows = property(lambda self: any(self.config["batch_norm"]))
    # The score logged and evaluated beside the cost: "accuracy", or "r2" for regression.
    score_name = property(lambda self: "r2" if self.output_kind in REGRESSION_OUTPUTS
                          else "accuracy")

    # -- passes -------------------------------------------------------------

    def forward(self, X) -> np.ndarray:
        """Inference-mode output ``a[L]`` of shape ``(n_samples, n[L])``.

        X is converted to the model's dtype chunk by chunk, never whole. This
        works on an unfitted network too (gradient checks use it). Like ``predict``,
        ``predict_proba`` and ``evaluate``, it returns finite numbers or raises
        :class:`~.outputs.NonFiniteOutputError` where a value overflowed on the way.
        """
        X = check_X(X, n_features=self.n_features, finite=False)
        check_sparse_use(self, X, training=False)
        self._require_built()
        return forward_in_chunks(self, X)

    # -- training and prediction ----------------------------------------------

    def fit(self, X, y, *, optimizer=None, learning_rate=None, epochs=None, batch_size=None,
            lr_decay=None, validation_data=None, validation_split=0.0, callbacks=(),
            augment=None, verbose=0, sample_weight=None):
        """Train on ``(X, y)``; a second call continues the same run.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            Any array that supports row indexing, ``np.memmap`` included:
            mini-batches are gathered from it, it is never copied whole. Or
            a SciPy sparse matrix, kept sparse (:mod:`mllib.training.sparse`).
        y : array_like
            Labels of any kind for classifiers, ``(N,)`` or one column
            ``(N, 1)``; one-hot or 0/1 rows ``(N, n[L])``; floats for
            regression. The classes are fixed by the first fit; see
            :mod:`mllib.training.targets` for how ``nodes[L]`` decides them.
        optimizer : {"adam", "momentum", "rmsprop", "gd"}, config dict or Optimizer
            None continues ``optimizer_``, or starts Adam. A name or dict equal
            to the current ``optimizer_`` continues it; another one starts
            fresh. An instance is used as given; one that has trained another
            model already is refused.
        learning_rate : float, optional
            α0; 0.001 for Adam and RMSProp, 0.01 for the others by default.
        epochs : int, optional
            More epochs to train. None finishes an interrupted run (one saved
            by a checkpoint or after Ctrl-C), or trains 100.
        batch_size : int, optional
            1 is stochastic; N or more is full-batch gradient descent. None
            keeps the last fit's batch size, and is full batch at first. With
            batch norm, a last batch of one row joins the batch before it,
            and ``batch_size=1`` is refused.
        lr_decay : str, tuple, Schedule or callable, optional
            α(epoch), e.g. ``"rational:1.0"`` for α0/(1 + epoch). With neither
            this nor ``learning_rate``, a continued optimizer keeps the last
            fit's schedule, also in a model loaded from a file.
        validation_data : (X_dev, y_dev) or (X_dev, y_dev, sample_weight_dev), optional
        validation_split : float
            The last fraction of the rows, kept out of training, as in Keras.
        callbacks : list of Callback
        augment : callable, optional
            ``augment(X_batch, rng) -> X_batch``, applied to every batch; it
            may write in place, it never sees the caller's X.
        verbose : {0, 1, 2}
        sample_weight : array_like of shape (n_samples,), optional
            Finite weights ≥ 0, not all 0; all ones is the same as None. Each
            batch's cost is Σ w_j L_j / Σw + λ/(2Σw) Σ|W|^p over its rows (see
            :mod:`mllib.training.fit`); ``validation_split`` splits them too.
            They are data: the model file does not keep them.

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
        Training can stop at any step (Ctrl-C takes effect between steps)
        and go on from a saved model to the same bits; see :mod:`.resume`.
        """
        callbacks = list(callbacks)
        check_fit_arguments(epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                            validation_split=validation_split, callbacks=callbacks,
                            augment=augment, verbose=verbose)
        plan = plan_fit(self, X, y, validation_data, validation_split, batch_size, sample_weight)
        opt, schedule, epochs, batch_size = resolve_run(
            self, plan.X.shape[0], optimizer=optimizer, learning_rate=learning_rate,
            lr_decay=lr_decay, epochs=epochs, batch_size=batch_size)
        check_callbacks(callbacks, log_names(self, plan.validation))
        adopt(self, plan, opt)     # everything is checked: only now does the model change
        # run_epochs keeps its History in history_ as it fills, so an error leaves it there.
        return run_epochs(self, plan.X, plan.Y, epochs=epochs, batch_size=batch_size,
                          optimizer=opt, schedule=schedule, validation=plan.validation,
                          callbacks=callbacks, augment=augment, verbose=verbose,
                          sample_weight=plan.W)

    train_on_batch = single_step.train_on_batch     # one step, outside any epoch

    def predict_proba(self, X) -> np.ndarray:
        """Inference-mode outputs of a classifier: a[L] = P(y = 1 | x) for a
        sigmoid output, softmax rows that sum to 1 for a softmax output."""
        if not self.targets_.is_classifier:
            raise AttributeError("predict_proba is for sigmoid and softmax outputs; this "
                                 f"network has a {self.output_kind} output, use predict")
        self._require_fitted()
        return self.forward(X)

    def predict(self, X) -> np.ndarray:
        """Predicted labels (in the labels' own kind) or regression values (in y's units)."""
        self._require_fitted()
        a = self.forward(X)
        if self.output_kind in REGRESSION_OUTPUTS:
            a = unscale_outputs(a, self.target_scaler_)
            return a[:, 0] if a.shape[1] == 1 else a
        return self.targets_.decode(predicted_codes(a, self.output_kind))

    def evaluate(self, X, y, *, sample_weight=None) -> dict:
        """Inference-mode ``{"cost": J, "accuracy": ...}`` (or ``"r2"``) on ``(X, y)``.

        ``cost`` is ``cost(X, y, training=False)``: the mean data loss plus
        λ/(2N) Σ|W|^p with N the rows of X; with ``sample_weight``, the
        weighted mean and N = Σw, and weighted accuracy or R². With
        ``standardize_target`` the cost is in standardized units, R² unit-free.
        """
        self._require_fitted()
        X, Y, w = self._check_data(X, y, sample_weight=sample_weight, training=False,
                                   convert=False)
        return self.evaluate_targets(X, Y, w)

    def diagnose(self, train, dev, *, bayes_error=0.0, tolerance=0.05):
        """Bias and variance from the errors on ``train`` and ``dev``, two ``(X, y)`` pairs.

        The error is 1 − accuracy (1 − R² for regression), in inference
        mode; see :func:`mllib.training.diagnosis.diagnose` for the rules. 1 − R² may
        exceed 1 (a regressor worse than the mean), and is read with ``regression=True``.
        """
        errors = [1.0 - self.evaluate(X, y)[self.score_name] for X, y in (train, dev)]
        return diagnose(*errors, bayes_error=bayes_error, tolerance=tolerance,
                        regression=self.score_name == "r2")

    # -- saving ---------------------------------------------------------------

    def save(self, path) -> None:
        """Write everything needed to predict and to continue training to ``path``.

        The file is an ``.npz`` archive with a JSON header and nothing pickled;
        read it back with :func:`mllib.load`. See :mod:`mllib.io.modelfile`.
        """
        save_model(self, path)

    def get_config(self) -> dict:
        """The constructor's arguments, JSON-serializable: ``type(self)(**get_config())``."""
        return model_state.network_config(self)

    def get_state(self) -> tuple[dict, dict]:
        """``(header, arrays)``: the model as JSON-serializable data and named arrays."""
        return model_state.get_state(self)

    @classmethod
    def from_state(cls, header: dict, arrays: dict):
        """The model that :meth:`get_state` described; ValueError if it is inconsistent."""
        return model_state.from_state(cls, header, arrays)

    model_file_limits = classmethod(model_state.model_file_limits)   # for mllib.load

    def summary(self, file=None) -> str:
        """Print (and return) a table of layers, output shapes and parameter counts."""
        self._require_built()
        text = summary_table(self)
        print(text, file=file)
        return text

    def __repr__(self):
        acts = [g.name for g in self.config["activators"][1:]]
        return f"NeuralNetwork(nodes={self.config['nodes']}, activators={acts})"
