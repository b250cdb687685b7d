"""Tiny moments are stored as 0, and no step raises under np.errstate(all="raise") (issue 11).

A moment below the dtype's smallest normal number (a subnormal one) would be multiplied
by β at every step, which underflows and runs about 45 times slower; after a step in which
anything underflowed, the optimizers set such entries of their state to 0. Every other
entry keeps the bits of the notes' formulas.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mllib.optim import ParameterSet, get_optimizer

MOMENTS = {"momentum": ("v",), "rmsprop": ("s",), "adam": ("m", "v")}
KINDS = pytest.mark.parametrize("kind", ["gd", *MOMENTS])
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])


def normal_problem(dtype, n=50, seed=0):
    rng = np.random.default_rng(seed)
    params = {"a": rng.normal(size=n).astype(dtype)}
    grads = {"a": (rng.normal(size=n) * 1e-2).astype(dtype)}
    state = {f"{slot}.a": np.abs(rng.normal(size=n)).astype(dtype) * 1e-4
             for slot in ("m", "v", "s")}
    return params, grads, state


def stepped(kind, params, grads, state, t=3, steps=1):
    """``(params, state)`` after ``steps`` steps from ``state`` at step t, all under raise."""
    opt = get_optimizer(kind)
    slots = MOMENTS.get(kind, ())
    opt.set_state({"t": np.array(t), **{k: v for k, v in state.items()
                                        if k.split(".")[0] in slots}})
    params = {k: v.copy() for k, v in params.items()}
    store = ParameterSet.from_arrays(params, {k: v.copy() for k, v in grads.items()})
    with np.errstate(all="raise"):
        for _ in range(steps):
            opt.step(store, 1e-3)
    return params, opt.get_state()


@KINDS
@DTYPES
def test_subnormal_moments_become_zero_and_the_others_keep_their_bits(kind, dtype):
    params, grads, state = normal_problem(dtype)
    alone = stepped(kind, params, grads, state)
    # The same parameters beside others whose gradients are 0 and whose moments are
    # subnormal: β·m underflows there, which must change nothing for "a".
    tiny = np.finfo(dtype).tiny
    params["t"] = np.ones(4, dtype=dtype)
    grads["t"] = np.zeros(4, dtype=dtype)
    for slot in ("m", "v", "s"):
        state[f"{slot}.t"] = np.array([tiny / 3, tiny / 1000, 3 * tiny, 0.0], dtype=dtype)
    together = stepped(kind, params, grads, state)
    np.testing.assert_array_equal(together[0]["a"], alone[0]["a"])
    for key, value in alone[1].items():
        np.testing.assert_array_equal(together[1][key], value, err_msg=key)
    for slot in MOMENTS.get(kind, ()):
        after = together[1][f"{slot}.t"]
        # 3·tiny·β stays normal and is kept; the subnormal ones are 0 now.
        beta = get_optimizer(kind).beta2 if slot in ("s",) or (kind, slot) == ("adam", "v") \
            else get_optimizer(kind).beta1
        np.testing.assert_array_equal(after, np.array([0, 0, 3 * tiny * dtype(beta), 0], dtype))


@KINDS
def test_which_moments_are_flushed_does_not_depend_on_the_block_size(kind):
    params, grads, state = normal_problem(np.float32, n=1000)
    grads["a"][::3] = 0.0
    state = {k: np.where(np.arange(1000) % 3 == 0, v * 1e-36, v) for k, v in state.items()}
    results = []
    for block in (7, 1 << 16):
        opt = get_optimizer(kind)
        opt.block_size = block
        p = {k: v.copy() for k, v in params.items()}
        store = ParameterSet.from_arrays(p, grads)
        slots = MOMENTS.get(kind, ())
        opt.set_state({"t": np.array(2), **{k: v for k, v in state.items()
                                            if k.split(".")[0] in slots}})
        with np.errstate(all="raise"):
            for _ in range(40):
                opt.step(store, 1e-3)
        results.append((p["a"], opt.get_state()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for key, value in results[0][1].items():
        np.testing.assert_array_equal(results[1][1][key], value, err_msg=key)
    if kind != "gd":
        assert any((v == 0).any() for k, v in results[0][1].items() if k != "t")


def finite(dtype, bound):
    width = 32 if dtype == np.float32 else 64
    return st.floats(-float(dtype(bound)), float(dtype(bound)), width=width)


@KINDS
@DTYPES
@settings(max_examples=30)
@given(data=st.data())
def test_no_step_raises_and_no_moment_stays_subnormal(kind, dtype, data):
    # Gradients and moments of any size whose squares the dtype holds (fit checks that
    # ‖g‖² is finite before it steps), subnormal ones included.
    bound = 1e18 if dtype == np.float32 else 1e150
    n = data.draw(st.integers(1, 40))
    values = {name: data.draw(arrays(dtype, n, elements=finite(dtype, bound)))
              for name in ("p", "g", "m", "v", "s")}
    state = {f"{slot}.a": np.abs(values[slot]) if slot != "m" else values[slot]
             for slot in ("m", "v", "s")}
    params, after = stepped(kind, {"a": values["p"]}, {"a": values["g"]}, state, t=5)
    assert np.isfinite(params["a"]).all()
    assert all(np.isfinite(v).all() for v in after.values())
    # A step with zero gradients multiplies every moment by β, which no subnormal
    # survives exactly: afterwards each is 0 or at least the smallest normal number.
    moments = {k: v for k, v in after.items() if k != "t"}
    params, final = stepped(kind, params, {"a": np.zeros(n, dtype)}, moments, t=6)
    tiny = np.finfo(dtype).tiny
    for key, value in final.items():
        if key != "t":
            assert ((value == 0) | (np.abs(value) >= tiny)).all(), (key, value)
