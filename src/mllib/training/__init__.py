"""Training: the network of the notes, its presets, the fit loop and callbacks."""

from ..io import load_model as load
from .callbacks import Callback, EarlyStopping, History, LambdaCallback, ProgressLogger
from .checkpoint import ModelCheckpoint
from .divergence import DivergenceError, TerminateOnNaN
from .network import NeuralNetwork
from .outputs import NonFiniteOutputError
from .presets import LogisticRegression, SoftmaxRegression

__all__ = [
    "Callback", "DivergenceError", "load", "EarlyStopping", "History", "LambdaCallback",
    "LogisticRegression", "ModelCheckpoint", "NeuralNetwork", "NonFiniteOutputError",
    "ProgressLogger", "SoftmaxRegression", "TerminateOnNaN",
]
