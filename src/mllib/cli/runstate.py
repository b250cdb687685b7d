"""Training under way in a run folder: its history and checkpoint, saved and read back in agreement.

:class:`RunCheckpoint` writes ``history.json`` first and ``checkpoint.npz``
second, each whole (:mod:`.runfiles`, :func:`mllib.io.write_atomically`). A kill
between the two leaves the history one save ahead of the checkpoint, never
behind it; :func:`read_history` trims it to the checkpoint's epoch, so
``--resume`` goes on from exactly the checkpoint's step and every epoch is
logged once. (The history cannot travel inside the checkpoint: a model file
holds the model and nothing of its caller's.)

The history also records the SHA-256 of the last two checkpoints saved
(``"checkpoints"``), each written into it before the checkpoint itself: the
checkpoint on disk, whether or not a kill came between the two writes, is one of
them. So a checkpoint is bound to its run: the history's fingerprint chain goes
from ``resume.json`` (data and settings) through the history to the checkpoint's
bytes, and a checkpoint from another run is refused, even of the same settings.

Read back, neither file is trusted: the history must have the form this
module writes, and the checkpoint must be one the run saved and the network,
optimizer, schedule, batch size and epoch count that the run's settings build
(:func:`checkpoint_problem`), so that a foreign or hand-edited file is refused
rather than finished and reported under settings it was not trained with.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .. import ModelFileError, load
from ..io import bounded, write_atomically
from ..io.registry import dumps_model
from ..training import Callback, History
from ..training.engine.trainer import log_names
from .errors import CLIError
from .runfiles import damaged, is_count, read_json, write_json
from .runfolder import CHECKPOINT, HISTORY

EMPTY = {"epoch": [], "history": {}}
DIGESTS = "checkpoints"   # history.json's SHA-256 of the last checkpoints saved
KEPT = 2                  # how many: the one on disk is the last, or the one before it
_SHA256 = re.compile(r"[0-9a-f]{64}")


class RunCheckpoint(Callback):
    """Saves the history so far and the model into the staging folder: every ``every``
    epochs (None: never on its own) and when :meth:`save` is called, as on Ctrl-C."""

    def __init__(self, staging: Path, every=None, earlier=None):
        self.staging, self.every = staging, every
        self.earlier = earlier or EMPTY

    def on_epoch_end(self, epoch, logs=None):
        if self.every and (epoch + 1) % self.every == 0:
            self.save()

    def save(self) -> None:
        """History first, with the checkpoint's digest; checkpoint second: see the module
        docstring."""
        data = dumps_model(self.model)
        digests = [*self.earlier.get(DIGESTS, []), hashlib.sha256(data).hexdigest()][-KEPT:]
        write_json(self.staging / HISTORY, {**self.history_so_far(), DIGESTS: digests},
                   indent=None)
        write_checkpoint(self.staging / CHECKPOINT, data)
        self.earlier = {**self.earlier, DIGESTS: digests}

    def history_so_far(self) -> dict:
        """The epochs before the last resume, then those of this call."""
        now = self.model.history_ if self.model is not None else History()
        keys = list(self.earlier["history"]) or list(now.history)
        return {"epoch": self.earlier["epoch"] + now.epoch,
                "history": {k: self.earlier["history"].get(k, []) + now.history.get(k, [])
                            for k in keys}}

    def merged_history(self) -> History:
        merged, document = History(), self.history_so_far()
        merged.epoch, merged.history = document["epoch"], document["history"]
        return merged


def write_checkpoint(path: Path, data: bytes) -> None:
    """The model file's bytes ``data`` in place of ``path``, whole."""
    write_atomically(path, lambda handle: handle.write(data))


def _sha256(path: Path) -> str:
    """The SHA-256 of the file ``path``, read as a file of mllib's own folder (no link)."""
    digest = hashlib.sha256()
    with bounded.open_checked(path, "checkpoint", follow_links=False) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Stopped:
    """What an early stopper left for the results: its best and last epochs (from 0)."""

    best_epoch: int | None
    stopped_epoch: int | None


def history_limit(epochs: int) -> int:
    """The most bytes a ``history.json`` of ``epochs`` epochs can take, written compact:
    an epoch's handful of logged numbers take well under 1 KiB."""
    return 2**16 + 2**10 * epochs


def read_history(staging: Path, reached: int, epochs: int, keys, digest: str) -> dict:
    """The ``history.json`` of ``staging``, trimmed to the ``reached`` epochs of its
    checkpoint; it must log ``keys`` (see :func:`logged_keys`) and record the checkpoint's
    ``digest`` among the checkpoints saved (a history that an earlier mllib wrote records
    none, and is taken as it is)."""
    path = staging / HISTORY
    if not os.path.lexists(path):
        if reached == 0:
            return {**EMPTY, DIGESTS: [digest]}
        raise CLIError(f"{str(path)!r} is missing, but {CHECKPOINT} is at epoch {reached}: "
                       "the run cannot go on without the logs of its epochs; start it again")
    document = read_json(path, history_limit(epochs))
    problem = history_problem(document, keys)
    if problem:
        raise damaged(path, problem)
    if DIGESTS in document and digest not in document[DIGESTS]:
        raise CLIError(f"{str(staging / CHECKPOINT)!r} is not a checkpoint this run saved: "
                       f"its SHA-256 is not among those {HISTORY} records; start the run "
                       "again")
    logged = len(document["epoch"])
    if logged < reached:
        raise CLIError(f"{str(path)!r} logs {logged} epoch(s), but {CHECKPOINT} is at epoch "
                       f"{reached}: they are not of the same moment of the run, which cannot "
                       "go on; start it again")
    # The checkpoint on disk is the one to keep: the history may name a later one, which a
    # kill kept from being written; carried on, it could push this one's digest out.
    return {"epoch": document["epoch"][:reached], DIGESTS: [digest],
            "history": {key: values[:reached] for key, values in document["history"].items()}}


