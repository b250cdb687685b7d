"""The mini-batch training loop (notes §7, §9.3).

One epoch shuffles the row indices with the model's Generator, cuts them
into mini-batches (the last partial batch is kept), and for each batch
gathers the rows from the caller's array, so that an ``np.memmap`` is read
batch by batch and never copied whole (into one reused buffer where that is
safe, :mod:`.batches`). Each step is

    forward and backward pass → batch-norm running statistics → optimizer step,

with the learning rate ``α(epoch)`` of the schedule. A network with batch
norm never steps on a batch of one row, whose variance is 0: a trailing
1-row batch is merged into the batch before it, and ``batch_size=1`` or a
training set of one row is refused.

The epoch's logged ``cost`` is the training cost J of the notes on all N
training rows: the batches' mean data loss, weighted by batch size, plus
the penalty λ/(2N) Σ|W|^p with the weights at the end of the epoch.
``val_cost`` is J on the dev rows in inference mode, as ``evaluate`` gives.

Sample weights w (one per training row, gathered per batch as the targets
are) make each step's cost the batch's weighted mean, as scikit-learn's MLP
does per batch: for batch b,

    J_b = Σ_{j∈b} w_j L_j / Σ_{j∈b} w_j + λ/(2 Σ_{j∈b} w_j) Σ|W|^p,

whose output delta is w_j (a_j − y_j) / Σ_{j∈b} w_j. A batch whose weights
are all 0 carries no data: it is skipped, without a step. The logged
``cost`` is then Σ_j w_j L_j / Σ_j w_j + λ/(2Σw) Σ|W|^p over the epoch
(each batch's loss weighted by its Σw), and the metric is weighted too.

The loop is split into argument checks, one epoch, and the epoch's logs.
It uses only the model's training protocol (see ``NeuralNetwork``):
``built``, ``store``, ``optimizer_``, ``rng_``, ``epoch_``, ``stop_training``,
``output_kind``, ``needs_two_rows``, ``score_name``, ``batch_input``, ``train_step``,
``update_state``, ``penalty`` and ``evaluate_targets``.
"""

from __future__ import annotations

import time

import numpy as np

from .._interrupts import HeldInterrupts
from .._validation import check_int, check_positive, check_real
from ..optim import Optimizer, get_optimizer, make_schedule
from .batches import BatchRows
from .callbacks import Callback, History, ProgressLogger
from .divergence import TerminateOnNaN, diverged, step_is_finite
from .metrics import EpochMetrics
from .resume import Position, RunSettings, epoch_batches

DEFAULT_LEARNING_RATE = {"gd": 0.01, "momentum": 0.01, "rmsprop": 0.001, "adam": 0.001}
DEFAULT_EPOCHS = 100


def check_fit_arguments(*, epochs, batch_size, validation_data, validation_split,
                        callbacks, augment, verbose):
    """Reject bad arguments before anything about the model changes."""
    if epochs is not None:
        check_int("epochs", epochs, 0)
    if batch_size is not None:
        check_int("batch_size", batch_size, 1)
    check_real("validation_split", validation_split, 0.0, 1.0, high_open=True)
    if validation_data is not None and validation_split:
        raise ValueError("give validation_data or validation_split, not both")
    if validation_data is not None and (not isinstance(validation_data, (tuple, list))
                                        or len(validation_data) not in (2, 3)):
        raise ValueError("validation_data must be a pair (X_dev, y_dev) or a triple "
                         "(X_dev, y_dev, sample_weight_dev)")
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise ValueError(f"callbacks must be Callback instances, got {callback!r}")
    if augment is not None and not callable(augment):
        raise ValueError(f"augment must be a callable (X_batch, rng) -> X_batch, got {augment!r}")
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")


def log_names(model, validation) -> list:
    """The keys of the epoch logs that ``fit`` writes."""
    metric = model.score_name
    names = ["cost", metric] + (["val_cost", f"val_{metric}"] if validation else [])
    return names + ["lr", "time"]


