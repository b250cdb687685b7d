"""Data augmentation (notes §5.2): new training examples from old ones.

An augmenter is a per-batch hook, called by the training loop as

    X_batch = augment(X_batch, rng)

with the model's Generator. It returns a new array of the same shape and
dtype and never writes into the caller's. Only training batches are
augmented; dev and test data are left as they are.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_int, check_real, check_rng, is_int
from ._checks import as_2d


def flip_images(images) -> np.ndarray:
    """Mirror images left to right: ``out[:, y, x] = images[:, y, w − 1 − x]``.

    Parameters
    ----------
    images : ndarray of shape (n_images, h, w) or (n_images, h, w, c)

    Returns
    -------
    ndarray of the same shape (a new array)
    """
    return np.array(np.asarray(images)[:, :, ::-1])


def shift_images(images, dy, dx) -> np.ndarray:
    """Move image i down by ``dy[i]`` and right by ``dx[i]`` pixels, filling with 0.

    ``out[i, y + dy[i], x + dx[i]] = images[i, y, x]``; pixels moved out of
    the frame are lost. Negative shifts move up and left.

    Parameters
    ----------
    images : ndarray of shape (n_images, h, w) or (n_images, h, w, c)
    dy, dx : int or array_like of int, shape (n_images,)

    Returns
    -------
    ndarray of the same shape and dtype (a new array)

    Examples
    --------
    >>> shift_images(np.array([[[1, 2], [3, 4]]]), 1, -1)
    array([[[0, 0],
            [2, 0]]])
    """
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    shifts = np.stack(np.broadcast_arrays(np.asarray(dy), np.asarray(dx)), axis=-1)
    shifts = np.broadcast_to(shifts, (n, 2))
    out = np.zeros_like(images)
    for a, b in np.unique(shifts, axis=0).tolist():
        if abs(a) >= h or abs(b) >= w:
            continue                    # moved entirely out of the frame
        same = (shifts[:, 0] == a) & (shifts[:, 1] == b)
        out[same, max(a, 0):h + min(a, 0), max(b, 0):w + min(b, 0)] = \
            images[same, max(-a, 0):h - max(a, 0), max(-b, 0):w - max(b, 0)]
    return out


class ImageAugmenter:
    """Random horizontal flips and small translations of flattened images.

    Each row of a batch is an image of ``image_shape`` flattened in C order
    (channels last). Independently for each image: with probability 0.5 it
    is mirrored left to right, then it is moved by ``(dy, dx)`` pixels, each
    drawn uniformly from ``{−max_shift, ..., max_shift}``; uncovered pixels
    become 0 (for standardized inputs, the feature mean).

    Parameters
    ----------
    image_shape : tuple of int
        ``(h, w)`` or ``(h, w, c)``.
    flip_horizontal : bool, default True
    max_shift : int, default 2
        At most ``min(h, w) − 1``; 0 turns translations off.

    Examples
    --------
    >>> augment = ImageAugmenter((28, 28), max_shift=2)
    >>> X_new = augment(np.zeros((64, 784)), np.random.default_rng(0))
    >>> X_new.shape
    (64, 784)
    """

    def __init__(self, image_shape, flip_horizontal=True, max_shift=2):
        shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
        if shape is None or len(shape) not in (2, 3) or not all(is_int(s) and s > 0 for s in shape):
            raise ValueError(f"image_shape must be (h, w) or (h, w, c) of positive integers, "
                             f"got {image_shape!r}")
        if not isinstance(flip_horizontal, (bool, np.bool_)):
            raise ValueError(f"flip_horizontal must be True or False, got {flip_horizontal!r}")
        max_shift = check_int("max_shift", max_shift, 0)
        if max_shift >= min(shape[:2]):
            raise ValueError(f"max_shift must be smaller than the image height and width "
                             f"{shape[:2]}, got {max_shift}")
        self.image_shape = tuple(int(s) for s in shape)
        self.flip_horizontal = bool(flip_horizontal)
        self.max_shift = max_shift

    def __call__(self, X_batch, rng) -> np.ndarray:
        """Augmented copy of ``X_batch``, shape (n_samples, h·w·c)."""
        X = as_2d("X_batch", X_batch)
        rng = check_rng(rng)
        if X.shape[1] != math.prod(self.image_shape):
            raise ValueError(f"X_batch has {X.shape[1]} features, but images of shape "
                             f"{self.image_shape} have {math.prod(self.image_shape)}")
        n = X.shape[0]
        images = np.array(X).reshape((n, *self.image_shape))   # our own copy
        if self.flip_horizontal:
            flip = rng.random(n) < 0.5
            images[flip] = images[flip, :, ::-1]
        if self.max_shift:
            d = rng.integers(-self.max_shift, self.max_shift + 1, size=(n, 2))
            images = shift_images(images, d[:, 0], d[:, 1])
        return images.reshape(n, -1)

    def __repr__(self):
        return (f"ImageAugmenter(image_shape={self.image_shape}, "
                f"flip_horizontal={self.flip_horizontal}, max_shift={self.max_shift})")


class GaussianNoise:
    """Adds independent noise ``N(0, std²)`` to every entry, for tabular data.

    ``X̃ = X + std · Z`` with Z standard normal, drawn afresh for every batch.
    Float input keeps its dtype; integer input becomes float64.

    Parameters
    ----------
    std : float
        Standard deviation of the noise, in the units of the (usually
        standardized) features; 0 returns a copy.
    """

    def __init__(self, std):
        self.std = check_real("std", std, 0.0)

    def __call__(self, X_batch, rng) -> np.ndarray:
        """``X_batch + std · Z``, a new array of the same shape."""
        X = np.asarray(X_batch)
        rng = check_rng(rng)
        if not (np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)):
            raise ValueError(f"X_batch must hold real numbers, got dtype {X.dtype}")
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.dtype(np.float64)
        draw = np.float32 if dtype.itemsize <= 4 else np.float64
        noise = rng.standard_normal(X.shape, dtype=draw)
        noise *= draw(self.std)
        return (X + noise.astype(dtype, copy=False)).astype(dtype, copy=False)

    def __repr__(self):
        return f"GaussianNoise(std={self.std})"
