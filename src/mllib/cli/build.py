"""From resolved settings to a network and an optimizer, as train and gradcheck build them."""

from __future__ import annotations

from .. import NeuralNetwork
from ..optim import get_optimizer, make_schedule
from .errors import CLIError, usage_errors

RELU_LIKE = ("relu", "leaky_relu")


def layer_sizes(settings, n_in=None, n_out=None) -> list:
    """``nodes`` as the notes write it: ``settings["nodes"]``, or ``[n_in, *hidden, n_out]``.

    An ``n_in`` or ``n_out`` of None is taken from the data at the first fit.
    """
    if settings["nodes"] is not None:
        return list(settings["nodes"])
    return [n_in, *settings["hidden"], n_out]


def hidden_activators(settings, n_hidden: int) -> list:
    """One activator name per hidden layer, from one name or a list of them."""
    names = settings["activation"]
    if isinstance(names, str):
        return [names] * n_hidden
    if len(names) != n_hidden:
        raise CLIError(f"activation lists {len(names)} names ({','.join(names)}) for "
                       f"{n_hidden} hidden layer(s)")
    return list(names)


def network_config(settings, output, n_in=None, n_out=None) -> dict:
    """The keyword arguments of :class:`mllib.NeuralNetwork` that ``settings`` describe."""
    nodes = layer_sizes(settings, n_in, n_out)
    hidden = hidden_activators(settings, len(nodes) - 2)
    init = settings["init"]
    if init == "auto":
        init = "he" if any(name in RELU_LIKE for name in hidden) else "xavier"
    return {
        "nodes": nodes, "activators": [*hidden, output], "keep_probs": settings["keep_prob"],
        "batch_norm": settings["batch_norm"], "lp_reg": settings["lp_reg"],
        "lambda_": settings["lambda"], "init": init, "bn_epsilon": settings["bn_epsilon"],
        "bn_momentum": settings["bn_momentum"], "seed": settings["seed"],
    }


def build_network(settings, output, *, dtype=None, standardize=False, n_in=None, n_out=None):
    """A :class:`mllib.NeuralNetwork`; its ValueErrors become :class:`CLIError`."""
    config = network_config(settings, output, n_in, n_out)
    with usage_errors("invalid network"):
        return NeuralNetwork(**config, dtype=dtype or settings["dtype"], standardize=standardize)


def build_optimizer(settings):
    """The optimizer of ``settings``, with the learning-rate schedule checked too."""
    hyper = {key: settings[key] for key in ("beta1", "beta2", "epsilon")
             if settings[key] is not None}
    with usage_errors("invalid optimizer settings"):
        optimizer = get_optimizer(settings["optimizer"], **hyper)
        make_schedule(settings["lr_decay"], settings["learning_rate"])
    return optimizer


def describe(model) -> dict:
    """The network's configuration as plain JSON data, for metrics.json and summaries."""
    config = model.config
    return {
        "nodes": list(config["nodes"]),
        "activators": [g.name for g in config["activators"][1:]],
        "keep_probs": list(config["keep_probs"]),
        "batch_norm": list(config["batch_norm"]),
        "lp_reg": config["lp_reg"], "lambda": config["lambda_"],
        "init": config["init"] if isinstance(config["init"], str) else "custom",
        "bn_epsilon": config["bn_epsilon"], "bn_momentum": config["bn_momentum"],
        "seed": config["seed"], "dtype": config["dtype"], "standardize": model.standardize,
    }
