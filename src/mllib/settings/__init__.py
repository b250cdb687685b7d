"""One vocabulary of settings for every front end: the API, searches, the CLI and scikit-learn.

- :mod:`.declaration`: each setting declared once (:class:`Setting`: key,
  aliases, parser with its allowed values, default, help, group, the optimizers
  that take it, the scikit-learn parameter that matches it), in :data:`SETTINGS`.
- :mod:`.values`: the parsers, which take a flag's text or a JSON value.
- :mod:`.resolve`: given values, in layers, to a run's checked settings.
- :mod:`.build`: checked settings to a network, an optimizer and a schedule
  (:class:`Plan`), and :func:`fit`, which trains them as a search's trial does.

This layer imports :mod:`mllib.training` and below; :mod:`mllib.tune`, the
CLI and :mod:`mllib.sklearn` import it.

>>> resolve({"optimizer": "momentum", "beta1": "0.8"})["beta1"]
0.8
"""

from .build import (Plan, build_network, build_optimizer, choose_output, fit, network_config,
                    plan)
from .declaration import RUN_KEYS, SETTING, SETTINGS, Setting
from .resolve import canonical_key, defaults, overlay, parse, parse_mapping, resolve

__all__ = ["Plan", "RUN_KEYS", "SETTING", "SETTINGS", "Setting", "build_network", "build_optimizer",
           "canonical_key", "choose_output", "defaults", "fit", "network_config", "overlay",
           "parse", "parse_mapping", "plan", "resolve"]
