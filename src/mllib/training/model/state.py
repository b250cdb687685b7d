"""A network as plain data, ``(header, arrays)``, and back; :mod:`mllib.io` writes the pair.

Everything needed to predict and to continue training is kept: the
constructor's arguments, the layer widths, weights, batch-norm running
statistics, the optimizer's settings and state, the epoch, the Generator's
state, the label classes, the fitted standardizer, the target standardizer
of ``standardize_target`` (its μ and σ, 2 × n[L] floats), how the last fit
trained and, for a model saved mid-epoch, where that epoch stands
(:mod:`mllib.training.engine.resume`). The model is rebuilt
through its own constructor, then given that state through public methods
and attributes.

Reading a file (:func:`from_state`) trusts nothing in it: the header's fields
are checked for type and range (:func:`checked_header`), the model is made
without its layers, and the names and shapes of the weights are compared with
the architecture before the layers are allocated. Every weight, running
statistic and optimizer moment must be a real float, finite in the model's
dtype; batch norm and the standardizer check their own state.

:func:`model_file_limits` gives :func:`mllib.load` the most a file of a header
may hold (see :mod:`mllib.io.registry`) before any array is read.
"""

from __future__ import annotations

import contextvars
import inspect
import math

import numpy as np

from ...data import ClassEncoder, Standardizer
from ...io import Limits, ModelFileError
from ...io.archive import NPY_HEADER_BYTES
from ...nn.init import init_config
from ...optim import get_optimizer
from ..engine.resume import Position, RunSettings
from ..rows.metrics import EpochMetrics
from ..rows.targets import TargetEncoder
from .stack import layer_shapes

MAX_WIDTH = 2**31 - 1        # n_features, n_outputs
MAX_EPOCH = 2**53
LABEL_BYTES = 4096           # per class in a file's budget: labels of up to 1024 characters
SPARE_BYTES = 2**16          # and beside the arrays' own bytes and .npy headers
SPARE_MEMBERS = 8
_FIELDS = {"config": dict, "n_features": int, "n_outputs": int, "epoch": int, "rng": dict,
           "has_classes": bool, "has_standardizer": bool, "fitted": bool}
_DEFERRED = contextvars.ContextVar("mllib_build_deferred", default=False)


def network_config(model) -> dict:
    """``NeuralNetwork.get_config()``: the normalized configuration in the notes' keys."""
    cfg = dict(model.config)
    cfg["nodes"] = list(cfg["nodes"])
    cfg["init"] = init_config(cfg["init"])     # a new dict, not the model's own
    cfg["activators"] = [g.get_config() for g in cfg["activators"][1:]]
    cfg["bias"] = cfg["bias"][1:]
    cfg["standardize"] = model.standardize
    cfg["standardize_target"] = model.standardize_target
    return cfg


def get_state(model) -> tuple[dict, dict]:
    """``model.get_state()``; ValueError for a callable ``init``, which no file can hold."""
    init = model.config["init"]
    if callable(init):
        raise ValueError(f"init is the callable {getattr(init, '__name__', init)!r}, which a "
                         "model file cannot store; train with a named init ('he', 'xavier', "
                         "'small', 'zeros') or {'name': 'normal', 'scale': s} to save the "
                         "model, or keep its get_weights()")
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
        "has_target_standardizer": model.target_scaler_ is not None,
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
    if model.target_scaler_ is not None:
        arrays.update({f"target_standardizer/{k}": v
                       for k, v in model.target_scaler_.get_state().items()})
    if model.position_ is not None:
        header["position"], position = model.position_.get_state()
        arrays.update({f"position/{k}": v for k, v in position.items()})
    return header, arrays


