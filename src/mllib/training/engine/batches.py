"""The prepared rows of each training batch, gathered into one reused buffer where that is safe.

A batch's rows of X are scattered over X, so taking them is a gather. When X
is an in-memory ``np.ndarray`` already in the model's dtype, and the model
does not standardize, the rows are taken with ``np.take(..., out=)`` into a
buffer made once per ``fit``, so that a step allocates nothing for them. In
every other case (a memmap, another dtype, standardized input) each batch is
``model.batch_input(X, index)``, a new array, as before. Both give the same
bits.

Reusing the buffer is safe because nothing keeps a batch across steps: the
layers cache their input for the backward pass of the same step only, and are
given the next batch only after the optimizer's step; the costs and metrics
keep sums, not arrays; and an ``augment`` callable, which may write in place
or keep what it is given, gets a copy.
"""

from __future__ import annotations

import numpy as np


class BatchRows:
    """Gathers the prepared rows of X for the fit loop: ``rows(index)`` or ``full``.

    Parameters
    ----------
    model : NeuralNetwork
        Gives the dtype, the standardizer and ``batch_input``.
    X : array of shape (n_samples, n_features)
        The training rows, as ``fit`` checked them (an ``np.memmap`` stays one).
    batch_size : int or None
        None means one batch of all rows in their order (the engine's
        :class:`~mllib.training.engine.trainer.Batching` with ``size=None``): ``full`` holds them,
        prepared once, and :meth:`rows` is not used. An int gathers each
        drawn batch with :meth:`rows`, even one that holds every row.
    """

    def __init__(self, model, X, batch_size):
        self._model, self._X = model, X
        one_batch = batch_size is None
        self.full = model.batch_input(X, slice(None)) if one_batch else None
        self._takes = (not one_batch and type(X) is np.ndarray and X.dtype == model.dtype
                       and X.ndim == 2 and model.standardizer_ is None)
        self._buffer = None   # made by the first batch, larger for a larger one

    def rows(self, index, *, private=False) -> np.ndarray:
        """The prepared rows ``X[index]``; a new array if ``private``, else maybe the buffer.

        The buffer is overwritten by the next call. ``index`` holds valid row
        numbers (a slice of the epoch's permutation), so ``mode="clip"`` changes
        nothing, and spares the copy that ``np.take`` makes of ``out`` in its
        default mode, in case of an error.
        """
        if not self._takes:
            return self._model.batch_input(self._X, index)
        if self._buffer is None or self._buffer.shape[0] < len(index):
            # The last batch may be one row longer (a 1-row batch joins it, see .fit).
            self._buffer = np.empty((len(index), self._X.shape[1]), dtype=self._X.dtype)
        out = self._buffer[:len(index)]
        np.take(self._X, index, axis=0, out=out, mode="clip")
        return out.copy() if private else out
