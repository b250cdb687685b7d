"""What a search folder's files may hold: the manifest, each journal row, and the
identity that ties a row to its search.

A search's identity is the SHA-256 of its manifest (kind, space, settings,
seed, the data's fingerprint and options, the metric, grid points, halving
budgets or the pruner; not the mllib version), as canonical JSON. The manifest records it as
``"search"`` when the search starts, and keeps it when a later mllib resumes
the search (with a setting added since, say); every journal row carries it.
Rows of another identity are refused, never adopted, so that a journal whose
manifest was removed or replaced is not taken for this search's. Rows without
one, written before rows carried it, are read only beside a manifest that
matches this search.

Everything read is checked for its type and range before it is used: a
damaged or forged file is refused with ``ValueError`` naming the file (and
the line), rather than failing later with a ``KeyError`` or ``TypeError``.
Values that pass every check are trusted: a row's scores are not measured
again.
"""

from __future__ import annotations

import hashlib
import json
import math
import re

from ..io.bounded import open_checked
from ..io.errors import size_text
from ..io.jsontext import loads_bounded

MAX_MANIFEST_BYTES = 2**24      # 16 MiB: a manifest is a few KB, its space a file of ≤ 1 MiB
MAX_ROW_BYTES = MAX_MANIFEST_BYTES  # a row's params are values of the space the manifest holds
MAX_JOURNAL_BYTES = 2**30       # 1 GiB: read a line at a time; rows are ~400 bytes
START_OVER = ("use another folder, or restart to start over in this one (restart=True; "
              "mllib tune --restart)")

_IDENTITY = re.compile(r"[0-9a-f]{64}")
_MANIFEST = {"kind": str, "space": dict, "settings": dict, "seed": int, "data": str}
_OPTIONAL = {"data_options": dict, "mllib_version": str, "points": int, "budgets": list,
             "factor": (int, float), "search": str, "metric": str, "pruner": dict,
             "repeats": dict, "sampler": str, "batch": int, "cv": dict, "optuna_version": str}
VERSIONS = ("mllib_version", "optuna_version")     # on record; not part of the search
_SCORES = ("train_error", "dev_error", "train_cost", "dev_cost")
_ABSENT = object()


def search_identity(manifest) -> str:
    """The SHA-256 (hex) of ``manifest`` as canonical JSON, without its :data:`VERSIONS`."""
    kept = {k: v for k, v in manifest.items() if k not in (*VERSIONS, "search")}
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest_text(manifest) -> bytes:
    """``manifest`` as the file holds it; ValueError if it is larger than a manifest may be."""
    text = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
    if len(text) > MAX_MANIFEST_BYTES:
        raise ValueError(f"the search's manifest would take {size_text(len(text))}, more than "
                         f"the {size_text(MAX_MANIFEST_BYTES)} a search folder's manifest may; "
                         "search a smaller space")
    return text


