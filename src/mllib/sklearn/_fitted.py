"""scikit-learn's fitted attributes of an MLP, read from the mllib network ``model_``.

scikit-learn's ``coefs_[i]`` has shape ``(n[i], n[i+1])``, one row per input
unit: it is mllib's ``W[i+1]`` (shape ``(n[i+1], n[i])``, as in the notes)
transposed, since ``a[l] = g(a[l-1] W[l]ᵀ + b[l])`` here is scikit-learn's
``g(a[l-1] coefs_[l-1] + intercepts_[l-1])``. ``intercepts_[i]`` is ``b[i+1]``.
"""

from __future__ import annotations

import numpy as np

# mllib's output activations by scikit-learn's names.
OUT_ACTIVATIONS = {"sigmoid": "logistic", "softmax": "softmax", "linear": "identity"}


def _network(estimator):
    """The fitted network, or AttributeError (so that ``hasattr`` is False before fit)."""
    net = estimator.__dict__.get("model_")
    if net is None:
        raise AttributeError(f"this {type(estimator).__name__} is not fitted yet")
    return net


def _weights(estimator):
    """``(Ws, bs)``: the live W[l] and b[l] arrays, l = 1..L."""
    net = _network(estimator)
    params = net.parameters()
    if any(net.config["batch_norm"]):
        raise AttributeError("coefs_ and intercepts_ are not defined for batch_norm=True: a "
                             "batch-normalized layer has γ and β and no b, which scikit-learn's "
                             "layout cannot hold; read model_.parameters() instead")
    L = len(net.config["nodes"]) - 1
    Ws = [params[f"W{l}"] for l in range(1, L + 1)]
    bs = [params.get(f"b{l}") for l in range(1, L + 1)]
    return Ws, bs


def _assign(targets, values, name):
    if len(values) != len(targets):
        raise ValueError(f"{name} must hold {len(targets)} arrays, got {len(values)}")
    for i, (target, value) in enumerate(zip(targets, values)):
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"{name}[{i}] must have shape {target.shape}, got {value.shape}")
    for target, value in zip(targets, values):
        target[...] = value


class FittedAttributes:
    """Mix-in: ``coefs_``, ``intercepts_``, ``n_layers_``, ``n_outputs_``, ``out_activation_``."""

    @property
    def coefs_(self):
        """list of ndarray, ``coefs_[i]`` of shape (n[i], n[i+1]).

        **Views**, not copies: ``coefs_[i]`` is ``model_``'s live ``W[i+1]``
        transposed, so writing into it (``clf.coefs_[0][:] = 0``) changes the
        network, and every access gives new views of the same memory.
        Assigning a list (``clf.coefs_ = [...]``) copies its arrays into the
        network's weights, shapes checked first.
        """
        return [W.T for W in _weights(self)[0]]

    @coefs_.setter
    def coefs_(self, values):
        _assign(self.coefs_, values, "coefs_")

    @property
    def intercepts_(self):
        """list of ndarray, ``intercepts_[i]`` of shape (n[i+1],): **views** of ``b[i+1]``.

        As for ``coefs_``, writing into them or assigning a list changes the network.
        """
        return _weights(self)[1]

    @intercepts_.setter
    def intercepts_(self, values):
        _assign(self.intercepts_, values, "intercepts_")

    @property
    def n_layers_(self):
        """int: layers of units, input and output included (L + 1 in the notes' terms)."""
        return len(_network(self).config["nodes"])

    @property
    def n_outputs_(self):
        """int: output units n[L]; 1 for two classes (one sigmoid unit) and one target."""
        return int(_network(self).config["nodes"][-1])

    @property
    def out_activation_(self):
        """str: the output activation by scikit-learn's name: "logistic", "softmax" or "identity"."""
        return OUT_ACTIVATIONS[_network(self).output_kind]
