"""Mini-batches (notes §7, ``ShuffleBatchData``).

Each epoch the training set 𝕏 of N examples is shuffled and cut into
``B = ⌈N/b⌉`` mini-batches 𝕏^k of b examples; the last one holds the
remaining ``N − (B−1)b``. ``b = N`` is batch gradient descent, ``b = 1``
stochastic gradient descent.

Only indices are made here. The caller gathers each batch with ``X[idx]``,
so an ``np.memmap`` larger than memory is read one batch at a time.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_rng


def minibatch_indices(n_samples, batch_size, rng, shuffle=True) -> list[np.ndarray]:
    """Row indices of one epoch's mini-batches.

    Parameters
    ----------
    n_samples : int
        N.
    batch_size : int or None
        b. ``None`` means one full batch ``arange(N)``, in order and without
        drawing from ``rng``: the full-batch gradient is a mean over all rows,
        which no ordering changes.
    rng : numpy.random.Generator or None
        Draws a new permutation on every call, i.e. every epoch. May be None
        only when nothing is shuffled.
    shuffle : bool, default True
        False gives ``[0, b), [b, 2b), ...`` in order.

    Returns
    -------
    batches : list of ndarray of int64
        ``⌈N/b⌉`` arrays, all of length b but the last, which keeps the
        remainder. Together they hold every index exactly once.

    Examples
    --------
    >>> minibatch_indices(5, 2, None, shuffle=False)
    [array([0, 1]), array([2, 3]), array([4])]
    >>> rng = np.random.default_rng(0)
    >>> sorted(np.concatenate(minibatch_indices(5, 2, rng)).tolist())
    [0, 1, 2, 3, 4]
    """
    n = check_int("n_samples", n_samples, 0)
    if batch_size is None:
        return [np.arange(n, dtype=np.int64)] if n else []
    b = check_int("batch_size", batch_size, 1)
    if shuffle:
        if rng is None:
            raise ValueError("shuffle=True needs rng, a numpy.random.Generator; got None")
        order = check_rng(rng).permutation(n).astype(np.int64)
    else:
        order = np.arange(n, dtype=np.int64)
    return [order[start:start + b] for start in range(0, n, b)]


def iter_minibatches(X, y=None, *, batch_size, rng, shuffle=True):
    """The batches ``X[idx]`` (and ``y[idx]``) of :func:`minibatch_indices`, one by one.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        Anything indexable by an int array along axis 0, such as an
        ``np.memmap``; only one batch is read at a time.
    y : array_like of shape (n_samples, ...), optional
    batch_size, rng, shuffle
        As for :func:`minibatch_indices`. Arguments are checked and the
        permutation drawn at the call, not at the first batch.

    Returns
    -------
    batches : iterator
        Of ``X_batch`` of shape (b, n_features), or of ``(X_batch, y_batch)``
        when ``y`` is given.
    """
    X = X if hasattr(X, "shape") else np.asarray(X)
    y = y if y is None or hasattr(y, "shape") else np.asarray(y)
    if y is not None and y.shape[:1] != X.shape[:1]:
        raise ValueError(f"X and y must have the same number of samples, "
                         f"got shapes {X.shape} and {y.shape}")
    batches = minibatch_indices(X.shape[0], batch_size, rng, shuffle)
    if y is None:
        return (X[idx] for idx in batches)
    return ((X[idx], y[idx]) for idx in batches)
