"""``NeuralNetwork.fit``: what it decides before the engine runs, its checks and its run.

:func:`fit` is the method (``NeuralNetwork.fit`` is this function, its first
argument the model). :func:`check_fit_arguments` and :func:`check_callbacks` refuse bad arguments
before anything about the model changes; :func:`resolve_run` decides the
optimizer, the schedule α(epoch), the epochs and the batch size of a call,
continuing the model's last run where the call leaves them out (see
:mod:`mllib.training.engine.resume`); :func:`run_epochs` then drives the training engine
(:mod:`mllib.training.engine.trainer`), which owns the loop of steps.
"""

from __future__ import annotations

from ..._validation import check_int, check_positive, check_real
from ...optim import Optimizer, get_optimizer, make_schedule
from .callbacks import Callback, History
from .plan import plan_fit
from .resume import RunSettings
from .trainer import Batching, Trainer, TrainingRows, log_names

DEFAULT_LEARNING_RATE = {"gd": 0.01, "momentum": 0.01, "rmsprop": 0.001, "adam": 0.001}
DEFAULT_EPOCHS = 100


def fit(model, X, y, *, optimizer=None, learning_rate=None, epochs=None, batch_size=None,
        lr_decay=None, validation_data=None, validation_split=0.0, callbacks=(),
        augment=None, verbose=0, sample_weight=None):
    """Train on ``(X, y)``; a second call continues the same run.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Any array that supports row indexing, ``np.memmap`` included:
        mini-batches are gathered from it, it is never copied whole. Or
        a SciPy sparse matrix, kept sparse (:mod:`mllib.training.rows.sparse`).
    y : array_like
        Labels of any kind for classifiers, ``(N,)`` or one column
        ``(N, 1)``; one-hot or 0/1 rows ``(N, n[L])``; floats for
        regression. The classes are fixed by the first fit; see
        :mod:`mllib.training.rows.targets` for how ``nodes[L]`` decides them.
    optimizer : {"adam", "momentum", "rmsprop", "gd"}, config dict or Optimizer
        None continues ``optimizer_``, or starts Adam. A name or dict equal
        to the current ``optimizer_`` continues it; another one starts
        fresh. An instance is used as given; one that has trained another
        model already is refused.
    learning_rate : float, optional
        α0; 0.001 for Adam and RMSProp, 0.01 for the others by default.
    epochs : int, optional
        More epochs to train, as Keras's ``epochs`` after its first fit. None
        finishes an interrupted run (one saved by a checkpoint or after
        Ctrl-C), trains 100 on a model that has not trained, and is refused
        (ValueError) on a model whose last run ended: pass ``epochs=N``.
    batch_size : int, optional
        1 is stochastic; N or more is full-batch gradient descent. None
        keeps the last fit's batch size, and is full batch at first. With
        batch norm, a last batch of one row joins the batch before it,
        and ``batch_size=1`` is refused.
    lr_decay : str, tuple, Schedule or callable, optional
        α(epoch), e.g. ``"rational:1.0"`` for α0/(1 + epoch). With neither
        this nor ``learning_rate``, a continued optimizer keeps the last
        fit's schedule, also in a model loaded from a file.
    validation_data : (X_dev, y_dev) or (X_dev, y_dev, sample_weight_dev), optional
    validation_split : float
        The last fraction of the rows, kept out of training, as in Keras.
    callbacks : list of Callback
    augment : callable, optional
        ``augment(X_batch, rng) -> X_batch``, applied to every batch; it
        may write in place, it never sees the caller's X.
    verbose : {0, 1, 2}
    sample_weight : array_like of shape (n_samples,), optional
        Finite weights ≥ 0, not all 0; all ones is the same as None. Each
        batch's cost is Σ w_j L_j / Σw + λ/(2Σw) Σ|W|^p over its rows (see
        :mod:`mllib.training.engine.fit`); ``validation_split`` splits them too.
        They are data: the model file does not keep them.

    Returns
    -------
    History
        Per epoch: ``cost``, the cost J on the N training rows, that is
        the batches' mean data loss (weighted by batch size, each taken
        in training mode before its step) plus λ/(2N) Σ|W|^p with the
        weights at the end of the epoch; ``accuracy`` (or ``r2``) over
        the batches; ``val_cost`` and ``val_accuracy`` (or ``val_r2``),
        ``evaluate`` on the dev data, so ``val_cost`` is
        ``cost(X_dev, y_dev, training=False)``; ``lr`` and ``time``.

    Everything is checked before the model changes: a call that raises
    leaves it as it was. The optimizer's state, the epoch (so the
    schedule's position) and the Generator carry over between calls:
    ``fit(epochs=6)`` gives the same bits as ``fit(epochs=3)`` twice.
    Training can stop at any step (Ctrl-C takes effect between steps)
    and go on from a saved model to the same bits; see :mod:`mllib.training.engine.resume`.
    """
    callbacks = list(callbacks)
    check_fit_arguments(epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                        validation_split=validation_split, callbacks=callbacks,
                        augment=augment, verbose=verbose)
    plan = plan_fit(model, X, y, validation_data, validation_split, batch_size, sample_weight)
    opt, schedule, epochs, batch_size = resolve_run(
        model, plan.X.shape[0], optimizer=optimizer, learning_rate=learning_rate,
        lr_decay=lr_decay, epochs=epochs, batch_size=batch_size)
    check_callbacks(callbacks, log_names(model, plan.validation))
    adopt(model, plan, opt)     # everything is checked: only now does the model change
    # run_epochs keeps its History in history_ as it fills, so an error leaves it there.
    return run_epochs(model, plan.X, plan.Y, epochs=epochs, batch_size=batch_size,
                      optimizer=opt, schedule=schedule, validation=plan.validation,
                      callbacks=callbacks, augment=augment, verbose=verbose,
                      sample_weight=plan.W)


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
    see :mod:`mllib.training.engine.resume`) when it continues that run's optimizer: the schedule
    when neither ``learning_rate`` nor ``lr_decay`` is given, the batch size,
    and the epochs left to the end of an interrupted run. A model
    stopped mid-epoch resumes with the batches of that epoch, so it needs
    the same number of rows and the same batch size.

    ``epochs=None`` finishes a run and never starts a second one: it is the
    epochs left of an interrupted run, 100 for a model that has not trained,
    and a ValueError for a model whose last run ended (as one loaded from the
    last checkpoint of a run), which must say how many more epochs to train,
    as Keras's ``fit(epochs=N)`` trains N more.
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
        epochs = epochs_to_finish(model, run)
    if model.position_ is not None:
        model.position_.check_rows(n_rows)
        if model.run_ is not None and batch_size != model.run_.batch_size:
            raise ValueError(f"the model stopped in the middle of epoch {model.epoch_ + 1}, "
                             f"with batch_size={model.run_.batch_size}; resume it with that "
                             f"batch size, not {batch_size}")
        model.position_.draw_batches(batch_size, model.needs_two_rows)
    return opt, schedule, epochs, batch_size


