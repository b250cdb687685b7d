"""From resolved settings to what a command builds: a run's plan, gradcheck's network.

The work is :mod:`mllib.settings`'s; here its ValueErrors become
:class:`CLIError`, which the command prints as one line.
"""

from __future__ import annotations

from .. import settings as run_settings
from .errors import usage_errors


def build_network(settings, output, *, dtype=None, standardize=False,
                  standardize_target=False, n_in=None, n_out=None):
    """A :class:`mllib.NeuralNetwork`; its ValueErrors become :class:`CLIError`."""
    settings = {**settings, "dtype": dtype or settings.get("dtype") or "float32",
                "standardize": standardize, "standardize_target": standardize_target}
    with usage_errors("invalid network"):
        return run_settings.build_network(settings, output, n_in=n_in, n_out=n_out)


def make_plan(settings, output) -> run_settings.Plan:
    """The run of ``mllib train`` built: network, optimizer and schedule, each once.

    Early stopping is left out of the plan: ``train`` adds its own callback,
    which reports the best epoch.
    """
    with usage_errors("invalid settings"):
        keys = run_settings.RUN_KEYS
        return run_settings.plan({**{k: settings[k] for k in keys}, "early_stopping": None},
                                 output)


def describe(model) -> dict:
    """The network's configuration as plain JSON data, for metrics.json and summaries."""
    config = model.config
    return {
        "nodes": list(config["nodes"]),
        "activators": [g.name for g in config["activators"][1:]],
        "keep_probs": list(config["keep_probs"]),
        "batch_norm": list(config["batch_norm"]),
        "lp_reg": config["lp_reg"], "lambda": config["lambda_"],
        "init": config["init"] if isinstance(config["init"], (str, dict)) else "custom",
        "bn_epsilon": config["bn_epsilon"], "bn_momentum": config["bn_momentum"],
        "seed": config["seed"], "dtype": config["dtype"], "standardize": model.standardize,
        "standardize_target": model.standardize_target,
    }
