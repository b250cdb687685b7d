"""From resolved settings to a network, an optimizer and a schedule, built once, and trained.

:func:`plan` builds what a run needs from settings that :func:`.resolve.resolve`
has checked; its :class:`Plan` then trains them (:meth:`Plan.fit`). ``mllib
train`` makes its plan before it creates the run's folder and trains that same
plan; :func:`fit` is the two in one, as every trial of a search runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..optim import Optimizer, Schedule, get_optimizer, make_schedule
from ..training import EarlyStopping, NeuralNetwork
from .declaration import SETTINGS
from .resolve import optimizer_keys, resolve

RELU_LIKE = ("relu", "leaky_relu")


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

    The settings that declare a ``network`` keyword pass as they are; the rest
    are worked out here. ``standardize_target`` applies to a linear output
    only: a classifier's targets are labels.
    """
    nodes = layer_sizes(settings, n_in, n_out)
    hidden = hidden_activators(settings, len(nodes) - 2)
    init = settings["init"]
    if init == "auto":
        init = "he" if any(name in RELU_LIKE for name in hidden) else "xavier"
    taken_as_is = {s.network: settings[s.key] for s in SETTINGS if s.network}
    return {
        **taken_as_is, "nodes": nodes, "activators": [*hidden, output], "init": init,
        "standardize_target": settings["standardize_target"] and output == "linear",
    }


def build_network(settings, output, *, n_in=None, n_out=None) -> NeuralNetwork:
    """The unfitted :class:`mllib.NeuralNetwork` of resolved ``settings``."""
    return NeuralNetwork(**network_config(settings, output, n_in, n_out))


def build_optimizer(settings) -> Optimizer:
    """The optimizer of resolved ``settings``, with the hyperparameters it takes that are set."""
    name = settings["optimizer"]
    hyper = {key: settings[key] for key in optimizer_keys(name) if settings[key] is not None}
    return get_optimizer(name, **hyper)


def choose_output(requested, y, *, classification=None) -> str:
    """The output activator: ``requested``, checked against the labels ``y``, or for "auto"
    the one they call for.

    ``classification`` says whether ``y`` holds classes; by default float
    labels (or several columns) are numbers to predict (linear) and integers,
    booleans and text are classes: sigmoid for two, softmax for more.
    """
    y = np.asarray(y)
    if classification is None:
        classification = not (y.dtype.kind in "fc" or (y.ndim == 2 and y.shape[1] > 1))
    n_classes = np.unique(y).size if classification else None
    if requested == "linear" and y.dtype.kind in "USb":
        raise ValueError("a linear output needs a numeric target; use output sigmoid or softmax")
    if requested == "sigmoid" and n_classes is not None and n_classes > 2:
        raise ValueError(f"a sigmoid output takes 2 classes, but the target has {n_classes}; "
                         "use output softmax")
    if requested != "auto":
        return requested
    if not classification:
        return "linear"
    if n_classes < 2:
        raise ValueError(f"the target has a single class ({y.flat[0]!r}): there is nothing "
                         "to learn")
    return "sigmoid" if n_classes == 2 else "softmax"


@dataclass
class Plan:
    """A run, built: its network, optimizer, schedule and the rest of its training settings.

    ``early_stopping`` is the patience of an :class:`mllib.EarlyStopping` on
    the dev cost that restores the best weights, or None.
    """

    network: NeuralNetwork
    optimizer: Optimizer
    schedule: Schedule
    epochs: int
    batch_size: Any
    early_stopping: int | None

    def fit(self, train, *, validation=None, callbacks=(), verbose=0) -> NeuralNetwork:
        """Train the network on ``train`` = (X, y); returns it, its ``history_`` filled."""
        extra = []
        if self.early_stopping is not None:
            if validation is None:
                raise ValueError("early_stopping needs validation data")
            extra = [EarlyStopping(monitor="val_cost", patience=self.early_stopping,
                                   restore_best_weights=True)]
        self.network.fit(*train, optimizer=self.optimizer, lr_decay=self.schedule,
                         epochs=self.epochs, batch_size=self.batch_size,
                         validation_data=validation, callbacks=[*extra, *callbacks],
                         verbose=verbose)
        return self.network


def plan(settings, output, *, n_in=None, n_out=None) -> Plan:
    """The :class:`Plan` of resolved ``settings`` with the output activator ``output``."""
    return Plan(build_network(settings, output, n_in=n_in, n_out=n_out),
                build_optimizer(settings),
                make_schedule(settings["lr_decay"], settings["learning_rate"]),
                settings["epochs"], settings["batch_size"], settings["early_stopping"])


def fit(settings, train, *, seed=None, validation=None, callbacks=(), verbose=0):
    """Build the network that ``settings`` describe and train it on ``train``.

    Parameters
    ----------
    settings : dict
        Settings by the keys of ``mllib train --config`` (see
        :data:`mllib.settings.SETTINGS`); the rest take their defaults.
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
    run = plan(settings, choose_output(settings["output"], train[1]))
    return run.fit(train, validation=validation, callbacks=callbacks, verbose=verbose)
