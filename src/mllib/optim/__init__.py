"""Optimizers and learning-rate schedules (notes §7).

This package imports NumPy and the standard library, nothing else.
"""

from .optimizers import Adam, GradientDescent, Momentum, Optimizer, RMSProp, get_optimizer
from .schedules import (Constant, Exponential, FunctionSchedule, Piecewise, Rational, Root,
                        Schedule, make_schedule)

__all__ = [
    "Adam", "GradientDescent", "Momentum", "Optimizer", "RMSProp", "get_optimizer",
    "Constant", "Exponential", "FunctionSchedule", "Piecewise", "Rational", "Root",
    "Schedule", "make_schedule",
]
