"""Choosing hyperparameters the notes' way (§4, §5, §8).

- Search spaces on the notes' scales (:mod:`.spaces`): ``loguniform`` for rates,
  ``one_minus_loguniform`` for moving-average weights β near 1.
- :func:`random_search`, :func:`grid_search`, :func:`successive_halving` (over
  epochs), :func:`async_halving` (its promotions as soon as a rung can tell) and
  :func:`hyperband` (brackets of halving), in this process, in local worker
  processes or on a Dask cluster (:class:`DaskBackend`: TLS credentials, a shared
  data folder), resumable from their ``out`` folder, with the same trial table on
  every back-end (:mod:`.search`, :mod:`.halving`, :mod:`.asynchronous`,
  :mod:`.hyperband`, :mod:`.backends`, :mod:`.dask_backend`);
  chosen by any of :mod:`.metrics`' metrics (``metric=``).
- Pruning of random and grid search (``pruner="median"``, :class:`MedianPruner`):
  the trials that are plainly losing stop early, decided in trial order, so
  that the table is still the same on every back-end (:mod:`.pruning`,
  :mod:`.ordered`).
- Candidates from Optuna's TPE (``random_search(..., sampler="tpe")``, told in trial
  order: :mod:`.sampling`), cross-validated trials (``cv=k``: :mod:`.folds`) and the
  best candidates trained again with more seeds (``repeats=r``: :mod:`.repeats`).
- :func:`fit`: the network that a dict of settings describes, trained as a
  trial trains it (:mod:`mllib.settings`).
- :meth:`SearchResult.next_space`: the next search by the notes' remedies for the
  best trial's bias and variance (:mod:`.nextspace`).
- :func:`diagnose`: bias and variance from the train and dev errors, with the
  notes' remedies (from :mod:`mllib.training.diagnosis`); :func:`learning_curve`,
  the errors as the training set grows.

This layer imports :mod:`mllib.training` and nothing above it; Dask only
when a Dask back-end is asked for, and pandas only for :meth:`SearchResult.table`.
"""

from ..training.diagnosis import Diagnosis, diagnose
from .curves import LearningCurve, learning_curve
from .asynchronous import async_halving
from .dask_backend import ClusterError, DaskBackend
from .halving import successive_halving
from .hyperband import hyperband
from .pruning import MedianPruner
from .repeats import Repeats
from .result import SearchResult
from .search import grid_search, random_search
from ..settings import fit
from .spaces import Space, choice, fixed, loguniform, one_minus_loguniform, randint, uniform

__all__ = ["ClusterError", "DaskBackend", "Diagnosis", "LearningCurve", "MedianPruner",
           "Repeats", "SearchResult", "Space", "async_halving",
           "choice", "diagnose", "fit", "fixed", "grid_search", "hyperband", "learning_curve",
           "loguniform",
           "one_minus_loguniform", "randint", "random_search", "successive_halving", "uniform"]
