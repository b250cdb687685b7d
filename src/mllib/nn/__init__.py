"""The math of mllib: activations, losses, layers, initializers, regularizers.

This package imports NumPy and nothing else.
"""

from . import activations, init, losses, regularizers
from .layers import ActivationLayer, BatchNorm, Dense, Dropout, Layer

__all__ = [
    "ActivationLayer", "BatchNorm", "Dense", "Dropout", "Layer",
    "activations", "init", "losses", "regularizers",
]
