"""How a feature column becomes inputs: numeric or categorical, decided from its values.

- A numeric column (integers, floats, true/false) is one input. Its scaling
  is the model's job: ``standardize=True`` fits μ and σ on the training rows.
  An integer column with few distinct values (such as a year) stays numeric,
  with a note that ``--categorical`` makes it categories.
- A text column with at most ``max_categories`` distinct values (default
  20) is one-hot encoded: one 0/1 input per category seen in the training
  rows, named ``column=category``, in sorted order. A category never seen in
  training encodes as all zeros. ``--categorical COL`` makes any column
  categorical, whatever its type and number of values.
- A text column with more distinct values (an identifier, free text) is
  rejected, and so is a column that is mostly numbers with some text mixed
  in (a typo such as ``1,5``): bad usage, naming the column.
  ``--drop COLUMN`` leaves such a column out.

Missing cells are not values: they are ignored here (see :mod:`.missing`).
"""

from __future__ import annotations

import numpy as np

from .read import pandas, quote, value_text

# An integer column with this many distinct values or fewer (and more than 2) is noted.
FEW_INTEGERS = 10


class ColumnProblem(ValueError):
    """Why a column cannot be used, without its name (the caller lists them by column)."""


def column_rule(series, name, max_categories, categorical=False):
    """``({"name", "kind"}, note or None)``; ColumnProblem if the column cannot be used."""
    pd = pandas()
    if categorical:
        return {"name": name, "kind": "categorical"}, None
    values = series.dropna()
    if pd.api.types.is_bool_dtype(series):
        return {"name": name, "kind": "numeric"}, None
    if pd.api.types.is_numeric_dtype(series):
        return {"name": name, "kind": "numeric"}, _integer_note(values, name)
    text = values.astype(str)
    numbers = pd.to_numeric(text, errors="coerce")
    parsed = int(numbers.notna().sum())
    if parsed == len(text):
        return {"name": name, "kind": "numeric"}, _integer_note(numbers, name)
    if 2 * parsed >= len(text):
        row = int(np.flatnonzero(numbers.isna().to_numpy())[0])
        where = int(text.index[row])        # the file's row position
        raise ColumnProblem(f"numbers mixed with text, such as {value_text(text, row)} in "
                            f"data row {where + 1}")
    distinct = text.nunique()
    if distinct > max_categories:
        raise ColumnProblem(f"{distinct} distinct text values, more than --max-categories "
                            f"{max_categories}, so it is not one-hot encoded (an identifier "
                            "or free text?)")
    return {"name": name, "kind": "categorical"}, None


def _integer_note(values, name):
    """A note for an integer column of few distinct values, or None."""
    numbers = np.asarray(values, dtype=np.float64)
    if numbers.size == 0 or not np.array_equal(numbers, np.round(numbers)):
        return None
    distinct = np.unique(numbers)
    if not 2 < distinct.size <= FEW_INTEGERS:
        return None
    shown = ", ".join(f"{value:.0f}" for value in distinct)
    return (f"column {quote(name)} holds integers with {distinct.size} distinct values "
            f"({shown}) and is used as a number; give --categorical {quote(name)} to "
            "one-hot encode it as categories")


def numbers(series):
    """The column as float64 and the rows that hold text that is no number (not missing)."""
    pd = pandas()
    values = np.array(pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64))
    bad = np.flatnonzero(~np.isfinite(values) & ~series.isna().to_numpy())
    return values, bad


def strings(series, fill=None):
    """The column as an object array of strings, missing cells as ``fill`` (None: missing)."""
    values = series.to_numpy(dtype=object)
    missing = series.isna().to_numpy()
    out = np.array([str(v) for v in values], dtype=object)
    out[missing] = fill
    return out


def one_hot(texts, categories):
    """0/1 columns in the order of ``categories`` (pandas.get_dummies) and the unseen count.

    A value not among ``categories`` encodes as all zeros, as a missing one (None) does.
    """
    pd = pandas()
    allowed = set(categories)
    known = np.array([t is not None for t in texts], dtype=bool)
    seen = np.array([t in allowed for t in texts], dtype=bool)
    # Unseen values go in as missing: pandas deprecates (Pandas4Warning) and will refuse
    # a Categorical of values outside its categories.
    values = pd.Categorical(np.where(seen, texts, None), categories=categories)
    block = pd.get_dummies(values, dtype=np.float64).to_numpy()
    unseen = int(np.count_nonzero(known & ~seen))
    return block.reshape(len(texts), len(categories)), unseen
