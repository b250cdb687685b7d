"""The optimizers' compiled steps (mllib[fast]) give the bits of the NumPy path (issue 20).

Every optimizer, the scikit-learn estimators' variants among them, steps the same
parameters through the same gradients twice in one process: with ``MLLIB_KERNELS=numpy``
(the reference) and with ``MLLIB_KERNELS=numba`` (the kernels, whatever the size).
θ, the state and t must agree bit for bit, in float32 and float64, on normal gradients
whose units die (their moments decay below the smallest normal number and are
flushed), on gradients whose squares underflow, and on all-subnormal gradients.

The mutants at the end show that these comparisons catch what the kernels must not
do: a multiply-add contracted into one rounding, an operation order changed, the
flush of tiny moments left out.
"""

import re

import numpy as np
import pytest

numba = pytest.importorskip("numba", reason="the mllib[fast] extra (installed by mllib[test])")

from mllib import _jit  # noqa: E402
from mllib.optim import Adam, GradientDescent, Momentum, ParameterSet, RMSProp  # noqa: E402
from mllib.optim import _kernels  # noqa: E402

import _optim_mutants as mutants  # noqa: E402

pytestmark = pytest.mark.same_bits

OPTIMIZERS = {
    "gd": GradientDescent, "momentum": lambda: Momentum(0.9),
    "nesterov": lambda: Momentum(0.9, nesterov=True), "rmsprop": RMSProp, "adam": Adam,
    # what MLPClassifier(solver=...) makes (mllib.sklearn._base.make_optimizer)
    "sk_sgd_nesterov": lambda: Momentum(beta1=0.8, nesterov=True),
    "sk_sgd": lambda: Momentum(beta1=0.5), "sk_rmsprop": lambda: RMSProp(0.99, 1e-7),
    "sk_adam": lambda: Adam(beta1=0.8, beta2=0.99, epsilon=1e-7),
}
# gradient scale, steps, and the step after which half the units get zero gradients
REGIMES = {
    "normal": {np.float32: (1e-2, 900, 50), np.float64: (1e-2, 300, 50)},
    "underflowing": {np.float32: (1e-19, 120, 60), np.float64: (1e-155, 120, 60)},
    "all_tiny": {np.float32: (1e-41, 60, 60), np.float64: (1e-312, 60, 60)},
}
N = 1031   # not a multiple of any vector width: the kernels' remainder loops run too