def from_state(cls, header, arrays):
    """``cls.from_state(header, arrays)``: construct, check, build, then restore the state."""
    if header.get("version", 2) == 1:
        header, arrays = upgrade_v1(cls, header, arrays)
    header = checked_header(header)
    model = unbuilt(cls, header)
    weights = {**_group(arrays, "params"), **_group(arrays, "state")}
    _check_weights(model, header, weights)
    _check_reals(arrays, model.dtype)
    _build_for_weights(model, header)
    model.set_weights(weights)
    if header["optimizer"] is not None:
        model.optimizer_ = get_optimizer(header["optimizer"])
        model.optimizer_.set_state(_group(arrays, "optimizer"))
        # The state against the parameters; the first step lays it out (Optimizer.init).
        model.optimizer_.check(model.store)
    if header["has_classes"]:
        classes = ClassEncoder.from_state(_group(arrays, "classes"))
        _check_classes(model, classes)
        model.targets_ = TargetEncoder(model.output_kind, classes)
    if header["has_standardizer"]:
        model.standardizer_ = Standardizer.from_state(_group(arrays, "standardizer"),
                                                      dtype=model.dtype)
    model.target_scaler_ = _target_scaler(model, header, arrays)
    model.epoch_ = header["epoch"]
    # Files written before "fitted" was recorded always loaded as fitted; they still do.
    model.fitted_ = header.get("fitted", True)
    try:
        model.rng_.bit_generator.state = header["rng"]
    except (TypeError, ValueError, KeyError, OverflowError) as err:
        raise ValueError(f"header field 'rng' is not a Generator's state: {err}") from None
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


def model_file_limits(cls, header, *, max_parameters) -> Limits:
    """``cls.model_file_limits(header, max_parameters=...)``: the most a file may hold.

    ModelFileError if the architecture in ``header`` has more than
    ``max_parameters`` parameters and running statistics; ValueError (or
    TypeError, KeyError) if the header is wrong. The rule: ``itemsize`` of the
    model's dtype × (parameters × (1 + the optimizer's moments) + running
    statistics), 16 bytes a feature for the standardizer and an output for the
    target standardizer, :data:`LABEL_BYTES`
    a class, ``NPY_HEADER_BYTES`` an array, and :data:`SPARE_BYTES`.
    """
    if header.get("version", 2) == 1:
        header = upgrade_v1(cls, header, {})[0]
    header = checked_header(header)
    model = unbuilt(cls, header)
    params, state = layer_shapes(built_config(model, header))
    sizes = [math.prod(shape) for shape in (*params.values(), *state.values())]
    if sum(sizes) > max_parameters:
        raise ModelFileError(f"its header declares a network of {sum(sizes):,} parameters "
                             f"and running statistics, more than max_parameters="
                             f"{max_parameters:,}; pass a larger max_parameters to load it")
    # The optimizer's state buffers ("slots"): Adam's m and v, RMSProp's s, none for GD.
    slots = 0 if header["optimizer"] is None else len(get_optimizer(header["optimizer"])._slots)
    itemsize = model.dtype.itemsize
    moments = slots * sum(math.prod(shape) for shape in params.values())
    scaler = 8 * header["n_features"] if header["has_standardizer"] else 0
    target = 8 * header["n_outputs"] if header.get("has_target_standardizer") else 0
    classes = LABEL_BYTES * max(2, header["n_outputs"]) if header["has_classes"] else 0
    # A model saved mid-epoch adds the epoch's sums, float64 vectors of n_outputs at most.
    sums = 8 * header["n_outputs"] * len(EpochMetrics.FIELDS) if header.get("position") else 0
    # And t, mean, scale, classes, the target's mean and scale, with SPARE_MEMBERS for
    # arrays that from_state ignores.
    members = len(params) * (1 + slots) + len(state) + 6 + SPARE_MEMBERS + len(
        EpochMetrics.FIELDS)
    return Limits(total=itemsize * (sum(sizes) + moments) + 2 * scaler + 2 * target + classes
                  + sums + NPY_HEADER_BYTES * members + SPARE_BYTES,
                  member=max(itemsize * max(sizes), scaler, target, classes) + NPY_HEADER_BYTES,
                  members=members)


def checked_header(header) -> dict:
    """``header`` (of format 2) if each field has its type and range; ValueError if not."""
    for key, kind in _FIELDS.items():
        value = header.get(key, True if key == "fitted" else None)   # "fitted" may be absent
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"header field {key!r} must be a JSON {kind.__name__}, "
                             f"got {value!r:.60}")
    optimizer = header.get("optimizer")
    if optimizer is not None and not isinstance(optimizer, dict):
        raise ValueError(f"header field 'optimizer' must be a JSON dict or null, "
                         f"got {optimizer!r:.60}")
    if not isinstance(header.get("has_target_standardizer", False), bool):   # may be absent
        raise ValueError(f"header field 'has_target_standardizer' must be a JSON bool, got "
                         f"{header['has_target_standardizer']!r:.60}")
    for key, low, high in (("n_features", 1, MAX_WIDTH), ("n_outputs", 1, MAX_WIDTH),
                           ("epoch", 0, MAX_EPOCH)):
        if not low <= header[key] <= high:
            raise ValueError(f"header field {key!r} must lie in [{low}, {high}], "
                             f"got {header[key]}")
    return header


