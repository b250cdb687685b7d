"""mllib: the neural-network library of the lecture notes, in NumPy.

Every backward pass is derived by hand and checked against central
differences (:mod:`mllib.gradcheck`). The layers of the package, from the
bottom up, each importing only those below it:

- ``nn`` (layers, activations, losses), ``optim`` (the parameter store,
  optimizers, schedules) and ``data`` (splits, scaling, batches): NumPy only;
- ``io``: model files and the registry of model classes;
- ``training``: ``training.model`` (``NeuralNetwork``, composed of its
  configuration, layer stack, inspector and model-file state; the presets),
  ``training.rows`` (what a model takes and gives) and ``training.engine`` (the
  one loop of steps, ``fit``, resume, callbacks, checkpoints), and the
  diagnosis of bias and variance;
- ``settings``: every setting of a run declared once, resolved and built;
- ``tune``: search spaces, searches on one machine or a Dask cluster;
- ``preprocessing``: CSV tables to the network's inputs and targets, with pandas; it
  builds on ``data`` only;
- the interfaces: ``cli``, ``sklearn``, ``plots`` and ``datasets``.
"""

from __future__ import annotations

from ._version import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (tens of ms)

__all__ = [
    "Callback", "DivergenceError", "EarlyStopping", "History", "LambdaCallback",
    "LogisticRegression", "ModelCheckpoint", "ModelFileError", "NeuralNetwork",
    "NonFiniteOutputError", "ProgressLogger", "SoftmaxRegression", "TerminateOnNaN",
    "__version__", "gradcheck", "load", "nn",
]

# Where each public name lives: a subpackage (None: the name is one) or where it is
# defined. They are imported on first use (PEP 562), so that ``import mllib`` is quick
# and the ``mllib`` command can catch Ctrl-C from its first line on.
_PUBLIC = {"gradcheck": None, "nn": None, "ModelFileError": "io",
           **{name: "training" for name in __all__
              if name not in ("ModelFileError", "__version__", "gradcheck", "nn")}}


def __getattr__(name):
    import importlib   # here, not above: the mllib command's start-up imports nothing

    if name not in _PUBLIC:
        raise AttributeError(f"module 'mllib' has no attribute {name!r}")
    module = importlib.import_module(f".{_PUBLIC[name] or name}", __name__)
    value = module if _PUBLIC[name] is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))


if TYPE_CHECKING:
    from . import gradcheck, nn
    from .io import ModelFileError
    from .training import (
        Callback, DivergenceError, EarlyStopping, History, LambdaCallback, LogisticRegression,
        ModelCheckpoint, NeuralNetwork, NonFiniteOutputError, ProgressLogger, SoftmaxRegression,
        TerminateOnNaN, load,
    )
