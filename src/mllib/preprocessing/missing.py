"""Missing cells in the feature columns: found, reported, filled or left out.

The mode (``missing=`` of :meth:`~.table.Preprocessing.fit`, the ``mllib``
command's ``--missing``) says what to do with them; the mode of training is
kept in ``preprocessing.json`` and is the default when encoding other files:

- ``impute`` (the default): a missing cell gets its column's fill value, taken
  from the training rows only: the median of a numeric column, the most
  frequent value of a categorical one (the first in sorted order on a tie).
- ``drop``: rows with a missing cell are left out (``mllib predict`` writes an
  empty prediction for them, so that its rows still match the file's).
- ``error``: one message names every column with gaps, and how many.

The fill values are computed whatever the mode and saved in ``preprocessing.json``,
so that a file can be encoded with ``missing="impute"`` by a model trained with
another mode. Rows whose target is missing are left out whatever the mode
(:func:`rows_to_use`).
"""

from __future__ import annotations

import numpy as np

from .read import column_problems, quote, rows_text

MODES = ("impute", "drop", "error")
GAPS_ADVICE = ("fill them in, or give --missing impute (fill with training statistics) or "
               "--missing drop (leave those rows out)")


def gaps(frame, names) -> dict:
    """``{name: (count, first row)}`` of the columns ``names`` that have missing cells."""
    found = {}
    for name in names:
        rows = np.flatnonzero(frame[name].isna().to_numpy())
        if rows.size:      # the index holds the file's row positions
            found[name] = (int(rows.size), int(frame.index[rows[0]]))
    return found


def incomplete_rows(frame, names) -> np.ndarray:
    """A boolean mask of the rows with a missing cell in one of the columns ``names``."""
    if not len(names):
        return np.zeros(frame.shape[0], dtype=bool)
    return frame[list(names)].isna().to_numpy().any(axis=1)


def gaps_error(path, found: dict):
    """The DataError of ``missing="error"``: every column with gaps, in one line."""
    problems = {name: f"missing {rows_text(count, first)}"
                for name, (count, first) in found.items()}
    return column_problems(path, problems, GAPS_ADVICE)


def fill_value(values, kind):
    """The fill of a column from its training values (NaN-free): median or most frequent.

    None when there are no values to take it from.
    """
    if len(values) == 0:
        return None
    if kind == "numeric":
        return float(np.median(np.asarray(values, dtype=np.float64)))
    labels, counts = np.unique(np.asarray(values, dtype=str), return_counts=True)
    return str(labels[int(np.argmax(counts))])


def fill_note(filled: dict, columns) -> str | None:
    """``filled 13 missing cells with training statistics: x1 2 (median 0.5), ...``."""
    if not filled:
        return None
    fills = {column["name"]: column for column in columns}
    parts = []
    for name, count in filled.items():
        column = fills[name]
        how = (f"median {column['fill']:.6g}" if column["kind"] == "numeric"
               else f"most frequent {column['fill']!r}")
        parts.append(f"{quote(name)} {count} ({how})")
    total = sum(filled.values())
    return (f"filled {total} missing cell{'s' if total != 1 else ''} with training statistics: "
            + ", ".join(parts))


def drop_note(count: int, why: str) -> str:
    """``left out 3 rows whose target 'body mass' is missing``."""
    return f"left out {count} row{'s' if count != 1 else ''} {why}"


def rows_to_use(frame, target, names, mode):
    """The positions of the rows to use, notes on those left out, and their counts.

    Rows whose ``target`` is missing are left out, and under ``mode`` "drop" so
    are rows with a missing cell in one of the feature columns ``names``.
    Returns ``(positions, notes, {"target_missing": n, "rows_dropped": n})``.
    """
    keep = np.array(frame[target].notna().to_numpy())     # writable: pandas' may not be
    notes, report = [], {"target_missing": int(np.count_nonzero(~keep)), "rows_dropped": 0}
    if report["target_missing"]:
        notes.append(drop_note(report["target_missing"],
                               f"whose target {quote(target)} is missing"))
    if mode == "drop":
        incomplete = incomplete_rows(frame, names) & keep
        report["rows_dropped"] = int(np.count_nonzero(incomplete))
        if report["rows_dropped"]:
            notes.append(drop_note(report["rows_dropped"],
                                   "with missing cells (--missing drop)"))
        keep &= ~incomplete
    return np.flatnonzero(keep), notes, report
