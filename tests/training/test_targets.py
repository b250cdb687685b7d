"""How labels become targets: the classes that nodes[L] fixes, widths, one-column y."""

import numpy as np
import pytest

import mllib


def blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2))


def softmax_net(n_out, **kwargs):
    return mllib.NeuralNetwork(nodes=[2, n_out], activators=["softmax"], seed=0, **kwargs)


def sigmoid_net(n_out=1, **kwargs):
    return mllib.NeuralNetwork(nodes=[2, n_out], activators=["sigmoid"], seed=0, **kwargs)


def test_a_sigmoid_output_of_two_units_refuses_a_1d_y():
    X = blobs()
    y = (X[:, 0] > 0).astype(int)
    net = sigmoid_net(2)
    with pytest.raises(ValueError, match=r"a sigmoid output with nodes\[L\]=2 needs y of "
                                         r"shape \(n_samples, 2\), got \(60,\)"):
        net.fit(X, y, epochs=1)
    with pytest.raises(ValueError, match=r"nodes\[L\]=2"):
        net.gradients(X, y)
    assert net.targets_.classes is None and net.optimizer_ is None
    net.fit(X, np.stack([y, 1 - y], axis=1), epochs=1)  # multi-label 0/1 rows are fine


def test_integer_labels_keep_every_unit_of_a_fixed_softmax_width():
    X = blobs()
    y = np.where(X[:, 0] > 0, 2, 0)  # class 1 never occurs in training
    net = softmax_net(3)
    net.fit(X, y, epochs=2)
    assert net.targets_.classes.classes_.tolist() == [0, 1, 2]
    net.parameters()["b1"][:] = [0.0, 100.0, 0.0]  # make unit 1 win everywhere
    assert net.predict(X).tolist() == [1] * len(X)
    assert net.predict_proba(X).shape == (len(X), 3)


@pytest.mark.parametrize("y_of, classes", [
    (lambda c: c.astype(int), [0, 1]),
    (lambda c: c, [False, True]),
    (lambda c: c.astype(float), [0.0, 1.0]),
    (lambda c: np.where(c, 7, 3), [3, 7]),
    (lambda c: np.where(c, "yes", "no"), ["no", "yes"]),
])
def test_sigmoid_classes(y_of, classes):
    X = blobs()
    net = sigmoid_net()
    net.fit(X, y_of(X[:, 0] > 0), epochs=1)
    assert net.targets_.classes.classes_.tolist() == classes


def test_a_single_class_is_refused_by_name():
    X = blobs()
    for net, y in ((sigmoid_net(), np.full(60, "yes")), (softmax_net(None), np.zeros(60, int))):
        with pytest.raises(ValueError, match="only one class, 'yes'|only one class, 0"):
            net.fit(X, y, epochs=1)
        assert net.targets_.classes is None and net.optimizer_ is None and net.epoch_ == 0


def test_labels_that_are_not_codes_must_match_the_width():
    X = blobs()
    y = np.where(X[:, 0] > 0, "cat", "dog")
    net = softmax_net(3)
    with pytest.raises(ValueError, match=r"y has 2 classes.*nodes\[L\]=3"):
        net.fit(X, y, epochs=1)
    with pytest.raises(ValueError, match=r"y has 2 classes.*nodes\[L\]=3"):
        net.fit(X, np.where(X[:, 0] > 0, 5, 4), epochs=1)   # ints outside [0, 3)
    with pytest.raises(ValueError, match="two classes, but y has 3"):
        sigmoid_net().fit(X, np.digitize(X[:, 0], [-0.5, 0.5]), epochs=1)
    assert net.targets_.classes is None and net.optimizer_ is None


def test_a_width_left_to_the_data_takes_the_classes_found():
    X = blobs()
    net = softmax_net(None)
    net.fit(X, np.where(X[:, 0] > 0, 2, 0), epochs=1)
    assert net.config["nodes"][-1] == 2
    assert net.targets_.classes.classes_.tolist() == [0, 2]
    assert set(net.predict(X)) <= {0, 2}
    names = np.array(["a", "b", "c"])[np.digitize(X[:, 0], [-0.5, 0.5])]
    strings = softmax_net(None)
    strings.fit(X, names, epochs=1)
    assert strings.config["nodes"][-1] == 3 and set(strings.predict(X)) <= {"a", "b", "c"}


@pytest.mark.parametrize("make", [lambda: softmax_net(None), lambda: softmax_net(2),
                                  lambda: sigmoid_net(), lambda: sigmoid_net(None)])
def test_a_single_column_of_labels_is_read_as_labels(make):
    X = blobs()
    y = np.where(X[:, 0] > 0, "yes", "no")
    flat, column = make(), make()
    flat.fit(X, y, epochs=2)
    column.fit(X, y[:, None], epochs=2, validation_data=(X[:10], y[:10, None]))
    assert column.targets_.classes.classes_.tolist() == ["no", "yes"]
    np.testing.assert_array_equal(column.predict(X), flat.predict(X))
    assert column.evaluate(X, y[:, None]) == flat.evaluate(X, y)


def test_a_pandas_column_of_labels():
    import pandas as pd

    X = blobs()
    frame = pd.DataFrame({"label": np.where(X[:, 0] > 0, "yes", "no")})
    net = softmax_net(None)
    net.fit(X, frame[["label"]], epochs=1)
    assert net.config["nodes"][-1] == 2 and set(net.predict(X)) <= {"yes", "no"}
