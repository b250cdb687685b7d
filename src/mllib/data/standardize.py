"""Standardizing features with training-set statistics (notes §4, ``ProcessData.normalize``)."""

from __future__ import annotations

import numpy as np

from ._checks import as_2d

# Values per chunk (8 MB of float64) when reading X to fit.
CHUNK_VALUES = 2**20


class Standardizer:
    """Scales each feature to zero mean and unit variance on the training set.

    For feature i, with μ_i and σ_i the mean and (biased, as ``np.std``)
    standard deviation over the **training set only**,

        x̂_i = (x_i − μ_i) / σ_i,        x_i = σ_i x̂_i + μ_i  (inverse).

    The same μ and σ are then applied to the dev and test sets. Computing
    them from all the data, as the notes' scikit-learn example does, lets
    the test set influence training, so the test error is no longer an
    estimate of the error on unseen data.

    A feature whose training values are all equal (zero variance) gets
    σ_i = 1, so it maps to 0 and nothing is divided by zero.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,), float64
        μ.
    scale_ : ndarray of shape (n_features,), float64
        σ, with 1 for zero-variance features.
    n_features_in_ : int

    Notes
    -----
    Statistics are accumulated in float64. ``transform`` returns float
    input in its own dtype (float32 stays float32) and integer or boolean
    input as float64. The notes keep one example per column; here rows are
    examples, so the statistics are taken over axis 0.

    Examples
    --------
    >>> scaler = Standardizer().fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> scaler.mean_, scaler.scale_
    (array([2., 5.]), array([1., 1.]))
    >>> scaler.transform(np.array([[4.0, 6.0]]))
    array([[2., 1.]])
    """

    def __init__(self):
        self.mean_ = None
        self.scale_ = None

    @property
    def n_features_in_(self) -> int:
        self._require_fitted()
        return self.mean_.shape[0]

    def fit(self, X) -> "Standardizer":
        """Learn μ and σ from the training set ``X`` of shape (n_samples, n_features)."""
        X = _check_numeric(as_2d("X", X))
        if X.shape[0] == 0:
            raise ValueError(f"X has no samples to fit on, shape {X.shape}")
        mean, scale, constant = _column_stats(X)
        if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            raise ValueError("X contains NaN or infinite values; the mean and standard "
                             "deviation would be undefined")
        # Rounding can leave a tiny non-zero σ on a constant column; test equality instead.
        constant |= scale == 0
        mean[constant] = X[0, constant]
        scale[constant] = 1.0
        self.mean_, self.scale_ = mean, scale
        return self

    def transform(self, X) -> np.ndarray:
        """``(X − μ)/σ``, shape (n_samples, n_features); a new array."""
        X, dtype = self._check_input(X)
        return (X - self.mean_.astype(dtype)) / self.scale_.astype(dtype)

    def fit_transform(self, X) -> np.ndarray:
        """:meth:`fit` on ``X``, then :meth:`transform` it."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X) -> np.ndarray:
        """``σ X + μ``, undoing :meth:`transform`; shape (n_samples, n_features)."""
        X, dtype = self._check_input(X)
        return X * self.scale_.astype(dtype) + self.mean_.astype(dtype)

    # -- model files ----------------------------------------------------------------

    def get_state(self) -> dict[str, np.ndarray]:
        """``{"mean": μ, "scale": σ}``: plain float64 arrays (copies), for model files."""
        self._require_fitted()
        return {"mean": self.mean_.copy(), "scale": self.scale_.copy()}

    @classmethod
    def from_state(cls, state, *, dtype=np.float64) -> "Standardizer":
        """A fitted Standardizer from the dict of :meth:`get_state`.

        ``dtype`` is the float type :meth:`transform` will compute in (a float32
        model's inputs are float32): mean and scale must be real numbers that
        are finite in it, and scale at least its smallest normal number, since
        a subnormal or zero σ makes x/σ infinite.
        """
        missing = {"mean", "scale"} - set(state)
        if missing:
            raise ValueError(f"Standardizer state is missing {sorted(missing)}, got keys {sorted(state)}")
        given = {key: np.asarray(state[key]) for key in ("mean", "scale")}
        for key, value in given.items():
            if value.dtype.kind not in "fiu":
                raise ValueError(f"Standardizer {key} must hold real numbers, got dtype {value.dtype}")
        mean = np.array(given["mean"], dtype=np.float64)
        scale = np.array(given["scale"], dtype=np.float64)
        if mean.ndim != 1 or mean.shape != scale.shape:
            raise ValueError(f"Standardizer state needs 1-D mean and scale of equal length, "
                             f"got shapes {mean.shape} and {scale.shape}")
        info = np.finfo(dtype)
        if mean.size and not (-info.max <= mean.min() <= mean.max() <= info.max
                              and info.tiny <= scale.min() <= scale.max() <= info.max):
            raise ValueError(f"Standardizer state needs finite mean and finite positive scale "
                             f"in {info.dtype}, the scale at least {info.tiny:.3g}")
        scaler = cls()
        scaler.mean_, scaler.scale_ = mean, scale
        return scaler

    # -- checks ---------------------------------------------------------------------

    def _require_fitted(self):
        if self.mean_ is None:
            raise RuntimeError("this Standardizer is not fitted yet; call fit(X_train) first")

    def _check_input(self, X):
        self._require_fitted()
        X = _check_numeric(as_2d("X", X))
        if X.shape[1] != self.mean_.shape[0]:
            raise ValueError(f"X has {X.shape[1]} features, but the Standardizer was "
                             f"fitted on {self.mean_.shape[0]}")
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.dtype(np.float64)
        return X, dtype


def _column_stats(X):
    """Mean, biased std and all-equal mask per column, read in chunks of rows.

    Two passes (mean, then squared deviations) in float64, so a memmap is
    never loaded whole and no temporary is as large as X.
    """
    n = X.shape[0]
    step = max(1, CHUNK_VALUES // max(1, X.shape[1]))
    total = np.zeros(X.shape[1])
    low, high = np.asarray(X[0], dtype=np.float64), np.asarray(X[0], dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):   # non-finite results are rejected below
        for start in range(0, n, step):
            chunk = np.asarray(X[start:start + step], dtype=np.float64)
            total += chunk.sum(axis=0)
            low, high = np.minimum(low, chunk.min(axis=0)), np.maximum(high, chunk.max(axis=0))
        mean = total / n
        squares = np.zeros(X.shape[1])
        for start in range(0, n, step):
            chunk = np.asarray(X[start:start + step], dtype=np.float64)
            squares += ((chunk - mean) ** 2).sum(axis=0)
    return mean, np.sqrt(squares / n), low == high


def _check_numeric(X):
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool) \
            or np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError(f"X must hold real numbers, got dtype {X.dtype}")
    return X
