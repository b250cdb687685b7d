"""Reading a CSV file with pandas, and naming its columns and values in messages.

Column names in messages are quoted as a shell needs them (:func:`quote`), so that
``--drop 'bill length'`` can be pasted back into a command line.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np

from .errors import DataError


def pandas():
    """The pandas module, or a DataError that says how to install it."""
    try:
        import pandas as pd
    except ImportError:
        raise DataError('reading CSV files needs pandas: pip install "mllib[cli]"') from None
    return pd


def quote(name) -> str:
    """A column name as a shell needs it: ``x1``, ``'bill length'``."""
    return shlex.quote(str(name))


def quoted(names) -> str:
    """Column names, quoted, separated by commas and spaces."""
    return ", ".join(quote(name) for name in names)


def read_csv(path, text_columns=()):
    """Read a CSV file with a header row into a DataFrame, with pandas.

    Parameters
    ----------
    path : str or path-like
    text_columns : sequence of str
        Columns to read as strings whatever they look like (categorical
        columns and a text target, so that "1" stays the category "1").
        Empty cells and pandas' missing-value words (``NA``, ``NaN``, ...) are
        missing values (NaN) in every column.

    Returns
    -------
    pandas.DataFrame
        At least one row; positions 0, 1, ... are the data rows.

    Raises
    ------
    DataError
        For a missing, empty, ragged (ParserError) or binary file, or one
        with a header and no rows.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"no such file: {str(path)!r}")
    if path.is_dir():
        raise DataError(f"{str(path)!r} is a folder, not a CSV file")
    pd = pandas()
    try:
        frame = pd.read_csv(path, dtype={name: str for name in text_columns} or None)
    except pd.errors.EmptyDataError:
        raise DataError(f"{str(path)!r} is empty: expected a CSV file with a header row") from None
    except pd.errors.ParserError as err:
        raise DataError(f"cannot parse {str(path)!r} as CSV: {_first_line(err)}") from None
    except UnicodeDecodeError:
        raise DataError(f"{str(path)!r} is not a text CSV file (UTF-8)") from None
    except ValueError as err:
        raise DataError(f"cannot read {str(path)!r}: {_first_line(err)}") from None
    if frame.shape[0] == 0:
        raise DataError(f"{str(path)!r} has a header but no data rows")
    return frame


def _first_line(err) -> str:
    text = str(err).strip()
    for prefix in ("Error tokenizing data. C error: ",):
        text = text.removeprefix(prefix)
    return text.splitlines()[0] if text else type(err).__name__


def value_text(series, row) -> str:
    """The value at position ``row``, quoted as the user wrote it (no NumPy repr)."""
    value = series.iloc[row]
    return repr(value.item() if isinstance(value, np.generic) else value)


def require_column(frame, name, path):
    """``frame[name]``, or a DataError that lists the columns there are."""
    if name not in frame.columns:
        raise DataError(f"column {name!r} not found in {str(path)!r}; its columns are: "
                        f"{quoted(frame.columns)}")
    return frame[name]


def require_columns(frame, names, path, flag):
    """DataError naming every one of ``names`` (given with ``flag``) that ``frame`` lacks."""
    absent = [name for name in names if name not in frame.columns]
    if absent:
        raise DataError(f"{flag} names column(s) not in {str(path)!r}: {quoted(absent)}; its "
                        f"columns are: {quoted(frame.columns)}")


def column_problems(path, problems: dict, advice: str = "") -> DataError:
    """One DataError for every problem of a file, listed by column: ``{name: text}``."""
    listed = "; ".join(f"{quote(name)}: {text}" for name, text in problems.items())
    what = "a column" if len(problems) == 1 else f"{len(problems)} columns"
    return DataError(f"{str(path)!r} has problems in {what}: {listed}"
                     + (f"; {advice}" if advice else ""))


def rows_text(count: int, first: int) -> str:
    """``1 cell, data row 4`` or ``3 cells, first in data row 2`` (``first`` 0-based)."""
    if count == 1:
        return f"1 cell, data row {first + 1}"
    return f"{count} cells, first in data row {first + 1}"
