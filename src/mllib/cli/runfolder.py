"""The folder of one ``mllib train`` run: built beside its place, then put there whole.

``mllib train --out runs/x`` works in ``runs/x.incomplete``. While it trains,
that folder holds ``resume.json`` (the data and the settings) and, after
``--checkpoint-every K`` epochs or Ctrl-C, ``checkpoint.npz`` and
``history.json``: ``mllib train --resume runs/x.incomplete`` goes on from there
(:mod:`mllib.training.engine.resume`). At the end the results are written into it,
the resume files go, and it is renamed to ``runs/x``. A ``runs/x`` that was
there already is moved aside first and removed after, so old and new
results never mix. Only a folder that holds nothing but a run's files is
ever replaced; one with other files in it is refused.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from pathlib import Path

from .._interrupts import HeldInterrupts
from ..training import Callback, History
from .artifacts import write_json
from .errors import CLIError

SUFFIX = ".incomplete"
RECORD, CHECKPOINT, HISTORY = "resume.json", "checkpoint.npz", "history.json"
RUN_FILES = {"model.npz", "preprocessing.json", "metrics.json", "config.json", "history.csv",
             "split.json", "cost.png", "confusion_matrix.png", "decision_boundary.png"}


def staging_for(out: Path) -> Path:
    return out.with_name(out.name + SUFFIX)


def check_replaceable(out: Path) -> None:
    """CLIError unless ``out`` is absent, or a folder with only a run's files in it."""
    if not out.exists():
        return
    if not out.is_dir():
        raise CLIError(f"--out {str(out)!r} is a file, not a folder")
    foreign = sorted(p.name for p in out.iterdir() if p.name not in RUN_FILES)
    if foreign:
        raise CLIError(f"--out {str(out)!r} holds files that mllib train did not write "
                       f"({', '.join(map(repr, foreign[:3]))}); it would replace the whole "
                       "folder, so choose another")


def start(out: Path, record: dict) -> Path:
    """Create the staging folder of ``out`` with its resume record; returns the folder."""
    staging = staging_for(out)
    if staging.exists():
        raise CLIError(f"{str(staging)!r} holds an interrupted run; go on with "
                       f"'{resume_command(staging)}', or remove it to start again")
    staging.mkdir(parents=True)
    write_json(staging / RECORD, record)
    return staging


def read_record(path) -> tuple[Path, dict]:
    """The staging folder and the record of ``--resume PATH`` (the folder or its checkpoint)."""
    path = Path(path)
    folder = path.parent if path.is_file() else path
    if not (folder / RECORD).is_file():
        raise CLIError(f"{str(path)!r} is not the folder of an interrupted run (it has no "
                       f"{RECORD}); give the '{SUFFIX}' folder that the interrupted run named")
    if not (folder / CHECKPOINT).is_file():
        raise CLIError(f"{str(folder)!r} has no {CHECKPOINT}: the run stopped before its "
                       "first step; remove the folder and start it again")
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        record["settings"], record["out"]
    except (ValueError, KeyError, TypeError) as err:
        raise CLIError(f"{str(folder / RECORD)!r} is damaged: {err}") from None
    return folder, record


def publish(staging: Path, out: Path) -> None:
    """Put the finished ``staging`` folder in the place of ``out``, as a whole."""
    for name in (RECORD, CHECKPOINT, HISTORY):
        (staging / name).unlink(missing_ok=True)
    with HeldInterrupts():      # Ctrl-C between the renames would leave no run folder
        old = None
        if out.exists():
            check_replaceable(out)
            old = out.with_name(f".{out.name}.mllib-old-{os.getpid()}")
            os.replace(out, old)
        os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def resume_command(staging: Path) -> str:
    return f"mllib train --resume {shlex.quote(str(staging))}"


class RunCheckpoint(Callback):
    """Saves the model and the history so far into the staging folder: every ``every``
    epochs (None: never on its own) and when :meth:`save` is called, as on Ctrl-C."""

    def __init__(self, staging: Path, every=None, earlier=None):
        self.staging, self.every = staging, every
        self.earlier = earlier or {"epoch": [], "history": {}}

    def on_epoch_end(self, epoch, logs=None):
        if self.every and (epoch + 1) % self.every == 0:
            self.save()

    def save(self) -> None:
        self.model.save(self.staging / CHECKPOINT)
        write_json(self.staging / HISTORY, self.history_so_far())

    def history_so_far(self) -> dict:
        """The epochs before the last resume, then those of this call."""
        now = self.model.history_
        keys = list(self.earlier["history"]) or list(now.history)
        return {"epoch": self.earlier["epoch"] + now.epoch,
                "history": {k: self.earlier["history"].get(k, []) + now.history.get(k, [])
                            for k in keys}}

    def merged_history(self) -> History:
        merged, document = History(), self.history_so_far()
        merged.epoch, merged.history = document["epoch"], document["history"]
        return merged


def read_history(folder: Path):
    """The ``history.json`` of an interrupted run, or None."""
    path = folder / HISTORY
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise CLIError(f"{str(path)!r} is damaged: {err}") from None
