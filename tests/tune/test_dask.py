"""The Dask back-end, on a LocalCluster of two worker processes that these tests start."""

import functools
import os
import signal
import threading
import time

import dask
import numpy as np
import pytest
from dask.sizeof import sizeof
from distributed import Client, LocalCluster

from mllib.datasets import make_flower
from mllib.tune import allocator
from mllib.tune import (ClusterError, DaskBackend, Repeats, async_halving, datafiles,
                        hyperband, loguniform, random_search, successive_halving)
from mllib.tune.dask_backend import DataUnreadable, NoWorkers, _run_on_dask
from mllib.tune.pruning import MedianPruner

# distributed's own sockets may be collected unclosed when a cluster stops or a worker is
# killed: not mllib's to fix, and nothing else is silenced here.
pytestmark = [pytest.mark.same_bits,   # CI runs these again under other BLAS kernels
              pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")]

X, Y = make_flower(240, seed=3)
TRAIN, DEV = (X[:180], Y[:180]), (X[180:], Y[180:])
SPACE = {"learning_rate": loguniform(1e-3, 3e-1), "hidden": [[4], [8]]}


def table(result):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.trials]


def wait_for_a_trial(journal, runner):
    """Until the search running in ``runner`` has recorded its first trial."""
    deadline = time.monotonic() + 120
    while not (journal.exists() and journal.read_text().count("\n") >= 1):
        assert time.monotonic() < deadline and runner.is_alive()
        time.sleep(0.05)


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as dask_client:
        yield dask_client


def test_dask_gives_the_serial_table(client):
    settings = {"epochs": 15}
    on_dask = random_search(SPACE, TRAIN, DEV, trials=8, settings=settings, seed=3, backend=client)
    serial = random_search(SPACE, TRAIN, DEV, trials=8, settings=settings, seed=3)
    assert table(on_dask) == table(serial)


def test_the_workers_that_ran_trials_undid_the_nannys_trim_threshold(client):
    random_search(SPACE, TRAIN, DEV, trials=4, settings={"epochs": 2}, seed=0, backend=client)
    assert set(client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()) == {"65536"}
    undone = client.run(lambda: list(allocator._DONE)).values()
    assert [True] in undone and set(map(tuple, undone)) <= {(), (True,)}


def test_halving_on_dask_gives_the_serial_rungs(client):
    args = dict(trials=6, min_epochs=2, max_epochs=8, factor=2, settings={"batch_size": 32},
                seed=1)
    on_dask = successive_halving(SPACE, TRAIN, DEV, backend=client, **args)
    serial = successive_halving(SPACE, TRAIN, DEV, **args)
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in rung] for rung in serial.rungs]
    assert [[{k: v for k, v in r.items() if k != "seconds"} for r in rung]
            for rung in on_dask.rungs] == strip


def test_killing_every_worker_that_holds_the_data_loses_no_trial(client, tmp_path):
    # 60 epochs keep a trial long enough (a tenth of a second or more) that the kill, a few
    # ms after the first trial is recorded, finds the others running (asserted below).
    settings = {"epochs": 60, "batch_size": 8}
    out = tmp_path / "search"
    results = {}

    def search():
        results["dask"] = random_search(SPACE, TRAIN, DEV, trials=8, settings=settings, seed=7,
                                        backend=client, out=out)

    runner = threading.Thread(target=search)
    runner.start()
    journal = out / "trials.jsonl"
    wait_for_a_trial(journal, runner)
    pids = client.run(os.getpid)            # both workers: each holds the data by now
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    assert journal.read_text().count("\n") < 8  # killed while trials were running
    runner.join(timeout=300)
    assert not runner.is_alive()
    assert set(client.run(os.getpid).values()).isdisjoint(pids.values())   # new workers
    serial = random_search(SPACE, TRAIN, DEV, trials=8, settings=settings, seed=7)
    assert table(results["dask"]) == table(serial)
    assert all(row["status"] == "ok" for row in serial.trials)


