"""``mllib tune --scheduler tcp://...|tls://...`` against real Dask schedulers on 127.0.0.1: a
scheduler lost mid-search, one without workers, TLS with and without credentials."""

import functools
import json
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest
from distributed import LocalCluster

from _cli_testing import assert_ok
from _cli_testing import run_cli as run_cli_briefly
from _tls_testing import cluster_security, make_credentials

pytestmark = pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")   # distributed's

run_cli = functools.partial(run_cli_briefly, timeout=180)
SPACE = {"learning_rate": {"loguniform": [1e-3, 0.3]}}


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "space.json").write_text(json.dumps(SPACE))
    (tmp_path / "settings.json").write_text(json.dumps({"epochs": 60, "batch_size": 8}))
    return tmp_path


def tune(*flags):
    return ["tune", "--dataset", "flower", "--space", "space.json", "--settings",
            "settings.json", "--trials", "4", *flags]


def trials(path):
    return pd.read_csv(path / "trials.csv").drop(columns="seconds")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dask(role, *args):
    """``dask scheduler|worker ARGS`` as a process of its own, quiet."""
    return subprocess.Popen([sys.executable, "-m", f"distributed.cli.dask_{role}", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_cluster(port):
    address = f"tcp://127.0.0.1:{port}"
    return address, [dask("scheduler", "--host", "127.0.0.1", "--port", str(port),
                          "--no-dashboard"),
                     dask("worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard")]


def stop(processes):
    for process in processes:
        process.kill()
    for process in processes:
        process.wait(timeout=30)


def test_a_lost_scheduler_ends_in_one_line_and_the_same_command_resumes(folder):
    address, processes = start_cluster(free_port())
    command = [sys.executable, "-m", "mllib.cli", *tune("--scheduler", address, "--out", "run")]
    try:
        search = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        journal, deadline = folder / "run" / "trials.jsonl", time.monotonic() + 120
        while not (journal.exists() and journal.read_text().count("\n")):
            assert time.monotonic() < deadline and search.poll() is None, search.stderr.read()
            time.sleep(0.02)
        processes[0].kill()                                    # the scheduler
        _, stderr = search.communicate(timeout=60)
        kept = journal.read_text().count("\n")
        assert search.returncode == 1 and 1 <= kept < 4
        # One line per finished trial, then the error: none of distributed's logging.
        assert all(line.startswith("mllib: ") for line in stderr.splitlines()), stderr
        assert stderr.splitlines()[-1] == (
            f"mllib: error: lost the Dask scheduler at {address} after {kept} of 4 trials; the "
            "finished trials are kept in run: run the same command again to resume")
        stop(processes)
        processes = start_cluster(address.rsplit(":", 1)[1])[1]
        again = run_cli(*command[3:], cwd=folder)
    finally:
        stop(processes)
    assert_ok(again)
    # The resuming line, then one line per trial: only the missing ones ran.
    assert again.stderr.splitlines()[0].startswith(f"mllib: resuming: {kept} of 4 trials")
    assert len(again.stderr.splitlines()) == 1 + 4 - kept
    assert len(journal.read_text().splitlines()) == 4
    assert list(trials(folder / "run")["trial"]) == [0, 1, 2, 3]


def test_a_scheduler_without_workers_ends_in_one_line(folder):
    with LocalCluster(n_workers=0, dashboard_address=":0") as cluster:
        address = cluster.scheduler_address
        result = run_cli(*tune("--scheduler", address, "--wait-for-workers", "0.5",
                               "--out", "run"), cwd=folder)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == (
        f"mllib: 4 trials to run on the Dask cluster at {address}\n"
        f"mllib: error: no worker joined the Dask scheduler at {address} within 0.5 s "
        f"(wait_for_workers; mllib tune --wait-for-workers): start workers (dask worker "
        f"{address}), then run the same command again to resume from run, which keeps 0 of 4 "
        "trials\n")


def test_tls_flags_give_the_serial_trials_and_tls_without_them_is_refused(folder):
    (folder / "settings.json").write_text(json.dumps({"epochs": 5}))
    credentials = make_credentials(folder / "tls")
    with LocalCluster(n_workers=1, threads_per_worker=1, protocol="tls://", host="127.0.0.1",
                      security=cluster_security(credentials), dashboard_address=":0") as cluster:
        address = cluster.scheduler_address
        on_tls = run_cli(*tune("--scheduler", address, "--tls-ca-file", credentials["ca"],
                               "--tls-cert", credentials["cert"], "--tls-key", credentials["key"],
                               "--out", "tls", "-q"), cwd=folder)
        refused = run_cli(*tune("--scheduler", address, "--out", "refused"), cwd=folder)
    assert_ok(on_tls)
    serial = run_cli(*tune("--out", "serial", "-q"), cwd=folder)
    assert_ok(serial)
    assert trials(folder / "tls").equals(trials(folder / "serial"))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(f"mllib: error: cannot search: the scheduler {address} "
                                     "needs TLS credentials: give security=Security(")
    assert "--tls-ca-file, --tls-cert, --tls-key" in refused.stderr
    assert not (folder / "refused").exists()


@pytest.mark.parametrize("flags, message", [
    (["--data-dir", "."], "--data-dir is for a Dask scheduler (--scheduler tcp://HOST:PORT or "
                          "tls://HOST:PORT), not --scheduler processes"),
    (["--scheduler", "processes", "--tls-cert", "c.pem"], "--tls-cert is for a Dask scheduler"),
    (["--scheduler", "tls://127.0.0.1:1", "--tls-cert", "c.pem"],
     "TLS needs --tls-ca-file and --tls-cert (and --tls-key, unless the key is in the "
     "--tls-cert file)"),
    (["--scheduler", "tls://127.0.0.1:1", "--tls-cert", "c.pem", "--tls-ca-file", "ca.pem"],
     "--tls-ca-file 'ca.pem': no such file"),
    (["--scheduler", "tcp://127.0.0.1:1", "--data-dir", "absent"],
     "data_dir='absent' is not a folder: give one that every Dask worker can read"),
    (["--scheduler", "tcp://127.0.0.1:1", "--wait-for-workers", "0"],
     "argument --wait-for-workers: expected a number > 0, got '0'"),
])
def test_bad_dask_flags_exit_2_with_one_line(folder, flags, message):
    result = run_cli(*tune(*flags, "--out", "bad"), cwd=folder)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert not (folder / "bad").exists()