def building_deferred() -> bool:
    """True while :func:`unbuilt` makes a model: its constructor must not build the layers."""
    return _DEFERRED.get()


def unbuilt(cls, header):
    """``cls(**header["config"])`` without its layers, whatever the widths."""
    token = _DEFERRED.set(True)
    try:
        return cls(**header["config"])
    finally:
        _DEFERRED.reset(token)


def built_config(model, header) -> dict:
    """The unbuilt ``model``'s configuration with the widths the header gives."""
    nodes = model.config["nodes"]
    return {**model.config, "nodes": [header["n_features"], *nodes[1:-1], header["n_outputs"]]}


def _build_for_weights(model, header):
    """Build the layers with zeros, not random draws that the file's weights replace: a
    draw in float64 would take twice the largest weight matrix for a moment."""
    init, model.config["init"] = model.config["init"], "zeros"
    try:
        model.build(header["n_features"], header["n_outputs"])
    finally:
        model.config["init"] = init


def _check_weights(model, header, weights):
    """The weights' names and shapes against the architecture, before it is allocated."""
    params, state = layer_shapes(built_config(model, header))
    expected = {**params, **state}
    if set(weights) != set(expected):
        raise ValueError(f"weights have keys {sorted(weights)}, expected {sorted(expected)}")
    for name, value in weights.items():
        if np.shape(value) != expected[name]:
            raise ValueError(f"weights[{name!r}] has shape {np.shape(value)}, "
                             f"expected {expected[name]}")


def _check_reals(arrays, dtype):
    """Every weight, running statistic and optimizer moment: real floats, finite in ``dtype``."""
    top = np.finfo(dtype).max
    for name, value in arrays.items():
        if not name.startswith(("params/", "state/", "optimizer/")) or name == "optimizer/t":
            continue
        value = np.asarray(value)
        if value.dtype.kind != "f" or value.dtype.itemsize > 8:
            raise ValueError(f"{name} must hold real floats, got dtype {value.dtype}")
        # min and max are NaN if any value is: one comparison catches NaN, ±inf and overflow.
        if value.size and not -top <= value.min() <= value.max() <= top:
            raise ValueError(f"{name} holds NaN, infinite values or values beyond the "
                             f"range of {np.dtype(dtype).name}")


def _target_scaler(model, header, arrays):
    """The target standardizer of the file, or None; files before it have none."""
    if not header.get("has_target_standardizer", False):
        return None
    if not model.standardize_target:
        raise ValueError("the file has a target standardizer, but its config has "
                         "standardize_target=False")
    scaler = Standardizer.from_state(_group(arrays, "target_standardizer"), dtype=model.dtype)
    if scaler.mean_.shape != (header["n_outputs"],):
        raise ValueError(f"the target standardizer has {scaler.mean_.shape[0]} columns for "
                         f"{header['n_outputs']} outputs")
    return scaler


def _check_classes(model, classes):
    kind, width = model.output_kind, model.config["nodes"][-1]
    expected = 2 if (kind, width) == ("sigmoid", 1) else width if kind == "softmax" else None
    if len(classes.classes_) != expected:
        raise ValueError(f"the file has {len(classes.classes_)} classes for a {kind} output "
                         f"of {width} units")


def upgrade_v1(cls, header, arrays):
    """A format-1 ``(header, arrays)`` in the form of format 2.

    Format 1 kept the network's whole configuration for every class. Its
    Adam state was the notes' m and v in the files of mllib 0.1.0 as first
    released, and the undamped sums M = m/(1 − β1) and V = v/(1 − β2) in the
    later ones, which are the files whose header records ``"fitted"``.
    """
    if not isinstance(header.get("config"), dict) or type(header.get("standardize")) is not bool:
        raise ValueError("a format-1 header needs 'config', a JSON dict, and 'standardize'")
    config = {**header["config"], "standardize": header["standardize"]}
    nodes = config["nodes"]
    accepted = inspect.signature(cls.__init__).parameters
    if "n_classes" in accepted:
        config["n_classes"] = nodes[-1]
    config = {k: v for k, v in config.items() if k in accepted}
    header = {**header, "version": 2, "config": config, "n_features": nodes[0],
              "n_outputs": nodes[-1]}
    optimizer = header["optimizer"]
    if isinstance(optimizer, dict) and optimizer.get("name") == "adam" and "fitted" in header:
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
