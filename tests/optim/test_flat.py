"""The flat-buffer path of the optimizers gives the same bits as the per-parameter loop."""

import numpy as np
import pytest

import mllib
from mllib.optim import get_optimizer
from mllib.optim.flat import pack, tiled_base, views_of

SHAPES = [(4, 3), (4,), (2, 4), (2,)]


def arrays(seed):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(np.float32) for shape in SHAPES]


def test_tiled_base_recognizes_only_exact_consecutive_views():
    views = pack(arrays(0), np.float32)
    base = tiled_base(views)
    assert base is not None and base.size == sum(v.size for v in views)
    assert tiled_base(views[::-1]) is None            # out of order
    assert tiled_base(views[:-1]) is None             # does not cover the buffer
    assert tiled_base(arrays(0)) is None              # separate arrays
    assert tiled_base(views_of(np.zeros(40), [(4, 3), (4,)])) is None


@pytest.mark.parametrize("name", ["gd", "momentum", "rmsprop", "adam"])
def test_flat_and_separate_parameters_give_the_same_bits(name):
    keys = ["W1", "b1", "W2", "b2"]
    separate = dict(zip(keys, arrays(1)))
    flat = dict(zip(keys, pack(arrays(1), np.float32)))
    flat_grads = dict(zip(keys, pack(arrays(2), np.float32)))
    opt_separate, opt_flat = get_optimizer(name), get_optimizer(name)
    for step in range(6):
        grads = dict(zip(keys, arrays(10 + step)))
        for key in keys:
            flat_grads[key][...] = grads[key]
        opt_separate.step(separate, grads, lr=0.01)
        opt_flat.step(flat, flat_grads, lr=0.01)
        if step == 2:   # state loaded per parameter is packed again, exactly
            restored = get_optimizer(name)
            restored.set_state(opt_flat.get_state())
            opt_flat = restored
    for key in keys:
        np.testing.assert_array_equal(flat[key], separate[key])
    for key, value in opt_separate.get_state().items():
        np.testing.assert_array_equal(opt_flat.get_state()[key], value)


def test_a_network_keeps_its_parameters_and_gradients_in_one_buffer_each():
    net = mllib.NeuralNetwork(nodes=[3, 4, 2, 1], activators=["relu", "relu", "sigmoid"],
                              batch_norm=True)
    assert tiled_base(list(net.parameters().values())) is not None
    assert tiled_base(list(net._live_gradients().values())) is not None
