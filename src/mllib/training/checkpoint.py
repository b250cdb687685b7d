"""A network as plain data, ``(header, arrays)``, and back.

Everything needed to predict and to continue training is kept: the
configuration, weights, batch-norm running statistics, the optimizer's
settings and state, the epoch, the Generator's state, the label classes and
the fitted standardizer. :mod:`mllib.io` writes and reads the pair.
"""

from __future__ import annotations

import numpy as np

from ..data import ClassEncoder, Standardizer
from ..io import ModelFileError, read_model_file, write_model_file
from ..optim import get_optimizer


def save(model, path) -> None:
    header, arrays = to_checkpoint(model)
    write_model_file(path, header, arrays)


def load(path):
    """Read a model saved by ``model.save(path)``.

    Raises ``FileNotFoundError`` for a missing file and
    :class:`~mllib.io.ModelFileError` (a ``ValueError``) for a file that is not
    an mllib model or is damaged.
    """
    from .network import NeuralNetwork
    from .presets import LogisticRegression, SoftmaxRegression

    classes = {cls.__name__: cls for cls in (NeuralNetwork, LogisticRegression, SoftmaxRegression)}
    header, arrays = read_model_file(path)
    try:
        return from_checkpoint(header, arrays, classes)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{str(path)!r} is damaged or inconsistent: {err}") from None


def to_checkpoint(model):
    model._require_built()
    cfg = dict(model.config)
    cfg["activators"] = [g.get_config() for g in cfg["activators"][1:]]
    cfg["bias"] = cfg["bias"][1:]
    if callable(cfg["init"]):
        cfg["init"] = "zeros"  # weights are restored from the file, not re-drawn
    header = {
        "class": type(model).__name__,
        "config": cfg,
        "standardize": model.standardize,
        "epoch": model.epoch_,
        "fitted": model.fitted,
        "rng": _jsonable(model.rng.bit_generator.state),
        "optimizer": None if model.optimizer_ is None else model.optimizer_.get_config(),
        "has_classes": model.targets.classes is not None,
        "has_standardizer": model.standardizer_ is not None,
    }
    arrays = {f"params/{k}": v for k, v in model.parameters().items()}
    arrays.update({f"state/{k}": v for k, v in model.state().items()})
    if model.optimizer_ is not None:
        arrays.update({f"optimizer/{k}": v for k, v in model.optimizer_.get_state().items()})
    if model.targets.classes is not None:
        arrays.update({f"classes/{k}": v for k, v in model.targets.classes.get_state().items()})
    if model.standardizer_ is not None:
        arrays.update({f"standardizer/{k}": v for k, v in model.standardizer_.get_state().items()})
    return header, arrays


def from_checkpoint(header, arrays, classes):
    name = header["class"]
    if name not in classes:
        raise ModelFileError(f"unknown model class {name!r} in model file")
    cls = classes[name]
    model = cls.__new__(cls)
    base = classes["NeuralNetwork"]
    base.__init__(model, **header["config"], standardize=header["standardize"])
    model._build(model.config["nodes"][0], model.config["nodes"][-1])
    model.set_weights({**_group(arrays, "params"), **_group(arrays, "state")})
    if header["optimizer"] is not None:
        model.optimizer_ = get_optimizer(header["optimizer"])
        model.optimizer_.set_state(_group(arrays, "optimizer"))
    if header["has_classes"]:
        model.targets.classes = ClassEncoder.from_state(_group(arrays, "classes"))
    if header["has_standardizer"]:
        model.standardizer_ = Standardizer.from_state(_group(arrays, "standardizer"))
    model.epoch_ = int(header["epoch"])
    # Files written before "fitted" was recorded always loaded as fitted; they still do.
    model.fitted = bool(header.get("fitted", True))
    model.rng.bit_generator.state = header["rng"]
    return model


def _group(arrays, prefix):
    start = prefix + "/"
    return {k[len(start):]: v for k, v in arrays.items() if k.startswith(start)}


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.integer):
        return int(value)
    return value