def check_callbacks(callbacks, names):
    """Let each callback refuse the logs before anything about the model changes."""
    for callback in callbacks:
        callback.check_logs(list(names))


def resolve_optimizer(model, optimizer):
    """The optimizer to step with.

    None continues the model's ``optimizer_``, or starts Adam. An Optimizer
    instance is used as given; one that holds state already is refused unless
    it is the model's own ``optimizer_``, since the state of another run
    (keyed "W1", ...) would leak into this one. A name or config dict equal
    to the model's current optimizer continues it, state and all, so that a
    second ``fit`` continues the first; otherwise it starts fresh.
    """
    current = model.optimizer_
    if optimizer is None:
        optimizer = current if current is not None else "adam"
    if isinstance(optimizer, Optimizer):
        if optimizer is not current and optimizer.has_state:
            raise ValueError(f"this {type(optimizer).__name__} instance already trained another "
                             f"model (t={optimizer.t}); pass a new one or a name")
        candidate = optimizer
    else:
        candidate = get_optimizer(optimizer)
        if current is not None and candidate.get_config() == current.get_config():
            candidate = current
    if model.built:
        candidate.check(model.store)
    return candidate


def resolve_run(model, n_rows, *, optimizer, learning_rate, lr_decay, epochs, batch_size):
    """``(optimizer, schedule, epochs, batch_size)`` of a call to ``fit``.

    What the call leaves out continues the model's last run (``model.run_``,
    see :mod:`.resume`) when it continues that run's optimizer: the schedule
    when neither ``learning_rate`` nor ``lr_decay`` is given, the batch size,
    and the epochs left to the end of an interrupted run (else 100). A model
    stopped mid-epoch resumes with the batches of that epoch, so it needs
    the same number of rows and the same batch size.
    """
    opt = resolve_optimizer(model, optimizer)
    run = model.run_ if opt is model.optimizer_ else None
    if run is not None and learning_rate is None and lr_decay is None:
        schedule = run.continued_schedule()
    else:
        if learning_rate is None:
            learning_rate = DEFAULT_LEARNING_RATE.get(opt.name, 0.01)
        schedule = make_schedule(lr_decay, check_positive("learning_rate", learning_rate))
    if batch_size is None and run is not None:
        batch_size = run.batch_size
    if epochs is None:
        left = 0 if run is None else run.end_epoch - model.epoch_
        epochs = left if left > 0 else DEFAULT_EPOCHS
    if model.position_ is not None:
        model.position_.check_rows(n_rows)
        if model.run_ is not None and batch_size != model.run_.batch_size:
            raise ValueError(f"the model stopped in the middle of epoch {model.epoch_ + 1}, "
                             f"with batch_size={model.run_.batch_size}; resume it with that "
                             f"batch size, not {batch_size}")
        model.position_.draw_batches(batch_size, model.needs_two_rows)
    return opt, schedule, epochs, batch_size


def run_epochs(model, X, Y, *, epochs, batch_size, optimizer, schedule, validation,
               callbacks, augment, verbose, sample_weight=None):
    """Train for ``epochs`` more epochs; returns the History of this call.

    An epoch under way (``model.position_``) is finished first, as the first of them.
    ``sample_weight`` is None or the checked weights of the rows of X.
    """
    history = model.history_ = History()     # filled as the epochs finish, also on error
    progress = [ProgressLogger(verbose)] if verbose else []
    hooks = [history, *callbacks, *progress]
    model.stop_training = False
    for hook in hooks:
        hook.set_model(model)
        hook.on_train_begin({"epochs": epochs, "initial_epoch": model.epoch_,
                             "metrics": log_names(model, validation)})
    gather = BatchRows(model, X, batch_size)
    optimizer.init(model.store)
    model.run_ = RunSettings(schedule, batch_size, model.epoch_ + epochs)
    with HeldInterrupts() as held:
        for _ in range(epochs):
            epoch, started = model.epoch_, time.perf_counter()
            lr = float(schedule(epoch))
            for hook in hooks:
                hook.on_epoch_begin(epoch)
            logs = run_epoch(model, X, Y, gather, batch_size, optimizer, lr, callbacks, augment,
                             held, progress, sample_weight)
            if logs is not None:
                model.epoch_, model.position_ = model.epoch_ + 1, None
                if validation:
                    logs.update({f"val_{k}": v
                                 for k, v in model.evaluate_targets(*validation).items()})
                logs["lr"], logs["time"] = lr, time.perf_counter() - started
                for hook in hooks:
                    hook.on_epoch_end(epoch, logs)
                held.deliver()
            if model.stop_training:   # by a callback, or diverged under TerminateOnNaN
                model.run_.end_epoch = model.epoch_
                break
    for hook in hooks:
        hook.on_train_end()
    return history


