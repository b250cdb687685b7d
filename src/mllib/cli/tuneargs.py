"""The flags of ``mllib tune``: what to search, how, by what, and where."""

from __future__ import annotations

from ..settings import values
from ..settings.values import MAX_EPOCHS
from ..tune.backends import usable_cores
from ..tune.candidates import MAX_TRIALS
from ..tune.folds import MAX_FOLDS
from ..tune.metrics import METRICS
from ..tune.pruning import EVERY, MIN_TRIALS, WARMUP
from ..tune.repeats import MAX_REPEATS, TOP
from .args import argtype, data_arguments


def add_tune(sub):
    tune = sub.add_parser(
        "tune", help="search hyperparameters on a CSV file (random, grid, TPE, halving or "
                     "Hyperband)",
        description="Search the settings of SPACE.json, choose by dev error, test the best "
                    "once, and write the trials, the best model and plots to --out. Running "
                    "the same command again resumes an interrupted search.")
    data_arguments(tune, "search")
    tune.add_argument("--space", required=True, metavar="SPACE.json",
                      help='settings to search, e.g. {"learning_rate": {"loguniform": '
                           '[1e-4, 0.1]}, "hidden": {"choice": [[32], [64, 32]]}}')
    how = tune.add_argument_group("search")
    how.add_argument("--trials", type=argtype(lambda v: values.integer(v, 1, MAX_TRIALS)),
                     metavar="N",
                     help="candidates drawn at random (and for --halving); from a space "
                          "of choices only, each combination at most once")
    how.add_argument("--grid", action="store_true", help="every point of a grid instead")
    how.add_argument("--points", type=argtype(lambda v: values.integer(v, 1, MAX_TRIALS)),
                     metavar="K", help="grid values per searched setting (default: 3)")
    how.add_argument("--halving", action="store_true", help="successive halving over epochs")
    how.add_argument("--hyperband", action="store_true", help="brackets of successive "
                     "halving, from many short trials to a few long ones (no --trials)")
    how.add_argument("--async", action="store_true", dest="asynchronous",
                     help="asynchronous successive halving: a trial goes on to the next rung "
                          "as soon as it is among the best 1/F of those before it there")
    epochs = argtype(lambda v: values.integer(v, 1, MAX_EPOCHS))
    how.add_argument("--min-epochs", type=epochs, metavar="A",
                     help="epochs of every candidate in halving's first rung")
    how.add_argument("--max-epochs", type=epochs, metavar="B",
                     help="epochs of the candidates left in halving's last rung")
    how.add_argument("--factor", type=argtype(values.positive_real), metavar="F",
                     help="halving keeps the best 1/F of each rung (default: 3)")
    _add_choosing(how)
    where = tune.add_argument_group("where")
    where.add_argument("--scheduler", default="processes", metavar="processes|serial|tcp://...",
                       help="run trials in local worker processes, one at a time in this "
                            "process ('local' is an older name of serial), or on a Dask "
                            "scheduler; the trial table is the same (default: processes)")
    where.add_argument("--workers", type=argtype(lambda v: values.integer(v, 1)),
                       metavar="K", help="processes for --scheduler processes (default: "
                                         f"{usable_cores()}, the cores this process may use)")
    where.add_argument("--restart", action="store_true",
                       help="start over in --out instead of refusing another search there")
    where.add_argument("-q", "--quiet", action="store_const", const=0, dest="verbose",
                       default=1, help="no progress lines (warnings and errors still show)")
    _add_dask(tune)
    tune.set_defaults(handler="tune")


def _add_choosing(how):
    """The flags of what a search chooses by, and of pruning."""
    how.add_argument("--metric", choices=tuple(METRICS), metavar="NAME",
                     help="choose by this metric, as an error to minimize: "
                          f"{', '.join(METRICS)} (default: accuracy for a classifier, r2 for "
                          "a regressor)")
    how.add_argument("--next", action="store_true", help="also write the next search's "
                     "space.next.json, by the notes' remedies for the best trial's diagnosis")
    how.add_argument("--sampler", choices=("random", "tpe"), default="random",
                     help="draw random search's candidates at random (default), or ask "
                          "Optuna's TPE for them, in batches, from the results so far")
    how.add_argument("--batch", type=argtype(lambda v: values.integer(v, 1, MAX_TRIALS)),
                     metavar="B", help="candidates that --sampler tpe asks at a time, which "
                     "run at once: give at least --workers; the table depends on it, not on "
                     "the workers (default: 4)")
    how.add_argument("--cv", type=argtype(lambda v: values.integer(v, 2, MAX_FOLDS)),
                     metavar="K", help="score each candidate by K-fold cross-validation of "
                     "the training and validation rows together (stratified for a "
                     "classifier), instead of the validation rows alone")
    how.add_argument("--repeats", type=argtype(lambda v: values.integer(v, 2, MAX_REPEATS)),
                     metavar="R",
                     help="train the best --top candidates again with R seeds in all, and "
                          "choose by the mean, with its 95%% interval")
    how.add_argument("--top", type=argtype(lambda v: values.integer(v, 1, MAX_TRIALS)),
                     metavar="K",
                     help=f"candidates that --repeats trains again (default: {TOP})")
    how.add_argument("--pruner", choices=("median",),
                     help="stop the trials of random or grid search whose dev error is worse "
                          "than the median of the earlier trials at the same epoch")
    for flag, low, default, what in (
            ("--warmup", 0, WARMUP, "epochs before any trial is judged"),
            ("--every", 1, EVERY, "epochs between two reports of a trial's dev error"),
            ("--min-trials", 1, MIN_TRIALS, "earlier trials that must have reached an epoch "
                                            "for a trial to be judged there")):
        how.add_argument(flag, type=argtype(lambda v, low=low: values.integer(v, low)),
                         metavar="N", help=f"--pruner's {what} (default: {default})")


def _add_dask(tune):
    """The flags of a search on a Dask scheduler (``--scheduler tcp://...`` or ``tls://...``)."""
    dask = tune.add_argument_group("Dask cluster")
    dask.add_argument("--data-dir", metavar="DIR",
                      help="folder where the search writes its data for the workers to read; "
                           "every worker must see it at the same path (default: the temp "
                           "folder, which only the workers of this machine see)")
    dask.add_argument("--wait-for-workers", type=argtype(values.positive_real),
                      metavar="SECONDS", help="give up when the scheduler has had no worker "
                      "for this long, at the start or later (default: 60)")
    for flag, what in (("--tls-ca-file", "CA certificate(s) that the scheduler's certificate "
                        "must be signed by"), ("--tls-cert", "this client's certificate"),
                       ("--tls-key", "this client's private key, if not in --tls-cert")):
        dask.add_argument(flag, metavar="PEM", help=f"for a tls:// scheduler: {what}")