@pytest.fixture
def fresh_client():
    """A cluster of its own for a test that kills its workers: on the module's, after a few
    such tests, a nanny could give up restarting its worker (NoWorkers after 60 s)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as dask_client:
        yield dask_client


def killed_mid_search(client, search, out, total):
    """The result of ``search(backend=client, out=out)``, run in a thread while every worker
    of ``client`` is killed once the journal has its first row, before the ``total``-th."""
    results = {}
    runner = threading.Thread(target=lambda: results.update(
        dask=search(backend=client, out=out)))
    runner.start()
    journal = out / "trials.jsonl"
    wait_for_a_trial(journal, runner)
    for pid in client.run(os.getpid).values():
        os.kill(pid, signal.SIGKILL)
    assert journal.read_text().count("\n") < total  # killed while trials were running
    runner.join(timeout=300)
    assert not runner.is_alive()
    return results["dask"]


def stripped(rows):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows or []]


def test_a_pruned_search_on_dask_gives_the_serial_table_with_its_workers_killed(fresh_client,
                                                                               tmp_path):
    search = functools.partial(random_search, SPACE, TRAIN, DEV, trials=8, seed=7,
                               settings={"epochs": 60, "batch_size": 8},
                               pruner=MedianPruner(warmup=3, min_trials=2))
    on_dask = killed_mid_search(fresh_client, search, tmp_path / "search", 8)
    serial = search()
    assert table(on_dask) == table(serial)
    assert any(row["pruned"] for row in serial.trials)


def test_async_halving_on_dask_gives_the_serial_rungs_with_its_workers_killed(fresh_client,
                                                                             tmp_path):
    search = functools.partial(async_halving, SPACE, TRAIN, DEV, trials=9, min_epochs=2,
                               max_epochs=18, settings={"batch_size": 8}, seed=3)
    on_dask = killed_mid_search(fresh_client, search, tmp_path / "search", 13)
    assert [stripped(rung) for rung in on_dask.rungs] == [
        stripped(rung) for rung in search().rungs]


def test_hyperband_on_dask_gives_the_serial_rungs_with_its_workers_killed(fresh_client, tmp_path):
    search = functools.partial(hyperband, SPACE, TRAIN, DEV, min_epochs=2, max_epochs=18,
                               settings={"batch_size": 8}, seed=3)
    on_dask = killed_mid_search(fresh_client, search, tmp_path / "search", 17)
    assert [stripped(rung) for rung in on_dask.rungs] == [
        stripped(rung) for rung in search().rungs]


@pytest.mark.parametrize("options", [{"sampler": "tpe", "batch": 2, "cv": 3},
                                     {"repeats": Repeats(3, top=2)},
                                     {"sampler": "tpe", "batch": 2, "pruner": MedianPruner(
                                         warmup=2, min_trials=2)}],
                         ids=["tpe, cv", "repeats", "tpe, pruner"])
def test_tpe_cv_and_repeats_on_dask_give_the_serial_table_with_its_workers_killed(
        fresh_client, tmp_path, options):
    search = functools.partial(random_search, SPACE, TRAIN, DEV, trials=6, seed=3,
                               settings={"epochs": 20, "batch_size": 8}, **options)
    on_dask = killed_mid_search(fresh_client, search, tmp_path / "search", 6)
    serial = search()
    assert table(on_dask) == table(serial)
    assert stripped(on_dask.repeats) == stripped(serial.repeats)


def test_a_scheduler_address_is_a_back_end(client):
    result = random_search(SPACE, TRAIN, DEV, trials=2, settings={"epochs": 2},
                           backend=client.scheduler.address)
    assert [row["status"] for row in result.trials] == ["ok", "ok"]
    with pytest.raises(ValueError, match=r"workers=2 is for backend='processes'"):
        random_search(SPACE, TRAIN, DEV, trials=2, backend=client, workers=2)


def test_a_trial_that_kills_its_worker_is_recorded_as_failed(tmp_path):
    # With no failure allowed, the trial running when its worker dies is not run again.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                         dashboard_address=":0") as cluster, Client(cluster) as client:
        settings = {"epochs": 80, "batch_size": 8}
        results = {}
        out = tmp_path / "search"
        runner = threading.Thread(target=lambda: results.setdefault("r", random_search(
            SPACE, TRAIN, DEV, trials=4, settings=settings, seed=2, backend=client, out=out)))
        runner.start()
        wait_for_a_trial(out / "trials.jsonl", runner)
        for pid in client.run(os.getpid).values():
            os.kill(pid, signal.SIGKILL)
        runner.join(timeout=300)
    rows = results["r"].trials
    failed = [row for row in rows if row["status"] == "failed"]
    assert failed and all(row["error"].startswith("KilledWorker: ") for row in failed)
    assert all(row["train_error"] is None for row in failed)
    serial = random_search(SPACE, TRAIN, DEV, trials=4, settings=settings, seed=2)
    for row, expected in zip(rows, serial.trials):
        if row["status"] == "ok":
            assert {k: v for k, v in row.items() if k != "seconds"} == \
                {k: v for k, v in expected.items() if k != "seconds"}


def held_by_the_scheduler(dask_scheduler):
    """The bytes of every task the scheduler holds (their functions and arguments)."""
    return sum(sizeof(task.run_spec) for task in dask_scheduler.tasks.values())


def test_each_worker_maps_the_data_from_files_that_never_pass_through_the_scheduler(
        client, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 50)).astype(np.float32)       # 4 MB with y
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    train, dev = (X[:16_000], y[:16_000]), (X[16_000:], y[16_000:])
    folder = tmp_path / "data"
    folder.mkdir()
    seen = []

    def look(row):
        held = client.run_on_scheduler(held_by_the_scheduler)
        loaded = client.run(lambda: [(files.folder, [type(a).__name__ + str(a.flags.writeable)
                                                     for pair in data for a in pair])
                                     for files, data in datafiles._LOADED.items()])
        seen.append((held, loaded))

    args = dict(trials=4, settings={"epochs": 1}, seed=1)
    on_dask = random_search(SPACE, train, dev, backend=DaskBackend(client, data_dir=folder),
                            on_trial=look, **args)
    assert table(on_dask) == table(random_search(SPACE, train, dev, **args))
    assert max(held for held, _ in seen) < 20_000      # the data is 4,160,000 bytes
    loaded = [entry for _, per_worker in seen for entries in per_worker.values()
              for entry in entries]
    assert loaded and all(os.path.dirname(path) == str(folder) and kinds == ["memmapFalse"] * 4
                          for path, kinds in loaded)
    assert list(folder.iterdir()) == []                       # removed as the search ended
    assert set(client.run(lambda: len(datafiles._LOADED)).values()) == {0}   # and unmapped


def test_a_worker_refuses_data_whose_hash_differs_or_that_it_cannot_see(client, tmp_path):
    files = datafiles.write(TRAIN, DEV, tmp_path)
    with open(files.paths()[2], "r+b") as file:       # dev X's first value, say
        file.seek(128)
        file.write(b"\0\0\0\0")
    with pytest.raises(DataUnreadable, match=r"the Dask worker at tcp://127\.0\.0\.1:\d+ cannot "
                       r"read the search's data: the search's data file '.*dev_X\.npy' has "
                       r"SHA-256 \w+\.\.\., not \w+\.\.\. as the search wrote it"):
        client.submit(_run_on_dask, None, files, pure=False).result(timeout=60)
    unseen = datafiles.DataFiles(str(tmp_path / "elsewhere"), files.files)
    with pytest.raises(DataUnreadable, match=r"No such file.*data_dir \(mllib tune --data-dir\) "
                       r"must be a folder that every worker sees at the same path"):
        client.submit(_run_on_dask, None, unseen, pure=False).result(timeout=60)
    datafiles.remove(files)


@pytest.mark.parametrize("stop", [RuntimeError("a failing on_trial"), KeyboardInterrupt()])
def test_the_data_folder_is_removed_when_a_search_stops(client, tmp_path, stop):
    folder = tmp_path / "data"
    folder.mkdir()

    def on_trial(row):
        assert len(list(folder.iterdir())) == 1          # the search's data, while it runs
        raise stop

    with pytest.raises(type(stop)):
        random_search(SPACE, TRAIN, DEV, trials=4, settings={"epochs": 2}, on_trial=on_trial,
                      backend=DaskBackend(client, data_dir=folder))
    assert list(folder.iterdir()) == []


def in_a_thread(search, seconds=60):
    """``search()``'s error, from a thread that must end within ``seconds``."""
    failure = {}

    def run():
        try:
            search()
        except Exception as err:  # noqa: BLE001 - handed to the test
            failure["error"] = err

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=seconds)
    assert not runner.is_alive(), "the search hangs"
    return failure.get("error")


