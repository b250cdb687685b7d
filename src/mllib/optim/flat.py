"""One flat array behind many parameters, so that an update is a few large ufunc calls.

When a model keeps all its parameters as consecutive views of one 1-D buffer
(and its gradients likewise), an elementwise optimizer can update the whole
buffer at once instead of looping over parameters: the same arithmetic on
every element, so the same bits, with far fewer calls into NumPy.
"""

from __future__ import annotations

import numpy as np


def tiled_base(arrays) -> np.ndarray | None:
    """The 1-D buffer that ``arrays`` tile, in order and exactly; else None."""
    if not arrays:
        return None
    base = arrays[0].base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    start = base.__array_interface__["data"][0]
    address = start
    for a in arrays:
        if (a.base is not base or a.dtype != base.dtype or not a.flags.c_contiguous
                or a.__array_interface__["data"][0] != address):
            return None
        address += a.nbytes
    return base if address == start + base.nbytes else None


def views_of(buffer: np.ndarray, shapes) -> list[np.ndarray]:
    """Consecutive views of ``buffer`` with the given shapes."""
    views, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape, dtype=np.int64))
        views.append(buffer[offset:offset + size].reshape(shape))
        offset += size
    return views


def pack(arrays, dtype) -> list[np.ndarray]:
    """Copies of ``arrays`` as consecutive views of one new 1-D buffer."""
    buffer = np.empty(sum(a.size for a in arrays), dtype=dtype)
    views = views_of(buffer, [a.shape for a in arrays])
    for view, a in zip(views, arrays):
        view[...] = a
    return views
