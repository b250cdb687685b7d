"""The part of a network that the training loop and gradient checks use.

:class:`StackModel` wraps a :class:`~mllib.training.model.stack.LayerStack` (the layers, their
parameter store and the passes) in the public methods of the training
protocol. :class:`~mllib.training.model.network.NeuralNetwork` builds on it and adds what a user
meets: the configuration, label targets, the standardizer, prediction and
model files.
"""

from __future__ import annotations

import numpy as np

from .stack import LayerStack


class StackModel:
    """Public access to a built :class:`LayerStack`, kept in ``self._stack`` (None until built)."""

    _stack: LayerStack | None = None

    built = property(lambda self: self._stack is not None)

    @property
    def stack(self) -> LayerStack:
        """The layers, their parameter store and the passes over them (once built)."""
        self._require_built()
        return self._stack

    @property
    def store(self):
        """The :class:`~mllib.optim.ParameterSet` of every parameter and gradient."""
        return self.stack.store

    @property
    def layers(self) -> list:
        return self._stack.layers if self.built else []

    def _require_built(self):
        if not self.built:
            raise RuntimeError("the network has no weights yet: nodes[0] is None and it has "
                               "seen no data; call fit, gradients or cost first")

    # -- parameters ---------------------------------------------------------

    def parameters(self) -> dict:
        """``{"W1": ..., "b1": ..., "gamma1": ..., ...}``: the live arrays."""
        self.store.sync()
        return dict(self.store.params)

    def state(self) -> dict:
        """Untrained state: ``{"running_mean1": ..., "running_var1": ...}``."""
        return self.stack.state()

    def get_weights(self) -> dict:
        """A copy of every parameter and running statistic, by qualified name."""
        return self.stack.get_weights()

    def set_weights(self, weights: dict) -> None:
        """Copy ``weights`` (as from :meth:`get_weights`) into the live arrays, checked first."""
        self.stack.set_weights(weights)

    # -- the passes -----------------------------------------------------------

    def train_step(self, X, Y, sample_weight=None):
        """Forward and backward on one prepared batch: ``(data loss, a[L])``.

        ``X`` holds prepared rows (``batch_input``), ``Y`` encoded targets,
        ``sample_weight`` the rows' weights or None (see :meth:`LayerStack.train_step`).
        The gradients, penalty included, are left in ``store.grads``.
        """
        return self.stack.train_step(X, Y, sample_weight)

    def update_state(self) -> None:
        """Fold the last training batch into the batch-norm running statistics."""
        self.stack.update_state()

    def penalty(self, n_samples) -> float:
        """The regularization term λ/(2N) Σ|W|^p for N = ``n_samples`` (Σw when weighted)."""
        return self.stack.penalty(n_samples)

    def logits(self, X, *, training=False) -> np.ndarray:
        """z[L], the output before the output activation, for prepared rows X."""
        return self.stack.logits(X, training)

    def frozen_masks(self):
        """A context in which dropout reuses its last masks (for gradient checks)."""
        return self.stack.frozen()
