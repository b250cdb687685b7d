"""A search's folder: what it searches, and each trial as it finishes, so that it can resume.

``DIR/manifest.json`` records the search: its kind, space, settings, seed
(and grid points) and a fingerprint of the data. ``DIR/trials.jsonl`` gets
one JSON line per finished trial, written and flushed as the trial ends, and
``DIR/models/trial-N.npz`` the model of each trial that succeeded (in
successive halving ``trial-N-rung-K.npz``: the state the next rung continues).
A model file is written, and synced, before its line, so a line never
points to a model that is not there. Running
the same search into DIR again reads them back and runs only the trials that
are missing; a search that differs is refused, naming each value that differs
with its recorded and its new value, unless ``restart=True``, which clears
DIR's trials first.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..io import write_atomically
from ..settings.declaration import SETTING


def fingerprint(*arrays) -> str:
    """SHA-256 of the arrays' shapes, dtypes and bytes: the same data gives the same text."""
    digest = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.shape}{a.dtype.str}".encode())
        if a.dtype.kind in "OU":
            digest.update(json.dumps(a.tolist(), default=str).encode())
        else:
            digest.update(a.tobytes())
    return digest.hexdigest()


class Journal:
    """The folder of one search (see the module notes)."""

    def __init__(self, out, manifest: dict, *, restart=False):
        self.folder = Path(out)
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"out={str(self.folder)!r} is a file, not a folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "manifest.json"
        if path.exists() and not restart:
            _check_same(json.loads(path.read_text(encoding="utf-8")), manifest, self.folder)
        elif path.exists():
            self._clear()
        _write_atomic(path, json.dumps(manifest, indent=2, sort_keys=True).encode())
        (self.folder / "models").mkdir(exist_ok=True)
        self._end_torn_line()

    def _end_torn_line(self):
        """After a kill mid-write, end the torn line, so that the next one starts afresh."""
        path = self.folder / "trials.jsonl"
        if path.exists() and path.stat().st_size:
            with open(path, "rb+") as handle:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    handle.write(b"\n")

    def _clear(self):
        (self.folder / "trials.jsonl").unlink(missing_ok=True)
        shutil.rmtree(self.folder / "models", ignore_errors=True)

    def finished(self) -> dict:
        """``{(rung, trial): row}`` of the trials recorded so far; rung 0 but in halving.

        A torn last line, written when the process was killed, is ignored.
        """
        path = self.folder / "trials.jsonl"
        rows = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue   # the line a killed process was writing
                rung = row.get("rung", 0)
                if row["status"] == "ok" and not self.model_path(row["trial"], rung).exists():
                    continue   # its model was not written: run it again
                rows[row.get("rung", 0), row["trial"]] = row
        return rows

    def model_path(self, trial, rung=0) -> Path:
        name = f"trial-{trial}.npz" if rung == 0 else f"trial-{trial}-rung-{rung}.npz"
        return self.folder / "models" / name

    def record(self, row: dict, model: bytes | None) -> None:
        """Write the trial's model, then its line; flushed, so a kill loses at most this trial."""
        if model is not None:
            _write_atomic(self.model_path(row["trial"], row.get("rung", 0)), model)
        with open(self.folder / "trials.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def model(self, trial, rung=0) -> bytes:
        return self.model_path(trial, rung).read_bytes()


def _check_same(old, new, folder):
    if "data_options" not in old:
        # A folder from before data options were recorded: the data's fingerprint, of
        # the prepared arrays, still tells another preparation of the data apart.
        new = {k: v for k, v in new.items() if k != "data_options"}
    if isinstance(old.get("settings"), dict) and isinstance(new.get("settings"), dict):
        # A setting added to mllib since the folder was written ran at its default there.
        old = {**old, "settings": {**{k: v for k, v in new["settings"].items()
                                      if k in SETTING and v == SETTING[k].default},
                                   **old["settings"]}}
    differ = differences(old, new)
    if differ:
        raise ValueError(f"{str(folder)!r} holds another search: {'; '.join(differ)}; use "
                         "another folder, or restart to start over in this one (restart=True; "
                         "mllib tune --restart)")


_ABSENT = object()


def differences(old, new, prefix="") -> list:
    """``"key: OLD in the folder, NEW now"`` per key whose value differs between the
    recorded manifest ``old`` and ``new``; a dict of the manifest (the settings, the
    space, the data options) is compared key by key, as ``settings.learning_rate``."""
    found = []
    for key in sorted(set(old) | set(new)):
        before, now = old.get(key, _ABSENT), new.get(key, _ABSENT)
        if before == now:
            continue
        if not prefix and isinstance(before, dict) and isinstance(now, dict):
            found += differences(before, now, prefix=f"{key}.")
            continue
        found.append(f"{prefix}{key}: {_shown(prefix + key, before)} in the folder, "
                     f"{_shown(prefix + key, now)} now")
    return found


def _shown(key, value) -> str:
    if value is _ABSENT:
        return "absent"
    if key == "data" and isinstance(value, str):      # a SHA-256: its start tells them apart
        return f"rows of fingerprint {value[:10]}…"
    return json.dumps(value, sort_keys=True)


def _write_atomic(path, data: bytes) -> None:
    write_atomically(path, lambda handle: handle.write(data))
