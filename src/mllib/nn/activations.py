"""Activation functions g and their reverse differentials (notes §2.1).

Every activation acts elementwise on ``z`` of shape ``(n_samples, n_units)``,
except softmax, which acts on each row. The backward rule is written in terms
of the cached *output* ``a = g(z)`` (sigmoid' = a(1 - a), tanh' = 1 - a²), so
a layer needs to keep only ``a``.

``backward(a, delta)`` returns ``delta ⊙ g'(z)``, the reverse differential
``r g_z`` applied to the upstream gradient ``delta = ∂J/∂a``. For softmax this
is the Jacobian-vector product of notes §2.1.4, ``S ⊙ (δ − ⟨δ, S⟩)`` per row.

``forward_into(z)`` returns the same bits as ``forward(z)``, but may write
them over ``z``: inference passes a temporary it owns (a layer's fresh
output), so that a chunk of 16,384 rows makes no second array of its size.

All functions but the exponential are stable for any finite input: nothing
overflows, and no result is NaN; e^z, unbounded, overflows to +∞ (see
:class:`Exp`). Underflow is not an error here and is silenced on purpose
(``np.errstate(under="ignore")``, so that it is not raised under a caller's
``np.errstate(all="raise")`` either): a result whose exact value lies below
the dtype's smallest normal number, such as e^{-|z|} for z = −200 in float32
or δ·(1 − a²) for a tiny δ, is rounded by IEEE gradual underflow to the
nearest subnormal number or to 0, which is the correctly rounded answer.
"""

from __future__ import annotations

import numpy as np

from .._jit import call
from . import fast


