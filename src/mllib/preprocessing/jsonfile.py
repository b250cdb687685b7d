"""``preprocessing.json``: a :class:`~.table.Preprocessing` written beside its model, and
read back.

The file holds ``{"format": "mllib-preprocessing", "version": 2, "target",
"target_kind", "columns", "dropped", "missing", "inputs"}``: ``columns`` as
:class:`~.table.Preprocessing` keeps them (with their fill values and
categories), and ``inputs`` the names of the encoded inputs, for reference only.
Version 1 had no fill values and no missing mode; it reads as ``missing="error"``.
A file that scales the target itself (``target_scaling``, from a development
version) is refused: the model does that now.

Reading trusts nothing in the file: it is read as :func:`mllib.io.bounded.read_json`
reads (a regular file of at most :data:`MAX_BYTES`, never a FIFO or device,
nesting at most 32 deep), every entry is checked for its type, and, given the
model's input width, a file that encodes another number of inputs is refused
before any row is encoded (a forged file of millions of categories would
otherwise ask for gigabytes).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..io.bounded import FileRefusedError, read_json
from .errors import DataError
from .missing import MODES
from .table import Preprocessing

FORMAT = "mllib-preprocessing"
VERSION = 2          # version 1 had no fill values or missing mode
FILENAME = "preprocessing.json"
MAX_BYTES = 2**24    # 16 MiB: a file is a few KB; 20 categories a column by default
TARGET_KINDS = (None, "str", "int", "float", "bool")


def save(prep: Preprocessing, path) -> None:
    """Write ``prep`` as JSON, with the encoded input names for reference."""
    document = {"format": FORMAT, "version": VERSION, "target": prep.target,
                "target_kind": prep.target_kind, "columns": prep.columns,
                "dropped": prep.dropped, "missing": prep.missing,
                "inputs": prep.features}
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _check_column(column):
    kind = column["kind"]
    if not isinstance(column["name"], str) or kind not in ("numeric", "categorical") or (
            kind == "categorical" and not (isinstance(column["categories"], list) and all(
                isinstance(c, str) for c in column["categories"]))):
        raise ValueError(f"bad column entry {_short(column)}")
    fill = column.setdefault("fill", None)
    if fill is not None and not isinstance(fill, (float, int) if kind == "numeric" else str):
        raise ValueError(f"bad fill value in {_short(column)}")


def _check_target(document):
    target, kind, dropped = (document["target"], document["target_kind"],
                             document.get("dropped", []))
    if not (target is None or isinstance(target, str)) or kind not in TARGET_KINDS:
        raise ValueError(f"bad target {_short(target)} of kind {_short(kind)}")
    if not (isinstance(dropped, list) and all(isinstance(name, str) for name in dropped)):
        raise ValueError(f"bad list of dropped columns {_short(dropped)}")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def load(path, inputs=None) -> Preprocessing:
    """Read a file written by :func:`save` (or its version 1); DataError if it is not one,
    or if it does not encode ``inputs`` inputs (the model's width), when given."""
    path = Path(path)
    try:
        document = read_json(path, MAX_BYTES, "preprocessing file")
    except (FileNotFoundError, IsADirectoryError):
        raise DataError(f"no such preprocessing file: {str(path)!r}") from None
    except FileRefusedError as err:
        raise DataError(str(err)) from None
    prep = _from_document(document, path)
    width = sum(len(c["categories"]) if c["kind"] == "categorical" else 1 for c in prep.columns)
    if inputs is not None and width != inputs:
        raise DataError(f"{str(path)!r} encodes {width} input column(s), but the model takes "
                        f"{inputs}: it is not this model's preprocessing file")
    return prep


def _from_document(document, path) -> Preprocessing:
    try:
        if not isinstance(document, dict):
            raise ValueError(f"it holds {type(document).__name__}, not a JSON object")
        if document.get("format") != FORMAT or document.get("version") not in (1, VERSION):
            raise ValueError(f"expected format {FORMAT!r} version 1 or {VERSION}")
        columns = document["columns"]
        for column in columns:
            _check_column(column)
        mode = document.get("missing", "error")
        if not isinstance(mode, str) or mode not in MODES:
            raise ValueError(f"bad missing mode {_short(mode)}")
        _check_target(document)
        if document.get("target_scaling") is not None:
            raise DataError(f"{str(path)!r} scales the target outside the model, as only a "
                            "development version of mllib did; train the model again")
        return Preprocessing(columns, document["target"], document["target_kind"],
                             list(document.get("dropped", [])), mode)
    except DataError:      # a ValueError too, but its message is the whole story
        raise
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as err:
        raise DataError(f"{str(path)!r} is not an mllib preprocessing file: {err}") from None


def find(model_path, explicit=None, inputs=None):
    """The preprocessing of a model: ``explicit``, else the one beside it, else None;
    ``inputs``, the model's input width, as for :func:`load`."""
    if explicit is not None:
        return load(explicit, inputs)
    candidate = Path(model_path).with_name(FILENAME)
    return load(candidate, inputs) if candidate.exists() else None
