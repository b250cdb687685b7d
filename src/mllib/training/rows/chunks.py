"""Inference over X a chunk of rows at a time, so that temporary memory stays bounded.

X may be an ``np.memmap`` larger than memory: each chunk is read, converted to
the model's dtype, standardized and passed through the network on its own.

How many rows a chunk of ``predict`` holds follows from the layer widths
(:func:`chunk_rows`): as many as keep the chunk's temporaries (its cast
rows, if X is not in the model's dtype already, and two layers' activations)
within :data:`TEMPORARY_BYTES`, between 1,024 and 16,384 rows. Each chunk
is a few large matrix products, and larger ones run closer to BLAS's limit:
on the benchmark's 784-256-128-10 network, chunks of 16,384 rows beat chunks
of 4,096 (bench/RESULTS.md has the figures).
Rows already in the model's dtype are used in place, never copied, and each
activation is written over its layer's own new output
(:meth:`~mllib.nn.layers.Layer.forward_owned`), never over X.
Every chunk's outputs, and the cost, are checked to be finite
(:mod:`mllib.training.rows.outputs`): inference returns finite numbers or raises
:class:`~mllib.training.rows.outputs.NonFiniteOutputError`, whatever ``np.errstate`` the caller set.
"""

from __future__ import annotations

import numpy as np

from ..._validation import is_sparse
from .inputs import CHUNK, require_finite
from .metrics import EpochMetrics
from .outputs import check_cost, check_outputs


# The most bytes of temporaries a chunk of predict may hold.
TEMPORARY_BYTES = 32 << 20


def chunks(n_rows, size=CHUNK):
    """Row slices of at most ``size`` rows covering ``range(n_rows)``."""
    return (slice(start, start + size) for start in range(0, n_rows, size))


def chunk_rows(model, X) -> int:
    """Rows per chunk of inference: a power of two in [1024, 16384] by the layer widths.

    A row costs its cast (n[0] values, if X is not in the model's dtype) and
    two consecutive layers' activations; the chunk holds as many rows as fit
    in :data:`TEMPORARY_BYTES`.
    """
    widths = model.config["nodes"]
    cast = 0 if X.dtype == model.dtype and model.standardizer_ is None else widths[0]
    row_bytes = np.dtype(model.dtype).itemsize * (cast + 2 * max(widths[1:]))
    rows = max(1024, min(16384, TEMPORARY_BYTES // row_bytes))
    return 1 << (rows.bit_length() - 1)


def forward_in_chunks(model, X) -> np.ndarray:
    """Inference-mode a[L] for every row of X, checked for NaN and ±inf chunk by chunk."""
    out = np.empty((X.shape[0], model.config["nodes"][-1]), dtype=model.dtype)
    for rows in chunks(X.shape[0], chunk_rows(model, X)):
        # Checked while the chunk is in cache; nothing has changed if a later chunk is refused.
        if not is_sparse(X):        # a sparse X's values were checked whole (.sparse)
            require_finite(X[rows], "X", model.dtype)
        # Overflow on the way is judged by the output (see .outputs), not raised midway.
        with np.errstate(over="ignore", invalid="ignore"):
            # z[L] is a new array (LayerStack.logits): softmax and sigmoid may overwrite it.
            a = model.loss.activation.forward_into(model.logits(model.batch_input(X, rows)))
        check_outputs(a, X, rows.start, model.dtype)
        out[rows] = a
    return out


def evaluate_in_chunks(model, X, Y, sample_weight=None) -> dict:
    """Inference-mode ``{"cost": J, metric: ...}`` over X and its encoded targets Y.

    With ``sample_weight`` w, J = Σ w_j L_j / Σw + λ/(2Σw) Σ|W|^p and the metric
    is weighted (:class:`~mllib.training.rows.metrics.EpochMetrics`); chunks of weight 0 add nothing.
    """
    sums = EpochMetrics(model.output_kind)
    for rows in chunks(X.shape[0]):
        w = None if sample_weight is None else sample_weight[rows]
        if w is not None and not w.any():
            continue
        with np.errstate(over="ignore", invalid="ignore"):   # judged below, as above
            cost, a = model.loss.forward(model.logits(model.batch_input(X, rows)), Y[rows], w)
        check_outputs(a, X, rows.start, model.dtype)
        sums.add(cost, a, Y[rows], w)
    logs = sums.result()
    with np.errstate(over="ignore", invalid="ignore"):       # weights near the dtype's limit
        logs["cost"] += model.penalty(sums.n)
    return check_cost(logs, model.dtype)
