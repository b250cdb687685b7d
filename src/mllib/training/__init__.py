"""Training: the network of the notes, its presets, the fit loop and callbacks."""

from ..io import load_model as load
from .engine.callbacks import Callback, EarlyStopping, History, LambdaCallback, ProgressLogger
from .engine.checkpoint import ModelCheckpoint
from .engine.divergence import DivergenceError, TerminateOnNaN
from .model.network import NeuralNetwork
from .model.presets import LogisticRegression, SoftmaxRegression
from .rows.outputs import NonFiniteOutputError

__all__ = [
    "Callback", "DivergenceError", "load", "EarlyStopping", "History", "LambdaCallback",
    "LogisticRegression", "ModelCheckpoint", "NeuralNetwork", "NonFiniteOutputError",
    "ProgressLogger", "SoftmaxRegression", "TerminateOnNaN",
]
