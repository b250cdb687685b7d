"""The one training engine: every loop of optimizer steps in mllib is this one (notes §7, §9.3).

``NeuralNetwork.fit``, the scikit-learn estimators' stochastic solvers and
every trial of a search drive a :class:`Trainer`; no other code calls a
model's ``train_step`` or an optimizer's ``step`` in a loop. An epoch draws
its row order from the model's Generator (:class:`Batching`), cuts it into
mini-batches (the last partial batch is kept), and for each batch gathers
the rows from the caller's array, so that an ``np.memmap`` is read batch by
batch and never copied whole (into one reused buffer where that is safe,
:mod:`mllib.training.engine.batches`). Each step is

    forward and backward pass → finiteness check → batch-norm running
    statistics → optimizer step,

with the learning rate ``rate(epoch)`` that the driver gives for the epoch. A
network with batch norm never steps on a batch of one row, whose variance is
0: a trailing 1-row batch is merged into the batch before it.

**Hooks.** The driver's hooks are :class:`~mllib.training.engine.callbacks.Callback` objects: the
engine calls ``on_train_begin``, ``on_epoch_begin(epoch)``,
``on_batch_end(batch, {"cost"})``, ``on_epoch_end(epoch, logs)`` and
``on_train_end``, and stops after the epoch in which a hook set
``model.stop_training``. ``on_epoch_end`` is the public per-epoch hook: a
search reports and prunes through it, the scikit-learn estimators keep their
bookkeeping (``loss_curve_``, "adaptive" rates, ``n_iter_no_change``) in it.

**The logs.** An epoch's ``cost`` is the training cost J of the notes on all
N training rows: the batches' mean data loss, weighted by batch size, plus
the penalty λ/(2N) Σ|W|^p with the weights at the end of the epoch; then
``accuracy`` (or ``r2``), ``val_*`` from ``evaluate`` on the validation rows
when there are some, ``lr`` and ``time``.

Sample weights w (one per training row, gathered per batch as the targets
are) make each step's cost the batch's weighted mean, as scikit-learn's MLP
does per batch: for batch b,

    J_b = Σ_{j∈b} w_j L_j / Σ_{j∈b} w_j + λ/(2 Σ_{j∈b} w_j) Σ|W|^p,

whose output delta is w_j (a_j − y_j) / Σ_{j∈b} w_j. A batch whose weights
are all 0 carries no data: it is skipped, without a step. The logged
``cost`` is then Σ_j w_j L_j / Σ_j w_j + λ/(2Σw) Σ|W|^p over the epoch.

**One step at a time.** :func:`take_step` is the step itself;
``NeuralNetwork.train_on_batch`` takes one on the rows it is given, outside
any epoch (:mod:`mllib.training.engine.single_step`).

**Stopping anywhere.** Ctrl-C is held until the step under way is done
(:mod:`mllib._interrupts`), and the model's ``position_`` says how far the
epoch under way has come (:mod:`mllib.training.engine.resume`), so a run interrupted at any step
goes on from there to the same bits. A step whose loss or gradients are not
finite changes nothing and ends the run: :class:`~mllib.training.engine.divergence.DivergenceError`,
or a quiet stop with a :class:`~mllib.training.engine.divergence.TerminateOnNaN` among the hooks.

The engine uses only the model's training protocol (see ``NeuralNetwork``):
``store``, ``rng_``, ``epoch_``, ``position_``, ``stop_training``,
``output_kind``, ``needs_two_rows``, ``batch_input``, ``train_step``,
``update_state``, ``penalty`` and ``evaluate_targets``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..._interrupts import HeldInterrupts
from ..._jit import pinned
from ..rows.metrics import EpochMetrics
from .batches import BatchRows
from .callbacks import History, ProgressLogger
from .divergence import TerminateOnNaN, diverged, step_is_finite
from .resume import Position, epoch_batches


@dataclass(frozen=True)
class Batching:
    """How an epoch cuts the training rows.

    ``size`` None is one batch of every row in their order, prepared once and
    never drawn; an int draws a new order from the model's Generator every
    epoch (in row order, drawing nothing, with ``shuffle=False``) and cuts it
    into batches of ``size`` rows, even when that makes a single batch.
    """

    size: int | None
    shuffle: bool = True


@dataclass
class TrainingRows:
    """The training data as the engine takes it: prepared targets ``Y``, and the
    rows' checked weights or None. An ``augment(X_batch, rng)`` callable gets a
    copy of every batch, since it may write in place or keep its argument."""

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray | None = None
    augment: object = None


class Trainer:
    """Steps ``model`` with ``optimizer`` over ``rows``, cut as ``batching`` says."""

    def __init__(self, model, optimizer, rows: TrainingRows, batching: Batching):
        self.model, self.optimizer, self.rows, self.batching = model, optimizer, rows, batching
        self._history = None
        self._gather = BatchRows(model, rows.X, batching.size)

    def run(self, epochs, rate, *, history: History, hooks=(), validation=None,
            verbose=0) -> History:
        """Train for up to ``epochs`` more epochs at the learning rate ``rate(epoch)``.

        An epoch under way (``model.position_``) is finished first, as the
        first of them. ``history`` records each epoch's logs (it is the model's
        ``history_``, filled as the epochs finish, so an error leaves the epochs
        before it there); ``validation`` is None or ``(X, Y, w)`` prepared as
        the training rows. Returns ``history``.
        """
        model, self._history = self.model, history
        progress = [ProgressLogger(verbose)] if verbose else []
        everyone = [history, *hooks, *progress]
        model.stop_training = False
        metrics = log_names(model, validation)
        for hook in everyone:
            hook.set_model(model)
            hook.on_train_begin({"epochs": epochs, "initial_epoch": model.epoch_,
                                 "metrics": metrics})
        self.optimizer.init(model.store)
        with HeldInterrupts() as held, pinned():   # MLLIB_KERNELS read once, here
            for _ in range(epochs):
                self._epoch(rate, everyone, list(hooks), progress, validation, held)
                if model.stop_training:   # by a hook, or diverged under TerminateOnNaN
                    break
        for hook in everyone:
            hook.on_train_end()
        return history

    def _epoch(self, rate, everyone, hooks, progress, validation, held) -> None:
        model = self.model
        epoch, started = model.epoch_, time.perf_counter()
        lr = float(rate(epoch))
        for hook in everyone:
            hook.on_epoch_begin(epoch)
        logs = self.steps(lr, hooks, held, progress)
        if logs is None:
            return
        model.epoch_, model.position_ = model.epoch_ + 1, None
        if validation:
            logs.update({f"val_{k}": v for k, v in model.evaluate_targets(*validation).items()})
        logs["lr"], logs["time"] = lr, time.perf_counter() - started
        for hook in everyone:
            hook.on_epoch_end(epoch, logs)
        held.deliver()

    def steps(self, lr, hooks, held, progress=()):
        """The steps left in the epoch under way; returns the epoch's cost and metric,
        or None when it diverged under TerminateOnNaN."""
        model, rows = self.model, self.rows
        position = model.position_ or self._start_epoch()
        while position.done < position.n_batches:
            held.deliver()
            batch = position.done
            wb = _batch_weights(rows.sample_weight, position)
            if wb is not None and not wb.any():     # no data in the batch: no step
                position.done += 1
                continue
            Xb, Yb = self._batch(position)
            loss, a, finite = take_step(model, self.optimizer, Xb, Yb, wb, lr)
            if not finite:
                if any(isinstance(hook, TerminateOnNaN) for hook in hooks):
                    model.stop_training = True
                    return None
                raise diverged(loss, model.epoch_, batch, lr, self._history)
            position.sums.add(loss, a, Yb, wb)
            position.done += 1
            if hooks:
                cost = loss + model.penalty(Xb.shape[0] if wb is None else float(wb.sum()))
                for hook in hooks:
                    hook.on_batch_end(batch, {"cost": cost})
            for hook in progress:
                hook.on_batch_end(batch)
        logs = position.sums.result()
        n = rows.X.shape[0] if rows.sample_weight is None else float(rows.sample_weight.sum())
        logs["cost"] += model.penalty(n)
        return logs

    def _batch(self, position):
        """The prepared rows and targets of the position's next batch, augmented if asked."""
        augment, gather = self.rows.augment, self._gather
        if position.batches is None:
            Xb, Yb = (gather.full if augment is None else gather.full.copy()), self.rows.Y
        else:
            index = position.batches[position.done]
            Xb, Yb = gather.rows(index, private=augment is not None), self.rows.Y[index]
        if augment is not None:
            Xb = augment(Xb, self.model.rng_)
        return Xb, Yb

    def _start_epoch(self) -> Position:
        """A new epoch's position; its batches' order is drawn from the model's Generator."""
        model, n_rows = self.model, self.rows.X.shape[0]
        shuffle = batches = None
        if self.batching.size is not None:
            shuffle = model.rng_.bit_generator.state    # a new dict: kept to draw the order again
            batches = epoch_batches(model.rng_, n_rows, self.batching.size,
                                    model.needs_two_rows, self.batching.shuffle)
        n_batches = 1 if batches is None else len(batches)
        model.position_ = Position(model.epoch_, n_rows, shuffle, n_batches, 0,
                                   EpochMetrics(model.output_kind), batches)
        return model.position_


