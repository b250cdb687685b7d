"""How a table's columns become the network's inputs and targets: :class:`Preprocessing`.

Its rules are decided once, on the training rows, and kept (in
``preprocessing.json``, :mod:`.jsonfile`) so that every file encoded later is
encoded the same way: which columns are numeric or categorical, and their
categories (:mod:`.columns`), the fill value of every column and what to do
with missing cells (:mod:`.missing`), and the target's kind (:mod:`.target`);
a regression target's scaling is the model's own. Files are read by
:mod:`.read`.

Every problem found in a file's columns is reported in one message, listed by
column, with the names quoted as a shell needs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import missing as gaps_of
from .columns import ColumnProblem, column_rule, numbers, one_hot, strings
from .errors import DataError
from .read import (column_problems, quote, quoted, require_column, require_columns, rows_text,
                   value_text)
from .target import target_kind, target_values


@dataclass
class Encoded:
    """The inputs of a frame's rows, and what encoding them found.

    ``incomplete`` marks the rows with a missing cell that was not filled
    (``missing="drop"``): their inputs are not to be used.
    """

    X: np.ndarray
    notes: list
    filled: dict
    incomplete: np.ndarray


def feature_names(frame, target, drop=(), categorical=(), path="data"):
    """The columns of ``frame`` that are inputs: all but ``target`` and ``drop``.

    DataError if ``drop`` or ``categorical`` names a column ``frame`` lacks, if
    ``categorical`` names the target, or if no column is left.
    """
    require_columns(frame, drop, path, "--drop")
    require_columns(frame, categorical, path, "--categorical")
    if target in categorical:
        raise DataError(f"--categorical names the target {quote(target)}; it is for input columns")
    names = [c for c in frame.columns if c != target and c not in drop]
    if not names:
        raise DataError(f"{str(path)!r} has no feature columns besides the target {target!r}")
    return names


def _rules(frame, names, max_categories, categorical, path, found):
    """The rule of every column, and the notes; one DataError for every unusable column
    and, under ``missing="error"``, every column with gaps (``found``)."""
    columns, notes, problems = [], [], {}
    for name in names:
        try:
            rule, note = column_rule(frame[name], name, max_categories, name in categorical)
        except ColumnProblem as err:
            problems[name] = str(err)
            continue
        columns.append(rule)
        notes += [note] if note else []
    if not problems and not found:
        return columns, notes
    advice = []
    if problems:
        advice.append("fix those values, or leave the columns out with --drop "
                      + ",".join(quote(name) for name in problems))
    if found:
        advice.append(gaps_of.GAPS_ADVICE)
    listed = {name: ", and ".join(text for text in (problems.get(name), _gaps_text(found, name))
                                  if text)
              for name in names if name in problems or name in found}
    raise column_problems(path, listed, "; ".join(advice))


def _gaps_text(found, name):
    return None if name not in found else f"missing {rows_text(*found[name])}"


@dataclass
class Preprocessing:
    """How a CSV's columns become the network's inputs and targets.

    Attributes
    ----------
    columns : list of dict
        Per feature column, in input order: ``{"name", "kind": "numeric",
        "fill"}`` or ``{"name", "kind": "categorical", "categories": [...],
        "fill"}``; ``fill`` is the training median or most frequent value
        (None when the training rows have none).
    target : str or None
        The target column's name.
    target_kind : {"str", "int", "float", "bool"} or None
        How the labels are stored, so that they read back the same.
    dropped : list of str
        Columns left out (``drop``).
    missing : {"impute", "drop", "error"}
        What training did with missing cells, and :meth:`transform` does by default.
    notes : list of str
        What the user should know about the choices (not saved).
    """

    columns: list
    target: str | None = None
    target_kind: str | None = None
    dropped: list = field(default_factory=list)
    missing: str = "error"
    notes: list = field(default_factory=list)

    @classmethod
    def fit(cls, frame, target, train_rows, *, max_categories=20, drop=(), categorical=(),
            missing="impute", path="data"):
        """Decide how each column of ``frame`` is encoded (see the module notes).

        Parameters
        ----------
        frame : pandas.DataFrame
            The rows to use (those with a target), as :func:`.read.read_csv` reads them.
        target : str
            The target column, left out of the inputs.
        train_rows : ndarray of int
            Positions of the training rows: the categories and the fill values
            are learned from these only, so the dev and test rows leak nothing.
        max_categories : int
            Most distinct values of a text column that is one-hot encoded.
        drop, categorical : sequence of str
            Columns to leave out, and columns to treat as categories.
        missing : {"impute", "drop", "error"}
        path : str
            The file's name, for messages.
        """
        names = feature_names(frame, target, drop, categorical, path)
        found = gaps_of.gaps(frame, names) if missing == "error" else {}
        columns, notes = _rules(frame, names, max_categories, categorical, path, found)
        train = frame.iloc[train_rows]
        for column in columns:
            values = train[column["name"]].dropna()
            if column["kind"] == "categorical":
                column["categories"] = sorted(values.astype(str).unique().tolist())
                column["fill"] = gaps_of.fill_value(values.astype(str), "categorical")
            else:
                column["fill"] = gaps_of.fill_value(numbers(values)[0], "numeric")
        return cls(columns, target, target_kind(frame[target]), list(drop), missing,
                   notes=notes)

    @classmethod
    def numeric(cls, names, target=None, target_kind=None):
        """Every column numeric: for built-in datasets and models without a preprocessing file."""
        return cls([{"name": str(n), "kind": "numeric", "fill": None} for n in names],
                   target, target_kind)

    @property
    def features(self) -> list:
        """The names of the network's inputs: ``x1`` or ``colour=red``."""
        names = []
        for column in self.columns:
            if column["kind"] == "numeric":
                names.append(column["name"])
            else:
                names.extend(f"{column['name']}={c}" for c in column["categories"])
        return names

    @property
    def text_columns(self) -> list:
        """Columns to read as strings: the categorical ones, and a text target."""
        names = [c["name"] for c in self.columns if c["kind"] == "categorical"]
        return names + ([self.target] if self.target_kind == "str" else [])

    def transform(self, frame, path="data", missing=None) -> Encoded:
        """Encode ``frame`` as the network's inputs, with missing cells as ``missing`` says.

        ``missing`` defaults to the mode of training. Numeric columns come as
        they are (the model standardizes them), then the 0/1 columns of each
        categorical one. Every column that cannot be encoded is named in one DataError.
        """
        mode = missing or self.missing
        names = [c["name"] for c in self.columns]
        absent = [name for name in names if name not in frame.columns]
        if absent:
            raise DataError(f"{str(path)!r} lacks the column(s) {quoted(absent)} the model "
                            f"was trained on; its columns are: {quoted(frame.columns)}")
        found = gaps_of.gaps(frame, names)
        if mode == "error" and found:
            raise gaps_of.gaps_error(path, found)
        blocks, notes, problems = [], [], {}
        for column in self.columns:
            block, note, problem = _encode(frame[column["name"]], column, mode == "impute")
            blocks.append(block)
            notes += [note] if note else []
            if problem:
                problems[column["name"]] = problem
        if problems:
            raise column_problems(path, problems)
        filled = {name: count for name, (count, _) in found.items()} if mode == "impute" else {}
        note = gaps_of.fill_note(filled, self.columns)
        incomplete = (gaps_of.incomplete_rows(frame, names) if mode == "drop"
                      else np.zeros(frame.shape[0], dtype=bool))
        return Encoded(np.hstack(blocks), notes + ([note] if note else []), filled, incomplete)

    def labels(self, frame, path="data", target=None):
        """The target column of ``frame`` (or the column ``target``) as labels."""
        name = target or self.target
        if name is None:
            raise DataError("give --target COLUMN: the model has no record of its target column")
        series = require_column(frame, name, path)
        return target_values(series, self.target_kind or target_kind(series), name)


def _encode(series, column, impute):
    """``(block, note, problem)`` of one column; the note and problem may be None."""
    gaps = series.isna().to_numpy()
    if impute and gaps.any() and column.get("fill") is None:
        return None, None, ("missing cells, and no fill value: the training rows had no "
                            "value in this column (give --missing drop)")
    fill = column.get("fill") if impute else None
    if column["kind"] == "numeric":
        values, bad = numbers(series)
        if bad.size:
            return None, None, (f"must hold numbers; found {value_text(series, bad[0])} in data "
                                f"row {series.index[bad[0]] + 1}")
        if fill is not None:
            values[gaps] = fill
        return values[:, None], None, None
    block, unseen = one_hot(strings(series, fill), column["categories"])
    note = (None if not unseen else f"column {quote(column['name'])} has {unseen} value(s) "
            "not seen in training; they are encoded as all zeros")
    return block, note, None