def trained(kind, dtype, regime, mode, monkeypatch, seed=0):
    """θ and the state of an optimizer of ``kind`` after ``regime``'s steps, in ``mode``."""
    scale, steps, dead_after = REGIMES[regime][dtype]
    monkeypatch.setenv("MLLIB_KERNELS", mode)
    rng = np.random.default_rng(seed)
    params = {"w": rng.standard_normal(N).astype(dtype)}
    store = ParameterSet.from_arrays(params, {"w": np.zeros(N, dtype)})
    opt = OPTIMIZERS[kind]()
    for t in range(steps):
        g = rng.standard_normal(N) * scale
        g[::7] = 0.0
        if t >= dead_after:
            g[: N // 2] = 0.0
        store.grads[...] = g.astype(dtype)
        opt.step(store, 1e-3 * (1.0 + 0.5 * np.sin(t)))
    return {"theta": store.values.copy(), **opt.get_state()}


def assert_same_bits(ours, reference):
    assert ours.keys() == reference.keys()
    for key, value in reference.items():
        assert ours[key].dtype == value.dtype, key
        assert ours[key].tobytes() == value.tobytes(), f"{key} differs"


@pytest.mark.parametrize("regime", list(REGIMES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("kind", list(OPTIMIZERS))
def test_the_kernel_step_has_the_bits_of_the_numpy_step(kind, dtype, regime, monkeypatch):
    reference = trained(kind, dtype, regime, "numpy", monkeypatch)
    assert_same_bits(trained(kind, dtype, regime, "numba", monkeypatch), reference)


@pytest.mark.parametrize("kind", ["momentum", "rmsprop", "adam"])
def test_the_normal_regime_flushes_moments_that_only_the_flush_makes_zero(kind, monkeypatch):
    # Without the flush, β·m rounds the smallest subnormal back to itself: a moment of
    # a dead unit never reaches 0. So zeros in the dead half prove the flush ran.
    state = trained(kind, np.float32, "normal", "numba", monkeypatch)
    first = next(k for k in state if k not in ("t", "theta"))
    dead = state[first][: N // 2]
    assert (dead[np.arange(N // 2) % 7 != 0] == 0).all()


def test_the_kernel_runs_in_numba_mode_and_not_in_numpy_mode(monkeypatch):
    # A mutant that does nothing shows which path each mode takes.
    monkeypatch.setattr(_kernels, "gd_step", mutants.gd_step_nothing)
    untouched = trained("gd", np.float64, "normal", "numba", monkeypatch)
    moved = trained("gd", np.float64, "normal", "numpy", monkeypatch)
    start = np.random.default_rng(0).standard_normal(N)
    assert untouched["theta"].tobytes() == start.tobytes()
    assert moved["theta"].tobytes() != start.tobytes()


FMA = re.compile(r"\bv?f(?:n)?m(?:add|sub)\w*", re.I)   # x86's fused multiply-adds


@pytest.mark.skipif(_jit.MACHINE != "x86_64", reason="reads x86-64 assembly")
@pytest.mark.parametrize("name", ["adam_step", "nesterov_step"])
def test_the_kernels_are_compiled_without_fused_multiply_adds(name):
    # Compiled again, uncached, with the kernels' own options (numba shows no cached code).
    source = getattr(_kernels, name).py_func
    ours = numba.njit(cache=False, **_jit.OPTIONS)(source)
    contracted = _contracted(getattr(_kernels, name))
    arrays = {"adam_step": 4, "nesterov_step": 3}[name]     # θ, g and the state
    scalars = source.__code__.co_argcount - arrays
    for kernel in (ours, contracted):
        kernel(*(np.zeros(8) for _ in range(arrays)), *(0.5 for _ in range(scalars)))
    assert not FMA.search(ours.inspect_asm(ours.signatures[0]))
    assert FMA.search(contracted.inspect_asm(contracted.signatures[0]))   # the check sees them


# -- mutants: each must make the comparison fail -----------------------------------

def _contracted(kernel):
    """The kernel's own source compiled with multiply-adds contracted into FMAs (not
    cached: the cache would not tell it from the kernel)."""
    return numba.njit(error_model="numpy", fastmath={"contract"}, cache=False)(kernel.py_func)


@pytest.mark.parametrize("kind, name", [("adam", "adam_step"), ("nesterov", "nesterov_step")])
def test_a_contracted_multiply_add_fails_the_comparison(kind, name, monkeypatch):
    reference = trained(kind, np.float32, "normal", "numpy", monkeypatch)
    assert_same_bits(trained(kind, np.float32, "normal", "numba", monkeypatch), reference)
    monkeypatch.setattr(_kernels, name, _contracted(getattr(_kernels, name)))
    with pytest.raises(AssertionError, match="differs"):
        assert_same_bits(trained(kind, np.float32, "normal", "numba", monkeypatch), reference)


@pytest.mark.parametrize("kind, name, mutant", [
    ("adam", "adam_step", mutants.adam_step_reordered),
    ("rmsprop", "rmsprop_step", mutants.rmsprop_step_reordered),
])
def test_another_operation_order_fails_the_comparison(kind, name, mutant, monkeypatch):
    reference = trained(kind, np.float64, "normal", "numpy", monkeypatch)
    monkeypatch.setattr(_kernels, name, mutant)
    with pytest.raises(AssertionError, match="differs"):
        assert_same_bits(trained(kind, np.float64, "normal", "numba", monkeypatch), reference)


@pytest.mark.parametrize("regime", ["normal", "underflowing", "all_tiny"])
def test_leaving_out_the_flush_fails_the_comparison(regime, monkeypatch):
    reference = trained("adam", np.float32, regime, "numpy", monkeypatch)
    monkeypatch.setattr(_kernels, "adam_step", mutants.adam_step_without_flush)
    with pytest.raises(AssertionError, match="differs"):
        assert_same_bits(trained("adam", np.float32, regime, "numba", monkeypatch), reference)


def test_float_errors_reach_numpys_error_state_as_on_the_numpy_path(monkeypatch):
    # g² overflows to inf: NumPy warns (or raises) by its error state; so do the kernels.
    for mode in ("numpy", "numba"):
        monkeypatch.setenv("MLLIB_KERNELS", mode)
        store = ParameterSet.from_arrays({"w": np.ones(3, np.float32)},
                                         {"w": np.full(3, 1e30, np.float32)})
        with pytest.warns(RuntimeWarning, match="overflow encountered"):
            RMSProp().step(store, 1e-3)
        with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
            RMSProp().step(store, 1e-3)
        with np.errstate(all="raise"):   # underflow alone is the step's own affair
            Adam().step(ParameterSet.from_arrays({"w": np.ones(3, np.float32)},
                                                 {"w": np.full(3, 1e-30, np.float32)}), 1e-3)