class Activation:
    """An activation g with its reverse differential.

    Subclasses define ``forward(z)`` and ``backward(a, delta)``; ``name`` is the
    key under which configurations and model files refer to it.
    """

    name = "activation"

    def forward(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward_into(self, z: np.ndarray) -> np.ndarray:
        """``forward(z)``, possibly written over ``z``, which the caller never reads again."""
        return self.forward(z)

    def forward_biased_into(self, z: np.ndarray, b: np.ndarray, kernels=None) -> np.ndarray:
        """``forward_into(z)`` after ``z += b``, the bias row added in place: the bits of a
        Dense layer's bias and then this activation. ``kernels``, the module
        :mod:`mllib.nn._kernels` when the model uses the compiled kernels, lets ReLU and
        leaky ReLU do both in one pass."""
        z += b
        return self.forward_into(z)

    def backward(self, a: np.ndarray, delta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward_compiled(self, a: np.ndarray, delta: np.ndarray, kernels) -> np.ndarray:
        """:meth:`backward`, with its bits; in one compiled pass where ``kernels``
        (:mod:`mllib.nn._kernels`, or None) has one for g: ReLU and leaky ReLU."""
        return self.backward(a, delta)

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other) -> bool:
        return isinstance(other, Activation) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.get_config().items())))


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^{-z});  r σ_z(δ) = δ ⊙ a ⊙ (1 − a).

    Computed from e^{-|z|} ∈ (0, 1], so that exp never overflows.
    """

    name = "sigmoid"

    def forward(self, z):
        with np.errstate(under="ignore"):   # e^{-|z|} → 0 for z ≪ 0: the right σ(z)
            return self.from_exp(z, np.exp(-np.abs(z)))

    def forward_into(self, z):
        with np.errstate(under="ignore"):
            return self.from_exp(z, np.exp(-np.abs(z)), out=z)

    @staticmethod
    def from_exp(z, e, out=None):
        """σ(z) from ``e = e^{-|z|}``: 1/(1 + e) for z ≥ 0, e/(1 + e) below; into ``out``
        if given, which may be z itself (its signs are read first)."""
        positive = z >= 0
        if out is None:
            a = np.where(positive, 1.0, e)
        else:
            a = out
            np.copyto(a, e)
            np.copyto(a, 1.0, where=positive)
        with np.errstate(under="ignore"):   # a subnormal e/(1 + e) is the right σ(z)
            a /= 1.0 + e
        return a.astype(z.dtype, copy=False)

    def backward(self, a, delta):
        # a can be subnormal for z far below 0; the product then underflows
        # harmlessly towards 0.
        with np.errstate(under="ignore"):
            return delta * a * (1.0 - a)


class Tanh(Activation):
    """tanh(z) = (e^z − e^{-z}) / (e^z + e^{-z});  r tanh_z(δ) = δ ⊙ (1 − a²)."""

    name = "tanh"

    def forward(self, z):
        with np.errstate(under="ignore"):   # tanh(z) ≈ z for a subnormal z
            return np.tanh(z)

    def forward_into(self, z):
        with np.errstate(under="ignore"):
            return np.tanh(z, out=z)

    def backward(self, a, delta):
        with np.errstate(under="ignore"):   # a² or δ·(1 − a²) below the smallest normal
            return delta * (1.0 - a * a)


class ReLU(Activation):
    """ReLU(z) = max{0, z};  r ReLU_z(δ) = δ ⊙ χ_{(0, ∞)}(z).

    The derivative at the kink z = 0 is taken as 0, as PyTorch does; it is read
    from the output, a > 0 exactly when z > 0.
    """

    name = "relu"

    def forward(self, z):
        return fast.relu(z)   # max(z, 0)

    def forward_into(self, z):
        return fast.relu(z, out=z)

    def forward_biased_into(self, z, b, kernels=None):
        if _compiled(kernels, "bias_relu", z, b):
            return z
        return super().forward_biased_into(z, b)

    def backward(self, a, delta):
        return delta * (a > 0)

    def backward_compiled(self, a, delta, kernels):
        out = _compiled_backward(kernels, a, delta, 0.0)
        return self.backward(a, delta) if out is None else out


class LeakyReLU(Activation):
    """ReLU(z; β) = max{βz, z} for 0 ≤ β < 1 (notes §2.1.3).

    r ReLU_z(δ) = δ ⊙ (β χ_{(−∞,0]}(z) + χ_{(0,∞)}(z)). The slope β is used for
    z < 0 (the notes' own code returned 1/0 and ignored β); at the kink z = 0
    it is β too, as in PyTorch. Since β ≥ 0, a > 0 exactly when z > 0, so the
    derivative is read from the output. (Testing a ≥ 0 instead would give
    slope 1 for every z < 0 when β = 0, where a = βz = −0.0.)
    """

    name = "leaky_relu"

    def __init__(self, beta: float = 0.01):
        beta = float(beta)
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"LeakyReLU slope beta must be in [0, 1), got {beta!r}")
        self.beta = beta

    def forward(self, z):
        with np.errstate(under="ignore"):   # β·z for a tiny z < 0
            return np.maximum(z, self.beta * z).astype(z.dtype, copy=False)

    def forward_into(self, z):
        with np.errstate(under="ignore"):
            return np.maximum(z, self.beta * z, out=z)

    def forward_biased_into(self, z, b, kernels=None):
        if _compiled(kernels, "bias_leaky_relu", z, b, z.dtype.type(self.beta)):
            return z
        return super().forward_biased_into(z, b)

    def backward(self, a, delta):
        slope = np.where(a > 0, 1.0, self.beta).astype(delta.dtype, copy=False)
        with np.errstate(under="ignore"):   # β·δ for a tiny δ
            return delta * slope

    def backward_compiled(self, a, delta, kernels):
        out = _compiled_backward(kernels, a, delta, self.beta)
        return self.backward(a, delta) if out is None else out

    def get_config(self):
        return {"name": self.name, "beta": self.beta}

    def __repr__(self):
        return f"LeakyReLU(beta={self.beta})"


class Softmax(Activation):
    """softmax(z)_i = e^{z_i} / Σ_k e^{z_k}, per row (notes §2.1.4).

    r S_z(δ) = S ⊙ (δ − ⟨δ, S⟩), the full Jacobian [S_i(δ_ij − S_j)] applied to
    each row's upstream gradient. The row maximum is subtracted first, so exp
    never overflows: every row's largest e^{z_i − max} is 1, so its sum lies
    in [1, n] and the row sums to 1 within rounding.
    """

    name = "softmax"

    def forward(self, z):
        return self._normalized(z, None)

    def forward_into(self, z):
        return self._normalized(z, z)

    @staticmethod
    def _normalized(z, out):
        with np.errstate(over="ignore"):
            # z_i − max z overflows to −∞ only where it lies beyond the dtype's range
            # (logits of opposite signs near its largest value); e^{−∞} = 0 is then the
            # correctly rounded answer, as for any difference below about −104 in float32.
            shifted = np.subtract(z, fast.row_max(z), out=out)
        with np.errstate(under="ignore"):
            e = np.exp(shifted, out=shifted)
            # a subnormal e_i may underflow further when divided by the sum
            e /= e.sum(axis=1, keepdims=True)
        return e

    def backward(self, a, delta):
        # As for sigmoid, a subnormal S_i underflows harmlessly in the product.
        with np.errstate(under="ignore"):
            inner = np.einsum("ij,ij->i", delta, a)[:, None]
            return a * (delta - inner)


class Linear(Activation):
    """The identity g(z) = z;  r g_z(δ) = δ."""

    name = "linear"

    def forward(self, z):
        return z

    def backward(self, a, delta):
        return delta


class Exp(Activation):
    """The exponential g(z) = e^z;  r g_z(δ) = δ ⊙ a, since (e^z)' = e^z = a.

    The output of the Poisson loss (:mod:`.losses`): a = e^z > 0 is the mean of
    a count, z its logarithm. It is the one activation here that is unbounded
    above: e^z overflows for z beyond log of the dtype's largest number (about
    709.78 in float64, 88.72 in float32), and is then +∞, the correctly
    rounded answer, without a warning; the network's checks of its outputs and
    its cost report it (:mod:`mllib.training.rows.outputs`). Below about −745
    (−103 in float32) it underflows to 0, also correctly rounded.
    """

    name = "exp"

    def forward(self, z):
        with np.errstate(over="ignore", under="ignore"):
            return np.exp(z)

    def forward_into(self, z):
        with np.errstate(over="ignore", under="ignore"):
            return np.exp(z, out=z)

    def backward(self, a, delta):
        with np.errstate(over="ignore", under="ignore"):   # as forward: ±∞ or 0 is right
            return delta * a


def _compiled(kernels, name, z, b, *scalars) -> bool:
    """Whether ``kernels.<name>(z, b, *scalars)`` (:mod:`mllib.nn._kernels`) ran: only on a
    2-D C-ordered z with a bias of its dtype, and None for kernels means NumPy."""
    if kernels is None or z.ndim != 2 or not z.flags.c_contiguous or b.dtype != z.dtype:
        return False
    return call(kernels, name, z, b, *scalars) is not None


def _compiled_backward(kernels, a, delta, slope):
    """``delta`` times 1 where a > 0 and ``slope`` elsewhere, by the kernel ``relu_backward``,
    into a new array; None where it does not run (see :func:`_compiled`)."""
    if kernels is None or a.ndim != 2 or a.shape != delta.shape or a.dtype != delta.dtype \
            or not (a.flags.c_contiguous and delta.flags.c_contiguous):
        return None
    cast = delta.dtype.type
    return call(kernels, "relu_backward", a, delta, np.empty_like(delta), cast(1.0), cast(slope))


ACTIVATIONS = {
    cls.name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU, Softmax, Linear, Exp)
}
ALIASES = {"identity": "linear", "logistic": "sigmoid", "leakyrelu": "leaky_relu",
           "exponential": "exp"}


def get_activation(spec) -> Activation:
    """Return the activation named by ``spec``.

    ``spec`` is an :class:`Activation`, a name such as ``"relu"``, or a config
    dict ``{"name": "leaky_relu", "beta": 0.2}`` as written in model files.
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, dict):
        options = dict(spec)
        name = options.pop("name", None)
        return _from_name(name, options)
    return _from_name(spec, {})


def _from_name(name, options) -> Activation:
    key = ALIASES.get(str(name).lower(), str(name).lower()) if isinstance(name, str) else None
    if key not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}"
        )
    return ACTIVATIONS[key](**options)
