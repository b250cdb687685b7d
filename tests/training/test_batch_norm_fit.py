"""The fit loop never steps on a batch of one row when the network has batch norm."""

import numpy as np
import pytest

import mllib


def bn_net(**kwargs):
    options = dict(nodes=[3, 4, 1], activators=["relu", "sigmoid"], batch_norm=True,
                   seed=0, dtype="float64")
    options.update(kwargs)
    return mllib.NeuralNetwork(**options)


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] > 0).astype(int)


def test_a_trailing_one_row_batch_joins_the_batch_before_it():
    X, y = data(33)
    net = bn_net()
    W1 = net.parameters()["W1"].copy()
    seen = []
    net.fit(X, y, epochs=1, batch_size=32, optimizer="gd", learning_rate=0.1,
            callbacks=[mllib.LambdaCallback(on_batch_end=lambda batch, logs: seen.append(batch))])
    assert seen == [0]  # one step, on all 33 rows
    # One EMA update from the batch of 33, with the weights before the step
    # (batch-norm layers have no bias): running = m·running + (1 − m)·batch.
    U = X @ W1.T
    mean, var = U.mean(axis=0), U.var(axis=0)
    state = net.state()
    np.testing.assert_allclose(state["running_mean1"], 0.9 * 0.0 + 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(state["running_var1"], 0.9 * 1.0 + 0.1 * var, rtol=1e-12)


def test_without_batch_norm_the_one_row_batch_stays():
    X, y = data(33)
    net = bn_net(batch_norm=None)
    sizes = []
    net.fit(X, y, epochs=1, batch_size=32,
            augment=lambda batch, rng: sizes.append(batch.shape[0]) or batch)
    assert sizes == [32, 1]


@pytest.mark.parametrize("n, batch_size, match", [
    (40, 1, "batch_size=1"),
    (1, None, "1 row"),
    (1, 8, "1 row"),
])
def test_batch_norm_refuses_batches_of_one_row(n, batch_size, match):
    X, y = data(n)
    net = bn_net()
    before = net.get_weights()
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, epochs=1, batch_size=batch_size)
    assert net.epoch_ == 0 and net.optimizer_ is None and net.targets_.classes is None
    for name, value in before.items():
        np.testing.assert_array_equal(net.get_weights()[name], value)
