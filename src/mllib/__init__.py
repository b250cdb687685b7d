"""mllib: the neural-network library of the lecture notes, in NumPy.

Every backward pass is derived by hand and checked against central
differences (:mod:`mllib.gradcheck`). The layers of the package, from the
bottom up: ``nn`` and ``optim`` (the math, NumPy only), ``data`` and ``io``
(NumPy only), ``training``, ``tuning``, and the interfaces: ``cli``,
``sklearn``, ``plots`` and ``datasets``.
"""

from . import gradcheck, nn
from ._version import __version__
from .io import ModelFileError
from .training import (
    Callback, EarlyStopping, History, LambdaCallback, LogisticRegression, NeuralNetwork,
    ProgressLogger, SoftmaxRegression, load,
)

__all__ = [
    "Callback", "EarlyStopping", "History", "LambdaCallback", "LogisticRegression",
    "ModelFileError", "NeuralNetwork", "ProgressLogger", "SoftmaxRegression",
    "__version__", "gradcheck", "load", "nn",
]