def adopt(model, plan, optimizer) -> None:
    """Commit a checked call's plan (:func:`~mllib.training.engine.plan.plan_fit`) and optimizer to the model:
    the classes, the standardizers and the optimizer; build the layers if they are not
    yet. ``fit`` and ``train_on_batch`` call this once everything is checked."""
    model.targets_, model.standardizer_, model.optimizer_ = (plan.targets, plan.standardizer,
                                                             optimizer)
    model.target_scaler_ = plan.target_scaler
    if not model.built:
        model.build(plan.X.shape[1], plan.n_out)
    model.fitted_ = True


def epochs_to_finish(model, run) -> int:
    """What ``epochs=None`` means for ``model`` continuing ``run`` (None: a new run)."""
    if run is not None and run.end_epoch > model.epoch_:
        return run.end_epoch - model.epoch_
    if model.epoch_ == 0 and model.run_ is None:
        return DEFAULT_EPOCHS
    if run is None and model.run_ is not None:
        why = "another optimizer than the model's starts a new run"
    else:
        why = f"this model's last run ended, at epoch {model.epoch_}"
    raise ValueError(f"epochs=None finishes an interrupted run, but {why}: pass epochs=N "
                     "to train N more epochs")


def run_epochs(model, X, Y, *, epochs, batch_size, optimizer, schedule, validation,
               callbacks, augment, verbose, sample_weight=None):
    """Train for ``epochs`` more epochs with the engine; returns the History of this call.

    An epoch under way (``model.position_``) is finished first, as the first of them.
    ``sample_weight`` is None or the checked weights of the rows of X. A batch size of
    None, or of all the rows, is full-batch: one batch in row order, drawn never.
    """
    history = model.history_ = History()     # filled as the epochs finish, also on error
    whole = batch_size is None or batch_size >= X.shape[0]
    trainer = Trainer(model, optimizer, TrainingRows(X, Y, sample_weight, augment),
                      Batching(None if whole else batch_size))
    model.run_ = RunSettings(schedule, batch_size, model.epoch_ + epochs)
    trainer.run(epochs, schedule, history=history, hooks=callbacks, validation=validation,
                verbose=verbose)
    if model.stop_training:   # by a callback, or diverged under TerminateOnNaN
        model.run_.end_epoch = model.epoch_
    return history
