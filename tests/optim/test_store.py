"""The parameter store: its layout, binding layers to it, copies, and blockwise updates."""

import copy
import pickle

import numpy as np
import pytest

import mllib
from mllib.nn.layers import Dense, Layer
from mllib.optim import Adam, ParameterSet, get_optimizer
from mllib.optim.store import ALIGNMENT, aligned_zeros

from _optim_testing import make_problem, run

pytestmark = pytest.mark.same_bits   # CI runs these again under other BLAS kernels


def test_views_tile_the_buffers_in_order():
    store = ParameterSet({"W1": (2, 3), "b1": (2,), "W2": (1, 2)}, np.float32)
    assert store.size == 10 and list(store.shapes) == ["W1", "b1", "W2"]
    store.values[...] = np.arange(10)
    np.testing.assert_array_equal(store.params["W1"], [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(store.params["b1"], [6, 7])
    np.testing.assert_array_equal(store.params["W2"], [[8, 9]])
    store.grad_views["b1"][...] = 5
    np.testing.assert_array_equal(store.grads, [0] * 6 + [5, 5] + [0, 0])
    with pytest.raises(ValueError, match=r"buffer has shape \(9,\), expected \(10,\)"):
        store.views(np.zeros(9))
    with pytest.raises(ValueError, match="holds floats, got dtype int64"):
        ParameterSet({"w": (1,)}, np.int64)


def test_layers_read_and_write_through_their_views():
    rng = np.random.default_rng(0)
    dense = Dense(3, 2, rng=rng, dtype=np.float64)
    W = dense.params["W"].copy()
    store = ParameterSet.from_layers([(1, dense)], np.float64)
    np.testing.assert_array_equal(store.params["W1"], W)
    assert dense.params["W"] is store.params["W1"] and dense.grads["b"] is store.grad_views["b1"]
    store.values[0] = 42.0
    assert dense.params["W"][0, 0] == 42.0
    dense.forward(np.ones((4, 3)), training=True)
    dense.backward(np.ones((4, 2)))
    np.testing.assert_array_equal(store.grad_views["b1"], [4.0, 4.0])


class PlainDense(Layer):
    """A user's layer: new arrays for its gradients on every backward pass."""

    def __init__(self, W):
        super().__init__()
        self.params["W"] = W.copy()
        self.grads["W"] = np.zeros_like(W)

    def forward(self, x, training=False):
        self._x = x
        return x @ self.params["W"].T

    def backward(self, delta):
        self.grads["W"] = delta.T @ self._x
        return delta @ self.params["W"]


def test_a_users_layer_that_replaces_its_arrays_trains_to_the_same_bits():
    rng = np.random.default_rng(1)
    X, D = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    dense = Dense(3, 2, bias=False, rng=rng, dtype=np.float64)
    plain = PlainDense(dense.params["W"])
    W0 = dense.params["W"].copy()
    results = []
    for layer in (dense, plain):
        store, opt = ParameterSet.from_layers([(1, layer)], np.float64), Adam()
        for _ in range(5):
            layer.forward(X, training=True)
            layer.backward(D - layer.forward(X))
            opt.step(store, 0.1)
        results.append(store.values.copy())
    assert np.abs(results[0] - W0.ravel()).min() > 1e-3     # every weight moved
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("kind", ["gd", "momentum", "rmsprop", "adam"])
def test_the_update_has_the_same_bits_in_any_block_size(kind):
    params, grads, lrs = make_problem(seed=6, n_steps=15, dtype=np.float32)
    finals = []
    for block in (1, 7, 16, 64, 1 << 16):
        opt = get_optimizer(kind)
        opt.block_size = block
        ps = run(opt, {k: p.copy() for k, p in params.items()}, grads, lrs)
        finals.append((np.concatenate([p.ravel() for p in ps.values()]), opt.get_state()))
    for values, state in finals[1:]:
        np.testing.assert_array_equal(values, finals[0][0])
        assert all(np.array_equal(state[k], finals[0][1][k]) for k in state)


# -- a network's store survives copies, pickles and model files ----------------------------

def _data():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(90, 4))
    return X, (X[:, 0] - X[:, 1] > 0).astype(int)


def _trained():
    net = mllib.NeuralNetwork(nodes=[None, 8, 6, 1], activators=["relu", "tanh", "sigmoid"],
                              batch_norm=[False, True, False, False], keep_probs=[1, 0.8, 1, 1],
                              seed=3)
    net.fit(*_data(), epochs=2, batch_size=16)
    return net


def _assert_bound(net):
    """Every layer's parameter and gradient is its store's view, and nothing else."""
    store = net.store
    for l, layer in net.stack.named:
        for k in layer.params:
            assert layer.params[k] is store.params[f"{k}{l}"]
            assert layer.grads[k] is store.grad_views[f"{k}{l}"]
            assert np.shares_memory(layer.params[k], store.values)
            assert np.shares_memory(layer.grads[k], store.grads)


@pytest.mark.parametrize("remake", [
    copy.deepcopy,
    lambda net: pickle.loads(pickle.dumps(net)),
    "file",
], ids=["deepcopy", "pickle", "save-load"])
def test_a_copy_keeps_the_layout_and_trains_on_to_the_same_bits(remake, tmp_path):
    net = _trained()
    if remake == "file":
        net.save(tmp_path / "m.npz")
        twin = mllib.load(tmp_path / "m.npz")
    else:
        twin = remake(net)
    _assert_bound(twin)
    assert twin.store is not net.store and not np.shares_memory(twin.store.values, net.store.values)
    _assert_aligned(twin)
    X, y = _data()
    net.fit(X, y, epochs=2, batch_size=16)
    twin.fit(X, y, epochs=2, batch_size=16)
    _assert_bound(twin)
    for name, value in net.get_weights().items():
        np.testing.assert_array_equal(twin.get_weights()[name], value, err_msg=name)
    a, b = net.optimizer_.get_state(), twin.optimizer_.get_state()
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _assert_aligned(net):
    """The buffers an optimizer step writes start on a cache line (see aligned_zeros)."""
    opt = net.optimizer_
    opt.init(net.store)               # what a step does first; it changes no number
    buffers = [net.store.values, net.store.grads, opt._scratch_for(net.store, 1),
               *opt._state.values()]
    assert len(buffers) == 5 and all(b.ctypes.data % ALIGNMENT == 0 for b in buffers)


def test_the_optimizers_buffers_start_on_a_cache_line():
    net = _trained()
    _assert_aligned(net)
    opt = Adam()
    opt.set_state(net.optimizer_.get_state())   # loaded state goes into new buffers
    net.optimizer_ = opt
    _assert_aligned(net)
    for size, dtype in [(1, np.float32), (7, np.float64), (100_003, np.float32)]:
        zeros = aligned_zeros(size, dtype)
        assert zeros.shape == (size,) and zeros.dtype == dtype and not zeros.any()
        assert zeros.ctypes.data % ALIGNMENT == 0 and ALIGNMENT == 64


def test_names_must_be_unique_and_shapes_non_negative_integers():
    dense = Dense(2, 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="two layers have a parameter named W1"):
        ParameterSet.from_layers([(1, dense), (1, Dense(2, 2, rng=np.random.default_rng(1)))],
                                 np.float32)
    for bad in [(2, -1), (2.5,), (True,)]:
        with pytest.raises(ValueError, match=r"the shape of W must be non-negative integers"):
            ParameterSet({"W": bad}, np.float32)


def test_what_a_layer_assigned_is_seen_by_get_weights_and_copies_before_any_step():
    net = _trained()
    dense = net.layers[[type(layer) for layer in net.layers].index(Dense)]
    dense.params["W"] = np.full_like(dense.params["W"], 0.5)       # assigned, not written in
    assert np.all(net.get_weights()["W1"] == 0.5)
    assert np.all(pickle.loads(pickle.dumps(net)).get_weights()["W1"] == 0.5)
    assert dense.params["W"] is net.store.params["W1"]
    assert np.all(net.parameters()["W1"] == 0.5)


def test_parameters_is_a_new_dict_of_the_live_arrays():
    net = _trained()
    params = net.parameters()
    params["W1"] = np.zeros(3)
    assert net.parameters()["W1"].shape == (8, 4)
    assert net.parameters()["W1"] is net.store.params["W1"]
