"""Optimizers, learning-rate schedules and the parameter store they update (notes §7).

This package imports NumPy and the standard library, nothing else.
"""

from .base import Optimizer
from .threads import num_threads, set_num_threads, single_threaded
from .optimizers import Adam, GradientDescent, Momentum, RMSProp, get_optimizer
from .schedules import (Constant, Exponential, FunctionSchedule, Piecewise, Rational, Root,
                        Schedule, make_schedule)
from .store import ParameterSet

__all__ = [
    "Adam", "GradientDescent", "Momentum", "Optimizer", "ParameterSet", "RMSProp",
    "get_optimizer", "Constant", "Exponential", "FunctionSchedule", "Piecewise", "Rational",
    "Root", "Schedule", "make_schedule", "num_threads", "set_num_threads", "single_threaded",
]