def take_step(model, optimizer, X, Y, sample_weight, lr) -> tuple[float, np.ndarray, bool]:
    """One step of training on one prepared batch: the step of every loop in mllib.

    The forward and backward pass (``model.train_step``) give the batch's data
    loss and a[L], and leave ∂J/∂θ in ``model.store.grads``. If the loss and
    the gradients are finite, the batch goes into the batch-norm running
    statistics and ``optimizer`` updates θ at the rate ``lr``. Returns
    ``(loss, a[L], finite)``; when not ``finite``, only the gradients changed.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # Overflow on the way to a non-finite cost is reported as divergence.
        loss, a = model.train_step(X, Y, sample_weight)
    if not step_is_finite(loss, model.store):
        return loss, a, False
    model.update_state()
    optimizer.step(model.store, lr)
    return loss, a, True


def _batch_weights(sample_weight, position):
    """The weights of the position's next batch, gathered by the batch's row indices."""
    if sample_weight is None or position.batches is None:
        return sample_weight
    return sample_weight[position.batches[position.done]]


def log_names(model, validation) -> list:
    """The keys of the epoch logs that the engine writes."""
    metric = model.score_name
    names = ["cost", metric] + (["val_cost", f"val_{metric}"] if validation else [])
    return names + ["lr", "time"]
