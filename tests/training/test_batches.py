"""Batches gathered into a reused buffer (issue 13) train to the same bits as new arrays,
and nothing that may keep a batch is given the buffer."""

import numpy as np

import mllib
from mllib.training.engine.batches import BatchRows


def data(n=250, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def net(**kwargs):
    return mllib.NeuralNetwork(nodes=[6, 16, 2], activators=["relu", "softmax"], seed=1,
                               keep_probs=[0.9, 0.8, 1.0], **kwargs)


def test_the_buffer_is_used_only_for_arrays_in_the_models_dtype(tmp_path):
    X, _ = data()
    model = net()
    model.build(6, 2)
    mapped = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=X.dtype,
                                       shape=X.shape)
    index = np.array([5, 1, 7])
    for array, reused in [(X, True), (X.astype(np.float64), False), (mapped, False)]:
        rows = BatchRows(model, array, 32)
        first = rows.rows(index)
        np.testing.assert_array_equal(first, np.asarray(array[index], dtype=np.float32))
        assert first.dtype == np.float32
        assert np.shares_memory(first, rows.rows(np.array([0, 2]))) == reused
        assert not np.shares_memory(rows.rows(index, private=True), rows.rows(index))


def test_training_from_the_buffer_gives_the_bits_of_new_arrays(tmp_path):
    X, y = data()
    results = []
    mapped = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=X.dtype,
                                       shape=X.shape)
    mapped[...] = X
    # float32 in memory takes the buffer; float64 and the memmap take new arrays.
    for rows in (X, X.astype(np.float64), mapped):
        model = net()
        history = model.fit(rows, y, epochs=3, batch_size=32)
        results.append((model.store.values.copy(), history.history["cost"]))
    for values, costs in results[1:]:
        np.testing.assert_array_equal(values, results[0][0])
        assert costs == results[0][1]


def test_augment_gets_a_batch_of_its_own_every_step():
    X, y = data()
    given = []

    def augment(batch, rng):
        given.append(batch)
        batch += 0.0       # in place, as an augment may
        return batch

    net().fit(X, y, epochs=1, batch_size=32, augment=augment)
    assert len(given) == 8
    assert not any(np.shares_memory(a, b) for i, a in enumerate(given) for b in given[i + 1:])
    assert not any(np.shares_memory(a, X) for a in given)
