"""CSV files in, network inputs out: reading with pandas and encoding the columns.

Rules, decided once at training time and stored in ``preprocessing.json``
next to the model, so that ``evaluate`` and ``predict`` encode identically:

- A numeric column (integers, floats, true/false) is one input. Its scaling
  is the model's job: ``standardize=True`` fits μ and σ on the training rows.
- A text column with at most ``max_categories`` distinct values (default
  20) is one-hot encoded: one 0/1 input per category seen in the training
  rows, named ``column=category``, in sorted order. A category never seen in
  training encodes as all zeros.
- A text column with more distinct values (an identifier, free text) is
  rejected, and so is a column that is mostly numbers with some text mixed
  in (a typo such as ``1,5`` or ``n/a``): bad usage, naming the column.
  ``--drop COLUMN`` leaves such a column out.
- A missing value in any column used is rejected, naming the column and row.
- The target: text or true/false, or integers with at most
  :data:`MAX_INTEGER_CLASSES` distinct values, are class labels; other
  numbers are a regression target.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import CLIError

FORMAT = "mllib-preprocessing"
VERSION = 1
FILENAME = "preprocessing.json"
MAX_INTEGER_CLASSES = 20


def _pandas():
    try:
        import pandas as pd
    except ImportError:
        raise CLIError('reading CSV files needs pandas: pip install "mllib[cli]"') from None
    return pd


def read_csv(path, text_columns=()):
    """Read a CSV file with a header row into a DataFrame, with pandas.

    Parameters
    ----------
    path : str or path-like
    text_columns : sequence of str
        Columns to read as strings whatever they look like (categorical
        columns and a text target, so that "1" stays the category "1").

    Returns
    -------
    pandas.DataFrame
        At least one row; positions 0, 1, ... are the data rows.

    Raises
    ------
    CLIError
        For a missing, empty, ragged (ParserError) or binary file, or one
        with a header and no rows.
    """
    path = Path(path)
    if not path.exists():
        raise CLIError(f"no such file: {str(path)!r}")
    if path.is_dir():
        raise CLIError(f"{str(path)!r} is a folder, not a CSV file")
    pd = _pandas()
    try:
        frame = pd.read_csv(path, dtype={name: str for name in text_columns} or None)
    except pd.errors.EmptyDataError:
        raise CLIError(f"{str(path)!r} is empty: expected a CSV file with a header row") from None
    except pd.errors.ParserError as err:
        raise CLIError(f"cannot parse {str(path)!r} as CSV: {_first_line(err)}") from None
    except UnicodeDecodeError:
        raise CLIError(f"{str(path)!r} is not a text CSV file (UTF-8)") from None
    except ValueError as err:
        raise CLIError(f"cannot read {str(path)!r}: {_first_line(err)}") from None
    if frame.shape[0] == 0:
        raise CLIError(f"{str(path)!r} has a header but no data rows")
    return frame


def _first_line(err) -> str:
    text = str(err).strip()
    for prefix in ("Error tokenizing data. C error: ",):
        text = text.removeprefix(prefix)
    return text.splitlines()[0] if text else type(err).__name__


def _value(series, row) -> str:
    """The value at position ``row``, quoted as the user wrote it (no NumPy repr)."""
    value = series.iloc[row]
    return repr(value.item() if isinstance(value, np.generic) else value)


def require_column(frame, name, path):
    """``frame[name]``, or a CLIError that lists the columns there are."""
    if name not in frame.columns:
        available = ", ".join(map(str, frame.columns))
        raise CLIError(f"column {name!r} not found in {str(path)!r}; its columns are: {available}")
    return frame[name]


def _check_complete(series, name):
    missing = np.flatnonzero(series.isna().to_numpy())
    if missing.size:
        raise CLIError(f"column {name!r} has {missing.size} missing value(s), the first in data "
                       f"row {missing[0] + 1}; fill them in or leave the column out with --drop")


# -- the target ------------------------------------------------------------------


def target_kind(series) -> str:
    """"bool", "int", "float" or "str": how the target's labels are stored."""
    pd = _pandas()
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "float"
    return "str"


