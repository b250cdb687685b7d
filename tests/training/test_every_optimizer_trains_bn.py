"""Every optimizer updates every trainable parameter, batch-norm γ and β included.

The notes' batch-norm code updates γ and β with plain gradient descent only
("left out for brevity"); here each optimizer's step must move them exactly as
its formula says, from the gradients the network computed.
"""

import numpy as np
import pytest

import mllib


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
def test_one_step_moves_every_parameter_by_its_own_rule(optimizer):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 3)), rng.integers(0, 2, 16)
    net = mllib.NeuralNetwork(nodes=[3, 4, 1], activators=["relu", "sigmoid"],
                              batch_norm=True, dtype="float64", seed=1)
    before = {k: v.copy() for k, v in net.parameters().items()}
    _, grads = net.gradients(X, y)
    net.fit(X, y, optimizer=optimizer, learning_rate=0.1, epochs=1)  # one full batch
    after = net.parameters()
    assert {"gamma1", "beta1"} <= set(after)
    for name, g in grads.items():
        # First step of each rule, from zero state: GD θ − αg; momentum v = (1−β1)g;
        # RMSProp s = (1−β2)g², θ − αg/(√s + ε); Adam's first step is α·g/(|g| + ε).
        if optimizer == "gd":
            expected = before[name] - 0.1 * g
        elif optimizer == "momentum":
            expected = before[name] - 0.1 * (1 - 0.9) * g
        elif optimizer == "rmsprop":
            beta2 = net.optimizer_.get_config()["beta2"]
            expected = before[name] - 0.1 * g / (np.sqrt((1 - beta2) * g * g) + 1e-8)
        else:
            expected = before[name] - 0.1 * g / (np.abs(g) + 1e-8)
        np.testing.assert_allclose(after[name], expected, rtol=1e-9, atol=1e-12, err_msg=name)
        assert not np.array_equal(after[name], before[name]) or not g.any(), name
