"""Blockwise updates on several threads (issue 13): the same bits whatever the thread count
and block size, the caller's np.errstate in every thread, and a thread count that follows
the process's limits."""

import threading
import time

import numpy as np
import pytest

import mllib
from mllib.optim import ParameterSet, get_optimizer, num_threads, set_num_threads
from mllib.optim import blocks
from mllib.optim import threads as threads_module

pytestmark = pytest.mark.same_bits   # CI runs these again under other BLAS kernels

KINDS = ["gd", "momentum", "rmsprop", "adam"]


@pytest.fixture
def threads(monkeypatch):
    """Set mllib's thread count, with no BLAS limit in the way; restored afterwards."""
    monkeypatch.setattr(threads_module, "blas_threads", lambda: None)
    yield set_num_threads
    set_num_threads(None)


def test_blockwise_shares_the_blocks_among_the_threads():
    a = np.arange(10000, dtype=np.float64)
    caller, seen = threading.get_ident(), []

    def update(part, buf):
        seen.append((threading.get_ident(), int(part[0]), part.size, buf.size))
        if threading.get_ident() == caller:
            time.sleep(0.02)     # a slow caller leaves blocks to the pool's threads
        part *= 2

    blocks.blockwise(update, [a], np.empty(3 * 1000), block=1000, threads=3)
    np.testing.assert_array_equal(a, 2 * np.arange(10000))
    # Every block exactly once, with scratch as long as the block.
    assert sorted(first for _, first, _, _ in seen) == list(range(0, 10000, 1000))
    assert all(size == buf == 1000 for _, _, size, buf in seen)
    assert len({ident for ident, _, _, _ in seen} - {caller}) >= 1


def test_a_worker_that_cannot_start_leaves_every_block_to_the_caller():
    blocks._executor(1)
    busy, release = blocks._POOL["size"], threading.Event()
    held = [blocks._executor(1).submit(release.wait, 30) for _ in range(busy)]
    try:
        a, caller, seen = np.ones(5000), threading.get_ident(), set()

        def update(part, buf):
            seen.add(threading.get_ident())
            part += 1

        blocks.blockwise(update, [a], np.empty(2 * 100), block=100, threads=2)
        np.testing.assert_array_equal(a, 2.0)
        assert seen == {caller} and not any(future.done() for future in held)
    finally:
        release.set()
    assert all(future.result() for future in held)


@pytest.mark.parametrize("kind", KINDS)
def test_the_update_has_the_same_bits_with_any_thread_count_and_block_size(kind, threads):
    rng = np.random.default_rng(4)
    params = {"w": rng.normal(size=(70, 61)).astype(np.float32), "b": np.zeros(3, np.float32)}
    grads = [{k: rng.normal(size=v.shape).astype(np.float32) for k, v in params.items()}
             for _ in range(6)]
    results = []
    for count, block in [(1, 1 << 16), (1, 64), (2, 64), (2, 1000), (3, 777), (2, 4096)]:
        threads(count)
        opt, p = get_optimizer(kind), {k: v.copy() for k, v in params.items()}
        opt.block_size = block
        store = ParameterSet.from_arrays(p, {k: np.zeros_like(v) for k, v in p.items()})
        for g in grads:
            for k in g:
                store.grad_views[k][...] = g[k]
            opt.step(store, 0.01)
        results.append((store.values.copy(), opt.get_state()))
    initial = np.concatenate([v.ravel() for v in params.values()])
    assert (results[0][0] != initial).all()     # every weight moved
    for values, state in results[1:]:
        np.testing.assert_array_equal(values, results[0][0])
        for key, value in state.items():
            np.testing.assert_array_equal(value, results[0][1][key], err_msg=key)


