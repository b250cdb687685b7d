"""Choosing hyperparameters the notes' way (§4, §5, §8).

Search spaces on the notes' scales (:mod:`.spaces`), the diagnosis of bias and
variance (:func:`diagnose`, from :mod:`mllib.training.diagnosis`).

This layer imports :mod:`mllib.training` and nothing above it.
"""

from ..training.diagnosis import Diagnosis, diagnose
from .spaces import Space, choice, fixed, loguniform, one_minus_loguniform, randint, uniform

__all__ = ["Diagnosis", "Space", "choice", "diagnose", "fixed", "loguniform",
           "one_minus_loguniform", "randint", "uniform"]
