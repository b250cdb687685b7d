"""``mllib train``: load the data, split it, train a network and write the results.

Order of work: every check that can fail on bad usage (data, settings,
network, optimizer, split) runs before the output folder is created, so a
rejected command leaves nothing behind.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import EarlyStopping
from ..data import default_ratios, train_dev_test_split
from ..tune import settings as run_settings
from . import artifacts, csvdata
from .args import resolve_settings
from .build import build_network, build_optimizer
from .errors import CLIError, usage_errors

DEFAULT_DATASET = "flower"
PARTS = ("train", "dev", "test")


@dataclass
class TrainingData:
    """Encoded inputs and labels of every row, and where they came from."""

    X: np.ndarray
    y: np.ndarray
    prep: csvdata.Preprocessing
    source: str
    classification: bool
    notes: list


def run_train(args) -> int:
    """The ``train`` subcommand; returns the exit status."""
    settings = resolve_settings("train", args)
    data, parts = load_and_split(args, settings)
    output = choose_output(settings["output"], data)
    # Built here to check the settings before the output folder exists; fit builds its own.
    build_network(settings, output, standardize=settings["standardize"])
    build_optimizer(settings)
    stopper = early_stopping(settings, parts)
    for note in data.notes:
        print(f"mllib: note: {note}", file=sys.stderr)
    check_widths(settings, data, output)
    out_dir, created = make_out_dir(args.out)
    try:
        model, seconds = fit({**settings, "output": output}, stopper, data, parts, args.verbose)
    except BaseException:
        if created and not any(out_dir.iterdir()):
            out_dir.rmdir()  # leave nothing behind for a run that wrote nothing
        raise
    X, y = data.X, data.y
    scores = {name: score(model, X, y, rows) for name, rows in parts.items()}
    run = artifacts.Run(model=model, data=data, parts=parts, history=model.history_, scores=scores,
                        settings=settings, seconds=seconds, stopper=stopper)
    files = artifacts.write_all(out_dir, run)
    print(artifacts.summary(run, out_dir, files))
    return 0


def fit(settings, stopper, data, parts, verbose):
    """Train on the training rows, with the dev rows as validation data; (model, seconds).

    The network is :func:`mllib.tune.fit`'s, as every search builds it; early stopping is
    the ``stopper`` given here, so that the run can report its best epoch.
    """
    X, y = data.X, data.y
    dev = (X[parts["dev"]], y[parts["dev"]]) if parts["dev"].size else None
    started = time.perf_counter()
    with usage_errors("cannot train"):
        network = {k: v for k, v in settings.items() if k in run_settings.SETTING}
        model = run_settings.fit({**network, "early_stopping": None},
                                 (X[parts["train"]], y[parts["train"]]), validation=dev,
                                 callbacks=[stopper] if stopper else [], verbose=verbose)
    return model, time.perf_counter() - started


def score(model, X, y, rows):
    """``{"cost", "accuracy" or "r2", "n"}`` of ``rows`` in inference mode, or None if empty."""
    if rows.size == 0:
        return None
    logs = model.evaluate(X[rows], y[rows])
    return {**{key: float(value) for key, value in logs.items()}, "n": int(rows.size)}


# -- data --------------------------------------------------------------------------


def load_and_split(args, settings):
    """The data of a CSV file or a built-in dataset, and its train/dev/test rows."""
    if args.data is not None and args.dataset is not None:
        raise CLIError("give DATA.csv or --dataset NAME, not both")
    if args.data is not None:
        settings["dataset"] = None  # the settings record what was used
        return load_csv(args.data, settings)
    name = settings["dataset"] = settings["dataset"] or DEFAULT_DATASET
    X, y = load_dataset(name)
    parts = split_rows(y, True, settings)
    names = [f"x{i + 1}" for i in range(X.shape[1])]
    prep = csvdata.Preprocessing.numeric(names, target="y", target_kind="int")
    return TrainingData(X, y, prep, f"dataset {name}", True, []), parts


def load_dataset(name):
    """``mllib.datasets.load(name)``, with its failures as CLIError."""
    from .. import datasets

    if name not in datasets.DATASETS:
        raise CLIError(f"unknown dataset {name!r}; choose one of {', '.join(datasets.DATASETS)}")
    try:
        return datasets.load(name)
    except ImportError as err:
        raise CLIError(f"dataset {name!r}: {err}") from None


def load_csv(path, settings):
    """Read, split and encode a CSV file (see :mod:`mllib.cli.csvdata`)."""
    frame = csvdata.read_csv(path)
    target = settings["target"]
    if target is None:
        raise CLIError(f"give --target COLUMN, the column of {str(path)!r} to predict; its "
                       f"columns are: {', '.join(map(str, frame.columns))}")
    series = csvdata.require_column(frame, target, path)
    kind = csvdata.target_kind(series)
    y = csvdata.target_values(series, kind, target)
    classification = (settings["output"] != "linear" if settings["output"] != "auto"
                      else csvdata.is_classification(kind, y))
    parts = split_rows(y, classification, settings)
    prep = csvdata.Preprocessing.fit(frame, target, parts["train"], path=path,
                                     max_categories=settings["max_categories"],
                                     drop=settings["drop"])
    X, notes = prep.transform(frame, path)
    return TrainingData(X, y, prep, str(path), classification, notes), parts


def split_rows(y, classification, settings) -> dict:
    """Row numbers of the train, dev and test sets: seeded, stratified for classes.

    The shares are ``--validation-split`` and ``--test-split``; each one left
    out takes the notes' default (0.2 each up to 10,000 rows, 0.01 above).
    """
    _, dev_share, test_share = default_ratios(y.shape[0])
    dev = settings["validation_split"] if settings["validation_split"] is not None else dev_share
    test = settings["test_split"] if settings["test_split"] is not None else test_share
    if dev + test >= 1.0:
        raise CLIError(f"--validation-split {dev} and --test-split {test} leave no rows "
                       "to train on")
    rows = np.arange(y.shape[0]).reshape(-1, 1)
    with usage_errors("cannot split the rows"):
        parts = train_dev_test_split(rows, y, ratios=(1.0 - dev - test, dev, test),
                                     stratify=classification, seed=settings["seed"])
    parts = {name: part[:, 0] for name, part in zip(PARTS, parts[:3])}
    if parts["train"].size == 0:
        raise CLIError(f"{y.shape[0]} rows leave none for training")
    return parts


# -- settings that need the data -------------------------------------------------------


def choose_output(requested, data) -> str:
    """The output activator: as requested, or from the target (see the module notes of csvdata)."""
    n_classes = np.unique(data.y).size if data.classification else None
    if requested == "linear" and data.y.dtype.kind in "USb":
        raise CLIError("a linear output needs a numeric target; use --output sigmoid or softmax")
    if requested == "sigmoid" and n_classes is not None and n_classes > 2:
        raise CLIError(f"a sigmoid output takes 2 classes, but the target has {n_classes}; "
                       "use --output softmax")
    if requested != "auto":
        return requested
    if not data.classification:
        return "linear"
    if n_classes < 2:
        raise CLIError(f"the target has a single class ({data.y[0]!r}): there is nothing to learn")
    return "sigmoid" if n_classes == 2 else "softmax"


def check_widths(settings, data, output):
    """With ``--nodes``, n0 must be the number of inputs and nL what the target needs."""
    nodes = settings["nodes"]
    if nodes is None:
        return
    if nodes[0] != data.X.shape[1]:
        raise CLIError(f"--nodes starts with n0 = {nodes[0]}, but the data has "
                       f"{data.X.shape[1]} input column(s): {', '.join(data.prep.features)}")
    needed = np.unique(data.y).size if output == "softmax" else 1
    if nodes[-1] != needed:
        raise CLIError(f"--nodes ends with nL = {nodes[-1]}, but a {output} output for this "
                       f"target needs {needed}")


def early_stopping(settings, parts):
    """An EarlyStopping on the dev cost that restores the best weights, or None."""
    patience = settings["early_stopping"]
    if patience is None:
        return None
    if parts["dev"].size == 0:
        raise CLIError("--early-stopping needs a dev set: set --validation-split above 0")
    return EarlyStopping(monitor="val_cost", patience=patience, restore_best_weights=True)


def make_out_dir(out):
    """The output folder and whether this call created it.

    ``out`` is created if needed (files already in it are replaced);
    without it, a new ``runs/<date>-<time>`` folder.
    """
    if out is not None:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise CLIError(f"--out {str(path)!r} is a file, not a folder")
        created = not path.exists()
        path.mkdir(parents=True, exist_ok=True)
        return path, created
    base = Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    path, attempt = base, 1
    while True:
        try:
            path.mkdir(parents=True)
            return path, True
        except FileExistsError:
            path, attempt = Path(f"{base}-{attempt}"), attempt + 1
