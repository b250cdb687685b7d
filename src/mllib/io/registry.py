"""Model classes by name, so that a model file can say which class to rebuild.

A model class registers itself (``@register_model``, or through a base class
that registers its subclasses) and provides ``get_state() -> (header, arrays)``
and ``from_state(header, arrays)``. :func:`save_model` and :func:`load_model`
need nothing else, so this package imports no model code.

mllib's own classes are registered under their bare names (``"NeuralNetwork"``);
any other class under ``module.qualname``, so that a user's class never takes
the place of mllib's, nor of another user's class of the same name.

The budget of a file
--------------------
Before reading any array, :func:`load_model` asks the class the header names
for the most its arrays may take: the classmethod
``model_file_limits(header, *, max_parameters) -> Limits`` (for
:class:`~mllib.NeuralNetwork` and its subclasses, in
:mod:`mllib.training.model.state`). It checks the header, refuses an architecture of
more than ``max_parameters`` parameters, and derives the sizes from the
architecture: parameters × itemsize × (1 + the optimizer's moments), running
statistics, the standardizer and the classes, plus a margin for ``.npy``
headers. This way ``io`` knows nothing of models, and a class that defines no
such method gets :meth:`Limits.for_parameters`. Every error a class raises
while doing so, or while rebuilding the model, reaches the caller as a
:class:`ModelFileError` naming the file.
"""

from __future__ import annotations

from .._validation import check_int
from .errors import reported
from .modelfile import (MAX_PARAMETERS, Limits, ModelFileError, model_file_bytes,
                        read_model_bytes, read_model_file, write_model_file)

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


def loads_model(data: bytes, *, max_parameters=MAX_PARAMETERS):
    """The model that :func:`dumps_model` wrote, checked as :func:`load_model` checks a file."""
    name = "<model bytes>"
    return _rebuild(*read_model_bytes(data, name, limits=_limits(max_parameters)), name)


def load_model(path, *, max_parameters=MAX_PARAMETERS, follow_links=True):
    """Read a model saved by ``model.save(path)``.

    Raises ``FileNotFoundError`` for a missing file, ``IsADirectoryError`` for
    a folder, ``PermissionError`` for a file it may not read, and
    :class:`ModelFileError` (a ``ValueError``) for anything else: a file that
    is not an mllib model, is damaged, or declares a network of more than
    ``max_parameters`` parameters (default 2**28). With ``follow_links=False``
    a symbolic link is refused (ModelFileError) rather than followed, as for a
    file in a folder that mllib keeps. See :mod:`mllib.io.modelfile` for what
    a file may contain and what loading costs.
    """
    limits = _limits(max_parameters)
    return _rebuild(*read_model_file(path, limits=limits, follow_links=follow_links), path)


def _limits(max_parameters):
    """``limits(header, name)`` for :func:`read_model_file`: the budget the class states."""
    max_parameters = check_int("max_parameters", max_parameters, 1)

    def limits(header, name):
        cls = _class_of(header, name)
        rule = getattr(cls, "model_file_limits", None)
        if rule is None:
            return Limits.for_parameters(max_parameters)
        with reported(name, "is damaged or inconsistent"):
            try:
                return rule(header, max_parameters=max_parameters)
            except ModelFileError as err:
                raise ModelFileError(f"{str(name)!r}: {err}") from None

    return limits


def _class_of(header, name):
    cls = _MODELS.get(header.get("class")) if isinstance(header.get("class"), str) else None
    if cls is None:
        raise ModelFileError(f"unknown model class {header.get('class')!r} in model file "
                             f"{str(name)!r}")
    return cls


def _rebuild(header, arrays, path):
    cls = _class_of(header, path)
    with reported(str(path), "is damaged or inconsistent"):
        return cls.from_state(header, arrays)
