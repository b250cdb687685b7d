"""From given values to a run's whole settings: parsed and checked once, defaults filled in.

Values come in layers, weakest first: the defaults, then (on the command
line) a config file, then flags. Each layer is parsed by the declaration
(:func:`parse_mapping`), then :func:`overlay` stacks them with the rules
that span settings: ``hidden`` and ``nodes`` exclude each other, the
stronger layer winning, and a hyperparameter given for an optimizer that does
not take it is refused. Everything is checked here, before any network,
optimizer or folder exists, and every message names the setting and the value.

>>> resolve({"learning_rate": "0.1", "hidden": "8,4"})["hidden"]
[8, 4]
"""

from __future__ import annotations

from .declaration import ALIASES, RUN_KEYS, SETTING

EXCLUSIVE = ("hidden", "nodes")
OPTIMIZERS_OWN = tuple(s.key for s in SETTING.values() if s.optimizers)


def defaults(keys=RUN_KEYS) -> dict:
    """The settings ``keys`` (default: a run's) at their default values."""
    return {key: _copy(SETTING[key].default) for key in keys}


def _copy(value):
    return list(value) if isinstance(value, list) else value


def canonical_key(key) -> str:
    """``learning-rate`` → ``learning_rate``, ``lambda_`` → ``lambda``; ValueError if unknown."""
    name = str(key).replace("-", "_")
    name = ALIASES.get(name, name)
    if name not in SETTING:
        raise ValueError(f"unknown setting {key!r}; the settings are: {', '.join(SETTING)}")
    return name


def parse(key, value):
    """The value of setting ``key`` (text or JSON); ValueError naming the key and value.

    ``None`` means the default, except for ``batch_size``, where it means full batch.
    """
    key = canonical_key(key)
    if value is None and key != "batch_size":
        return _copy(SETTING[key].default)
    try:
        return SETTING[key].parse(value)
    except ValueError as err:
        raise ValueError(f"{key}: {err}") from None


def parse_mapping(given, keys=RUN_KEYS, *, skip_others=False) -> dict:
    """The values of ``given`` (a mapping of keys or aliases), parsed, by canonical key.

    A ``None`` value is left out (it means the default), except for
    ``batch_size``. Unknown keys are refused, and so are known keys outside
    ``keys`` unless ``skip_others``: a config file may hold the settings of
    other commands.
    """
    parsed = {}
    for raw, value in given.items():
        key = canonical_key(raw)
        if key not in keys:
            if skip_others:
                continue
            raise ValueError(f"{raw!r} is a {SETTING[key].group} setting of the command line, "
                             f"not of a training run; the run's settings are: "
                             f"{', '.join(keys)}")
        if value is not None or key == "batch_size":
            parsed[key] = parse(key, value)
    return parsed


def overlay(*layers, keys=RUN_KEYS) -> dict:
    """The defaults of ``keys`` overlaid by parsed ``layers``, weakest first, checked whole.

    Of ``hidden`` and ``nodes``, the one of the strongest layer that gives
    either wins and the other becomes None; a layer giving both is refused.
    """
    result = defaults(keys)
    for layer in layers:
        result.update(layer)
    for layer in reversed(layers):
        given = [key for key in EXCLUSIVE if layer.get(key) is not None]
        if len(given) == 2:
            raise ValueError("give hidden or nodes, not both")
        if given:
            result["nodes" if given[0] == "hidden" else "hidden"] = None
            break
    if "optimizer" in result:
        check_optimizer_keys(result, {k: v for layer in layers for k, v in layer.items()})
    return result


def resolve(settings=None) -> dict:
    """A run's settings: the defaults overlaid with ``settings`` (keys or aliases), parsed
    and checked (see :func:`overlay`)."""
    if settings is not None and not isinstance(settings, dict):
        raise ValueError(f"settings must be a dict or None, got {settings!r}")
    return overlay(parse_mapping(settings or {}))


def optimizer_keys(name) -> tuple:
    """The settings that the optimizer ``name`` takes beyond the learning rate."""
    return tuple(s.key for s in SETTING.values() if name in s.optimizers)


def check_optimizer_keys(settings, given) -> None:
    """Refuse a setting given for an optimizer that does not take it."""
    name = settings["optimizer"]
    takes = optimizer_keys(name)
    for setting in SETTING.values():
        key = setting.key
        if setting.optimizers and given.get(key) is not None and key not in takes:
            raise ValueError(f"{key}={given[key]!r} is not a setting of optimizer {name!r}; "
                             f"it takes {list(takes) or 'none of ' + ', '.join(OPTIMIZERS_OWN)}")
