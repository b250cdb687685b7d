"""Callbacks: hooks into the fit loop, in the manner of Keras.

A callback may define any of ``on_train_begin(logs)``,
``on_epoch_begin(epoch, logs)``, ``on_batch_end(batch, logs)``,
``on_epoch_end(epoch, logs)`` and ``on_train_end(logs)``; it reaches the
model as ``self.model`` and stops training by setting
``self.model.stop_training = True``. The per-epoch ``logs`` hold ``cost``,
``accuracy`` (classifiers) or ``r2`` (regression), the same with a ``val_``
prefix when there is dev data, ``lr`` and ``time`` (seconds).

Before ``fit`` changes anything about the model, it calls every callback's
``check_logs(names)`` with the names it will log, so that a callback that
needs an entry which will not be there (``EarlyStopping(monitor="val_cost")``
without dev data) fails the call cleanly.
"""

from __future__ import annotations

import sys

from ..._streams import isatty
from ..._validation import check_int, check_real


class Callback:
    """Base class: every hook does nothing."""

    model = None

    def set_model(self, model):
        self.model = model

    def check_logs(self, names):
        """Raise ValueError if this callback needs a log entry not in ``names``."""

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=f)``."""

    HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end")

    def __init__(self, **hooks):
        unknown = set(hooks) - set(self.HOOKS)
        if unknown:
            raise ValueError(f"unknown hooks {sorted(unknown)}; expected some of {list(self.HOOKS)}")
        for name, function in hooks.items():
            if not callable(function):
                raise ValueError(f"{name} must be callable, got {function!r}")
            setattr(self, name, function)


class History(Callback):
    """Records the logs of every epoch: ``history.history["cost"][i]`` and so on.

    ``cost`` is the cost J on the N training rows: the batches' data loss,
    averaged with their sizes as weights, plus λ/(2N) Σ|W|^p with the weights
    at the end of the epoch. ``val_cost`` is J on the dev rows in inference
    mode, ``cost(X_dev, y_dev, training=False)``, so the two are comparable.
    """

    def __init__(self):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


class EarlyStopping(Callback):
    """Stop when a monitored quantity has stopped improving (notes §5.3).

    Parameters
    ----------
    monitor : str, default "val_cost"
        A key of the epoch logs. Costs are minimized; accuracy and r2 are
        maximized (``mode="auto"``), or set ``mode`` to "min" or "max".
    patience : int, default 0
        Epochs without improvement before stopping.
    min_delta : float, default 0
        An improvement must beat the best value by more than this.
    restore_best_weights : bool, default False
        At the end of training, put back the parameters and batch-norm
        statistics of the best epoch, kept as a copy.

    The state is reset at the start of every ``fit``.
    """

    def __init__(self, monitor="val_cost", patience=0, min_delta=0.0,
                 restore_best_weights=False, mode="auto"):
        patience = check_int("patience", patience, 0)
        min_delta = check_real("min_delta", min_delta, 0.0)
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.restore_best_weights = bool(restore_best_weights)
        self.mode = monitor_mode(monitor, mode)
        self._reset()

    def _reset(self):
        self.wait = 0
        self.best = None
        self.best_epoch = None
        self.stopped_epoch = None
        self.best_weights = None

    def check_logs(self, names):
        if self.monitor not in names:
            raise ValueError(f"EarlyStopping monitor {self.monitor!r} is not logged; "
                             f"available: {sorted(names)}")

    def on_train_begin(self, logs=None):
        available = (logs or {}).get("metrics")
        if available is not None:
            self.check_logs(available)
        self._reset()

    def _improved(self, value):
        return improved(value, self.best, self.mode, self.min_delta)

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def monitor_mode(monitor, mode) -> str:
    """"min" or "max" for ``mode``; "auto" maximizes accuracy and r2 and minimizes the rest."""
    if not isinstance(monitor, str):
        raise ValueError(f"monitor must be the name of a log entry, got {monitor!r}")
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if monitor.endswith(("accuracy", "r2")) else "min"
    return mode


def improved(value, best, mode, min_delta=0.0) -> bool:
    """Whether ``value`` beats ``best`` (None: nothing yet) by more than ``min_delta``."""
    if best is None:
        return True
    if mode == "min":
        return value < best - min_delta
    return value > best + min_delta


class ProgressLogger(Callback):
    """Per-epoch progress: cost, metrics and elapsed time (the notes' EpochRuntime).

    ``verbose=1`` shows a progress bar over the epochs when the stream is a
    terminal and tqdm is installed, and otherwise prints about ten lines in
    all; ``verbose=2`` prints one line per epoch; ``verbose=0`` is silent.
    With the bar, once an epoch has taken ``slow_epoch`` seconds or more, a
    second bar follows the batches of each epoch. Times below a second are
    shown in milliseconds (``0.84ms``), longer ones in seconds (``2.31s``).
    """

    def __init__(self, verbose=1, stream=None, slow_epoch=2.0):
        self.verbose = verbose
        self.stream = stream
        self.slow_epoch = slow_epoch
        self._bar = self._batches = self._tqdm = None
        self._slow = False

    def on_train_begin(self, logs=None):
        self.epochs = (logs or {}).get("epochs", 0)
        self.first = (logs or {}).get("initial_epoch", 0)
        stream = self.stream or sys.stderr
        self._stream, self._slow = stream, False
        if self.verbose == 1 and isatty(stream):
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._tqdm = tqdm
                self._bar = tqdm(total=self.epochs, unit="epoch", file=stream, leave=True)

    def on_batch_end(self, batch, logs=None):
        if self._bar is None or not self._slow:
            return
        position = getattr(self.model, "position_", None)
        if self._batches is None and position is not None:
            self._batches = self._tqdm(total=position.n_batches, initial=batch, unit="batch",
                                       file=self._stream, leave=False)
        if self._batches is not None:
            self._batches.update(1)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self._close_batches()
        self._slow = logs.get("time", 0.0) >= self.slow_epoch
        text = format_logs(logs)
        done = epoch - self.first + 1
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.update(1)
        elif self.verbose == 2 or (self.verbose == 1 and _milestone(done, self.epochs)):
            print(f"epoch {epoch + 1}  {text}", file=self._stream, flush=True)

    def on_train_end(self, logs=None):
        self._close_batches()
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _close_batches(self):
        if self._batches is not None:
            self._batches.close()
            self._batches = None


def format_seconds(seconds: float) -> str:
    """``0.213ms``, ``12.3ms``, ``840ms`` below a second; ``2.31s`` from one second on."""
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g}ms"
    return f"{seconds:.2f}s"


def format_logs(logs: dict) -> str:
    parts = []
    for key, value in logs.items():
        if key == "time":
            parts.append(format_seconds(value))
        elif key == "lr":
            parts.append(f"lr {value:.3g}")
        else:
            parts.append(f"{key} {value:.4f}")
    return "  ".join(parts)


def _milestone(done, total):
    step = max(1, total // 10)
    return done == total or done % step == 0
