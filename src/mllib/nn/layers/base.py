"""The layer contract shared by every layer (DESIGN.md).

- ``forward(x, training)`` returns the output and caches what backward needs.
- ``backward(delta)`` takes ∂J/∂(output), stores ∂J/∂(param) in ``grads`` and
  returns ∂J/∂(input).
- ``params`` and ``grads`` are dicts with the same keys, so one optimizer loop
  serves every layer. Untrained state (batch-norm running statistics) lives in
  ``state`` and optimizers never see it.
- ``penalty(n_samples)`` is the layer's share of the regularization term R.
  ``penalty_rows``, when not None, is the N of that term's gradient in the next
  backward pass: Σ_j w_j for a batch with sample weights, which the network
  sets; None means the rows of the forward pass's input.
- ``forward_owned(x)`` is the inference-mode forward for an ``x`` that the
  caller owns and never reads again (the previous layer's fresh output): a
  layer may write its output over it. It returns the bits of ``forward(x)``.
- ``backward_params(delta)`` stores the parameter gradients only. A network
  calls it on its first layer, whose ∂J/∂(input) nobody needs.
- ``freeze(True)`` holds the layer's random draws (dropout masks) fixed until
  ``freeze(False)``, so that a gradient check sees a deterministic function.

A network binds ``params`` and ``grads`` to views of its parameter store
(:class:`mllib.optim.ParameterSet`): a layer updates its gradients in place,
and if it assigns a new array instead, the store copies it in (slower, but
correct).

Arrays are ``(n_samples, n_features)``: one example per row. The notes put one
example per column, so every formula here is the notes' formula transposed.
"""

from __future__ import annotations

import numpy as np


class Layer:
    """Base class: a layer without parameters or state."""

    frozen = False   # see freeze
    penalty_rows = None   # N of the penalty's gradient, if not the batch's rows (see above)

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, delta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward_owned(self, x: np.ndarray) -> np.ndarray:
        """``forward(x, training=False)``; a layer that can may write over ``x`` (see above)."""
        return self.forward(x, False)

    def backward_params(self, delta: np.ndarray) -> None:
        """Store ∂J/∂(param) in ``grads``, as :meth:`backward` does, without ∂J/∂(input)."""
        self.backward(delta)

    def penalty(self, n_samples: int) -> float:
        return 0.0

    def freeze(self, frozen: bool = True) -> None:
        """Hold random draws fixed while ``frozen``; layers without randomness draw nothing."""
        self.frozen = bool(frozen)

    def use_rng(self, rng):
        """Draw from ``rng`` from now on; returns the Generator used until now (None here:
        a layer without randomness has none)."""
        return None

    def update_state(self) -> None:
        """Fold the last training batch into the untrained state (if any).

        The training loop calls this once per step; ``forward`` itself never
        changes state, so that a gradient check or a cost evaluation leaves
        the model as it was.
        """

    def check_state(self, state: dict) -> None:
        """Raise ValueError if ``state`` (new values for :attr:`state`, by key) is not one
        this layer can use; the default accepts any. Called before state is replaced."""

    def get_config(self) -> dict:
        return {}

    def __getstate__(self):
        # Pickle the layer without its forward caches (``_x``, ``_a``, ...),
        # which hold the last batch of data.
        return {k: (None if k.startswith("_") else v) for k, v in self.__dict__.items()}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