def run_epoch(model, X, Y, gather, batch_size, optimizer, lr, callbacks, augment, held,
              progress=(), sample_weight=None):
    """The steps left in the epoch under way; returns the epoch's cost and metric.

    ``progress`` (ProgressLoggers) hear of every batch too, without its cost.

    A step whose loss or gradients are not finite changes nothing and ends the
    epoch: DivergenceError, or None with TerminateOnNaN (see :mod:`.divergence`).
    """
    store = model.store
    position = model.position_ or start_epoch(model, X.shape[0], batch_size, gather.full)
    while position.done < position.n_batches:
        held.deliver()
        batch = position.done
        wb = _batch_weights(sample_weight, position)
        if wb is not None and not wb.any():     # no data in the batch: no step
            position.done += 1
            continue
        Xb, Yb = _batch(model, Y, gather, position, augment)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # Overflow on the way to a non-finite cost is reported as a DivergenceError.
            loss, a = model.train_step(Xb, Yb, wb)
        if not step_is_finite(loss, store):
            if any(isinstance(hook, TerminateOnNaN) for hook in callbacks):
                model.stop_training = True
                return None
            raise diverged(loss, model.epoch_, batch, lr, model.history_)
        model.update_state()
        optimizer.step(store, lr)
        position.sums.add(loss, a, Yb, wb)
        position.done += 1
        if callbacks:
            cost = loss + model.penalty(Xb.shape[0] if wb is None else float(wb.sum()))
            for hook in callbacks:
                hook.on_batch_end(batch, {"cost": cost})
        for hook in progress:
            hook.on_batch_end(batch)
    logs = position.sums.result()
    logs["cost"] += model.penalty(X.shape[0] if sample_weight is None
                                  else float(sample_weight.sum()))
    return logs


def _batch(model, Y, gather, position, augment):
    """The prepared rows and targets of the position's next batch, augmented if asked.

    ``gather`` is the fit's :class:`~.batches.BatchRows`. An ``augment`` callable
    gets a copy, since it may write in place or keep its argument.
    """
    if position.batches is None:
        Xb, Yb = (gather.full if augment is None else gather.full.copy()), Y
    else:
        index = position.batches[position.done]
        Xb, Yb = gather.rows(index, private=augment is not None), Y[index]
    if augment is not None:
        Xb = augment(Xb, model.rng_)
    return Xb, Yb


def _batch_weights(sample_weight, position):
    """The weights of the position's next batch, gathered by the batch's row indices."""
    if sample_weight is None or position.batches is None:
        return sample_weight
    return sample_weight[position.batches[position.done]]


def start_epoch(model, n_rows, batch_size, full) -> Position:
    """A new epoch's position; its batches' order is drawn from the model's Generator."""
    shuffle = batches = None
    if full is None:
        shuffle = model.rng_.bit_generator.state     # a new dict: kept to draw the order again
        batches = epoch_batches(model.rng_, n_rows, batch_size, model.needs_two_rows)
    n_batches = 1 if batches is None else len(batches)
    model.position_ = Position(model.epoch_, n_rows, shuffle, n_batches, 0,
                               EpochMetrics(model.output_kind), batches)
    return model.position_

