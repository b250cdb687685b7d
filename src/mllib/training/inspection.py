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

    def gradients(self, X, y, *, sample_weight=None):
        """Cost and gradients of one training-mode pass over ``(X, y)`` as one batch.

        Returns ``(cost, grads)``; ``grads`` has the keys of :meth:`parameters`
        and includes the regularization term. Dropout draws new masks (unless
        frozen) from a stream of their own, never from the Generator that
        ``fit`` uses; batch-norm running statistics are left as they are.

        With ``sample_weight`` w (N,), finite, ≥ 0, not all 0, the cost is

            J = Σ_j w_j L_j / Σ_j w_j + λ/(2 Σ_j w_j) Σ_l Σ |W[l]|^p,

        and backprop starts from δ[L]_j = w_j (a[L]_j − y_j) / Σw, the rows of
        ∂J/∂z[L]; the penalty's gradient is λ/Σw W (p = 2), λ/(2Σw) sign(W) (p = 1).
        """
        X, Y, w = self._check_data(X, y, sample_weight=sample_weight)
        with self.stack.drawing_from(self._inspection_rng()):
            loss, _ = self.train_step(X, Y, w)
        cost = loss + self.penalty(X.shape[0] if w is None else float(w.sum()))
        return cost, {k: v.copy() for k, v in self.store.grad_views.items()}

    def cost(self, X, y, *, training=True, sample_weight=None) -> float:
        """The cost J of :meth:`gradients`, without the backward pass.

        ``training=False`` evaluates in inference mode instead: no dropout,
        and batch norm with its running statistics.
        """
        X, Y, w = self._check_data(X, y, sample_weight=sample_weight, training=training)
        with self.stack.drawing_from(self._inspection_rng()):
            z = self.logits(X, training=training)
        return self._loss.cost(z, Y, w) + self.penalty(X.shape[0] if w is None
                                                       else float(w.sum()))

    def _inspection_rng(self):
        """The Generator of the dropout masks of ``gradients`` and ``cost``: a stream of its
        own from the seed, so that inspecting a model never changes what ``fit`` draws."""
        if self._inspect_rng is None:
            self._inspect_rng = np.random.default_rng([self.config["seed"], 1])
        return self._inspect_rng
