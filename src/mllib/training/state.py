"""A network as plain data, ``(header, arrays)``, and back; :mod:`mllib.io` writes the pair.

Everything needed to predict and to continue training is kept: the
constructor's arguments, the layer widths, weights, batch-norm running
statistics, the optimizer's settings and state, the epoch, the Generator's
state, the label classes, the fitted standardizer, how the last fit
trained and, for a model saved mid-epoch, where that epoch stands
(:mod:`.resume`). The model is rebuilt
through its own constructor, then given that state through public methods
and attributes.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..data import ClassEncoder, Standardizer
from ..optim import get_optimizer
from .resume import Position, RunSettings
from .targets import TargetEncoder


def network_config(model) -> dict:
    """``NeuralNetwork.get_config()``: the normalized configuration in the notes' keys."""
    cfg = dict(model.config)
    cfg["nodes"] = list(cfg["nodes"])
    cfg["activators"] = [g.get_config() for g in cfg["activators"][1:]]
    cfg["bias"] = cfg["bias"][1:]
    cfg["standardize"] = model.standardize
    return cfg


def get_state(model) -> tuple[dict, dict]:
    """``model.get_state()``; ValueError for a callable ``init``, which no file can hold."""
    init = model.config["init"]
    if callable(init):
        raise ValueError(f"init is the callable {getattr(init, '__name__', init)!r}, which a "
                         "model file cannot store; train with a named init ('he', 'xavier', "
                         "'small', 'zeros') to save the model, or keep its get_weights()")
    store = model.store
    nodes = model.config["nodes"]
    config = model.get_config()
    try:
        inspect.signature(type(model)).bind(**config)
    except TypeError as err:
        raise ValueError(f"{type(model).__name__}.get_config() returns arguments its "
                         f"constructor does not take ({err}); a subclass with arguments of "
                         "its own overrides get_config to return them") from None
    header = {
        "config": config,
        "n_features": nodes[0],
        "n_outputs": nodes[-1],
        "epoch": model.epoch_,
        "fitted": model.fitted_,
        "rng": _jsonable(model.rng_.bit_generator.state),
        "optimizer": None if model.optimizer_ is None else model.optimizer_.get_config(),
        "has_classes": model.targets_.classes is not None,
        "has_standardizer": model.standardizer_ is not None,
        "run": None if model.run_ is None else model.run_.to_json(),
        "position": None,
    }
    arrays = {f"params/{k}": v for k, v in model.get_weights().items() if k in store.shapes}
    arrays.update({f"state/{k}": v.copy() for k, v in model.state().items()})
    if model.optimizer_ is not None:
        arrays.update({f"optimizer/{k}": v for k, v in model.optimizer_.get_state().items()})
    if model.targets_.classes is not None:
        arrays.update({f"classes/{k}": v for k, v in model.targets_.classes.get_state().items()})
    if model.standardizer_ is not None:
        arrays.update({f"standardizer/{k}": v for k, v in model.standardizer_.get_state().items()})
    if model.position_ is not None:
        header["position"], position = model.position_.get_state()
        arrays.update({f"position/{k}": v for k, v in position.items()})
    return header, arrays


def from_state(cls, header, arrays):
    """``cls.from_state(header, arrays)``: construct, build, then restore the state."""
    if header.get("version", 2) == 1:
        header, arrays = upgrade_v1(cls, header, arrays)
    model = cls(**header["config"])
    model.build(header["n_features"], header["n_outputs"])
    model.set_weights({**_group(arrays, "params"), **_group(arrays, "state")})
    if header["optimizer"] is not None:
        model.optimizer_ = get_optimizer(header["optimizer"])
        model.optimizer_.set_state(_group(arrays, "optimizer"))
        model.optimizer_.init(model.store)   # checks the state against the parameters
    if header["has_classes"]:
        classes = ClassEncoder.from_state(_group(arrays, "classes"))
        model.targets_ = TargetEncoder(model.output_kind, classes)
    if header["has_standardizer"]:
        model.standardizer_ = Standardizer.from_state(_group(arrays, "standardizer"))
    model.epoch_ = int(header["epoch"])
    # Files written before "fitted" was recorded always loaded as fitted; they still do.
    model.fitted_ = bool(header.get("fitted", True))
    model.rng_.bit_generator.state = header["rng"]
    # Files written before runs were recorded continue with fit's defaults.
    if header.get("run") is not None:
        model.run_ = RunSettings.from_json(header["run"])
    if header.get("position") is not None:
        model.position_ = Position.from_state(header["position"], _group(arrays, "position"),
                                              model.output_kind)
        if model.position_.epoch != model.epoch_:
            raise ValueError(f"the saved position is in epoch {model.position_.epoch + 1}, "
                             f"but the model has trained {model.epoch_} epochs")
    return model


def upgrade_v1(cls, header, arrays):
    """A format-1 ``(header, arrays)`` in the form of format 2.

    Format 1 kept the network's whole configuration for every class. Its
    Adam state was the notes' m and v in the files of mllib 0.1.0 as first
    released, and the undamped sums M = m/(1 − β1) and V = v/(1 − β2) in the
    later ones, which are the files whose header records ``"fitted"``.
    """
    config = {**header["config"], "standardize": header["standardize"]}
    nodes = config["nodes"]
    accepted = inspect.signature(cls.__init__).parameters
    if "n_classes" in accepted:
        config["n_classes"] = nodes[-1]
    config = {k: v for k, v in config.items() if k in accepted}
    header = {**header, "config": config, "n_features": nodes[0], "n_outputs": nodes[-1]}
    optimizer = header["optimizer"]
    if optimizer is not None and optimizer.get("name") == "adam" and "fitted" in header:
        hyper = get_optimizer(optimizer)
        factor = {"m": 1.0 - hyper.beta1, "v": 1.0 - hyper.beta2}
        arrays = {k: _damped(k, v, factor) for k, v in arrays.items()}
    return header, arrays


def _damped(key, value, factor):
    slot = key.partition("/")[2].partition(".")[0]
    if key.startswith("optimizer/") and slot in factor:
        return (value * factor[slot]).astype(value.dtype)
    return value


def _group(arrays, prefix):
    start = prefix + "/"
    return {k[len(start):]: v for k, v in arrays.items() if k.startswith(start)}


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.integer):
        return int(value)
    return value
