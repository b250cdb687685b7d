"""Settings: the hyperparameters of one training run, by the keys of ``mllib train``.

A run is described by a dict of settings (``{"hidden": [64, 32],
"learning_rate": 0.01, ...}``), the keys of ``mllib train --config``. This
module holds their table (parser, default, help), checks a dict of them
(:func:`resolve`), and turns it into a network and an optimizer and trains
them (:func:`fit`). Searches, ``mllib train`` and ``mllib tune`` all build
their networks through it.

>>> resolve({"learning_rate": "0.1", "hidden": "8,4"})["hidden"]
[8, 4]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..optim import get_optimizer, make_schedule
from ..training import EarlyStopping, NeuralNetwork
from . import values

RELU_LIKE = ("relu", "leaky_relu")


@dataclass(frozen=True)
class Setting:
    """One setting: its key, parser, help, default and group.

    ``group`` is "network" (also a gradcheck option), "training" or "data"
    (the command line's own). ``parse`` takes the text of a flag or a JSON
    value and returns the value, or raises ValueError.
    """

    key: str
    parse: Callable
    help: str
    default: Any = None
    group: str = "network"
    metavar: str | None = None
    boolean: bool = False
    aliases: tuple = ()

    @property
    def flag(self) -> str:
        """``--learning-rate`` for the key ``learning_rate``."""
        return "--" + self.key.replace("_", "-")


def _lp_reg(value):
    p = values.integer(value)
    if p not in (0, 1, 2):
        raise ValueError(f"expected 0, 1 or 2, got {value!r}")
    return p


ACTIVATIONS = "tanh, relu, leaky_relu, sigmoid or linear"
SETTINGS = (
    Setting("hidden", values.hidden, "widths of the hidden layers, e.g. 64,32 ('' for none: "
            "logistic or softmax regression)", [16], metavar="N,N,..."),
    Setting("nodes", values.nodes, "the notes' full list n0,n1,...,nL instead of --hidden; n0 "
            "is the number of input columns after encoding", None, metavar="N,N,..."),
    Setting("activation", values.names, f"hidden activator: {ACTIVATIONS}; one name for all "
            "hidden layers or one per layer", "tanh", metavar="NAME[,NAME...]"),
    Setting("output", values.choice("auto", "sigmoid", "softmax", "linear"),
            "output activator; auto: sigmoid for 2 classes, softmax for more, linear for "
            "numbers", "auto", metavar="{auto,sigmoid,softmax,linear}"),
    Setting("init", values.choice("auto", "he", "xavier", "small"),
            "weight initialization; auto: he for relu layers, xavier otherwise", "auto",
            metavar="{auto,he,xavier,small}"),
    Setting("keep_prob", values.keep_prob, "dropout keep probability of the hidden layers, or "
            "the notes' keep_probs list of L+1 (index 0: input)", 1.0, metavar="P",
            aliases=("keep_probs",)),
    Setting("batch_norm", values.batch_norm, "batch-normalize the hidden layers", False,
            boolean=True),
    Setting("bn_momentum", values.real, "momentum m of the batch-norm running statistics",
            0.9, metavar="M"),
    Setting("bn_epsilon", values.positive_real, "epsilon of batch norm", 1e-5, metavar="EPS"),
    Setting("lp_reg", _lp_reg, "p of the L1/L2 penalty (lambda/2N) sum |W|^p", 2,
            metavar="{1,2}"),
    Setting("lambda", values.non_negative_real, "regularization strength lambda (0: none)",
            0.0, metavar="LAMBDA", aliases=("lambda_",)),
    Setting("seed", lambda v: values.integer(v, 0), "seed of the weights, dropout, shuffling "
            "and the data split", 0, metavar="N"),
    Setting("dtype", values.choice("float32", "float64"), "floating-point type", "float32",
            group="training", metavar="{float32,float64}"),
    Setting("standardize", values.boolean, "standardize the inputs with training statistics",
            True, group="training", boolean=True),
    Setting("standardize_target", values.boolean, "train a regression (a linear output) on "
            "the target standardized with training statistics; predictions and metrics "
            "stay in its units (classifiers ignore it)", True, group="training", boolean=True),
    Setting("optimizer", values.choice("adam", "momentum", "rmsprop", "gd", "sgd"),
            "optimizer", "adam", group="training", metavar="{adam,momentum,rmsprop,gd}"),
    Setting("learning_rate", values.positive_real, "learning rate alpha0", 0.01,
            group="training", metavar="ALPHA"),
    Setting("beta1", values.real, "beta1 of momentum and Adam (default: 0.9)", None,
            group="training", metavar="B"),
    Setting("beta2", values.real, "beta2 of RMSProp and Adam (default: 0.9 for RMSProp, 0.999 for Adam)", None,
            group="training", metavar="B"),
    Setting("epsilon", values.positive_real, "epsilon of RMSProp and Adam (default: 1e-8)",
            None, group="training", metavar="EPS"),
    Setting("epochs", lambda v: values.integer(v, 0), "passes over the training set", 500,
            group="training", metavar="N"),
    Setting("batch_size", values.batch_size, "rows per mini-batch, or 'full'", 64,
            group="training", metavar="N"),
    Setting("lr_decay", values.optional_text, "learning-rate schedule: constant, rational:1.0, "
            "exponential:0.95, root:1.0 or step:10=0.5,20=0.1", None, group="training",
            metavar="SPEC"),
    Setting("early_stopping", values.optional_int, "stop when the dev cost has not improved "
            "for this many epochs, and keep the best weights", None, group="training",
            metavar="PATIENCE"),
)

SETTING = {setting.key: setting for setting in SETTINGS}
ALIASES = {alias: setting.key for setting in SETTINGS for alias in setting.aliases}
# The settings each optimizer takes beyond the learning rate and its schedule.
OPTIMIZER_KEYS = {"gd": (), "sgd": (), "momentum": ("beta1",), "rmsprop": ("beta2", "epsilon"),
                  "adam": ("beta1", "beta2", "epsilon")}


def defaults() -> dict:
    """Every setting at its default value."""
    return {s.key: list(s.default) if isinstance(s.default, list) else s.default
            for s in SETTINGS}


def canonical_key(key) -> str:
    """``learning-rate`` → ``learning_rate``, ``lambda_`` → ``lambda``; ValueError if unknown."""
    name = str(key).replace("-", "_")
    name = ALIASES.get(name, name)
    if name not in SETTING:
        raise ValueError(f"unknown setting {key!r}; the settings are: {', '.join(SETTING)}")
    return name


def parse(key, value):
    """The value of setting ``key`` (text or JSON); ValueError naming the key and value."""
    key = canonical_key(key)
    if value is None and key != "batch_size":
        return SETTING[key].default
    try:
        return SETTING[key].parse(value)
    except ValueError as err:
        raise ValueError(f"{key}: {err}") from None


def resolve(settings=None) -> dict:
    """The defaults overlaid with ``settings``, each parsed and the whole checked.

    ``None`` means the default (for ``batch_size``: full batch). ``hidden``
    and ``nodes`` exclude each other. A key that the chosen optimizer does
    not take (``beta1`` with ``gd``) is refused.
    """
    given = {canonical_key(k): v for k, v in (settings or {}).items()}
    if given.get("hidden") is not None and given.get("nodes") is not None:
        raise ValueError("give hidden or nodes, not both")
    result = defaults()
    result.update({key: parse(key, value) for key, value in given.items()})
    if given.get("nodes") is not None:
        result["hidden"] = None
    check_optimizer_keys(result, given)
    return result


def check_optimizer_keys(settings, given) -> None:
    """Refuse a setting given for an optimizer that does not have it."""
    name = settings["optimizer"]
    for key in ("beta1", "beta2", "epsilon"):
        if given.get(key) is not None and key not in OPTIMIZER_KEYS[name]:
            raise ValueError(f"{key}={given[key]!r} is not a setting of optimizer {name!r}; "
                             f"it takes {list(OPTIMIZER_KEYS[name]) or 'none of beta1, beta2, epsilon'}")


# -- from settings to a network -----------------------------------------------------


def layer_sizes(settings, n_in=None, n_out=None) -> list:
    """``nodes`` as the notes write it: ``settings["nodes"]``, or ``[n_in, *hidden, n_out]``.

    An ``n_in`` or ``n_out`` of None is taken from the data at the first fit.
    """
    if settings["nodes"] is not None:
        return list(settings["nodes"])
    return [n_in, *settings["hidden"], n_out]


def hidden_activators(settings, n_hidden: int) -> list:
    """One activator name per hidden layer, from one name or a list of them."""
    names = settings["activation"]
    if isinstance(names, str):
        return [names] * n_hidden
    if len(names) != n_hidden:
        raise ValueError(f"activation lists {len(names)} names ({','.join(names)}) for "
                         f"{n_hidden} hidden layer(s)")
    return list(names)


def network_config(settings, output, n_in=None, n_out=None) -> dict:
    """The keyword arguments of :class:`mllib.NeuralNetwork` that ``settings`` describe.

    ``standardize_target`` applies to a linear output only: a classifier's targets are labels.
    """
    nodes = layer_sizes(settings, n_in, n_out)
    hidden = hidden_activators(settings, len(nodes) - 2)
    init = settings["init"]
    if init == "auto":
        init = "he" if any(name in RELU_LIKE for name in hidden) else "xavier"
    return {
        "nodes": nodes, "activators": [*hidden, output], "keep_probs": settings["keep_prob"],
        "batch_norm": settings["batch_norm"], "lp_reg": settings["lp_reg"],
        "lambda_": settings["lambda"], "init": init, "bn_epsilon": settings["bn_epsilon"],
        "bn_momentum": settings["bn_momentum"], "seed": settings["seed"],
        "dtype": settings["dtype"], "standardize": settings["standardize"],
        "standardize_target": settings["standardize_target"] and output == "linear",
    }


def build_network(settings, output, *, n_in=None, n_out=None) -> NeuralNetwork:
    """The unfitted :class:`mllib.NeuralNetwork` of resolved ``settings``."""
    return NeuralNetwork(**network_config(settings, output, n_in, n_out))


def build_optimizer(settings):
    """The optimizer of resolved ``settings``, with the learning-rate schedule checked too."""
    hyper = {key: settings[key] for key in ("beta1", "beta2", "epsilon")
             if settings[key] is not None}
    optimizer = get_optimizer(settings["optimizer"], **hyper)
    make_schedule(settings["lr_decay"], settings["learning_rate"])
    return optimizer


def choose_output(requested, y) -> str:
    """The output activator: ``requested``, or for "auto" the one the labels call for.

    Float labels are numbers to predict (linear); integers, booleans and
    text are classes: sigmoid for two, softmax for more.
    """
    if requested != "auto":
        return requested
    y = np.asarray(y)
    if y.dtype.kind in "fc" or (y.ndim == 2 and y.shape[1] > 1):
        return "linear"
    return "sigmoid" if np.unique(y).size <= 2 else "softmax"


def fit(settings, train, *, seed=None, validation=None, callbacks=(), verbose=0):
    """Build the network that ``settings`` describe and train it on ``train``.

    Parameters
    ----------
    settings : dict
        Settings by the keys of ``mllib train --config`` (see :data:`SETTINGS`);
        the rest take their defaults.
    train : (X, y)
    seed : int, optional
        The network's seed (weights, dropout, shuffling); default ``settings["seed"]``.
        A trial of a search runs exactly ``fit(settings, train, seed=trial_seed)``,
        with BLAS on one thread: inside ``with mllib.optim.single_threaded():``
        this gives the trial's model bit for bit.
    validation : (X_dev, y_dev), optional
        Dev data for the history's ``val_*`` entries and for ``early_stopping``.
    callbacks, verbose
        As for :meth:`mllib.NeuralNetwork.fit`.

    Returns
    -------
    NeuralNetwork
        Fitted; its ``history_`` is the History of the training.
    """
    settings = resolve(settings)
    if seed is not None:
        settings["seed"] = seed
    X, y = train
    model = build_network(settings, choose_output(settings["output"], y))
    optimizer = build_optimizer(settings)
    extra = []
    if settings["early_stopping"] is not None:
        if validation is None:
            raise ValueError("early_stopping needs validation data")
        extra = [EarlyStopping(monitor="val_cost", patience=settings["early_stopping"],
                               restore_best_weights=True)]
    model.fit(X, y, optimizer=optimizer, learning_rate=settings["learning_rate"],
              epochs=settings["epochs"], batch_size=settings["batch_size"],
              lr_decay=settings["lr_decay"], validation_data=validation,
              callbacks=[*extra, *callbacks], verbose=verbose)
    return model
