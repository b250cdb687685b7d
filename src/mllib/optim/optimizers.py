"""Optimizers (notes §7): gradient descent, momentum, RMSProp and Adam.

``opt.step(params, grads, lr)`` updates the live arrays in place, keeping state
per parameter under its qualified name (``"W2"``, ``"gamma1"``), created on
first use in the parameter's dtype. Each class computes only a direction d;
the learning rate is applied in one place, ``Optimizer.step``: θ -= α·d. The
step counter t is 1 during the first step, as the notes' ``iter = epoch·B + k``.
Updates use ufuncs with ``out=`` and one reused scratch buffer, so a step
allocates no array of parameter size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .._validation import check_positive, check_real
from .flat import pack, tiled_base


def _unit(name: str, value) -> float:
    """A moving-average weight β: a number in [0, 1)."""
    return check_real(name, value, 0.0, 1.0, high_open=True)


class Optimizer:
    """Base class: validation, the step counter, state bookkeeping and ``θ -= lr·d``.

    Subclasses set ``name``, ``_slots`` (the names of their per-parameter
    state arrays) and ``_hyper`` (the constructor arguments), and implement
    ``_direction``.
    """

    name = "optimizer"
    _slots: tuple[str, ...] = ()
    _hyper: tuple[str, ...] = ()

    def __init__(self):
        self.t = 0
        self._state: dict[str, dict[str, np.ndarray]] = {s: {} for s in self._slots}
        self._scratch: dict[np.dtype, np.ndarray] = {}
        self._checked = None   # the (params, grads) arrays last validated
        self._groups = None    # (state, param, grad) triples to update, for those arrays

    def step(self, params: dict, grads: dict, lr: float) -> None:
        """Update every ``params[k]`` in place from ``grads[k]``; ``t += 1``.

        Everything is validated before any array or counter changes. When the
        parameters, the gradients and the state each tile one flat buffer (see
        :mod:`mllib.optim.flat`), the update runs once over those buffers.
        """
        lr = check_real("lr", lr, 0.0)
        arrays = (list(params.values()), [grads.get(k) for k in params])
        if not _same_arrays(arrays, self._checked):
            self._check_step(params, grads)
            self._checked, self._groups = arrays, None
        self.t += 1
        if self._groups is None:
            # Worked out once for these arrays: the loop below is the hot path.
            flat = self._flat(list(params), *arrays)
            self._groups = [flat] if flat is not None else [
                ({s: self._slot(s, k, p) for s in self._slots}, p, grads[k])
                for k, p in params.items()]
        for state, p, g in self._groups:
            buf = self._buffer(p)
            d, scale = self._direction(state, g, buf)
            np.multiply(d, lr * scale, out=buf)
            np.subtract(p, buf, out=p)

    def _direction(self, state, g, buf):
        """Return ``(d, c)`` with the update ``θ -= lr·c·d``.

        ``state`` maps each slot name to this parameter's state array (or the
        flat one); ``buf`` is free scratch of g's shape.
        """
        raise NotImplementedError

    def _flat(self, keys, ps, gs):
        """``(state, p, g)`` over flat buffers, or None where the layout is not flat.

        State made per parameter (new, or loaded by ``set_state``) is copied
        into one flat buffer per slot first, in the parameters' order.
        """
        p_flat, g_flat = tiled_base(ps), tiled_base(gs)
        if p_flat is None or g_flat is None:
            return None
        state = {}
        for slot in self._slots:
            held = self._state[slot]
            views = [held.get(k) for k in keys]
            base = tiled_base(views) if all(v is not None for v in views) else None
            if base is None:
                old = [held.get(k, np.zeros(p.shape, p.dtype)) for k, p in zip(keys, ps)]
                self._state[slot] = dict(zip(keys, pack(old, p_flat.dtype)))
                base = self._state[slot][keys[0]].base
            state[slot] = base
        return state, p_flat, g_flat

    def _check_step(self, params, grads) -> None:
        if params.keys() != grads.keys():
            raise ValueError(f"grads keys {sorted(grads)} differ from params keys {sorted(params)}")
        known = self._state[self._slots[0]] if self._slots else None
        if known and known.keys() != params.keys():
            raise ValueError(f"{self.name} holds state for {sorted(known)}, "
                             f"but step got params {sorted(params)}")
        for key, p in params.items():
            g = grads[key]
            if not (isinstance(p, np.ndarray) and p.dtype.kind == "f" and p.flags.writeable):
                raise ValueError(f"params[{key!r}] must be a writeable float ndarray, got {p!r}")
            if not isinstance(g, np.ndarray) or g.shape != p.shape or g.dtype != p.dtype:
                raise ValueError(f"grads[{key!r}] must be an ndarray of shape {p.shape} and dtype "
                                 f"{p.dtype}, got {getattr(g, 'shape', type(g))} "
                                 f"{getattr(g, 'dtype', '')}")
            for slot in self._slots:
                s = self._state[slot].get(key)
                if s is not None and (s.shape != p.shape or s.dtype != p.dtype):
                    raise ValueError(f"state {slot}.{key} has shape {s.shape} and dtype "
                                     f"{s.dtype}, but params[{key!r}] has {p.shape} {p.dtype}")

    def _slot(self, slot: str, key: str, p: np.ndarray) -> np.ndarray:
        state = self._state[slot]
        if key not in state:
            state[key] = np.zeros(p.shape, dtype=p.dtype)
        return state[key]

    def _buffer(self, p: np.ndarray) -> np.ndarray:
        # One flat scratch array per dtype, grown to the largest parameter.
        flat = self._scratch.get(p.dtype)
        if flat is None or flat.size < p.size:
            flat = self._scratch[p.dtype] = np.empty(p.size, dtype=p.dtype)
        return flat[:p.size].reshape(p.shape)

    def get_config(self) -> dict:
        """JSON-serializable hyperparameters, including ``"name"``."""
        return {"name": self.name, **{h: getattr(self, h) for h in self._hyper}}

    def get_state(self) -> dict[str, np.ndarray]:
        """Flat copy of the state: ``{"t": array(t), "<slot>.<param>": array, ...}``."""
        out = {"t": np.array(self.t, dtype=np.int64)}
        for slot in self._slots:
            out.update({f"{slot}.{k}": v.copy() for k, v in self._state[slot].items()})
        return out

    def set_state(self, state: dict) -> None:
        """Load what :meth:`get_state` returned; the inverse of it, validated first."""
        t = state.get("t") if isinstance(state, Mapping) else None
        if t is None or np.ndim(t) != 0 or np.asarray(t).dtype.kind not in "iu" or t < 0:
            raise ValueError(f"state must hold 't', a non-negative integer scalar, got {t!r}")
        new = {s: {} for s in self._slots}
        for name, value in state.items():
            slot, _, key = name.partition(".")
            if name == "t":
                continue
            if slot not in new or not key:
                raise ValueError(f"unknown state key {name!r} for {self.name}; "
                                 f"expected 't' or '<slot>.<param>' with slot in {self._slots}")
            value = np.asarray(value)
            if value.dtype.kind != "f":
                raise ValueError(f"state {name!r} must be a float array, got dtype {value.dtype}")
            new[slot][key] = value.copy()
        self._check_slots_agree(new)
        self.t, self._state = int(t), new
        self._checked = None

    def _check_slots_agree(self, new) -> None:
        first = self._slots[0] if self._slots else None
        for slot in self._slots[1:]:
            if new[slot].keys() != new[first].keys():
                raise ValueError(f"state {slot}.* holds {sorted(new[slot])} "
                                 f"but {first}.* holds {sorted(new[first])}")
            for key, a in new[slot].items():
                b = new[first][key]
                if a.shape != b.shape or a.dtype != b.dtype:
                    raise ValueError(f"state {slot}.{key} is {a.shape} {a.dtype} "
                                     f"but {first}.{key} is {b.shape} {b.dtype}")

    def __getstate__(self):
        # Scratch space and the validation cache are rebuilt on the next step.
        return {**self.__dict__, "_scratch": {}, "_checked": None, "_groups": None}

    def __repr__(self):
        args = ", ".join(f"{h}={getattr(self, h)!r}" for h in self._hyper)
        return f"{type(self).__name__}({args})"


class GradientDescent(Optimizer):
    """Plain (mini-batch) gradient descent, notes §7: ``θ := θ − α ∂J/∂θ``.

    Stateless; ``get_state`` holds only the step counter ``t``.
    """

    name = "gd"

    def _direction(self, state, g, buf):
        return g, 1.0


class Momentum(Optimizer):
    r"""Gradient descent with momentum in the notes' EMA form (§7.2).

    Parameters
    ----------
    beta1 : float in [0, 1), default 0.9
        The momentum β1: the weight that the running average keeps of its
        old value. Each step the velocity keeps a fraction β1 of itself and
        takes the fraction 1 − β1 of the new gradient, so it averages about the
        last 1/(1 − β1) gradients. β1 = 0 is plain gradient descent.

    Notes
    -----
    With g = ∂J/∂θ at step t and v⁰ = 0::

        v^{t} = β1 v^{t-1} + (1 − β1) g^{t}
        θ^{t} = θ^{t-1} − α v^{t}

    This is the notes' §7.2 algorithm. (The notes' code also divides v by
    1 − β1^t, Remark 7.1's bias correction; the algorithm in the text does
    not, and neither does this class.) PyTorch's ``SGD(momentum=μ)`` keeps
    ``b = μ b + g`` instead, which is v/(1 − β1): it equals this class with
    its learning rate multiplied by 1 − β1.
    """

    name = "momentum"
    _slots = ("v",)
    _hyper = ("beta1",)

    def __init__(self, beta1: float = 0.9):
        self.beta1 = _unit("beta1", beta1)
        super().__init__()

    def _direction(self, state, g, buf):
        v = state["v"]
        v *= self.beta1
        v += np.multiply(g, 1.0 - self.beta1, out=buf)
        return v, 1.0


class RMSProp(Optimizer):
    r"""Root mean squared propagation (notes §7.3).

    Parameters
    ----------
    beta2 : float in [0, 1), default 0.9
        The weight the running average of g² keeps of its old value; it
        takes 1 − β2 of the new squared gradient, so it averages about the
        last 1/(1 − β2) squared gradients. 0.9 is the default of the notes'
        code and of Keras (PyTorch's is 0.99). Adam's 0.999 is too slow here,
        with no bias correction (see Notes).
    epsilon : float > 0, default 1e-8
        Added to √s so that the division is safe where s = 0.

    Notes
    -----
    With g = ∂J/∂θ at step t, squares and roots taken elementwise, s⁰ = 0::

        s^{t} = β2 s^{t-1} + (1 − β2) (g^{t})²
        θ^{t} = θ^{t-1} − α g^{t} / (√s^{t} + ε)

    The notes' text writes √(s + ε) and their code uses √ŝ + ε with the
    bias-corrected ŝ = s/(1 − β2^t). We put ε outside the root as in Adam
    (§7.4) and PyTorch's ``RMSprop``, which this class matches exactly for
    ``alpha = β2``; and, as the text, we do not correct bias. So the first
    step is α·g/(√(1 − β2)|g| + ε) ≈ α·sign(g)/√(1 − β2): about 3.2·α for
    the default β2 = 0.9, but 31.6·α for β2 = 0.999. As s fills up, within
    a few multiples of 1/(1 − β2) steps, the step tends to α·g/RMS(g). Near
    a minimum that keeps it about α long, so with a constant α the iterates
    circle the minimum within about α/2: decay the rate to converge further.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0])
    >>> RMSProp().step({"w": w}, {"w": np.array([0.5])}, lr=0.01)
    >>> w.round(4)    # 1 − 0.01 · 0.5/(√0.1 · 0.5)
    array([0.9684])
    """

    name = "rmsprop"
    _slots = ("s",)
    _hyper = ("beta2", "epsilon")

    def __init__(self, beta2: float = 0.9, epsilon: float = 1e-8):
        self.beta2 = _unit("beta2", beta2)
        self.epsilon = check_positive("epsilon", epsilon)
        super().__init__()

    def _direction(self, state, g, buf):
        s = state["s"]
        s *= self.beta2
        np.multiply(g, g, out=buf)
        buf *= 1.0 - self.beta2
        s += buf
        np.sqrt(s, out=buf)
        buf += self.epsilon
        return np.divide(g, buf, out=buf), 1.0


class Adam(Optimizer):
    r"""Adaptive moment estimation (notes §7.4): momentum and RMSProp together.

    Parameters
    ----------
    beta1 : float in [0, 1), default 0.9
        Weight the first-moment average m keeps of its old value.
    beta2 : float in [0, 1), default 0.999
        Weight the second-moment average v keeps of its old value.
    epsilon : float > 0, default 1e-8
        Added to √v̂ so that the division is safe.

    Notes
    -----
    With g = ∂J/∂θ at step t = 1, 2, ..., elementwise squares and roots,
    and m⁰ = v⁰ = 0 (the notes call these v and s)::

        m^{t} = β1 m^{t-1} + (1 − β1) g^{t}
        v^{t} = β2 v^{t-1} + (1 − β2) (g^{t})²
        m̂^{t} = m^{t} / (1 − β1^t)
        v̂^{t} = v^{t} / (1 − β2^t)
        θ^{t} = θ^{t-1} − α m̂^{t} / (√v̂^{t} + ε)

    exactly as the notes' text and code (and PyTorch's ``Adam``). To save
    passes over the arrays, the state holds the undamped sums
    M = m/(1 − β1) and V = v/(1 − β2), updated as M ← β1 M + g and
    V ← β2 V + g², and the last line is evaluated as the equal

        θ^{t} = θ^{t-1} − α c · M / (√V + ε/k),
        k = √((1 − β2)/(1 − β2^t)),   c = (1 − β1)/((1 − β1^t) k).

    So ``get_state()["m.W1"]`` is M for W1, not m; m = (1 − β1)·M.
    """

    name = "adam"
    _slots = ("m", "v")
    _hyper = ("beta1", "beta2", "epsilon")

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8):
        self.beta1 = _unit("beta1", beta1)
        self.beta2 = _unit("beta2", beta2)
        self.epsilon = check_positive("epsilon", epsilon)
        super().__init__()

    def _direction(self, state, g, buf):
        M, V = state["m"], state["v"]
        M *= self.beta1
        M += g
        V *= self.beta2
        V += np.multiply(g, g, out=buf)
        k = math.sqrt((1.0 - self.beta2) / (1.0 - self.beta2 ** self.t))
        np.sqrt(V, out=buf)
        buf += self.epsilon / k
        return np.divide(M, buf, out=buf), (1.0 - self.beta1) / ((1.0 - self.beta1 ** self.t) * k)


def _same_arrays(arrays, checked) -> bool:
    """Whether ``arrays`` are the very arrays validated last time (no copies)."""
    if checked is None:
        return False
    return all(len(new) == len(old) and all(a is b for a, b in zip(new, old))
               for new, old in zip(arrays, checked))


_OPTIMIZERS = {"gd": GradientDescent, "sgd": GradientDescent, "momentum": Momentum,
               "rmsprop": RMSProp, "adam": Adam}


def get_optimizer(spec, **kwargs) -> Optimizer:
    """Build an optimizer from a name, an instance or a ``get_config()`` dict.

    Parameters
    ----------
    spec : str, Optimizer or dict
        ``"gd"`` (alias ``"sgd"``), ``"momentum"``, ``"rmsprop"`` or ``"adam"``,
        case-insensitive; an :class:`Optimizer`, returned as is; or a dict with
        ``"name"`` and hyperparameters, as :meth:`Optimizer.get_config` returns.
    **kwargs
        Hyperparameters; they override those of a dict spec.

    Examples
    --------
    >>> get_optimizer("adam", beta1=0.8)
    Adam(beta1=0.8, beta2=0.999, epsilon=1e-08)
    """
    if isinstance(spec, Optimizer):
        if kwargs:
            raise ValueError(f"hyperparameters {sorted(kwargs)} cannot be given with an "
                             f"Optimizer instance {spec!r}")
        return spec
    if isinstance(spec, dict):
        kwargs = {**{k: v for k, v in spec.items() if k != "name"}, **kwargs}
        spec = spec.get("name")
    cls = _OPTIMIZERS.get(spec.strip().lower()) if isinstance(spec, str) else None
    if cls is None:
        raise ValueError(f"unknown optimizer {spec!r}; expected one of {sorted(_OPTIMIZERS)}, "
                         f"an Optimizer or a config dict")
    unknown = sorted(set(kwargs) - set(cls._hyper))
    if unknown:
        raise ValueError(f"unknown hyperparameters {unknown} for optimizer {spec!r}; "
                         f"it takes {list(cls._hyper)}")
    return cls(**kwargs)
