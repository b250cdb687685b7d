"""Fingerprints of a run's data and settings: ``--resume`` goes on only with what it began with.

``resume.json`` records, when a run starts, SHA-256 digests of

- the data as the network trains on it: the encoded inputs X and the
  targets y (dtype, shape and bytes), the rows of the file that were used,
  and the rows of each of the train, dev and test sets;
- the settings and the output activator, as canonical JSON.

The data's digest is taken of those arrays, not of the file's bytes: what
must not change under a resumed run is what it trains on. So a CSV saved
again with other quoting or line endings still resumes, while an edited
value, shuffled, scaled or appended rows, or swapped labels change X, y or
the split and are refused; so is a built-in dataset or an encoding that a
newer mllib makes differently, since the run could not give the bits of an
uninterrupted one. The settings' digest finds a ``resume.json`` whose settings
were edited after the run began.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

DATA_FIELDS = ("rows", "inputs", "X", "y", "rows_used", "split")


def digest(array) -> str:
    """SHA-256 of an array's dtype, shape and values, in C order."""
    array = np.asarray(array)
    if array.dtype.kind == "O":     # values, not object pointers
        array = array.astype(str)
    array = np.ascontiguousarray(array)
    sha = hashlib.sha256(f"{array.dtype.str} {array.shape}\n".encode())
    sha.update(array.reshape(-1).view(np.uint8))
    return sha.hexdigest()


def of_data(data, parts) -> dict:
    """The fingerprint of a run's :class:`~.dataload.TrainingData` and its split."""
    split = np.concatenate([np.asarray(parts[name], dtype=np.int64) for name in sorted(parts)]
                           + [np.array([parts[name].size for name in sorted(parts)])])
    return {"rows": int(data.X.shape[0]), "inputs": int(data.X.shape[1]),
            "X": digest(data.X), "y": digest(data.y),
            "rows_used": digest(np.asarray(data.rows, dtype=np.int64)), "split": digest(split)}


def of_settings(settings, output) -> str:
    """SHA-256 of the settings and the output activator as canonical JSON."""
    text = json.dumps({"settings": settings, "output": output}, sort_keys=True,
                      separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def data_changes(recorded: dict, now: dict) -> list:
    """What differs between two data fingerprints, in words; empty when they agree."""
    if recorded["rows"] != now["rows"]:
        return [f"the run began with {recorded['rows']} rows, the data now gives {now['rows']}"]
    if recorded["inputs"] != now["inputs"]:
        return [f"the run began with {recorded['inputs']} input columns, the data now gives "
                f"{now['inputs']}"]
    words = {"X": "the input values differ", "y": "the target values differ",
             "rows_used": "the rows used differ", "split": "the train/dev/test split differs"}
    return [text for key, text in words.items() if recorded[key] != now[key]]


def is_data_fingerprint(value) -> bool:
    """Whether ``value`` has the form :func:`of_data` gives (as read from a file)."""
    return (isinstance(value, dict) and set(value) == set(DATA_FIELDS)
            and all(isinstance(value[k], int) and not isinstance(value[k], bool)
                    for k in ("rows", "inputs"))
            and all(_is_digest(value[k]) for k in DATA_FIELDS[2:]))


def _is_digest(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef"
                                                               for c in value)