def check_manifest(document, name) -> dict:
    """``document``, read from the manifest ``name``, if its fields have their types."""
    def damaged(problem):
        return ValueError(f"search manifest {name!r} is damaged: {problem}; restore it, or "
                          f"{START_OVER}")

    if not isinstance(document, dict):
        raise damaged(f"it holds {type(document).__name__}, not a JSON object")
    for key, kind in (*_MANIFEST.items(), *_OPTIONAL.items()):
        if key not in document:
            if key in _MANIFEST:
                raise damaged(f"it has no {key!r}")
            continue
        value = document[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise damaged(f"{key!r} is {_shown(value)}, not {_kind_name(kind)}")
    search = document.get("search")
    if search is not None and not _IDENTITY.fullmatch(search):
        raise damaged(f"'search' is {_shown(search)}, not a SHA-256 in hex")
    return document


def check_identity(row, search, manifest_matched) -> None:
    """ValueError unless the JSON object ``row`` is a row of the search ``search``. A row
    without identity passes when ``manifest_matched``: the folder's manifest is this
    search's."""
    recorded = row.get("search")
    if recorded is None and not manifest_matched:
        raise ValueError("it does not say which search it belongs to, and the folder has no "
                         "manifest.json that says so")
    if recorded is not None and recorded != search:
        raise ValueError(f"it is a trial of another search ({_shown(recorded)[:14]}…, "
                         f"not {search[:12]}…)")


def check_row(row) -> dict:
    """``row`` without its identity, if its fields have their types and ranges; ValueError
    saying what is wrong otherwise."""
    if not isinstance(row, dict):
        raise ValueError(f"it holds {type(row).__name__}, not a JSON object")
    _check_fields(row)
    return {k: v for k, v in row.items() if k != "search"}


def _check_fields(row):
    for key in ("trial", "seed"):
        _whole(row, key)
    if "rung" in row:
        _whole(row, "rung")
    if "repeat" in row:         # a repeat's row (:mod:`.repeats`); repeat 0 is the trial's
        _whole(row, "repeat")
        if row["repeat"] == 0:
            raise ValueError("'repeat' is 0, not a repeat: repeat 0 is the trial's own row")
    if row.get("status") not in ("ok", "failed"):
        raise ValueError(f"'status' is {_shown(row.get('status', _ABSENT))}, not \"ok\" or "
                         "\"failed\"")
    if not isinstance(row.get("params"), dict):
        raise ValueError(f"'params' is {_shown(row.get('params', _ABSENT))}, not a JSON object")
    if not (row.get("error") is None or isinstance(row["error"], str)):
        raise ValueError(f"'error' is {_shown(row['error'])}, not text or null")
    ok = row["status"] == "ok"
    for key in (*_SCORES, "seconds"):
        _real(row, key, required=ok or key == "seconds")
    if ok or row.get("epochs") is not None:
        _whole(row, "epochs")
    if "pruned" in row and not isinstance(row["pruned"], bool):
        raise ValueError(f"'pruned' is {_shown(row['pruned'])}, not true or false")
    if "curve" in row:
        _check_curve(row["curve"])
    if "fold_errors" in row or "fold_sd" in row:
        _check_folds(row, ok)


def _check_folds(row, ok):
    """A cross-validated trial's held-out errors (a list of finite numbers, at least 2) and
    their standard deviation (a finite number >= 0); both null in a failed row."""
    errors, sd = row.get("fold_errors", _ABSENT), row.get("fold_sd", _ABSENT)
    if not ok and errors in (None, _ABSENT) and sd in (None, _ABSENT):
        return
    if not (isinstance(errors, list) and len(errors) >= 2 and all(
            type(e) in (int, float) and math.isfinite(e) for e in errors)):
        raise ValueError(f"'fold_errors' is {_shown(errors)}, not a list of at least 2 finite "
                         "numbers")
    _real(row, "fold_sd", required=True)
    if sd < 0:
        raise ValueError(f"'fold_sd' is {_shown(sd)}, not a number >= 0")


def _check_curve(curve):
    """A pruned search's curve: ``[[epoch, error], ...]``, epochs whole and increasing."""
    last = 0
    for point in curve if isinstance(curve, list) else [None]:
        if not (isinstance(point, list) and len(point) == 2 and type(point[0]) is int
                and point[0] > last and type(point[1]) in (int, float)
                and math.isfinite(point[1])):
            raise ValueError(f"'curve' holds {_shown(point)}, not [epoch, error] with the "
                             "epochs whole and increasing and the error a finite number")
        last = point[0]


def _whole(row, key):
    value = row.get(key, _ABSENT)
    if type(value) is not int or value < 0:
        raise ValueError(f"{key!r} is {_shown(value)}, not a whole number")


def _real(row, key, required):
    value = row.get(key, _ABSENT)
    if (value is None or value is _ABSENT) and not required:
        return
    if type(value) not in (int, float) or not math.isfinite(value):
        raise ValueError(f"{key!r} is {_shown(value)}, not a finite number")


def read_rows(path, search, manifest_matched) -> dict:
    """``{(rung, trial): row}`` of the journal ``path``, the last row of each trial and rung
    winning, with its repeats' rows as ``(rung, trial, repeat): row``; ValueError naming
    the file and line of a row of another search (:func:`check_identity`) or a damaged
    one (:func:`check_row`). A line that is not JSON at all, as the one a killed process
    was writing, is skipped: its trial runs again."""
    rows = {}
    with open_checked(path, "search journal", limit=MAX_JOURNAL_BYTES,
                      follow_links=False) as handle:
        for number, line in enumerate(iter(lambda: handle.readline(MAX_ROW_BYTES + 1), b""),
                                      start=1):
            row = _parse_line(line, f"search journal {str(path)!r} line {number}")
            if row is None:
                continue
            try:
                check_identity(row, search, manifest_matched)
            except ValueError as err:
                raise ValueError(f"search journal {str(path)!r} holds trials of another "
                                 f"search: line {number}: {err}; {START_OVER}") from None
            try:
                row = check_row(row)
            except ValueError as err:
                raise ValueError(f"search journal {str(path)!r} line {number} is damaged: "
                                 f"{err}; remove that line to run its trial again, or "
                                 f"{START_OVER}") from None
            key = (row.get("rung", 0), row["trial"])
            rows[key if "repeat" not in row else (*key, row["repeat"])] = row
    return rows


def _parse_line(line, where):
    """The JSON object of a journal line; None for a line that is not JSON at all."""
    if len(line) > MAX_ROW_BYTES:
        raise ValueError(f"{where} is longer than the {size_text(MAX_ROW_BYTES)} a row may "
                         f"take; {START_OVER}")
    try:
        row = loads_bounded(line)
    except json.JSONDecodeError:
        return None                 # the line a killed process was writing
    except ValueError as err:
        raise ValueError(f"{where} is damaged: {err}; {START_OVER}") from None
    if not isinstance(row, dict):
        raise ValueError(f"{where} is damaged: it holds {type(row).__name__}, not a JSON "
                         f"object; remove that line to run its trial again, or {START_OVER}")
    return row


def _kind_name(kind) -> str:
    names = {str: "text", dict: "a JSON object", int: "a whole number", list: "a list"}
    return "a number" if isinstance(kind, tuple) else names[kind]


def _shown(value) -> str:
    if value is _ABSENT:
        return "missing"
    text = json.dumps(value, sort_keys=True, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."
