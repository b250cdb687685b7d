"""Training that diverges stops within one step, with the last finite weights (issue 11).

After each step's forward and backward pass, and before anything is updated,
the training loop checks that the batch's loss and the squared norm of all
gradients are finite (one dot product over the parameter store). If either is not, no
running statistic, weight or optimizer moment takes that step: the model
keeps the last finite ones, and its history holds the epochs finished so far.
Then ``fit`` raises :class:`DivergenceError`, or, with a :class:`TerminateOnNaN`
among the callbacks, stops quietly, as Keras's callback of that name does.
"""

from __future__ import annotations

import math

import numpy as np

from .callbacks import Callback


class DivergenceError(FloatingPointError):
    """The training cost or a gradient stopped being finite; the model was left as it was
    before that step. ``history`` holds the epochs finished before it; ``epoch`` and
    ``batch`` (counted from 1, None if unknown) say where it happened."""

    def __init__(self, message, history=None, *, epoch=None, batch=None):
        super().__init__(message)
        self.history = history
        self.epoch, self.batch = epoch, batch


class TerminateOnNaN(Callback):
    """Among ``fit``'s callbacks: stop training quietly when it diverges, instead of raising
    :class:`DivergenceError`. The model keeps the last finite weights either way."""


def step_is_finite(loss, store) -> bool:
    """Whether a step's loss and all its gradients are finite numbers."""
    if not math.isfinite(loss):
        return False
    # ‖g‖² is NaN or infinite when any gradient is, or is so large that its square
    # overflows, which is divergence too. A BLAS dot product takes under half the time
    # of np.add.reduce (bench/RESULTS.md).
    # Squares of gradients below √tiny underflow to 0, which is right for this test.
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        return bool(np.isfinite(np.dot(store.grads, store.grads)))


def diverged(loss, epoch, batch, lr, history) -> DivergenceError:
    """The error for a step whose loss or gradients are not finite; ``batch`` None for a
    step outside an epoch (``train_on_batch``)."""
    what = (f"the cost is {loss}" if not math.isfinite(loss)
            else "the gradients' squared norm is not finite in the model's dtype")
    where = "on the batch given" if batch is None else f"at epoch {epoch + 1}, batch {batch + 1}"
    return DivergenceError(
        f"training diverged: {what} {where}, with learning rate {lr:g}; the model keeps the "
        "weights from before this step. Try a smaller learning rate (or scale the inputs)",
        history, epoch=None if batch is None else epoch + 1,
        batch=None if batch is None else batch + 1)