def is_classification(kind: str, labels) -> bool:
    """Class labels (True) or numbers to regress on (False); see the module notes."""
    if kind in ("str", "bool"):
        return True
    return kind == "int" and np.unique(labels).size <= MAX_INTEGER_CLASSES


def target_values(series, kind, name):
    """The target column as a NumPy array of ``kind``; CLIError for missing or wrong values."""
    pd = _pandas()
    _check_complete(series, name)
    if kind == "str":
        return series.astype(str).to_numpy(dtype=str)
    if kind == "bool":
        if not pd.api.types.is_bool_dtype(series):
            raise CLIError(f"target column {name!r} must hold true/false values, as in training")
        return series.to_numpy(dtype=bool)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise CLIError(f"target column {name!r} must hold finite numbers; found "
                       f"{_value(series, bad[0])} in data row {bad[0] + 1}")
    if kind == "int":
        if not np.array_equal(values, np.round(values)):
            raise CLIError(f"target column {name!r} must hold integers, as in training")
        return values.astype(np.int64)
    return values


# -- the features ------------------------------------------------------------------


def _column_rule(series, name, max_categories):
    """``{"name", "kind": "numeric"}`` or ``{"name", "kind": "categorical"}``, or CLIError."""
    pd = _pandas()
    _check_complete(series, name)
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return {"name": name, "kind": "numeric"}
    text = series.astype(str)
    numbers = pd.to_numeric(text, errors="coerce")
    parsed = int(numbers.notna().sum())
    if parsed == len(text):
        return {"name": name, "kind": "numeric"}
    if 2 * parsed >= len(text):
        row = int(np.flatnonzero(numbers.isna().to_numpy())[0])
        raise CLIError(f"column {name!r} holds numbers mixed with text, such as "
                       f"{_value(text, row)} in data row {row + 1}; fix those values or leave "
                       f"the column out with --drop {name}")
    distinct = text.nunique()
    if distinct > max_categories:
        raise CLIError(f"column {name!r} has {distinct} distinct text values, more than "
                       f"--max-categories {max_categories}, so it is not one-hot encoded (an "
                       f"identifier or free text?); leave it out with --drop {name} or raise "
                       "--max-categories")
    return {"name": name, "kind": "categorical"}


