"""Model classes by name, so that a model file can say which class to rebuild.

A model class registers itself (``@register_model``, or through a base class
that registers its subclasses) and provides ``get_state() -> (header, arrays)``
and ``from_state(header, arrays)``. :func:`save_model` and :func:`load_model`
need nothing else, so this package imports no model code.

mllib's own classes are registered under their bare names (``"NeuralNetwork"``);
any other class under ``module.qualname``, so that a user's class never takes
the place of mllib's, nor of another user's class of the same name.
"""

from __future__ import annotations

from .modelfile import (ModelFileError, model_file_bytes, read_model_bytes, read_model_file,
                        write_model_file)

_MODELS: dict[str, type] = {}


def model_name(cls: type) -> str:
    """The name a model file gives ``cls``."""
    if cls.__module__.split(".")[0] == "mllib":
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def register_model(cls: type) -> type:
    """Record ``cls`` under :func:`model_name` for :func:`load_model`; returns ``cls``."""
    _MODELS[model_name(cls)] = cls
    return cls


def save_model(model, path) -> None:
    """Write ``model.get_state()`` to ``path``, with the model's class name."""
    write_model_file(path, *_model_file(model))


def _model_file(model) -> tuple[dict, dict]:
    name = model_name(type(model))
    if _MODELS.get(name) is not type(model):
        raise ValueError(f"{name} is not a registered model class; mllib.load could not "
                         "rebuild it (see mllib.io.registry)")
    header, arrays = model.get_state()
    return {"class": name, **header}, arrays


def dumps_model(model) -> bytes:
    """``model`` as the bytes of a model file, to send to another process (never a pickle)."""
    return model_file_bytes(*_model_file(model))


def loads_model(data: bytes):
    """The model that :func:`dumps_model` wrote, checked as :func:`load_model` checks a file."""
    return _rebuild(*read_model_bytes(data), "<model bytes>")


def load_model(path):
    """Read a model saved by ``model.save(path)``.

    Raises ``FileNotFoundError`` for a missing file and :class:`ModelFileError`
    (a ``ValueError``) for a file that is not an mllib model or is damaged.
    """
    return _rebuild(*read_model_file(path), path)


def _rebuild(header, arrays, path):
    cls = _MODELS.get(header.get("class"))
    if cls is None:
        raise ModelFileError(f"unknown model class {header.get('class')!r} in model file")
    try:
        return cls.from_state(header, arrays)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{str(path)!r} is damaged or inconsistent: {err}") from None