def test_a_scheduler_without_workers_is_a_clear_error_that_loses_nothing(tmp_path):
    out, args = tmp_path / "search", dict(settings={"epochs": 2}, seed=4)
    random_search(SPACE, TRAIN, DEV, trials=2, out=out, **args)
    with LocalCluster(n_workers=0, dashboard_address=":0") as cluster:
        address = cluster.scheduler_address
        idle = DaskBackend(address, wait_for_workers=0.5)
        # Nothing left to run: the search does not need a worker.
        assert len(random_search(SPACE, TRAIN, DEV, trials=2, out=out, backend=idle,
                                 **args).trials) == 2
        started = time.monotonic()
        error = in_a_thread(lambda: random_search(SPACE, TRAIN, DEV, trials=3, out=out,
                                                  backend=idle, **args))
        assert time.monotonic() - started < 30
        assert isinstance(error, NoWorkers) and isinstance(error, ClusterError)
        assert str(error) == (
            f"no worker joined the Dask scheduler at {address} within 0.5 s (wait_for_workers; "
            f"mllib tune --wait-for-workers): start workers (dask worker {address}), then run "
            f"the same command again to resume from {out}, which keeps 2 of 3 trials")
        with Client(cluster) as own:
            error = in_a_thread(lambda: successive_halving(
                SPACE, TRAIN, DEV, trials=3, min_epochs=1, max_epochs=2,
                backend=DaskBackend(own, wait_for_workers=0.5)))
        assert isinstance(error, NoWorkers)
        assert str(error).endswith("then run the search again (with out=DIR, it would resume; "
                                   "0 of 3 trials of rung 0 were finished)")


