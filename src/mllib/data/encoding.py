"""Class labels as integer codes and one-hot rows (notes §10).

The notes map the labels ``{0, 1, ..., C−1}`` to the basis vectors of ℝ^C,
``i ↦ e_{i+1}`` (``encode_labels``), and back by ``argmax`` (``decode_labels``).
Their ``Y`` has shape ``(C, N)``; here rows are examples, so ``Y`` is ``(N, C)``.
:class:`ClassEncoder` first maps labels of any kind (strings, bools, ints
that are not ``0..C−1``) to those codes.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, preview
from ._checks import as_int_labels


def one_hot(labels, n_classes=None, *, dtype=np.float64) -> np.ndarray:
    """One-hot rows: ``Y[j, i] = 1`` if ``labels[j] == i``, else 0.

    Parameters
    ----------
    labels : array_like of int, shape (n_samples,) or (n_samples, 1)
        Codes in ``[0, n_classes)``. Floats with integer values are accepted.
    n_classes : int, optional
        C; default ``max(labels) + 1``.
    dtype : numpy dtype, default float64

    Returns
    -------
    Y : ndarray of shape (n_samples, n_classes)

    Examples
    --------
    >>> one_hot([2, 0, 1])
    array([[0., 0., 1.],
           [1., 0., 0.],
           [0., 1., 0.]])
    """
    codes = as_int_labels("labels", labels)
    if n_classes is None:
        n_classes = int(codes.max()) + 1 if codes.size else 0
    else:
        n_classes = check_int("n_classes", n_classes, 1)
    bad = (codes < 0) | (codes >= n_classes)
    if bad.any():
        raise ValueError(f"labels must lie in [0, {n_classes}), got {codes[bad][0]}")
    Y = np.zeros((codes.shape[0], n_classes), dtype=dtype)
    Y[np.arange(codes.shape[0]), codes] = 1
    return Y


def decode_one_hot(Y) -> np.ndarray:
    """Codes ``argmax_i Y[j, i]`` of one-hot rows (or of class probabilities).

    Parameters
    ----------
    Y : array_like of shape (n_samples, n_classes)

    Returns
    -------
    labels : ndarray of int64, shape (n_samples,)
        Ties go to the lowest index.

    Examples
    --------
    >>> decode_one_hot([[0, 0, 1], [0.7, 0.2, 0.1]])
    array([2, 0])
    """
    Y = np.asarray(Y)
    if Y.ndim != 2 or Y.shape[1] == 0:
        raise ValueError(f"Y must have shape (n_samples, n_classes) with n_classes >= 1, "
                         f"got shape {Y.shape}")
    return np.argmax(Y, axis=1).astype(np.int64)


class ClassEncoder:
    """Maps class labels of any kind to codes ``0..C−1`` and back.

    The classes are the distinct labels seen by :meth:`fit`, sorted; class
    ``classes_[i]`` has code i. Labels may be integers, floats, bools or
    strings (an object array of Python ``str``, as pandas gives, is read as
    strings). NaN is not a label.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted distinct labels, in the dtype of the labels given to fit.

    Examples
    --------
    >>> enc = ClassEncoder().fit(["dog", "cat", "dog", "bird"])
    >>> enc.classes_
    array(['bird', 'cat', 'dog'], dtype='<U4')
    >>> enc.encode(["cat", "dog"])
    array([1, 2])
    >>> enc.decode([0, 2])
    array(['bird', 'dog'], dtype='<U4')
    """

    def __init__(self):
        self.classes_ = None

    @property
    def n_classes_(self) -> int:
        self._require_fitted()
        return self.classes_.shape[0]

    def fit(self, y) -> "ClassEncoder":
        """Learn the sorted classes from labels ``y`` of shape (n_samples,)."""
        y = _as_labels(y)
        if y.size == 0:
            raise ValueError("y has no labels to fit on")
        self.classes_ = np.unique(y)
        return self

    def encode(self, y) -> np.ndarray:
        """Codes in ``[0, C)`` of labels ``y``, shape (n_samples,), int64."""
        self._require_fitted()
        y = _as_labels(y, check_nan=False)
        codes = np.zeros(y.shape[0], dtype=np.int64)
        if y.size == 0:
            return codes
        if _comparable(y.dtype, self.classes_.dtype):
            codes = np.searchsorted(self.classes_, y).astype(np.int64)
            found = codes < self.classes_.shape[0]
            found[found] = self.classes_[codes[found]] == y[found]
        else:
            found = np.zeros(y.shape[0], dtype=bool)
        if not found.all():
            raise ValueError(f"unknown label {y[~found][0].item()!r}; the known classes "
                             f"are {preview(self.classes_)}")
        return codes

    def decode(self, codes) -> np.ndarray:
        """Labels of ``codes`` (ints in ``[0, C)``), shape (n_samples,), in the classes' dtype."""
        self._require_fitted()
        codes = as_int_labels("codes", codes)
        bad = (codes < 0) | (codes >= self.classes_.shape[0])
        if bad.any():
            raise ValueError(f"codes must lie in [0, {self.classes_.shape[0]}), "
                             f"got {codes[bad][0]}")
        return self.classes_[codes]

    # -- model files ----------------------------------------------------------------

    def get_state(self) -> dict[str, np.ndarray]:
        """``{"classes": classes_}``: a plain (never object) array, for model files."""
        self._require_fitted()
        return {"classes": self.classes_.copy()}

    @classmethod
    def from_state(cls, state) -> "ClassEncoder":
        """A fitted ClassEncoder from the dict of :meth:`get_state`."""
        if "classes" not in state:
            raise ValueError(f"ClassEncoder state needs 'classes', got keys {sorted(state)}")
        classes = np.asarray(state["classes"])
        if classes.dtype.kind not in _KINDS:
            raise ValueError(f"ClassEncoder classes must be numbers, bools or strings, "
                             f"got dtype {classes.dtype}")
        if classes.ndim != 1 or classes.size == 0 or not np.array_equal(np.unique(classes), classes):
            raise ValueError(f"ClassEncoder classes must be a non-empty, sorted 1-D array of "
                             f"distinct labels, got {preview(classes.ravel())}")
        encoder = cls()
        encoder.classes_ = classes.copy()
        return encoder

    def _require_fitted(self):
        if self.classes_ is None:
            raise RuntimeError("this ClassEncoder is not fitted yet; call fit(y) first")


