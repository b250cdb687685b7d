"""The parameter store: every trainable array of a model, by name, in one flat buffer.

A :class:`ParameterSet` holds two 1-D buffers of the same length, ``values``
and ``grads``, and for each parameter name (``"W1"``, ``"b1"``, ``"gamma1"``,
...) a view of each with the parameter's shape, at the same offset. Layers
receive their views from the store (:meth:`ParameterSet.attach`), write their
gradients into the gradient views during backward, and read their weights from
the value views. An optimizer updates ``values`` from ``grads`` as two whole
arrays, in a few large NumPy calls, and keeps its own state in buffers of the
same layout, viewed under the same names (:meth:`ParameterSet.views`).

The layout is this object's, stated once, and never found again by looking at
memory: copying, pickling or loading a model recreates the store and binds the
layers to it anew.

A layer may still replace an entry of its ``params`` or ``grads`` dict by a new
array, as a layer written with plain dicts does (``self.grads["W"] = x.T @ d``).
:meth:`ParameterSet.sync` notices that by identity, copies the array into the
store and binds the layer to its view again. That costs one copy, not a wrong
result.

>>> store = ParameterSet({"W1": (2, 3), "b1": (2,)}, "float64")
>>> store.size, store.params["W1"].shape, np.shares_memory(store.params["b1"], store.values)
(8, (2, 3), True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


#: Bytes: one cache line, and one AVX-512 vector.
ALIGNMENT = 64


def aligned_zeros(size: int, dtype) -> np.ndarray:
    """A new 1-D array of ``size`` zeros whose first element starts a cache line.

    NumPy's arrays start where the C library's allocator puts them, as often as
    not 16, 32 or 48 bytes into a cache line. Every vector store of an elementwise loop
    into such an array then spans two cache lines, which about doubles the cost
    of a pass that writes it (bench/RESULTS.md has the figures).
    The optimizer's buffers are written a dozen times a step, so they are all
    allocated here; a block of :data:`~mllib.optim.blocks.BLOCK` elements then
    starts a cache line too.
    """
    dtype = np.dtype(dtype)
    raw = np.zeros(size * dtype.itemsize + ALIGNMENT, dtype=np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start:start + size * dtype.itemsize].view(dtype)


def aligned_copy(a: np.ndarray) -> np.ndarray:
    """A copy of the 1-D ``a`` in an :func:`aligned_zeros` buffer."""
    copy = aligned_zeros(a.size, a.dtype)
    copy[...] = a
    return copy


def views_of(buffer: np.ndarray, shapes: Mapping) -> dict:
    """Consecutive views of the 1-D ``buffer``, one per ``{name: shape}``, in order."""
    views, offset = {}, 0
    for name, shape in shapes.items():
        n = math.prod(shape)
        views[name] = buffer[offset:offset + n].reshape(shape)
        offset += n
    return views


class ParameterSet:
    """Named parameters and their gradients, as views into two flat buffers.

    Parameters
    ----------
    shapes : mapping of str to tuple of int
        The parameters' names and shapes, in the order of the buffers.
    dtype : numpy dtype
        One floating dtype for every parameter.

    Attributes
    ----------
    values, grads : ndarray of shape (size,)
        The flat buffers.
    params, grad_views : dict of str to ndarray
        Views of ``values`` and ``grads`` with each parameter's shape.
    """

    def __init__(self, shapes: Mapping, dtype, *, buffers=None):
        self.dtype = _float_dtype(dtype)
        self.shapes = {str(k): _shape(k, s) for k, s in shapes.items()}
        # What an optimizer's state must match: names, shapes and dtype, compared in one go.
        self.layout = (tuple(self.shapes.items()), self.dtype.str)
        self.size = sum(math.prod(s) for s in self.shapes.values())
        if buffers is None:
            buffers = (aligned_zeros(self.size, self.dtype), aligned_zeros(self.size, self.dtype))
        self.values, self.grads = buffers
        self._bindings = []   # (dict, key, name, kind): layer dicts bound to a view
        self._make_views()

    def _make_views(self):
        self.params = self.views(self.values)
        self.grad_views = self.views(self.grads)
        self._bound = []      # (dict, key, view, name, kind) for each binding, for sync

    def views(self, buffer: np.ndarray) -> dict:
        """``{name: view}`` of a 1-D ``buffer`` of this store's size, in its layout."""
        if buffer.shape != (self.size,):
            raise ValueError(f"buffer has shape {buffer.shape}, expected ({self.size},)")
        return views_of(buffer, self.shapes)

    def flat(self, arrays: Mapping) -> np.ndarray:
        """A new 1-D buffer holding ``arrays[name]`` for every name, in this layout."""
        buffer = aligned_zeros(self.size, self.dtype)
        for name, view in self.views(buffer).items():
            view[...] = arrays[name]
        return buffer

    # -- binding layers -------------------------------------------------------

    @classmethod
    def from_arrays(cls, params: dict, grads: dict, dtype=None) -> "ParameterSet":
        """A store holding ``params``, with both dicts bound to its views.

        For code that keeps plain dicts of arrays: afterwards ``params[k]`` and
        ``grads[k]`` are the store's views, so an optimizer's step on the store
        is seen through the dicts.

        >>> import numpy as np
        >>> params, grads = {"w": np.array([1.0, 2.0])}, {"w": np.zeros(2)}
        >>> store = ParameterSet.from_arrays(params, grads)
        >>> params["w"] is store.params["w"], grads["w"] is store.grad_views["w"]
        (True, True)
        """
        if params.keys() != grads.keys():
            raise ValueError(f"grads keys {sorted(grads)} differ from params keys {sorted(params)}")
        holder = _Holder(params, grads)
        if dtype is None:
            dtype = np.result_type(*params.values()) if params else np.float64
        return cls.from_layers([("", holder)], dtype)

    @classmethod
    def from_layers(cls, named_layers, dtype) -> "ParameterSet":
        """A store of the parameters of ``[(suffix, layer), ...]``, the layers bound to it.

        Layer ``layer``'s parameter ``k`` is named ``f"{k}{suffix}"`` (``W`` of
        layer 2 is ``"W2"``); its current values and gradients are copied into
        the store. Each layer array is let go as soon as it is copied, so that
        making the store of P numbers takes 3P at most, not 4P.
        """
        shapes = {}
        for l, layer in named_layers:
            for k, a in layer.params.items():
                if f"{k}{l}" in shapes:
                    raise ValueError(f"two layers have a parameter named {k}{l}; each name "
                                     "must be unique")
                shapes[f"{k}{l}"] = _shape(f"{k}{l}", np.shape(a))
        dtype, size = _float_dtype(dtype), sum(math.prod(s) for s in shapes.values())
        buffers = []
        for tables in ("params", "grads"):
            buffer = aligned_zeros(size, dtype)
            views = views_of(buffer, shapes)
            for l, layer in named_layers:
                table = getattr(layer, tables)
                for k in layer.params:
                    views[f"{k}{l}"][...] = table[k]
                    table[k] = views[f"{k}{l}"]
            buffers.append(buffer)
        store = cls(shapes, dtype, buffers=tuple(buffers))
        store.attach(named_layers)
        return store

    def attach(self, named_layers) -> None:
        """Bind each layer's ``params`` and ``grads`` entries to this store's views."""
        bindings = []
        for l, layer in named_layers:
            for k in layer.params:
                bindings.append((layer.params, k, f"{k}{l}", "value"))
                bindings.append((layer.grads, k, f"{k}{l}", "grad"))
        unknown = [name for _, _, name, _ in bindings if name not in self.shapes]
        if unknown:
            raise ValueError(f"the layers have parameters {unknown} that the store lacks")
        self._bindings = bindings
        self._rebind()

    def _rebind(self):
        self._bound = [(table, key, self._view(name, kind), name, kind)
                       for table, key, name, kind in self._bindings]
        for table, key, view, _, _ in self._bound:
            table[key] = view

    def _view(self, name, kind):
        return self.params[name] if kind == "value" else self.grad_views[name]

    def sync(self) -> None:
        """Copy into the store any bound entry that a layer replaced, and rebind it.

        Cheap when nothing was replaced: one identity test per entry. Every
        replacement is checked before any is copied, so a ValueError (wrong
        shape, not real numbers, missing) leaves the store as it was.
        """
        replaced = [bound for bound in self._bound if bound[0].get(bound[1]) is not bound[2]]
        for table, key, view, name, kind in replaced:
            new = table.get(key)
            if not isinstance(new, np.ndarray) or new.shape != view.shape \
                    or new.dtype.kind not in "fiu":
                what = "params" if kind == "value" else "grads"
                raise ValueError(f"{what}[{key!r}] of {name} must be a real array of shape "
                                 f"{view.shape}, got {getattr(new, 'shape', type(new).__name__)}")
        for table, key, view, _, _ in replaced:
            view[...] = table[key]
            table[key] = view

    # -- copies and pickles ---------------------------------------------------

    def __getstate__(self):
        # What a layer assigned since the last step goes into the copy too. The views
        # are rebuilt from the buffers. (The layers' own dicts still pickle their
        # entries, as copies: a pickle holds each parameter twice, a model file once.)
        self.sync()
        return {k: v for k, v in self.__dict__.items()
                if k not in ("params", "grad_views", "_bound")}

    def __setstate__(self, state):
        self.__dict__.update(state)
        # Unpickled arrays start wherever the allocator puts them: back into aligned buffers.
        self.values, self.grads = aligned_copy(self.values), aligned_copy(self.grads)
        self._make_views()
        self._rebind()

    def __repr__(self):
        return f"ParameterSet({len(self.shapes)} arrays, {self.size} {self.dtype} values)"


class _Holder:
    """A pair of plain dicts, bound like a layer's."""

    def __init__(self, params, grads):
        self.params, self.grads = params, grads


def _float_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"a ParameterSet holds floats, got dtype {dtype}")
    return dtype


def _shape(name, shape) -> tuple:
    dims = tuple(shape)
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0
               for n in dims):
        raise ValueError(f"the shape of {name} must be non-negative integers, got {shape!r}")
    return tuple(int(n) for n in dims)
