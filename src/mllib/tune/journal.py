"""A search's folder: what it searches, and each trial as it finishes, so that it can resume.

``DIR/manifest.json`` records the search: its kind, space, settings, seed,
metric (and grid points, or the pruner) and a fingerprint of the data, with the search's identity
(:mod:`.records`). ``DIR/trials.jsonl`` gets one JSON line per finished
trial, carrying that identity, written and synced as the trial ends, and
``DIR/models/trial-N.npz`` the model of each trial that succeeded (in
successive halving ``trial-N-rung-K.npz``: the state the next rung continues;
in a pruned search, a pruned trial's state at the epoch it was stopped at).
A search with repeats (:mod:`.repeats`) adds, after its trials, a line per
repeat with its ``"repeat"`` number j ≥ 1, and ``models/trial-N-repeat-J.npz``;
a folder without repeats reads as before.
A model file is written, and synced, before its line, so a line never
points to a model that is not there. Running
the same search into DIR again reads them back and runs only the trials that
are missing; a search that differs is refused, naming each value that differs
with its recorded and its new value, unless ``restart=True``, which clears
DIR's trials first.

The folder trusts only what the search made there. Its files are read by
:mod:`mllib.io.bounded` without following links, within their caps; a link,
FIFO or device in place of the manifest, the journal or ``models/`` is
refused, never followed or waited on, so nothing outside DIR is read or
written through it. A manifest or row that fails its checks is refused naming
the file (:mod:`.records`), and so are rows of another search. A trial's
model that cannot be read back (missing, damaged, a link) is trained again,
with a warning: a trial is a pure function of its settings, seed and data, so
this gives the same bits.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import warnings
from pathlib import Path

import numpy as np

from ..io import dumps_model, load_model, write_atomically
from ..io.bounded import check_own_entry, kind_of, open_checked, read_json
from .._interrupts import HeldInterrupts
from ..settings.declaration import SETTING
from .candidates import plain
from .records import (MAX_MANIFEST_BYTES, START_OVER, VERSIONS, check_manifest, manifest_text,
                      read_rows, search_identity)

MANIFEST, JOURNAL, MODELS = "manifest.json", "trials.jsonl", "models"
OWN_SCORES = ("accuracy", "r2")     # the metrics of a search that names none


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
        manifest_text(manifest)               # not too large, before anything is written
        self.folder.mkdir(parents=True, exist_ok=True)
        if restart:
            self._clear()
        recorded = None if restart else self._recorded_manifest()
        if recorded is not None:
            _check_same(recorded, manifest, self.folder)
        self.search = (recorded or {}).get("search") or search_identity(manifest)
        journal = self.folder / JOURNAL
        rows = (read_rows(journal, self.search, manifest_matched=recorded is not None)
                if check_own_entry(journal, "search journal") else {})
        self.rows = {key: row for key, row in rows.items() if len(key) == 2}
        self.repeat_rows = {key[1:]: row for key, row in rows.items() if len(key) == 3}
        _write_atomic(self.folder / MANIFEST, manifest_text({**manifest, "search": self.search}))
        if not check_own_entry(self.folder / MODELS, "models folder", folder=True):
            (self.folder / MODELS).mkdir()
        self._end_torn_line()

    def _recorded_manifest(self):
        """The manifest in the folder, checked; None if there is none."""
        path = self.folder / MANIFEST
        if not check_own_entry(path, "search manifest"):
            return None
        document = read_json(path, MAX_MANIFEST_BYTES, "search manifest", follow_links=False)
        return check_manifest(document, str(path))

    def _end_torn_line(self):
        """After a kill mid-write, end the torn line, so that the next one starts afresh."""
        path = self.folder / JOURNAL
        if check_own_entry(path, "search journal"):
            with open_checked(path, "search journal", mode="r+b", follow_links=False) as handle:
                if handle.seek(0, os.SEEK_END):
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        handle.write(b"\n")

    def _clear(self):
        """Remove the journal and the models, whatever they are: links are removed, not
        followed."""
        (self.folder / JOURNAL).unlink(missing_ok=True)
        models = self.folder / MODELS
        if models.is_symlink() or (models.exists() and not models.is_dir()):
            models.unlink()
        else:
            shutil.rmtree(models, ignore_errors=True)

    def finished(self) -> dict:
        """``{(rung, trial): row}`` of the trials recorded so far; rung 0 but in halving.

        A torn last line, written when the process was killed, is ignored, and so
        is an ok row whose model is not in ``models/`` as a regular file: its trial
        runs again.
        """
        rows = {}
        for key, row in self.rows.items():
            if row["status"] == "ok" and not self._has_model(row["trial"], key[0]):
                continue
            rows[key] = row
        return rows

    def repeats(self) -> dict:
        """``{(trial, repeat): row}`` of the repeats recorded so far (:mod:`.repeats`); an ok
        row whose model is not in ``models/`` is left out, as in :meth:`finished`."""
        return {key: row for key, row in self.repeat_rows.items()
                if row["status"] != "ok" or self._has_model(key[0], 0, key[1])}

    def _has_model(self, trial, rung, repeat=0) -> bool:
        path = self.model_path(trial, rung, repeat)
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return False
        if not stat.S_ISREG(mode):
            warnings.warn(f"{str(path)!r} is {kind_of(mode)}, not a model file; trial {trial} "
                          "is trained again", UserWarning, stacklevel=3)
        return stat.S_ISREG(mode)

    def model_path(self, trial, rung=0, repeat=0) -> Path:
        name = f"trial-{trial}.npz" if rung == 0 else f"trial-{trial}-rung-{rung}.npz"
        if repeat:
            name = f"trial-{trial}-repeat-{repeat}.npz"
        return self.folder / MODELS / name

    def record(self, row: dict, model: bytes | None) -> None:
        """Write the trial's model, then its line; flushed, so a kill loses at most this trial."""
        if model is not None:
            _write_atomic(self.model_path(row["trial"], row.get("rung", 0),
                                          row.get("repeat", 0)), model)
        line = json.dumps({**row, "search": self.search}, sort_keys=True) + "\n"
        with open_checked(self.folder / JOURNAL, "search journal", mode="ab",
                          follow_links=False) as handle:
            handle.write(line.encode("utf-8"))
            os.fsync(handle.fileno())

    def model(self, trial, rung=0) -> bytes | None:
        """The trial's model as model-file bytes, read back and checked as :func:`mllib.load`
        checks a file (links not followed); None, with a warning, if it cannot be read, so
        that the trial is trained again."""
        path = self.model_path(trial, rung)
        try:
            return dumps_model(load_model(path, follow_links=False))
        except (OSError, ValueError) as err:
            warnings.warn(f"the model of trial {trial} cannot be read back ({one_line(err)}); "
                          f"trial {trial} is trained again", UserWarning, stacklevel=2)
            return None


