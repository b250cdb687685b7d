"""scikit-learn's fitted attributes of an MLP, read from the mllib network ``model_``.

scikit-learn's ``coefs_[i]`` has shape ``(n[i], n[i+1])``, one row per input
unit: it is mllib's ``W[i+1]`` (shape ``(n[i+1], n[i])``, as in the notes)
transposed, since ``a[l] = g(a[l-1] W[l]ᵀ + b[l])`` here is scikit-learn's
``g(a[l-1] coefs_[l-1] + intercepts_[l-1])``. ``intercepts_[i]`` is ``b[i+1]``.
"""

from __future__ import annotations

import numpy as np

# mllib's output activations by scikit-learn's names.
OUT_ACTIVATIONS = {"sigmoid": "logistic", "softmax": "softmax", "linear": "identity",
                   "exp": "exp"}
# The attributes that may be assigned before the first fit (kept in the estimator's
# __dict__ under by_hand(name), which does not end in "_": check_is_fitted looks for that).
BY_HAND_NAMES = ("coefs_", "intercepts_", "n_layers_", "n_outputs_", "out_activation_")


def by_hand(name):
    """The key of ``name`` assigned before the first fit: ``coefs_`` → ``_coefs_by_hand``."""
    return f"_{name.rstrip('_')}_by_hand"


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


def _fitted(estimator):
    return estimator.__dict__.get("model_") is not None


def _set_by_hand(estimator, name):
    """What was assigned to ``name`` before the first fit, or AttributeError (unfitted)."""
    try:
        return estimator.__dict__[by_hand(name)]
    except KeyError:
        raise AttributeError(f"this {type(estimator).__name__} is not fitted yet") from None


def _layout_property(name, read, doc):
    """A property of the network's layout: read from ``model_``; before the first fit,
    whatever was assigned by hand (checked against the network when it is built)."""

    def get(self):
        return read(_network(self)) if _fitted(self) else _set_by_hand(self, name)

    def set_(self, value):
        if not _fitted(self):
            self.__dict__[by_hand(name)] = value
        elif value != get(self):
            raise AttributeError(f"{name} is the fitted network's, {get(self)!r}; it cannot "
                                 f"be set to {value!r}")

    return property(get, set_, doc=doc)


class FittedAttributes:
    """Mix-in: ``coefs_``, ``intercepts_``, ``n_layers_``, ``n_outputs_``, ``out_activation_``.

    As scikit-learn's MLP, an unfitted estimator takes them by assignment: a
    ``partial_fit``, or a ``fit`` with ``warm_start``, then starts from those
    weights (see :func:`start_from_weights_set_by_hand`).
    """

    @property
    def coefs_(self):
        """list of ndarray, ``coefs_[i]`` of shape (n[i], n[i+1]).

        **Views**, not copies: ``coefs_[i]`` is ``model_``'s live ``W[i+1]``
        transposed, so writing into it (``clf.coefs_[0][:] = 0``) changes the
        network, and every access gives new views of the same memory.
        Assigning a list (``clf.coefs_ = [...]``) copies its arrays into the
        network's weights, shapes checked first. Before the first fit, the list
        assigned is kept as it is (it may still be filled in) until the network
        is built.
        """
        if not _fitted(self):
            return _set_by_hand(self, "coefs_")
        return [W.T for W in _weights(self)[0]]

    @coefs_.setter
    def coefs_(self, values):
        if not _fitted(self):
            self.__dict__[by_hand("coefs_")] = values
        else:
            _assign(self.coefs_, values, "coefs_")

    @property
    def intercepts_(self):
        """list of ndarray, ``intercepts_[i]`` of shape (n[i+1],): **views** of ``b[i+1]``.

        As for ``coefs_``, writing into them or assigning a list changes the network,
        and before the first fit the list assigned is kept.
        """
        if not _fitted(self):
            return _set_by_hand(self, "intercepts_")
        return _weights(self)[1]

    @intercepts_.setter
    def intercepts_(self, values):
        if not _fitted(self):
            self.__dict__[by_hand("intercepts_")] = values
        else:
            _assign(self.intercepts_, values, "intercepts_")

    n_layers_ = _layout_property(
        "n_layers_", lambda net: len(net.config["nodes"]),
        "int: layers of units, input and output included (L + 1 in the notes' terms).")
    n_outputs_ = _layout_property(
        "n_outputs_", lambda net: int(net.config["nodes"][-1]),
        "int: output units n[L]; 1 for two classes (one sigmoid unit) and one target.")
    out_activation_ = _layout_property(
        "out_activation_", lambda net: OUT_ACTIVATIONS[net.output_kind],
        'str: the output activation by scikit-learn\'s name: "logistic", "softmax", '
        '"identity" or "exp".')


def start_from_weights_set_by_hand(estimator, continuing):
    """Put the weights assigned before the first fit into the network just built.

    ``continuing`` is a ``partial_fit`` or a ``fit`` with ``warm_start``, which starts
    from them, as scikit-learn's MLP does; a fit that starts again draws its own, as
    scikit-learn's. ``n_layers_``, ``n_outputs_`` and ``out_activation_``, if assigned,
    must be the network's. Whatever was assigned is dropped once it has been used.
    """
    given = {name: estimator.__dict__[by_hand(name)] for name in BY_HAND_NAMES
             if by_hand(name) in estimator.__dict__}
    if continuing and given:
        if ("coefs_" in given) != ("intercepts_" in given):
            raise ValueError("set both coefs_ and intercepts_ to start from given weights")
        for name in ("n_layers_", "n_outputs_", "out_activation_"):
            if name in given and given[name] != getattr(estimator, name):
                raise ValueError(f"{name} was set to {given[name]!r}, but the network for "
                                 f"this data has {getattr(estimator, name)!r}")
        if "coefs_" in given:
            estimator.coefs_, estimator.intercepts_ = given["coefs_"], given["intercepts_"]
    for name in given:
        del estimator.__dict__[by_hand(name)]
