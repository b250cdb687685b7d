"""The optimizer protocol: state in the store's layout, ``init(store)`` and ``step(store, lr)``.

An optimizer updates a parameter store (:class:`~mllib.optim.ParameterSet`, or
anything with the same attributes): ``store.values`` and ``store.grads``, two
1-D buffers of ``store.size`` elements in ``store.dtype``; ``store.shapes``,
the parameters' names and shapes in buffer order, and ``store.layout``, the
same with the dtype, as one comparable value; ``store.flat(arrays)``, a
buffer made from named arrays; and ``store.sync()``. Nothing else about memory
is assumed.

``init(store)`` makes the state: one buffer per slot (Adam's ``m`` and ``v``),
laid out as the store, so that ``get_state()`` can name its parts ``"m.W1"``,
``"v.b2"``. ``step(store, lr)`` then applies the subclass's ``_update``, the
notes' formulas written once, to aligned blocks of the buffers, shared among
a few threads (:mod:`mllib.optim.blocks`); the bits depend on neither. A step
allocates nothing of parameter size: the scratch space is one block a thread.

Tiny moments are stored as 0. The state's moving averages decay as β^t once
their gradients vanish (a dead ReLU unit's are exactly 0), so sooner or later
they fall below the dtype's smallest normal number, ``np.finfo(dtype).tiny``
(1.2e-38 in float32): they become subnormal, where an x86 core takes about
45 times as long per operation (to scale 65,536 float32 values), and each
product β·m underflows, which ``np.errstate(under="raise")`` would turn into
an error. So a step runs with underflow reported to a flag rather than
raised, and after a step in which an operation underflowed, the state's
entries with |x| < tiny are set to 0. The hardware reports underflow for
free: a step without it pays only for the ``np.errstate`` context, a few µs,
small beside a pass over the parameters; one with it pays one more pass over
the state. The worker threads run under the caller's error state, so
underflow in any of them is seen. Which entries are flushed does not
depend on the block size, since every entry takes the same operations whatever
the split. (A subnormal result that is exact raises no flag, such as the sum
of two nearly opposite normal terms; it is flushed after a later step whose
β·m is inexact, the next one for β such as 0.9 or 0.999.)

The notes' formulas stay the stated math: dropping a moment below ``tiny``
changes a later step of θ by about α·tiny/ε at most for Adam's m (1e-33 with
its defaults in float32), α·tiny for momentum's v, and a relative 1e-11 for
RMSProp's s and Adam's v, whose roots of 1e-19 sit beside ε = 1e-8: far below
the rounding of any θ that is not itself tiny. θ^t is computed from the
unflushed moments of step t. Underflow in the update of θ itself, such as α·g
for g ~ 1e-40, rounds correctly to a subnormal number or 0 by IEEE gradual
underflow, and is not an error either.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._jit import call, load, report
from .._validation import check_real
from .blocks import BLOCK, blockwise, flush_tiny, threads_for
from .store import aligned_copy, aligned_zeros, views_of

KERNELS = "mllib.optim._kernels"


class Optimizer:
    """Base class: validation, the step counter t, state in the store's layout.

    Subclasses set ``name``, ``_slots`` (the names of their state buffers) and
    ``_hyper`` (the constructor arguments), and implement
    ``_update(p, g, *slots, buf, **scalars)`` on one block; ``scalars`` is
    ``{"lr": lr}`` unless they override ``_scalars(lr)``, as Adam does. The counter t is 1 during the first step, as the notes'
    ``iter = epoch·B + k``.
    """

    name = "optimizer"
    _slots: tuple[str, ...] = ()
    _hyper: tuple[str, ...] = ()
    #: Other names of hyperparameters, accepted by the constructor and by
    #: ``get_optimizer``: alias -> the name in ``_hyper`` and ``get_config``.
    _aliases: dict[str, str] = {}
    #: Elements per block of the update (:mod:`mllib.optim.blocks`); the
    #: results have the same bits whatever it is.
    block_size = BLOCK
    #: The name of ``_update``'s compiled twin in :mod:`mllib.optim._kernels` (the
    #: ``mllib[fast]`` extra), taking ``_kernel_scalars``; None: NumPy only.
    _kernel: str | None = None

    def __init__(self):
        self.t = 0
        self._layout = None    # store.layout of the store the state is laid out for
        self._state = {}       # slot -> 1-D buffer of the store's size
        self._loaded = None    # {slot: {name: array}} from set_state, until init
        self._scratch = None

    # -- the protocol ---------------------------------------------------------

    @property
    def has_state(self) -> bool:
        """Whether the optimizer has stepped, or holds state laid out or loaded."""
        return self.t > 0 or self._layout is not None or bool(self._loaded)

    def check(self, store) -> None:
        """Raise ValueError unless this optimizer's state can serve ``store``; change nothing."""
        if self._layout is not None:
            if self._layout != store.layout:
                raise ValueError(f"{self.name} holds state for parameters "
                                 f"{_describe(self._layout)}, not {_describe(store.layout)}")
            return
        for slot, arrays in (self._loaded or {}).items():
            if arrays and (arrays.keys() != store.shapes.keys() or any(
                    np.shape(a) != store.shapes[k] for k, a in arrays.items())):
                raise ValueError(f"state {slot}.* holds {_describe((_shapes(arrays), ''))}, but "
                                 f"the parameters are {_describe(store.layout)}")

    def init(self, store) -> None:
        """Make the state for ``store``, or keep it if it is laid out for it already.

        State loaded by :meth:`set_state` is placed into the new buffers, in
        the store's dtype; it must name exactly the store's parameters, with
        their shapes (:meth:`check`).
        """
        self.check(store)
        if self._layout is not None:
            return
        loaded = self._loaded or {slot: {} for slot in self._slots}
        self._state = {slot: store.flat(loaded[slot]) if loaded[slot]
                       else aligned_zeros(store.size, store.dtype) for slot in self._slots}
        self._layout, self._loaded = store.layout, None

    def step(self, store, lr: float) -> None:
        """Update ``store.values`` in place from ``store.grads``; ``t += 1``.

        The first step on a store calls :meth:`init`. Everything is checked
        before any array or counter changes.
        """
        lr = check_real("lr", lr, 0.0)
        self.init(store)
        store.sync()
        self.t += 1
        scalars = self._scalars(lr)
        if self._step_compiled(store, scalars):
            return
        threads = threads_for(store.size, self.block_size)
        update, scratch = self._update, self._scratch_for(store, threads)

        def block(p, g, *rest):
            update(p, g, *rest[:-1], buf=rest[-1], **scalars)

        underflowed = []   # NumPy calls back here when an operation underflows
        with np.errstate(under="call", call=lambda kind, flag: underflowed.append(kind)):
            blockwise(block, [store.values, store.grads, *self._state.values()],
                      scratch, self.block_size, threads)
        if underflowed and self._state:   # tiny moments to 0 (see the module's docstring)
            tiny = np.finfo(store.dtype).tiny
            blockwise(lambda *parts: flush_tiny(parts[:-1], parts[-1], tiny),
                      list(self._state.values()), scratch, self.block_size, threads)

    def _step_compiled(self, store, scalars) -> bool:
        """The step as one compiled pass (:mod:`mllib.optim._kernels`), if :mod:`mllib._jit`
        says so; whether it ran. It gives the bits of the NumPy path below."""
        kernels = None if self._kernel is None else load(KERNELS, store.size, store.dtype)
        if kernels is None:
            return False
        cast = store.dtype.type   # each scalar rounded to the dtype, as NumPy rounds it
        flags = call(kernels, self._kernel, store.values, store.grads, *self._state.values(),
                     *(cast(x) for x in self._kernel_scalars(**scalars)),
                     *((cast(np.finfo(store.dtype).tiny),) if self._state else ()))
        if flags is None:
            return False
        report(flags, f"{self.name}'s step")
        return True

    def _kernel_scalars(self, **scalars) -> tuple:
        """The scalar arguments of the step's kernel, after the arrays (and before tiny)."""
        raise NotImplementedError

    def _scalars(self, lr: float) -> dict:
        """The step's scalar coefficients, passed to ``_update`` by name: here the rate."""
        return {"lr": lr}

    def _update(self, p, g, *slots, buf, **scalars) -> None:
        """One block of the update, in place: θ, g, the slots' state and scratch."""
        raise NotImplementedError

    # -- configuration and state ----------------------------------------------

    def get_config(self) -> dict:
        """JSON-serializable hyperparameters, including ``"name"``."""
        return {"name": self.name, **{h: getattr(self, h) for h in self._hyper}}

    def get_state(self) -> dict[str, np.ndarray]:
        """A copy of the state: ``{"t": array(t), "<slot>.<param>": array, ...}``.

        Between :meth:`set_state` and the next :meth:`init`, the arrays are
        the loaded ones, in their own dtype.
        """
        out = {"t": np.array(self.t, dtype=np.int64)}
        for slot in self._slots:
            if self._layout is not None:
                arrays = views_of(self._state[slot], dict(self._layout[0]))
            else:
                arrays = (self._loaded or {}).get(slot, {})
            out.update({f"{slot}.{k}": np.array(a) for k, a in arrays.items()})
        return out

    def set_state(self, state: Mapping) -> None:
        """Load what :meth:`get_state` returned, validated first.

        The arrays are placed into the store's layout by the next
        :meth:`init` (or :meth:`step`), which checks their names and shapes.
        """
        t = state.get("t") if isinstance(state, Mapping) else None
        if t is None or np.ndim(t) != 0 or np.asarray(t).dtype.kind not in "iu" or t < 0:
            raise ValueError(f"state must hold 't', a non-negative integer scalar, got {t!r}")
        loaded = {s: {} for s in self._slots}
        for name, value in state.items():
            if name == "t":
                continue
            slot, _, key = name.partition(".")
            if slot not in loaded or not key:
                raise ValueError(f"unknown state key {name!r} for {self.name}; "
                                 f"expected 't' or '<slot>.<param>' with slot in {self._slots}")
            value = np.asarray(value)
            if value.dtype.kind != "f":
                raise ValueError(f"state {name!r} must be a float array, got dtype {value.dtype}")
            loaded[slot][key] = value.copy()
        self._check_slots_agree(loaded)
        self.t, self._loaded = int(t), loaded
        self._layout, self._state, self._scratch = None, {}, None

    def _check_slots_agree(self, loaded) -> None:
        first = self._slots[0] if self._slots else None
        for slot in self._slots[1:]:
            if _shapes(loaded[slot]) != _shapes(loaded[first]):
                raise ValueError(f"state {slot}.* holds {_describe((_shapes(loaded[slot]), ''))} "
                                 f"but {first}.* holds {_describe((_shapes(loaded[first]), ''))}")

    def __getstate__(self):
        # The scratch block is made again by the next step.
        return {**self.__dict__, "_scratch": None}

    def __setstate__(self, state):
        # Unpickled arrays start wherever the allocator puts them: back into aligned buffers.
        self.__dict__.update(state)
        self._state = {slot: aligned_copy(a) for slot, a in self._state.items()}

    def _scratch_for(self, store, threads: int) -> np.ndarray:
        size = min(self.block_size, store.size) * threads
        if self._scratch is None or self._scratch.size < size:
            self._scratch = aligned_zeros(size, store.dtype)
        return self._scratch

    def __repr__(self):
        args = ", ".join(f"{h}={getattr(self, h)!r}" for h in self._hyper)
        return f"{type(self).__name__}({args})"


def _shapes(arrays) -> dict:
    return {k: np.shape(a) for k, a in arrays.items()}


def _describe(layout) -> str:
    """``[W1 (5, 3), b1 (5,)] float64`` for a layout ``(shapes, dtype)``; dtype may be ''."""
    shapes, dtype = layout
    listed = ", ".join(f"{k} {s}" for k, s in sorted(dict(shapes).items()))
    return f"[{listed}]" + (f" {np.dtype(dtype).name}" if dtype != "" else "")