def _fit(n_threads, block, threads):
    threads(n_threads)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 20)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    opt = mllib.optim.Adam()
    opt.block_size = block
    net = mllib.NeuralNetwork(nodes=[20, 64, 32, 2], activators=["relu", "relu", "softmax"],
                              batch_norm=[False, True, False, False], seed=7)
    history = net.fit(X, y, optimizer=opt, epochs=3, batch_size=32, learning_rate=0.01)
    return net, history


def test_seeded_training_gives_the_same_bits_with_one_and_with_two_threads(threads):
    one, h1 = _fit(1, 1 << 14, threads)
    two, h2 = _fit(2, 256, threads)       # 3,650 parameters: 15 blocks, on two threads
    assert one.store.size > 10 * 256
    np.testing.assert_array_equal(one.store.values, two.store.values)
    for key, value in one.optimizer_.get_state().items():
        np.testing.assert_array_equal(value, two.optimizer_.get_state()[key], err_msg=key)
    assert h1.history["cost"] == h2.history["cost"]


def test_tiny_moments_are_flushed_by_every_thread_under_raise(threads):
    tiny = np.finfo(np.float32).tiny
    n = 4000
    params = {"a": np.ones(n, np.float32)}
    grads = {"a": np.where(np.arange(n) % 2 == 0, 0.0, 1e-3).astype(np.float32)}
    moments = np.where(np.arange(n) % 2 == 0, tiny / 3, 1e-4).astype(np.float32)
    finals = []
    for count in (1, 2, 4):
        threads(count)
        opt = get_optimizer("adam")
        opt.block_size = 100
        opt.set_state({"t": np.array(5), "m.a": moments, "v.a": moments})
        p = {"a": params["a"].copy()}
        store = ParameterSet.from_arrays(p, grads)
        with np.errstate(all="raise"):
            opt.step(store, 1e-3)
        state = opt.get_state()
        # The even entries, one in every block of every thread, underflowed and are 0.
        assert not state["m.a"][::2].any() and not state["v.a"][::2].any()
        assert state["m.a"][1::2].min() > 0
        finals.append((p["a"], state))
    for values, state in finals[1:]:
        np.testing.assert_array_equal(values, finals[0][0])
        np.testing.assert_array_equal(state["m.a"], finals[0][1]["m.a"])


def test_a_workers_floating_point_error_is_raised_in_the_caller():
    a = np.ones(4000, dtype=np.float32)
    a[-1] = 3e38                 # in the last thread's part: 3e38 · 10 overflows there

    def update(part, buf):
        np.multiply(part, np.float32(10), out=buf)

    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError, match="overflow"):
            blocks.blockwise(update, [a], np.empty(2 * 1000, np.float32), 1000, threads=2)
    with np.errstate(over="ignore"):   # and the caller's "ignore" holds there too
        blocks.blockwise(update, [a], np.empty(2 * 1000, np.float32), 1000, threads=2)


def test_the_thread_count_follows_the_setting_then_the_environment_then_one(
        threads, monkeypatch):
    monkeypatch.delenv(threads_module.ENVIRONMENT, raising=False)
    assert num_threads() == 1
    monkeypatch.setenv(threads_module.ENVIRONMENT, "3")
    assert num_threads() == 3
    threads(5)
    assert num_threads() == 5
    threads(None)
    assert num_threads() == 3
    monkeypatch.setenv(threads_module.ENVIRONMENT, "zero")
    with pytest.raises(ValueError, match="MLLIB_NUM_THREADS must be a positive integer"):
        num_threads()
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads must be a positive integer or None"):
            set_num_threads(bad)


def test_a_blas_limit_caps_the_thread_count(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    set_num_threads(4)
    try:
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            assert num_threads() == 1
            assert blocks.threads_for(10 ** 6, 1000) == 1
    finally:
        set_num_threads(None)


def test_a_small_store_runs_on_the_calling_thread_alone(threads):
    threads(4)
    assert blocks.threads_for(1000, 1000) == 1
    assert blocks.threads_for(1001, 1000) == 2
    assert blocks.threads_for(10 ** 6, 1000) == 4