def keep(journal, row, model, on_trial):
    """Record ``row`` (with its ``model``) in ``journal`` and report it to ``on_trial``, as
    one step that Ctrl-C does not cut: a trial is both recorded and reported, or neither."""
    with HeldInterrupts():
        if journal is not None:
            journal.record(plain(row), model)
        if on_trial is not None:
            on_trial(dict(row))


def _check_same(old, new, folder):
    # The versions are for the record: rows whose values another version drew differently
    # are not read back (their trials run again), the others stand.
    old, new = ({k: v for k, v in manifest.items() if k not in VERSIONS and k != "search"}
                for manifest in (old, new))
    if "data_options" not in old:
        # A folder from before data options were recorded: the data's fingerprint, of
        # the prepared arrays, still tells another preparation of the data apart.
        new = {k: v for k, v in new.items() if k != "data_options"}
    if "metric" not in old and new.get("metric") in OWN_SCORES:
        # A folder from before metrics were recorded chose by each model's own score.
        old = {**old, "metric": new["metric"]}
    if isinstance(old.get("settings"), dict) and isinstance(new.get("settings"), dict):
        # A setting added to mllib since the folder was written ran at its default there.
        old = {**old, "settings": {**{k: v for k, v in new["settings"].items()
                                      if k in SETTING and v == SETTING[k].default},
                                   **old["settings"]}}
    differ = differences(old, new)
    if differ:
        raise ValueError(f"{str(folder)!r} holds another search: {'; '.join(differ)}; "
                         f"{START_OVER}")


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


def one_line(err) -> str:
    """An error's message on one line."""
    return " ".join(str(err).split()) or type(err).__name__
