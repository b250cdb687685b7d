"""One seed, one table and one best model, bit for bit, on every back-end and thread count.

Issue 18: OpenBLAS's kernels may round a product differently with one thread
and with two (the Haswell kernels, which ``OPENBLAS_CORETYPE=Haswell`` selects
on the project's AMD machines, on most of a training step's float32 shapes;
the SkylakeX kernels on products that sum over thousands of rows, as a full
batch does). Trials therefore run with BLAS on one thread wherever they run.
These searches would differ in the last bits between a serial search in a
2-thread process and worker processes without that: data of 3,000 × 64
float32 values, 128 hidden units, batches of 256 or the full batch.

CI runs this module a second time under ``OPENBLAS_CORETYPE=Haswell`` with 2
BLAS threads (the ``same_bits`` marker).
"""

import numpy as np
import pytest
from distributed import Client, LocalCluster
from threadpoolctl import threadpool_limits

from mllib.io import dumps_model
from mllib.optim import num_threads, set_num_threads, single_threaded
from mllib.optim.threads import blas_threads
from mllib.tune import loguniform, random_search

pytestmark = [pytest.mark.same_bits,
              # distributed's own sockets may be collected unclosed when a cluster stops
              pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")]

SPACE = {"learning_rate": loguniform(1e-3, 1e-2)}


def make_data(rows=3000, features=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features)).astype(np.float32)
    y = (X[:, :4].sum(axis=1) + 0.5 * rng.normal(size=rows) > 0).astype(np.int64)
    cut = rows * 4 // 5
    return (X[:cut], y[:cut]), (X[cut:], y[cut:])


TRAIN, DEV = make_data()
TEST = make_data(600, seed=1)[0]


def search(batch_size, backend="serial", **options):
    settings = {"hidden": [128], "activation": "relu", "epochs": 3, "batch_size": batch_size}
    result = random_search(SPACE, TRAIN, DEV, trials=3, settings=settings, seed=5,
                           backend=backend, **options)
    result.test(*TEST)
    table = [{k: v for k, v in row.items() if k != "seconds"} for row in result.trials]
    return table, dumps_model(result.best_model), result.test_result


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as dask_client:
        yield dask_client


@pytest.mark.parametrize("batch_size", [256, "full"])
def test_serial_processes_and_dask_give_the_same_bits_at_any_blas_thread_count(
        batch_size, client):
    with threadpool_limits(limits=2, user_api="blas"):
        reference = search(batch_size)
    assert all(row["status"] == "ok" for row in reference[0])
    with threadpool_limits(limits=1, user_api="blas"):
        assert search(batch_size) == reference, "serial, 1 BLAS thread"
    with threadpool_limits(limits=2, user_api="blas"):
        assert search(batch_size, "processes", workers=2) == reference, "2 processes"
        assert search(batch_size, client) == reference, "Dask"


def test_single_threaded_pins_blas_for_its_section_and_restores_it():
    with threadpool_limits(limits=2, user_api="blas"):
        assert blas_threads() == 2
        with single_threaded():
            assert blas_threads() == 1
            with single_threaded():        # re-entrant: the inner exit keeps the pin
                pass
            assert blas_threads() == 1
        assert blas_threads() == 2


def test_single_threaded_restores_blas_after_an_error_and_caps_mllibs_threads():
    set_num_threads(2)
    try:
        with threadpool_limits(limits=2, user_api="blas"):
            with pytest.raises(KeyError), single_threaded():
                assert num_threads() == 1
                raise KeyError("inside")
            assert blas_threads() == 2 and num_threads() == 2
    finally:
        set_num_threads(None)


def test_a_fit_inside_single_threaded_has_the_bits_of_a_one_thread_fit():
    import mllib

    def trained(threads, pinned):
        net = mllib.NeuralNetwork(nodes=[64, 128, 1], activators=["relu", "sigmoid"], seed=0)
        with threadpool_limits(limits=threads, user_api="blas"):
            if pinned:
                with single_threaded():
                    net.fit(*TRAIN, learning_rate=0.01, epochs=2, batch_size=None, verbose=0)
            else:
                net.fit(*TRAIN, learning_rate=0.01, epochs=2, batch_size=None, verbose=0)
        return dumps_model(net)

    assert trained(2, pinned=True) == trained(1, pinned=False)


def _pinned_for_good_then_a_section():
    from mllib.optim.threads import blas_threads, single_threaded, single_threaded_from_now

    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=2, user_api="blas")
    single_threaded_from_now()
    with single_threaded():     # a trial's own section, in a worker
        pass
    return blas_threads()


def test_a_worker_pinned_for_good_stays_on_one_blas_thread_between_trials():
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_pinned_for_good_then_a_section) == 1
