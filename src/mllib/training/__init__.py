"""Training: the network of the notes, its presets, the fit loop and callbacks."""

from .network import NeuralNetwork

__all__ = ["NeuralNetwork"]
