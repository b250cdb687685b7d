"""Cost and gradients of a network on data given by hand, outside ``fit``.

Gradient checks, the notes' worked examples and users' experiments call
these. They never change what ``fit`` does next: dropout masks come from a
Generator of their own, derived from the seed, and no running statistic,
weight or optimizer state is touched.
"""

from __future__ import annotations

import numpy as np


class Inspection:
    """``gradients`` and ``cost`` for :class:`~.network.NeuralNetwork`, which provides
    ``_check_data``, ``stack``, ``train_step``, ``logits``, ``penalty`` and ``store``."""

    def gradients(self, X, y):
        """Cost and gradients of one training-mode pass over ``(X, y)`` as one batch.

        Returns ``(cost, grads)``; ``grads`` has the keys of :meth:`parameters`
        and includes the regularization term. Dropout draws new masks (unless
        frozen) from a stream of their own, never from the Generator that
        ``fit`` uses; batch-norm running statistics are left as they are.
        """
        X, Y = self._check_data(X, y)
        with self.stack.drawing_from(self._inspection_rng()):
            loss, _ = self.train_step(X, Y)
        cost = loss + self.penalty(X.shape[0])
        return cost, {k: v.copy() for k, v in self.store.grad_views.items()}

    def cost(self, X, y, *, training=True) -> float:
        """The cost J of :meth:`gradients`, without the backward pass.

        ``training=False`` evaluates in inference mode instead: no dropout,
        and batch norm with its running statistics.
        """
        X, Y = self._check_data(X, y)
        with self.stack.drawing_from(self._inspection_rng()):
            z = self.logits(X, training=training)
        return self._loss.cost(z, Y) + self.penalty(X.shape[0])

    def _inspection_rng(self):
        """The Generator of the dropout masks of ``gradients`` and ``cost``: a stream of its
        own from the seed, so that inspecting a model never changes what ``fit`` draws."""
        if self._inspect_rng is None:
            self._inspect_rng = np.random.default_rng([self.config["seed"], 1])
        return self._inspect_rng
