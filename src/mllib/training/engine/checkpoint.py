"""Saving the model while it trains, so that a run can go on after a crash or Ctrl-C.

A checkpoint is an ordinary model file (:meth:`NeuralNetwork.save`), with the
whole training state: weights, batch-norm statistics, the optimizer's state
with its step count ``t``, the schedule and batch size, the epoch, the
Generator, and, when saved mid-epoch, the epoch's batch order and how many
batches have stepped (:mod:`mllib.training.engine.resume`). So ::

    model = mllib.load("ckpt.npz")
    model.fit(X, y)           # the rest of the interrupted run, to the same bits

continues exactly where the checkpoint was taken. Callbacks' own state (an
``EarlyStopping``'s patience count, say) is not in the file and starts afresh.

The last checkpoint of a run that ended (``ck-4-0.npz`` of a 4-epoch run) has
nothing left to finish: ``fit(X, y)`` on it raises a ValueError rather than
start a second run of the default 100 epochs, and ``fit(X, y, epochs=N)``
trains N more, as Keras's ``fit(epochs=N)`` does on a loaded model.
"""

from __future__ import annotations

import os

from ..._validation import check_int
from .callbacks import Callback, improved, monitor_mode


class ModelCheckpoint(Callback):
    """Save the model every ``every_epochs`` epochs or every ``every_batches`` batches.

    Parameters
    ----------
    filepath : str or path-like
        Where to save. It may hold the format fields ``{epoch}`` (the epoch
        saved, or under way, from 1) and ``{batch}`` (batches done in that
        epoch; 0 at its end), as in ``"ckpt-{epoch:03d}.npz"``; without
        them each save replaces the last, atomically.
    every_epochs : int, default 1
        Save at the end of epochs k, 2k, ... of the model's count.
    every_batches : int, optional
        Save after every k-th batch of each epoch instead: mid-epoch
        checkpoints, which resume at the next batch.
    monitor : str, optional
        Keep the best only: save at an epoch's end only when this log
        entry (e.g. ``"val_cost"``) improved on the best saved so far.
    mode : {"auto", "min", "max"}
        How ``monitor`` improves; "auto" maximizes accuracy and r2.

    Attributes
    ----------
    last_path : str or None
        The file of the last save.
    best : float or None
        The best value of ``monitor`` saved so far in this ``fit``.
    """

    def __init__(self, filepath, *, every_epochs=1, every_batches=None, monitor=None,
                 mode="auto"):
        self.filepath = os.fspath(filepath)
        try:
            self.filepath.format(epoch=1, batch=1)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"filepath {self.filepath!r} may hold only the format fields "
                             f"{{epoch}} and {{batch}}: {err}") from None
        self.every_epochs = check_int("every_epochs", every_epochs, 1)
        self.every_batches = (None if every_batches is None
                              else check_int("every_batches", every_batches, 1))
        if monitor is not None and self.every_batches is not None:
            raise ValueError("monitor keeps the best model at epoch ends; it cannot be combined "
                             "with every_batches")
        self.monitor = monitor
        self.mode = None if monitor is None else monitor_mode(monitor, mode)
        self.best = None
        self.last_path = None

    def check_logs(self, names):
        if self.monitor is not None and self.monitor not in names:
            raise ValueError(f"ModelCheckpoint monitor {self.monitor!r} is not logged; "
                             f"available: {sorted(names)}")

    def on_train_begin(self, logs=None):
        self.best = None

    def on_batch_end(self, batch, logs=None):
        if self.every_batches is not None and (batch + 1) % self.every_batches == 0:
            self._save(self.model.epoch_ + 1, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.every_batches is not None or (epoch + 1) % self.every_epochs:
            return
        if self.monitor is not None:
            value = (logs or {}).get(self.monitor)
            if value is None or not improved(value, self.best, self.mode):
                return
            self.best = value
        self._save(epoch + 1, 0)

    def _save(self, epoch, batch):
        self.last_path = self.filepath.format(epoch=epoch, batch=batch)
        self.model.save(self.last_path)
