"""mllib: the neural-network library of the lecture notes, in NumPy.

Every backward pass is derived by hand and checked against central
differences (:mod:`mllib.gradcheck`). The layers of the package, from the
bottom up, each importing only those below it:

- ``nn`` (layers, activations, losses), ``optim`` (the parameter store,
  optimizers, schedules) and ``data`` (splits, scaling, batches): NumPy only;
- ``io``: model files and the registry of model classes;
- ``training``: ``NeuralNetwork`` and its presets, the fit loop, callbacks, the
  diagnosis of bias and variance;
- ``tune``: settings, search spaces, searches on one machine or a Dask cluster;
- the interfaces: ``cli``, ``sklearn``, ``plots`` and ``datasets``.
"""

from . import gradcheck, nn
from ._version import __version__
from .io import ModelFileError
from .training import (
    Callback, DivergenceError, EarlyStopping, History, LambdaCallback, LogisticRegression,
    NeuralNetwork, NonFiniteOutputError, ProgressLogger, SoftmaxRegression, TerminateOnNaN, load,
)

__all__ = [
    "Callback", "DivergenceError", "EarlyStopping", "History", "LambdaCallback",
    "LogisticRegression", "ModelFileError", "NeuralNetwork", "NonFiniteOutputError",
    "ProgressLogger", "SoftmaxRegression", "TerminateOnNaN", "__version__", "gradcheck", "load",
    "nn",
]