def test_workers_that_all_leave_mid_search_are_a_clear_error(tmp_path):
    out = tmp_path / "search"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as own:
        def search():
            random_search(SPACE, TRAIN, DEV, trials=4, settings={"epochs": 60, "batch_size": 8},
                          seed=2, out=out, backend=DaskBackend(own, wait_for_workers=1))

        errors = []
        runner = threading.Thread(target=lambda: errors.append(in_a_thread(search)))
        runner.start()
        wait_for_a_trial(out / "trials.jsonl", runner)
        cluster.scale(0)
        runner.join(timeout=120)
    kept = (out / "trials.jsonl").read_text().count("\n")
    assert isinstance(errors[0], NoWorkers) and kept < 4
    assert str(errors[0]) == (
        f"every worker left the Dask scheduler at {cluster.scheduler_address}, and none joined "
        "within 1 s (wait_for_workers; mllib tune --wait-for-workers): start workers (dask "
        f"worker {cluster.scheduler_address}), then run the same command again to resume from "
        f"{out}, which keeps {kept} of 4 trials")


@pytest.mark.parametrize("scheduler, options, message", [
    ("localhost:8786", {}, r"scheduler must be a dask.distributed.Client or an address such as "
                           r"'tcp://host:8786', got 'localhost:8786'"),
    ("tcp://127.0.0.1:1", {"data_dir": "no/such/folder"}, r"data_dir='no/such/folder' is not a "
                                                         r"folder: give one that every Dask"),
    ("tcp://127.0.0.1:1", {"wait_for_workers": 0}, r"wait_for_workers must be a number in "
                                                   r"\(0, inf\), got 0"),
])
def test_bad_dask_options_are_refused_by_name(scheduler, options, message):
    with pytest.raises(ValueError, match=message):
        DaskBackend(scheduler, **options)


def test_security_belongs_to_an_address_not_a_client(client):
    with pytest.raises(ValueError, match=r"security= is for a scheduler address: a Client has "
                                         r"its own"):
        DaskBackend(client, security=object())
