"""The L-layer network of the notes (§3, §5, §9, §10), built from their config keys.

:class:`NeuralNetwork` is the user's object: it owns the configuration, the
label targets, the standardizer, prediction and the model file. The layers,
their parameter store and the passes over them are a :class:`~mllib.training.model.stack.LayerStack`,
reached through the training protocol, the base class :class:`~mllib.training.model.protocol.StackModel`.
The rest are parts with explicit inputs: data preparation (:mod:`mllib.training.rows.prepare`, given
the fitted preprocessing), the :class:`~mllib.training.model.inspection.Inspector` of ``gradients``
and ``cost`` (with its own dropout stream), fit planning (:mod:`mllib.training.engine.plan`) and input
checks (:mod:`mllib.training.rows.inputs`). The engine (:mod:`mllib.training.engine.trainer`) uses only public methods.
"""

from __future__ import annotations

import numpy as np

from ...io import register_model, save_model
from ...nn.losses import REGRESSION_OUTPUTS, loss_for_output
from ..diagnosis import diagnose
from ..engine import single_step
from ..engine import fit as fitting
from ..rows.chunks import evaluate_in_chunks, forward_in_chunks
from ..rows.inputs import check_X
from ..rows.metrics import predicted_codes
from ..rows.prepare import checked_data, prepared_rows
from ..rows.sparse import check_sparse_use
from ..rows.target_scaling import check_standardize_target, unscale_outputs
from ..rows.targets import TargetEncoder
from . import state as model_state
from .config import DTYPES, checked_widths, normalize_config
from .inspection import Inspector
from .protocol import StackModel
from .stack import LayerStack, build_layers
from .summary import summary_table


@register_model
class NeuralNetwork(StackModel):
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
        ``predict`` answers in y's units (:mod:`mllib.training.rows.target_scaling`).

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
        ``fit`` continues them (:mod:`mllib.training.engine.resume`).
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
        self.run_ = None           # how the last fit trained (mllib.training.engine.resume)
        self.position_ = None      # the epoch under way, while one is
        self.fitted_ = False
        self.stop_training = False
        self._stack = None
        self._inspector = Inspector(self.config["seed"])   # gradients() and cost()
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
        n_features, n_outputs = checked_widths(nodes, n_features, n_outputs, self.output_kind)
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

    # -- the training protocol (used by the loop in mllib.training.engine.fit) ---------

    # The output activation: "sigmoid", "softmax", "linear" or "exp".
    output_kind = property(lambda self: self._loss.activation.name)
    # Whether every training batch needs two rows or more (batch norm).
    needs_two_rows = property(lambda self: any(self.config["batch_norm"]))
    # The score logged and evaluated beside the cost: "accuracy", or "r2" for regression.
    score_name = property(lambda self: "r2" if self.output_kind in REGRESSION_OUTPUTS
                          else "accuracy")

    # -- the caller's data, prepared with what the model has fitted ----------------

    def batch_input(self, X, rows):
        """Rows of X as the passes take them: the model's dtype, standardized if it
        standardizes (:func:`mllib.training.rows.prepare.prepared_rows`)."""
        return prepared_rows(X, rows, self.dtype, self.standardizer_)

    def evaluate_targets(self, X, Y, sample_weight=None) -> dict:
        """:meth:`evaluate` on checked X, encoded targets Y and checked weights, by chunks."""
        return evaluate_in_chunks(self, X, Y, sample_weight)

    def _check_data(self, X, y, *, sample_weight=None, training=True, convert=True):
        return checked_data(self, X, y, sample_weight=sample_weight, training=training,
                            convert=convert)

    # -- passes -------------------------------------------------------------

    def forward(self, X) -> np.ndarray:
        """Inference-mode output ``a[L]`` of shape ``(n_samples, n[L])``.

        X is converted to the model's dtype chunk by chunk, never whole. This
        works on an unfitted network too (gradient checks use it). Like ``predict``,
        ``predict_proba`` and ``evaluate``, it returns finite numbers or raises
        :class:`~mllib.training.rows.outputs.NonFiniteOutputError` where a value overflowed on the way.
        """
        X = check_X(X, n_features=self.n_features, finite=False)
        check_sparse_use(self, X, training=False)
        self._require_built()
        return forward_in_chunks(self, X)

    def gradients(self, X, y, *, sample_weight=None):
        """Cost and gradients of one training-mode pass over ``(X, y)`` as one batch.

        Returns ``(cost, grads)``; ``grads`` has the keys of :meth:`parameters`
        and includes the regularization term. Dropout draws new masks (unless
        frozen) from a stream of their own, never from the Generator that ``fit``
        uses; batch-norm running statistics are left as they are. With
        ``sample_weight``, see :mod:`mllib.training.model.inspection` for J and δ[L].
        """
        X, Y, w = self._check_data(X, y, sample_weight=sample_weight)
        return self._inspector.gradients(self.stack, X, Y, w)

    def cost(self, X, y, *, training=True, sample_weight=None) -> float:
        """The cost J of :meth:`gradients`, without the backward pass; ``training=False``
        in inference mode (no dropout, batch norm with its running statistics)."""
        X, Y, w = self._check_data(X, y, sample_weight=sample_weight, training=training)
        return self._inspector.cost(self.stack, X, Y, w, training=training)

    # -- training and prediction ----------------------------------------------

    fit = fitting.fit                                 # the engine's epochs (mllib.training.engine.fit)
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
