"""The data of ``train``, ``tune`` and ``diagnose``: a CSV file or a built-in dataset,
encoded, and split into train, dev and test rows.

Rows whose target is missing are left out first (and so are rows with a
missing feature cell under ``--missing drop``); the split, the categories and
the fill values then come from the rows left, the last two from the training
rows only. A regression target is left in its units: the network standardizes
it (the ``standardize_target`` setting).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data import default_ratios, train_dev_test_split
from ..preprocessing import (Preprocessing, feature_names, is_classification, read_csv,
                             rows_to_use, target_kind, target_values)
from ..preprocessing.read import quote, require_column, require_columns
from .errors import CLIError, usage_errors

DEFAULT_DATASET = "flower"
PARTS = ("train", "dev", "test")


@dataclass
class TrainingData:
    """Encoded inputs and targets of the rows used, and where they came from.

    ``y`` is in the target's own units (labels, or numbers), as the network
    trains on it. ``rows`` are the 0-based positions of the rows used in the file.
    ``report`` says what was left out and filled, for metrics.json.
    """

    X: np.ndarray
    y: np.ndarray
    prep: Preprocessing
    source: str
    classification: bool
    notes: list
    rows: np.ndarray
    report: dict = field(default_factory=dict)


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
    prep = Preprocessing.numeric(names, target="y", target_kind="int")
    return TrainingData(X, y, prep, f"dataset {name}", True, [], np.arange(y.shape[0])), parts


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
    """Read, split and encode a CSV file (see :mod:`mllib.preprocessing`)."""
    frame = read_csv(path, settings["categorical"])
    target = settings["target"]
    if target is None:
        raise CLIError(f"give --target COLUMN, the column of {str(path)!r} to predict; its "
                       f"columns are: {', '.join(map(quote, frame.columns))}")
    kind = target_kind(require_column(frame, target, path))
    require_columns(frame, settings["drop"], path, "--drop")
    names = feature_names(frame, target, settings["drop"], settings["categorical"], path)
    rows, notes, report = rows_to_use(frame, target, names, settings["missing"])
    if rows.size == 0:
        raise CLIError(f"{str(path)!r} has no rows left to train on: {'; '.join(notes)}")
    used = frame.iloc[rows]     # its index is still the file's row positions, for messages
    y = target_values(used[target], kind, target)
    classification = (settings["output"] != "linear" if settings["output"] != "auto"
                      else is_classification(kind, y))
    parts = split_rows(y, classification, settings)
    prep = Preprocessing.fit(used, target, parts["train"], path=path,
                             max_categories=settings["max_categories"],
                             drop=settings["drop"], categorical=settings["categorical"],
                             missing=settings["missing"])
    encoded = prep.transform(used, path)
    report = {"rows_in_file": int(frame.shape[0]), **report, "filled": encoded.filled}
    return TrainingData(encoded.X, y, prep, str(path), classification,
                        prep.notes + notes + encoded.notes, rows, report), parts


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
