"""``preprocessing.json``: a :class:`~.table.Preprocessing` written beside its model, and
read back.

The file holds ``{"format": "mllib-preprocessing", "version": 2, "target",
"target_kind", "columns", "dropped", "missing", "inputs"}``: ``columns`` as
:class:`~.table.Preprocessing` keeps them (with their fill values and
categories), and ``inputs`` the names of the encoded inputs, for reference only.
Version 1 had no fill values and no missing mode; it reads as ``missing="error"``.
A file that scales the target itself (``target_scaling``, from a development
version) is refused: the model does that now.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import DataError
from .missing import MODES
from .table import Preprocessing

FORMAT = "mllib-preprocessing"
VERSION = 2          # version 1 had no fill values or missing mode
FILENAME = "preprocessing.json"


def save(prep: Preprocessing, path) -> None:
    """Write ``prep`` as JSON, with the encoded input names for reference."""
    document = {"format": FORMAT, "version": VERSION, "target": prep.target,
                "target_kind": prep.target_kind, "columns": prep.columns,
                "dropped": prep.dropped, "missing": prep.missing,
                "inputs": prep.features}
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _check_column(column):
    kind = column["kind"]
    if kind not in ("numeric", "categorical") or (
            kind == "categorical" and not isinstance(column["categories"], list)):
        raise ValueError(f"bad column entry {column!r}")
    fill = column.setdefault("fill", None)
    if fill is not None and not isinstance(fill, (float, int) if kind == "numeric" else str):
        raise ValueError(f"bad fill value in {column!r}")


def load(path) -> Preprocessing:
    """Read a file written by :func:`save` (or its version 1); DataError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such preprocessing file: {str(path)!r}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != FORMAT or document.get("version") not in (1, VERSION):
            raise ValueError(f"expected format {FORMAT!r} version 1 or {VERSION}")
        columns = document["columns"]
        for column in columns:
            _check_column(column)
        mode = document.get("missing", "error")
        if mode not in MODES:
            raise ValueError(f"bad missing mode {mode!r}")
        if document.get("target_scaling") is not None:
            raise DataError(f"{str(path)!r} scales the target outside the model, as only a "
                            "development version of mllib did; train the model again")
        return Preprocessing(columns, document["target"], document["target_kind"],
                             list(document.get("dropped", [])), mode)
    except DataError:      # a ValueError too, but its message is the whole story
        raise
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as err:
        raise DataError(f"{str(path)!r} is not an mllib preprocessing file: {err}") from None


def find(model_path, explicit=None):
    """The preprocessing of a model: ``explicit``, else the one beside it, else None."""
    if explicit is not None:
        return load(explicit)
    candidate = Path(model_path).with_name(FILENAME)
    return load(candidate) if candidate.is_file() else None