def logged_keys(model, has_dev) -> list:
    """What the run's history logs each epoch (see :mod:`mllib.training.engine`)."""
    return log_names(model, has_dev)


def history_problem(document, keys) -> str:
    """What is wrong with the form of a history read back, or ""."""
    if not isinstance(document, dict) or not {"epoch", "history"} <= set(document) \
            <= {"epoch", "history", DIGESTS}:
        return f"it is not an object with 'epoch', 'history' and {DIGESTS!r}"
    found = document.get(DIGESTS)      # absent in a history of an earlier mllib
    if DIGESTS in document and not (isinstance(found, list) and 1 <= len(found) <= KEPT and all(
            isinstance(d, str) and _SHA256.fullmatch(d) for d in found)):
        return f"its {DIGESTS!r} is not a list of 1 to {KEPT} SHA-256 digests"
    epochs, logs = document["epoch"], document["history"]
    if not isinstance(epochs, list) or epochs != list(range(len(epochs))) or not all(
            is_count(epoch) for epoch in epochs):
        return "its 'epoch' is not the list 0, 1, 2, ..."
    if not isinstance(logs, dict) or sorted(logs) != sorted(keys):
        return f"its 'history' does not log {', '.join(keys)}"
    for key, values in logs.items():
        if not (isinstance(values, list) and len(values) == len(epochs) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)):
            return f"its {key!r:.40} is not a list of {len(epochs)} numbers"
    return ""


def load_checkpoint(staging: Path, plan, widths) -> tuple:
    """``(model, digest)``: the model in ``staging``'s checkpoint, checked against the run's
    ``plan`` (see :func:`checkpoint_problem`; ``widths`` is ``(n_in, n_out)`` of the
    data), and the SHA-256 of its file, which the history must record
    (:func:`read_history`). A link there is refused, as in every folder of mllib's own."""
    path = staging / CHECKPOINT
    try:
        digest = _sha256(path)
        model = load(path, follow_links=False)
    except bounded.FileRefusedError as err:
        raise damaged(path, f"it {err.reason}") from None
    except ModelFileError as err:       # it names the file and what is wrong
        raise CLIError(str(err)) from None
    except OSError as err:
        raise damaged(path, err.strerror or err) from None
    problem = checkpoint_problem(model, plan, widths)
    if problem:
        raise CLIError(f"{str(path)!r} is not a checkpoint of this run: {problem}")
    return model, digest


def checkpoint_problem(model, plan, widths) -> str:
    """How ``model`` differs from what the run's :class:`mllib.settings.Plan` trains, or ""."""
    if type(model) is not type(plan.network):
        return f"it holds a {type(model).__name__}, not a {type(plan.network).__name__}"
    want, got = plan.network.get_config(), model.get_config()
    nodes = want["nodes"]
    want["nodes"] = [widths[0] if nodes[0] is None else nodes[0], *nodes[1:-1],
                     widths[1] if nodes[-1] is None else nodes[-1]]
    for key, value in want.items():
        if got.get(key) != value:
            return f"it has {key}={got.get(key)!r:.80}, the run's settings give " \
                   f"{key}={value!r:.80}"
    run, optimizer = model.run_, model.optimizer_
    if optimizer is None or optimizer.get_config() != plan.optimizer.get_config():
        return f"its optimizer is {optimizer and optimizer.get_config()!r:.80}, the run's " \
               f"settings give {plan.optimizer.get_config()!r:.80}"
    if run is None or run.schedule is None or \
            run.schedule.get_config() != plan.schedule.get_config():
        return "its learning-rate schedule is not the run's"
    if run.batch_size != plan.batch_size:
        return f"its batch size is {run.batch_size}, the run's settings give {plan.batch_size}"
    if model.epoch_ > plan.epochs or run.end_epoch not in (plan.epochs, model.epoch_):
        return f"it is at epoch {model.epoch_} of a run to epoch {run.end_epoch}, and the " \
               f"run's settings say {plan.epochs} epochs"
    return ""


def stopped_from(trained: dict, epochs: int, where) -> Stopped:
    """The early stopper's epochs in the "trained" entry of the record ``where``."""
    stopped = Stopped(trained["best_epoch"], trained["stopped_epoch"])
    for value in (stopped.best_epoch, stopped.stopped_epoch):
        if value is not None and value >= epochs:
            raise damaged(where, f"it names epoch {value + 1} of a run that trained {epochs}")
    return stopped
