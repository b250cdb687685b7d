"""Optimizer state (get/set, dtype, in place, allocation), validation and get_optimizer."""

import json
import tracemalloc

import numpy as np
import pytest

from mllib.optim import (Adam, GradientDescent, Momentum, Optimizer, ParameterSet, RMSProp,
                         get_optimizer)

from _optim_testing import SHAPES, make_problem, reference, run

pytestmark = pytest.mark.same_bits   # CI runs these again under other BLAS kernels

KINDS = ["gd", "momentum", "rmsprop", "adam"]


@pytest.mark.parametrize("kind", KINDS)
def test_saved_state_continues_bit_identically(kind, tmp_path):
    params, grads, lrs = make_problem(seed=2, n_steps=20)
    opt = get_optimizer(kind)
    run(opt, params, grads[:10], lrs[:10])
    np.savez(tmp_path / "opt.npz", **opt.get_state())
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as f:
        loaded = dict(f)
    twin, twin_params = get_optimizer(opt.get_config()), {k: p.copy() for k, p in params.items()}
    twin.set_state(loaded)
    run(opt, params, grads[10:], lrs[10:])
    run(twin, twin_params, grads[10:], lrs[10:])
    for k in SHAPES:
        assert np.array_equal(params[k], twin_params[k])
    a, b = opt.get_state(), twin.get_state()
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_get_state_is_a_flat_copy():
    params, grads, lrs = make_problem(n_steps=3)
    opt = Adam()
    run(opt, params, grads, lrs)
    state = opt.get_state()
    assert sorted(state) == sorted(["t"] + [f"{s}.{k}" for s in "mv" for k in SHAPES])
    state["m.W1"][:] = 123.0
    assert not np.any(opt.get_state()["m.W1"] == 123.0)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32_in_place(kind):
    params, grads, lrs = make_problem(seed=3, n_steps=20, dtype=np.float32)
    expected, _ = reference(kind, get_optimizer(kind).get_config(),
                            {k: p.astype(np.float64) for k, p in params.items()},
                            [{k: g.astype(np.float64) for k, g in gt.items()} for gt in grads], lrs)
    store = ParameterSet(SHAPES, np.float32)
    store.values[...] = store.flat(params)
    values, row = store.values, store.params["W1"][0]
    opt = get_optimizer(kind)
    for g, lr in zip(grads, lrs):
        store.grads[...] = store.flat(g)
        opt.step(store, np.float64(lr))
    assert store.values is values and values.dtype == np.float32
    for k in SHAPES:
        np.testing.assert_allclose(store.params[k], expected[k], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(row, store.params["W1"][0])   # the view saw the update
    assert all(a.dtype == np.float32 for k, a in opt.get_state().items() if k != "t")


@pytest.mark.parametrize("kind", KINDS)
def test_a_step_allocates_no_parameter_sized_array(kind):
    rng = np.random.default_rng(4)
    params = {"W1": rng.standard_normal((400, 500)), "b1": rng.standard_normal(400)}
    grads = {k: rng.standard_normal(p.shape) for k, p in params.items()}
    store = ParameterSet.from_arrays(params, grads)
    opt = get_optimizer(kind)
    opt.step(store, 0.01)                         # creates the state and the scratch block
    tracemalloc.start()
    try:
        opt.step(store, 0.01)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < params["W1"].nbytes // 10


# ----- validation ---------------------------------------------------------------------------

@pytest.mark.parametrize("make, match", [
    (lambda: Momentum(beta1=1.0), r"beta1 .*\[0, 1\).*got 1\.0"),
    (lambda: Momentum(beta1=-0.1), r"beta1 .*got -0\.1"),
    (lambda: Adam(beta1=1.5), r"beta1 .*got 1\.5"),
    (lambda: Adam(beta2=float("nan")), r"beta2 .*got nan"),
    (lambda: Adam(epsilon=0.0), r"epsilon .*got 0\.0"),
    (lambda: RMSProp(beta2=1.0), r"beta2 .*got 1\.0"),
    (lambda: RMSProp(epsilon=-1e-8), r"epsilon .*got -1e-08"),
    (lambda: RMSProp(beta2="0.9"), r"beta2 .*got '0\.9'"),
    (lambda: Adam(beta1=True), r"beta1 .*got True"),
])
def test_constructors_reject_out_of_range_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def snapshot(opt, params):
    return opt.get_state(), {k: p.copy() for k, p in params.items()}


def assert_unchanged(opt, params, before):
    state, values = before
    after = opt.get_state()
    assert after.keys() == state.keys() and all(np.array_equal(after[k], state[k]) for k in state)
    assert all(np.array_equal(params[k], values[k]) for k in params)


def bound_problem(kind, n_steps=2):
    """An optimizer that has taken one step on a store bound to ``params`` and ``live``."""
    params, grads, lrs = make_problem(n_steps=n_steps)
    live = {k: g.copy() for k, g in grads[0].items()}
    store = ParameterSet.from_arrays(params, live)
    opt = get_optimizer(kind)
    opt.step(store, lrs[0])
    return opt, store, params, live


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad, match", [
    (lambda g: g.pop("b1"), r"grads\['b1'\] of b1 .*\(5,\).*NoneType"),
    (lambda g: g.update(gamma1=np.zeros(4)), r"grads\['gamma1'\] of gamma1 .*\(5,\).*\(4,\)"),
    (lambda g: g.update(b1=list(g["b1"])), r"grads\['b1'\].*list"),
    (lambda g: g.update(W2=np.zeros((2, 5), dtype=object)), r"grads\['W2'\]"),
])
def test_step_rejects_bad_replaced_grads_before_changing_anything(kind, bad, match):
    opt, store, params, live = bound_problem(kind)
    before = snapshot(opt, params)
    bad(live)
    with pytest.raises(ValueError, match=match):
        opt.step(store, 0.01)
    assert_unchanged(opt, params, before)


