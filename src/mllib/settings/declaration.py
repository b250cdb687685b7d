"""Every setting of a training run, declared once: key, parser, default, help, group.

A run is described by a dict of settings (``{"hidden": [64, 32],
"learning_rate": 0.01, ...}``): the keys of ``mllib train --config`` and of
``mllib tune``'s spaces, the arguments of :func:`mllib.tune.fit`. Each
:class:`Setting` below is the one place that says its name, aliases, type and
allowed values (its ``parse``), default, help text and where it applies: its
``group`` and, for an optimizer's own hyperparameters, the ``optimizers`` that
take it. Counts have upper bounds (:data:`~.values.MAX_EPOCHS`, ...), checked by their
parsers. The command line's flags, the config files' keys, the search spaces'
keys and the optimizer's keyword arguments are all made from this table, and
the scikit-learn estimators' parameters are checked against it (``sklearn``).

>>> SETTING["learning_rate"].flag
'--learning-rate'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import values

GROUPS = ("network", "training", "data")


@dataclass(frozen=True)
class Setting:
    """One setting.

    ``parse`` takes the text of a flag or a JSON value and returns the value,
    or raises ValueError saying what it expected; it checks the allowed range
    too, so that a parsed value is one the network or optimizer accepts.
    ``group`` is "network" (also a ``gradcheck`` option), "training" or
    "data" (how the command line reads and splits a CSV). ``optimizers``
    names the optimizers that take the setting (empty: it is not an
    optimizer's own). ``network`` names the keyword of
    :class:`mllib.NeuralNetwork` that takes the value as it is, if one does.
    ``sklearn`` names the scikit-learn parameter that means the same thing,
    if there is one.
    """

    key: str
    parse: Callable
    help: str
    default: Any = None
    group: str = "network"
    metavar: str | None = None
    boolean: bool = False
    aliases: tuple = ()
    optimizers: tuple = ()
    sklearn: str | None = None
    network: str | None = None

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
BETA = values.interval(0.0, 1.0, high_open=True)

NETWORK = (
    Setting("hidden", values.hidden, "widths of the hidden layers, e.g. 64,32 ('' for none: "
            "logistic or softmax regression)", [16], metavar="N,N,...",
            sklearn="hidden_layer_sizes"),
    Setting("nodes", values.nodes, "the notes' full list n0,n1,...,nL instead of --hidden; n0 "
            "is the number of input columns after encoding", None, metavar="N,N,..."),
    Setting("activation", values.names, f"hidden activator: {ACTIVATIONS}; one name for all "
            "hidden layers or one per layer", "tanh", metavar="NAME[,NAME...]",
            sklearn="activation"),
    Setting("output", values.choice("auto", "sigmoid", "softmax", "linear"),
            "output activator; auto: sigmoid for 2 classes, softmax for more, linear for "
            "numbers", "auto", metavar="{auto,sigmoid,softmax,linear}"),
    Setting("init", values.init, "weight initialization: he, xavier, small (randn*0.01), "
            "zeros or normal:S (randn*S); auto: he for relu layers, xavier otherwise",
            "auto", metavar="{auto,he,xavier,small,zeros,normal:S}", sklearn="init"),
    Setting("keep_prob", values.keep_prob, "dropout keep probability of the hidden layers, or "
            "the notes' keep_probs list of L+1 (index 0: input)", 1.0, metavar="P",
            aliases=("keep_probs",), sklearn="keep_prob", network="keep_probs"),
    Setting("batch_norm", values.batch_norm, "batch-normalize the hidden layers", False,
            boolean=True, sklearn="batch_norm", network="batch_norm"),
    Setting("bn_momentum", BETA, "momentum m of the batch-norm running statistics",
            0.9, metavar="M", network="bn_momentum"),
    Setting("bn_epsilon", values.positive_real, "epsilon of batch norm", 1e-5, metavar="EPS",
            network="bn_epsilon"),
    Setting("lp_reg", _lp_reg, "p of the L1/L2 penalty (lambda/2N) sum |W|^p", 2,
            metavar="{1,2}", sklearn="lp_reg", network="lp_reg"),
    Setting("lambda", values.non_negative_real, "regularization strength lambda (0: none)",
            0.0, metavar="LAMBDA", aliases=("lambda_",), sklearn="alpha", network="lambda_"),
    Setting("seed", lambda v: values.integer(v, 0), "seed of the weights, dropout, shuffling "
            "and the data split", 0, metavar="N", network="seed"),
)

TRAINING = (
    Setting("dtype", values.choice("float32", "float64"), "floating-point type", "float32",
            group="training", metavar="{float32,float64}", sklearn="dtype", network="dtype"),
    Setting("standardize", values.boolean, "standardize the inputs with training statistics",
            True, group="training", boolean=True, network="standardize"),
    Setting("standardize_target", values.boolean, "train a regression (a linear output) on "
            "the target standardized with training statistics; predictions and metrics "
            "stay in its units (classifiers ignore it)", True, group="training", boolean=True),
    Setting("optimizer", values.choice("adam", "momentum", "rmsprop", "gd", "sgd"),
            "optimizer", "adam", group="training", metavar="{adam,momentum,rmsprop,gd}"),
    # 0.01 for every optimizer, as the course trains its small datasets; NeuralNetwork.fit
    # leaves the rate to the optimizer instead (0.001 for Adam and RMSProp, as Keras does).
    Setting("learning_rate", values.positive_real, "learning rate alpha0, for every optimizer "
            "(NeuralNetwork.fit's own default is 0.001 for adam and rmsprop)", 0.01,
            group="training", metavar="ALPHA", sklearn="learning_rate_init"),
    Setting("beta1", BETA, "beta1 of momentum and Adam (default: 0.9)", None,
            group="training", metavar="B", optimizers=("momentum", "adam"),
            sklearn="beta_1"),
    Setting("beta2", BETA, "beta2 of RMSProp and Adam (default: 0.9 for RMSProp, 0.999 for "
            "Adam)", None, group="training", metavar="B", optimizers=("rmsprop", "adam"),
            sklearn="beta_2"),
    Setting("nesterov", values.boolean, "Nesterov's look-ahead step of momentum (default: "
            "off)", None,
            group="training", boolean=True, optimizers=("momentum",),
            sklearn="nesterovs_momentum"),
    Setting("epsilon", values.positive_real, "epsilon of RMSProp and Adam (default: 1e-8)",
            None, group="training", metavar="EPS", optimizers=("rmsprop", "adam"),
            sklearn="epsilon"),
    Setting("epochs", values.epochs, "passes over the training set", 500,
            group="training", metavar="N"),
    Setting("batch_size", values.batch_size, "rows per mini-batch, or 'full'", 64,
            group="training", metavar="N"),
    Setting("lr_decay", values.schedule, "learning-rate schedule: constant, rational:1.0, "
            "exponential:0.95, root:1.0 or step:10=0.5,20=0.1", None, group="training",
            metavar="SPEC", sklearn="lr_decay"),
    Setting("early_stopping", values.patience, "stop when the dev cost has not improved "
            "for this many epochs, and keep the best weights", None, group="training",
            metavar="PATIENCE"),
)

DATA = (
    Setting("target", values.optional_text, "the column to predict (needed with a CSV)", None,
            group="data", metavar="COLUMN"),
    Setting("dataset", values.optional_text, "train on a built-in dataset instead of a CSV",
            None, group="data", metavar="NAME"),
    Setting("validation_split", values.fraction, "share of the rows for the dev set (default: "
            "0.2, or 0.01 above 10,000 rows, as in the notes)", None, group="data",
            metavar="F"),
    Setting("test_split", values.fraction, "share of the rows for the test set (default: as "
            "--validation-split)", None, group="data", metavar="F"),
    Setting("max_categories", lambda v: values.integer(v, 1, values.MAX_WIDTH), "most "
            "distinct values a text column may have to be one-hot encoded", 20, group="data",
            metavar="N"),
    Setting("drop", values.columns, "columns to ignore, e.g. an id column", [], group="data",
            metavar="COL[,COL...]"),
    Setting("categorical", values.columns, "columns to one-hot encode as categories whatever "
            "their type, e.g. a year", [], group="data", metavar="COL[,COL...]"),
    Setting("missing", values.choice("impute", "drop", "error"), "missing feature cells: fill "
            "with the training median (numbers) or most frequent value (text), leave their "
            "rows out, or stop", "impute", group="data", metavar="impute|drop|error"),
)

SETTINGS = (*NETWORK, *TRAINING, *DATA)
SETTING = {setting.key: setting for setting in SETTINGS}
ALIASES = {alias: setting.key for setting in SETTINGS for alias in setting.aliases}
# The settings of one training run, as mllib.tune.fit and a search's trials take them.
RUN_KEYS = tuple(setting.key for setting in (*NETWORK, *TRAINING))