@dataclass
class Preprocessing:
    """How a CSV's columns become the network's inputs and targets.

    Attributes
    ----------
    columns : list of dict
        Per feature column, in input order: ``{"name", "kind": "numeric"}`` or
        ``{"name", "kind": "categorical", "categories": [...]}``.
    target : str or None
        The target column's name.
    target_kind : {"str", "int", "float", "bool"} or None
        How the labels are stored, so that they read back the same.
    dropped : list of str
        Columns left out by ``--drop``.
    """

    columns: list
    target: str | None = None
    target_kind: str | None = None
    dropped: list = field(default_factory=list)

    @classmethod
    def fit(cls, frame, target, train_rows, *, max_categories=20, drop=(), path="data"):
        """Decide how each column of ``frame`` is encoded (see the module notes).

        Parameters
        ----------
        frame : pandas.DataFrame
            The whole file, as :func:`read_csv` returns it.
        target : str
            The target column, left out of the inputs.
        train_rows : ndarray of int
            Positions of the training rows: the categories are learned from
            these only, so the dev and test rows leak nothing into training.
        max_categories : int
            Most distinct values of a text column that is one-hot encoded.
        drop : sequence of str
            Columns to leave out.
        path : str
            The file's name, for messages.

        Returns
        -------
        Preprocessing
        """
        for name in drop:
            require_column(frame, name, path)
        names = [c for c in frame.columns if c != target and c not in drop]
        if not names:
            raise CLIError(f"{str(path)!r} has no feature columns besides the target {target!r}")
        columns = [_column_rule(frame[name], name, max_categories) for name in names]
        for column in columns:
            if column["kind"] == "categorical":
                seen = frame[column["name"]].iloc[train_rows].astype(str).unique()
                column["categories"] = sorted(seen.tolist())
        return cls(columns, target, target_kind(frame[target]), list(drop))

    @classmethod
    def numeric(cls, names, target=None, target_kind=None):
        """Every column numeric: for built-in datasets and models without a preprocessing file."""
        return cls([{"name": str(n), "kind": "numeric"} for n in names], target, target_kind)

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

    def transform(self, frame, path="data"):
        """Encode ``frame`` as the network's inputs.

        Returns
        -------
        X : ndarray of shape (n_rows, len(self.features)), float64
            Numeric columns as they are (the model standardizes them), then
            the 0/1 columns of each categorical one.
        notes : list of str
            Things to tell the user, such as categories not seen in training.
        """
        missing = [c["name"] for c in self.columns if c["name"] not in frame.columns]
        if missing:
            raise CLIError(f"{str(path)!r} lacks the column(s) {', '.join(missing)} the model "
                           f"was trained on; its columns are: {', '.join(map(str, frame.columns))}")
        blocks, notes = [], []
        for column in self.columns:
            series = frame[column["name"]]
            _check_complete(series, column["name"])
            if column["kind"] == "numeric":
                blocks.append(_numbers(series, column["name"])[:, None])
            else:
                block, unseen = _one_hot(series, column["categories"])
                blocks.append(block)
                if unseen:
                    notes.append(f"column {column['name']!r} has {unseen} value(s) not seen in "
                                 "training; they are encoded as all zeros")
        return np.hstack(blocks), notes

    def labels(self, frame, path="data", target=None):
        """The target column of ``frame`` (or the column ``target``) as labels."""
        name = target or self.target
        if name is None:
            raise CLIError("give --target COLUMN: the model has no record of its target column")
        series = require_column(frame, name, path)
        return target_values(series, self.target_kind or target_kind(series), name)


def _numbers(series, name):
    pd = _pandas()
    numbers = pd.to_numeric(series, errors="coerce")
    values = numbers.to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise CLIError(f"column {name!r} must hold finite numbers; found "
                       f"{_value(series, bad[0])} in data row {bad[0] + 1}")
    return values


def _one_hot(series, categories):
    """0/1 columns in the order of ``categories`` (pandas.get_dummies) and the unseen count."""
    pd = _pandas()
    values = pd.Categorical(series.astype(str), categories=categories)
    block = pd.get_dummies(values, dtype=np.float64).to_numpy()
    return block.reshape(len(series), len(categories)), int(np.count_nonzero(values.codes < 0))


# -- preprocessing.json --------------------------------------------------------------


def save(prep: Preprocessing, path) -> None:
    """Write ``prep`` as JSON, with the encoded input names for reference."""
    document = {"format": FORMAT, "version": VERSION, "target": prep.target,
                "target_kind": prep.target_kind, "columns": prep.columns,
                "dropped": prep.dropped, "inputs": prep.features}
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def load(path) -> Preprocessing:
    """Read a file written by :func:`save`; CLIError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"no such preprocessing file: {str(path)!r}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != FORMAT or document.get("version") != VERSION:
            raise ValueError(f"expected format {FORMAT!r} version {VERSION}")
        columns = document["columns"]
        for column in columns:
            if column["kind"] not in ("numeric", "categorical") or (
                    column["kind"] == "categorical" and not isinstance(column["categories"], list)):
                raise ValueError(f"bad column entry {column!r}")
        return Preprocessing(columns, document["target"], document["target_kind"],
                             list(document.get("dropped", [])))
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as err:
        raise CLIError(f"{str(path)!r} is not an mllib preprocessing file: {err}") from None


def find(model_path, explicit=None):
    """The preprocessing of a model: ``explicit``, else the one beside it, else None."""
    if explicit is not None:
        return load(explicit)
    candidate = Path(model_path).with_name(FILENAME)
    return load(candidate) if candidate.is_file() else None
