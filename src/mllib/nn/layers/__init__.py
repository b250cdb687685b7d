"""Layers that follow the contract in :mod:`mllib.nn.layers.base`."""

from .activation import ActivationLayer
from .base import Layer
from .batchnorm import BatchNorm
from .dense import Dense
from .dropout import Dropout

__all__ = ["ActivationLayer", "BatchNorm", "Dense", "Dropout", "Layer"]
