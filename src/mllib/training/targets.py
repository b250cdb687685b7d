"""From the labels a user has to the targets Y the loss needs, and back.

The output activator decides what ``y`` may be:

- sigmoid, one unit: two classes of any kind (ints, strings, bools), encoded
  as 0/1 in sorted order; several units: a 0/1 matrix (multi-label).
- softmax: class labels of any kind, one-hot encoded (notes §10), or one-hot
  rows already.
- linear: floats, ``(N,)`` or ``(N, k)``.

Class labels are learned by :meth:`TargetEncoder.fit` on the first training
data and reused afterwards; before that, 0/1 and integer labels are taken as
codes, so that ``gradients(X, y)`` works on an untrained network.
"""

from __future__ import annotations

import numpy as np

from ..data import ClassEncoder


class TargetEncoder:
    """Turns labels into ``(n_samples, n_out)`` targets for one output kind."""

    def __init__(self, kind: str):
        self.kind = kind
        self.classes = None   # a fitted ClassEncoder, or None

    @property
    def is_classifier(self) -> bool:
        return self.kind in ("sigmoid", "softmax")

    def n_outputs(self, y) -> int:
        """The output width that ``y`` calls for (used when nodes[L] is None)."""
        y = np.asarray(y)
        if self.kind == "softmax" and y.ndim == 1:
            if self.classes is not None:
                return len(self.classes.classes_)
            return len(np.unique(y))
        if self.kind == "sigmoid" and y.ndim == 1:
            return 1
        return 1 if y.ndim == 1 else y.shape[1]

    def fit(self, y) -> None:
        """Learn the class labels from the first training targets."""
        y = np.asarray(y)
        if not self.is_classifier or y.ndim != 1 or self.classes is not None:
            return
        encoder = ClassEncoder()
        encoder.fit(y)
        if self.kind == "sigmoid" and len(encoder.classes_) > 2:
            raise ValueError(
                f"a sigmoid output takes two classes, but y has {len(encoder.classes_)}: "
                f"{_preview(encoder.classes_)}; use a softmax output for more")
        self.classes = encoder

    def transform(self, y, n_out: int, dtype) -> np.ndarray:
        """``y`` as targets of shape ``(n_samples, n_out)`` in ``dtype``."""
        y = np.asarray(y)
        if y.ndim == 1 and self.is_classifier:
            codes = self._codes(y, n_out)
            if self.kind == "sigmoid":
                return codes.astype(dtype).reshape(-1, 1)
            Y = np.zeros((codes.shape[0], n_out), dtype=dtype)
            Y[np.arange(codes.shape[0]), codes] = 1
            return Y
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if y.ndim != 2 or y.shape[1] != n_out:
            raise ValueError(f"y must have shape (n_samples,) or (n_samples, {n_out}), got {y.shape}")
        if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
            raise ValueError(f"a 2-D y must be numeric, got dtype {y.dtype}")
        Y = y.astype(dtype)
        if not np.isfinite(Y).all():
            raise ValueError("y contains NaN or infinite values")
        if self.is_classifier and not np.isin(Y, (0, 1)).all():
            raise ValueError(f"a 2-D y for a {self.kind} output must hold only 0 and 1")
        if self.kind == "softmax" and not (Y.sum(axis=1) == 1).all():
            raise ValueError("one-hot y must have exactly one 1 in each row")
        return Y

    def _codes(self, y, n_out):
        if self.classes is not None:
            codes = self.classes.encode(y)
        else:
            codes = _integer_codes(y)
        limit = 2 if self.kind == "sigmoid" else n_out
        if codes.size and (codes.min() < 0 or codes.max() >= limit):
            raise ValueError(f"class codes must lie in [0, {limit}), got values from "
                             f"{codes.min()} to {codes.max()}")
        return codes

    def decode(self, codes) -> np.ndarray:
        """Class codes back to the user's labels (codes themselves if unfitted)."""
        codes = np.asarray(codes)
        return codes if self.classes is None else self.classes.decode(codes)


def _integer_codes(y):
    if y.dtype == bool:
        return y.astype(np.int64)
    if np.issubdtype(y.dtype, np.integer):
        return y.astype(np.int64, copy=False)
    if np.issubdtype(y.dtype, np.floating):
        codes = y.astype(np.int64)
        if np.isfinite(y).all() and np.array_equal(codes, y):
            return codes
    raise ValueError("before fit, class labels must be integer codes (0/1 for sigmoid); "
                     f"got dtype {y.dtype}. fit() accepts labels of any kind")


def _preview(values, n=5):
    shown = ", ".join(repr(v) for v in list(values)[:n])
    return f"[{shown}{', ...' if len(values) > n else ''}]"
