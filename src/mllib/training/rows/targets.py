"""From the labels a user has to the targets Y the loss needs, and back.

The output activator decides what ``y`` may be:

- sigmoid, one unit: two classes of any kind (ints, strings, bools), encoded
  as 0/1 in sorted order; several units: a 0/1 matrix (multi-label) of shape
  ``(N, n[L])``.
- softmax: class labels of any kind, one-hot encoded (notes §10), or one-hot
  rows already.
- linear: floats, ``(N,)`` or ``(N, k)``.
- exp (the Poisson loss): floats ≥ 0, such as counts, ``(N,)`` or ``(N, k)``.

A single column of labels, ``(N, 1)`` as ``df[["label"]]`` gives, is read as
``(N,)`` for a softmax output and for a one-unit sigmoid output.

The classes are fixed by :meth:`TargetEncoder.fitted` on the first training
labels and reused afterwards:

- when the output width is given (``nodes[L]``, or 2 classes for sigmoid)
  and the labels are numbers (ints, bools, integer-valued floats) that all
  lie in ``[0, width)``, the classes are ``0, 1, ..., width − 1``, so that
  a class missing from the training data keeps its output unit;
- otherwise they are the distinct labels, sorted, and their number must be
  the output width (when it is given);
- fewer than two distinct labels are refused.

Before that, 0/1 and integer labels are taken as codes, so that
``gradients(X, y)`` works on an untrained network.
"""

from __future__ import annotations

import numpy as np

from ..._validation import preview
from ...data import ClassEncoder


class TargetEncoder:
    """Turns labels into ``(n_samples, n_out)`` targets for one output kind."""

    def __init__(self, kind: str, classes=None):
        self.kind = kind
        self.classes = classes   # a fitted ClassEncoder, or None

    @property
    def is_classifier(self) -> bool:
        return self.kind in ("sigmoid", "softmax")

    def labels(self, y, n_out) -> np.ndarray:
        """``y`` as an array; one column of labels becomes ``(N,)`` for a classifier."""
        y = np.asarray(y)
        if self.is_classifier and y.ndim == 2 and y.shape[1] == 1 \
                and (self.kind == "softmax" or n_out in (None, 1)):
            return y[:, 0]
        return y

    def n_outputs(self, y) -> int:
        """The output width that ``y`` calls for (used when nodes[L] is None)."""
        y = self.labels(y, None)
        if self.kind == "softmax" and y.ndim == 1:
            if self.classes is not None:
                return len(self.classes.classes_)
            return len(np.unique(y))
        return 1 if y.ndim == 1 else y.shape[1]

    def fitted(self, y, n_out, *, batch=False) -> "TargetEncoder":
        """An encoder with the classes fixed for training on ``y``; ``self`` is unchanged.

        ``n_out`` is ``nodes[L]`` (None: from the data). Returns ``self`` when
        there is nothing to learn: classes known already, regression, or 2-D
        targets. Raises ValueError when the labels do not fit the output.
        ``batch``: y is one batch (``train_on_batch``), which may hold a single
        class if its labels are codes in [0, width) of a known width.
        """
        y = self.labels(y, n_out)
        if not self.is_classifier or y.ndim != 1 or self.classes is not None:
            return self
        _check_sigmoid_width(self.kind, n_out, y)
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError(f"y contains NaN or infinite values, which are not class labels: "
                             f"{preview(y[~np.isfinite(y)], 3)}")
        found = ClassEncoder().fit(y).classes_
        width = 2 if self.kind == "sigmoid" else n_out
        if len(found) < 2 and not (batch and width is not None and _are_codes(found, width)):
            hint = (" (the first batch fixes the classes: give it two, or give nodes[L] and "
                    "integer labels in [0, nodes[L]))" if batch else "")
            raise ValueError(f"y has only one class, {found[0].item()!r}; a classifier "
                             f"needs at least 2 classes to train on{hint}")
        if width is not None and _are_codes(found, width):
            classes = _code_classes(found.dtype, width)
        elif self.kind == "sigmoid" and len(found) != 2:
            raise ValueError(
                f"a sigmoid output takes two classes, but y has {len(found)}: "
                f"{preview(found, 5)}; use a softmax output for more")
        elif width is not None and len(found) != width:
            raise ValueError(f"y has {len(found)} classes, {preview(found, 5)}, but the output "
                             f"has nodes[L]={width} units; give nodes[L]={len(found)} or "
                             "None, or integer labels in [0, nodes[L])")
        else:
            classes = found
        return TargetEncoder(self.kind, ClassEncoder.from_state({"classes": classes}))

    def transform(self, y, n_out: int, dtype) -> np.ndarray:
        """``y`` as targets of shape ``(n_samples, n_out)`` in ``dtype``."""
        y = self.labels(y, n_out)
        if y.ndim == 1 and self.is_classifier:
            _check_sigmoid_width(self.kind, n_out, y)
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
        if self.kind == "exp" and (Y < 0).any():
            raise ValueError(f"an exp output (the Poisson loss) needs y ≥ 0, the mean of a "
                             f"count; y has {np.count_nonzero(Y < 0)} negative value(s), the "
                             f"smallest {Y.min():g}")
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


def _check_sigmoid_width(kind, n_out, y):
    """A 1-D y of labels fits one sigmoid unit only; several units need a 0/1 matrix."""
    if kind == "sigmoid" and n_out not in (None, 1):
        raise ValueError(f"a sigmoid output with nodes[L]={n_out} needs y of shape "
                         f"(n_samples, {n_out}), got {y.shape}")


def _are_codes(classes, width) -> bool:
    """Whether sorted labels are numbers that all lie in [0, width) (bools: width 2)."""
    if classes.dtype == bool:
        return width == 2
    if classes.dtype.kind not in "iuf":
        return False
    return bool(classes[0] >= 0 and classes[-1] < width
                and np.array_equal(classes, np.floor(classes)))


def _code_classes(dtype, width):
    """The classes 0..width−1 in the labels' own kind (a dtype wide enough to hold them)."""
    if dtype == bool:
        return np.array([False, True])
    return np.arange(width).astype(np.promote_types(dtype, np.min_scalar_type(width - 1)))


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
