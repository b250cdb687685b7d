"""One optimizer step on rows the caller chooses: ``NeuralNetwork.train_on_batch``.

``fit`` draws its batches itself (:mod:`mllib.training.engine.trainer`). To train on a given batch
order, or one step at a time, call :func:`train_on_batch` on each batch: it
checks the rows as ``fit`` checks its data, then takes the engine's own step
(:func:`~mllib.training.engine.trainer.take_step`) once, outside any epoch. So the steps are those
of ``fit``, bit for bit, when the batches, the learning rate and the order
of the model's Generator's draws are.
"""

from __future__ import annotations

from ..._interrupts import HeldInterrupts
from .divergence import diverged
from .fit import adopt, resolve_run
from .plan import plan_fit
from .resume import RunSettings
from .trainer import take_step


def train_on_batch(model, X, y, *, sample_weight=None, optimizer=None,
                   learning_rate=None) -> float:
    """Take one optimizer step on the rows ``(X, y)``, as one batch; return their cost J.

    The step is the one that ``fit`` takes for each of its batches (notes §7).
    With θ the parameters, the N rows of X and p = ``lp_reg``,

        J(θ) = (1/N) Σ_j L(a[L]_j, y_j) + λ/(2N) Σ_l Σ |W[l]|^p
        a[L] and ∂J/∂θ by the forward and backward pass, in training mode
        batch norm's running μ and σ² ← this batch's (momentum ``bn_momentum``)
        θ ← the optimizer's update with ∂J/∂θ at the rate α, e.g. θ − α ∂J/∂θ

    (with ``sample_weight`` w, the weighted mean and Σw for N, as in ``fit``).
    Dropout draws its masks from the model's Generator ``rng_``, as ``fit`` does.

    Parameters
    ----------
    X, y, sample_weight :
        One batch, as ``fit`` takes its data; a network with batch norm needs
        two rows or more.
    optimizer : as for ``fit``
        None continues ``optimizer_``, or starts Adam; another one replaces it.
    learning_rate : float > 0, optional
        α, as ``fit`` takes it: given, it is the rate from now on, for later
        calls and a later ``fit`` without one (``run_`` holds it as a constant
        schedule). None continues the last call's rate or the last fit's
        schedule, α(``epoch_``), when the optimizer continues; else it is 0.001
        for Adam and RMSProp and 0.01 for the others.

    Returns
    -------
    float
        J at the weights before the step: the cost whose gradient the step took.

    Notes
    -----
    The first call does what a first ``fit`` does, from these rows: it builds
    the layers, fixes the classes (a batch may miss some only if the labels
    are codes 0..nodes[L] − 1; see :mod:`mllib.training.rows.targets`), fits the
    standardizer of ``standardize`` and that of ``standardize_target``, and
    sets ``fitted_``. The step changes the weights, the running statistics,
    the optimizer's state (its t counts this step) and ``rng_``; not
    ``epoch_``, ``history_`` or ``position_``, as Keras's ``train_on_batch``
    counts no epochs. A later ``fit`` continues from there: its first epoch is
    epoch ``epoch_``, with the optimizer's state as it is, and the rate and
    batch size of the last fit (or of the last call: full batch for a new
    optimizer) unless it is given others.

    Everything is checked before the model changes: a call that raises
    leaves it as it was. A model that stopped in the middle of an epoch is
    refused, so that its ``fit`` can still finish that epoch exactly. A step
    whose cost or gradients are not finite raises :class:`~mllib.training.engine.divergence.DivergenceError`
    and changes nothing. Ctrl-C during the step takes effect after it.

    Calling it k times on every row gives the bits of ``fit(X, y, epochs=k)``
    with the same optimizer and a constant rate, in full batch. ``fit``'s own
    mini-batches of an epoch are ``epoch_batches(model.rng_, N, batch_size,
    model.needs_two_rows)`` (:mod:`mllib.training.engine.resume`), drawn when the
    epoch begins.

    >>> import numpy as np, mllib
    >>> net = mllib.NeuralNetwork(nodes=[2, 3, 1], activators=["tanh", "sigmoid"], seed=1)
    >>> X, y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 1])
    >>> costs = [net.train_on_batch(X, y, optimizer="gd", learning_rate=1.0) for _ in range(3)]
    >>> costs[0] > costs[1] > costs[2], net.epoch_, net.optimizer_.t
    (True, 0, 3)
    """
    if model.position_ is not None:
        position = model.position_
        raise ValueError(f"the model stopped in the middle of epoch {position.epoch + 1}, "
                         f"after batch {position.done} of {position.n_batches}; finish that "
                         "epoch with fit first, or set position_ = None to leave it")
    plan = plan_fit(model, X, y, None, 0.0, None, sample_weight, batch=True)
    opt, schedule, _, batch_size = resolve_run(model, plan.X.shape[0], optimizer=optimizer,
                                               learning_rate=learning_rate, lr_decay=None,
                                               epochs=1, batch_size=None)
    lr = float(schedule(model.epoch_))
    continued = model.run_ if opt is model.optimizer_ else None
    # Everything is checked: only now does the model change.
    model.run_ = RunSettings(schedule, batch_size,
                             model.epoch_ if continued is None else continued.end_epoch)
    adopt(model, plan, opt)
    X_batch = model.batch_input(plan.X, slice(None))
    n = X_batch.shape[0] if plan.W is None else float(plan.W.sum())
    penalty = model.penalty(n)       # at the weights before the step, as the loss
    with HeldInterrupts():
        loss, _, finite = take_step(model, opt, X_batch, plan.Y, plan.W, lr)
    if not finite:
        raise diverged(loss, model.epoch_, None, lr, None)
    return float(loss + penalty)
