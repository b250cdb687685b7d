"""Searches on a Dask scheduler over tls://, with credentials that the tests make (openssl)."""

import pytest
from distributed import Client, LocalCluster

from _tls_testing import client_security, cluster_security, make_credentials
from mllib.datasets import make_flower
from mllib.tune import DaskBackend, loguniform, random_search

pytestmark = pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")   # distributed's

X, Y = make_flower(200, seed=5)
TRAIN, DEV = (X[:150], Y[:150]), (X[150:], Y[150:])
SPACE = {"learning_rate": loguniform(1e-3, 3e-1)}
ARGS = dict(trials=3, settings={"epochs": 5}, seed=2)


@pytest.fixture(scope="module")
def credentials(tmp_path_factory):
    return make_credentials(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_cluster(credentials):
    with LocalCluster(n_workers=1, threads_per_worker=1, protocol="tls://", host="127.0.0.1",
                      security=cluster_security(credentials), dashboard_address=":0") as cluster:
        yield cluster


def table(result):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.trials]


def test_a_tls_scheduler_with_credentials_gives_the_serial_table(tls_cluster, credentials):
    assert tls_cluster.scheduler_address.startswith("tls://127.0.0.1:")
    backend = DaskBackend(tls_cluster.scheduler_address, security=client_security(credentials))
    assert table(random_search(SPACE, TRAIN, DEV, backend=backend, **ARGS)) == \
        table(random_search(SPACE, TRAIN, DEV, **ARGS))
    with Client(tls_cluster.scheduler_address, security=client_security(credentials)) as own:
        assert table(random_search(SPACE, TRAIN, DEV, backend=own, **ARGS)) == \
            table(random_search(SPACE, TRAIN, DEV, **ARGS))


def test_tls_without_credentials_says_how_to_give_them(tls_cluster):
    with pytest.raises(ValueError, match=r"the scheduler tls://127\.0\.0\.1:\d+ needs TLS "
                       r"credentials: give security=Security\(tls_ca_file=\.\.\., "
                       r".*--tls-ca-file, --tls-cert, --tls-key.*distributed\.comm\.tls"):
        random_search(SPACE, TRAIN, DEV, backend=tls_cluster.scheduler_address, **ARGS)


def test_credentials_from_another_ca_are_refused_clearly(tls_cluster, credentials, tmp_path):
    other = make_credentials(tmp_path, name="another CA")
    stranger = client_security({**credentials, "ca": other["ca"]})
    with pytest.raises(ValueError, match=r"cannot reach the Dask scheduler at 'tls://127\.0\.0\.1:"
                                         r"\d+': TLS certificate does not match"):
        random_search(SPACE, TRAIN, DEV, backend=DaskBackend(tls_cluster.scheduler_address,
                                                             security=stranger), **ARGS)
    with pytest.raises(ValueError, match=r"TLS credentials are given, but the scheduler address "
                                         r"tcp://127\.0\.0\.1:1 is not tls://"):
        random_search(SPACE, TRAIN, DEV, backend=DaskBackend(
            "tcp://127.0.0.1:1", security=client_security(credentials)), **ARGS)
