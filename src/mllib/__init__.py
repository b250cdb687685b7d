"""mllib: the neural-network library of the lecture notes, in NumPy.

Every backward pass is derived by hand and checked against central
differences (:mod:`mllib.gradcheck`). The layers of the package, from the
bottom up: ``nn`` and ``optim`` (math, NumPy only), ``data``, ``training``,
``io``, ``tuning``, and the interfaces (CLI, scikit-learn, plots, datasets).
"""

from . import gradcheck, nn
from .training import NeuralNetwork

__version__ = "0.1.0"

__all__ = ["NeuralNetwork", "gradcheck", "nn", "__version__"]
