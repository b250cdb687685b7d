"""Cost and gradients of a network on data given by hand, outside ``fit``.

Gradient checks, the notes' worked examples and users' experiments call
``NeuralNetwork.gradients`` and ``cost``, which prepare the data and hand it
to the network's :class:`Inspector`. They never change what ``fit`` does next:
dropout masks come from the Inspector's own Generator, derived from the seed,
and no running statistic, weight or optimizer state is touched.

With ``sample_weight`` w (N,), finite, ≥ 0, not all 0, the cost is

    J = Σ_j w_j L_j / Σ_j w_j + λ/(2 Σ_j w_j) Σ_l Σ |W[l]|^p,

and backprop starts from δ[L]_j = w_j (a[L]_j − y_j) / Σw, the rows of
∂J/∂z[L]; the penalty's gradient is λ/Σw W (p = 2), λ/(2Σw) sign(W) (p = 1).
Without weights, w_j = 1 and Σw = N.
"""

from __future__ import annotations

import numpy as np


class Inspector:
    """The passes of ``gradients`` and ``cost`` on a :class:`~mllib.training.model.stack.LayerStack`, with
    dropout masks drawn from a stream of their own: ``default_rng([seed, 1])``."""

    def __init__(self, seed: int):
        self.seed = seed
        self._rng = None      # made at the first draw, so that an unused one costs nothing

    @property
    def rng(self) -> np.random.Generator:
        if self._rng is None:
            self._rng = np.random.default_rng([self.seed, 1])
        return self._rng

    def gradients(self, stack, X, Y, w):
        """``(cost, grads)`` of one training-mode pass over prepared rows X, targets Y and
        weights w (or None); ``grads`` are copies, the penalty's gradient included."""
        with stack.drawing_from(self.rng):
            loss, _ = stack.train_step(X, Y, w)
        cost = loss + stack.penalty(_total_weight(X, w))
        return cost, {k: v.copy() for k, v in stack.store.grad_views.items()}

    def cost(self, stack, X, Y, w, *, training) -> float:
        """The cost J of :meth:`gradients` without the backward pass; ``training=False``
        in inference mode (no dropout, batch norm with its running statistics)."""
        with stack.drawing_from(self.rng):
            z = stack.logits(X, training)
        return stack.loss.cost(z, Y, w) + stack.penalty(_total_weight(X, w))


def _total_weight(X, w):
    return X.shape[0] if w is None else float(w.sum())