@pytest.mark.parametrize("kind", KINDS)
def test_a_replaced_array_is_copied_into_the_store_and_rebound(kind):
    # A layer written with plain dicts may assign new arrays instead of writing in place.
    params, grads, lrs = make_problem(n_steps=3)
    twin_params = {k: p.copy() for k, p in params.items()}
    run(get_optimizer(kind), twin_params, grads, lrs)
    live = {k: np.zeros_like(p) for k, p in params.items()}
    store, opt = ParameterSet.from_arrays(params, live), get_optimizer(kind)
    for g, lr in zip(grads, lrs):
        live.update({k: a.copy() for k, a in g.items()})        # new arrays, not views
        params["W1"] = params["W1"].copy()                       # and a replaced parameter
        opt.step(store, lr)
        assert live["W2"] is store.grad_views["W2"] and params["W1"] is store.params["W1"]
    for k in SHAPES:
        np.testing.assert_array_equal(params[k], twin_params[k])


@pytest.mark.parametrize("lr, match", [(-0.1, r"lr .*got -0\.1"), (float("nan"), r"lr .*nan"),
                                       (float("inf"), r"lr .*inf"), ("0.1", r"lr .*'0\.1'")])
def test_step_rejects_bad_learning_rates(lr, match):
    opt, store, params, _ = bound_problem("adam")
    before = snapshot(opt, params)
    with pytest.raises(ValueError, match=match):
        opt.step(store, lr)
    assert_unchanged(opt, params, before)


def test_step_rejects_a_store_of_other_parameters():
    opt, store, params, live = bound_problem("momentum")
    fewer = {k: v for k, v in params.items() if k != "W2"}
    other = ParameterSet.from_arrays(fewer, {k: live[k] for k in fewer})
    with pytest.raises(ValueError, match=r"holds state for parameters .*W2"):
        opt.step(other, 0.01)
    reshaped = ParameterSet({**store.shapes, "b1": (7,)}, store.dtype)
    with pytest.raises(ValueError, match=r"b1 \(5,\).* not .*b1 \(7,\)"):
        opt.step(reshaped, 0.01)
    with pytest.raises(ValueError, match=r"float64.* not .*float32"):
        opt.step(ParameterSet(store.shapes, np.float32), 0.01)
    assert opt.t == 1


def test_loaded_state_must_fit_the_store():
    opt, store, _, _ = bound_problem("adam")
    state = opt.get_state()
    state["m.b1"], state["v.b1"] = np.zeros(7), np.zeros(7)
    twin = Adam()
    twin.set_state(state)
    with pytest.raises(ValueError, match=r"state m\.\* holds .*b1 \(7,\)"):
        twin.init(store)


@pytest.mark.parametrize("state, match", [
    ({"m.W1": np.zeros(3), "v.W1": np.zeros(3)}, r"'t'"),
    ({"t": np.array(-1)}, r"'t'.*-1"),
    ({"t": np.array(2.5)}, r"'t'"),
    ({"t": np.array(1), "q.W1": np.zeros(3)}, r"'q\.W1'"),
    ({"t": np.array(1), "m.": np.zeros(3)}, r"'m\.'"),
    ({"t": np.array(1), "m.W1": np.zeros(3)}, r"v\.\* holds \[\] but m\.\* holds \[W1 \(3,\)\]"),
    ({"t": np.array(1), "m.W1": np.zeros(3), "v.W1": np.zeros(4)}, r"v\.\* holds \[W1 \(4,\)\]"),
    ({"t": np.array(1), "m.W1": np.zeros(3, int), "v.W1": np.zeros(3)}, r"'m\.W1'.*int64"),
])
def test_set_state_rejects_malformed_state(state, match):
    opt = Adam()
    with pytest.raises(ValueError, match=match):
        opt.set_state(state)
    assert opt.get_state().keys() == {"t"}


# ----- get_optimizer ------------------------------------------------------------------------

@pytest.mark.parametrize("spec, cls", [("gd", GradientDescent), ("sgd", GradientDescent),
                                       ("Momentum", Momentum), (" rmsprop ", RMSProp),
                                       ("ADAM", Adam)])
def test_get_optimizer_by_name(spec, cls):
    opt = get_optimizer(spec)
    assert type(opt) is cls and isinstance(opt, Optimizer)


def test_get_optimizer_round_trips_configs_through_json():
    for opt in [GradientDescent(), Momentum(0.7), RMSProp(0.9, 1e-6), Adam(0.8, 0.99, 1e-7)]:
        config = json.loads(json.dumps(opt.get_config()))
        assert get_optimizer(config).get_config() == opt.get_config()
        assert get_optimizer(opt) is opt
    assert get_optimizer({"name": "adam", "beta1": 0.8}, beta1=0.5).beta1 == 0.5
    assert Adam().get_config() == {"name": "adam", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    assert RMSProp().get_config() == {"name": "rmsprop", "beta2": 0.9, "epsilon": 1e-8}


@pytest.mark.parametrize("call, match", [
    (lambda: get_optimizer("adagrad"), r"'adagrad'"),
    (lambda: get_optimizer(None), r"None"),
    (lambda: get_optimizer({"beta1": 0.9}), r"None"),
    (lambda: get_optimizer("gd", beta1=0.9), r"\['beta1'\].*'gd'"),
    (lambda: get_optimizer({"name": "adam", "lr": 0.1}), r"\['lr'\]"),
    (lambda: get_optimizer(Adam(), beta1=0.5), r"\['beta1'\]"),
    (lambda: get_optimizer("momentum", beta1=2.0), r"beta1 .*2\.0"),
])
def test_get_optimizer_rejects_bad_specs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