# Array kinds a label may have: bool, signed, unsigned, float, bytes, unicode.
_KINDS = "biufSU"


def _as_labels(y, check_nan=True) -> np.ndarray:
    """Labels as a 1-D array of one of the ``_KINDS``; a single column is flattened."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D (n_samples,) or one column, got shape {y.shape}")
    if y.dtype == object:
        y = _from_objects(y)
    if y.dtype.kind not in _KINDS:
        raise ValueError(f"labels must be numbers, bools or strings, got dtype {y.dtype}")
    if check_nan and y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError("labels contain NaN, which is not a class")
    return y


def _from_objects(y) -> np.ndarray:
    items = y.tolist()
    if all(isinstance(v, str) for v in items):
        return np.array(items, dtype=np.str_)
    if not any(isinstance(v, (str, bytes)) or v is None for v in items):
        converted = np.array(items)
        if converted.dtype.kind in _KINDS:
            return converted
    kinds = sorted({type(v).__name__ for v in items})
    raise ValueError(f"labels must all be strings or all numbers, got types {kinds}")


def _comparable(a, b) -> bool:
    """Whether labels of dtypes a and b can be compared (numbers with numbers, text with text)."""
    text = set("SU")
    return (a.kind in text) == (b.kind in text) and (a.kind not in text or a.kind == b.kind)
