"""Benchmark: one random search, serial against 2 local processes against a 2-worker Dask cluster.

The search is 16 trials of a small network (one hidden layer of 64 or 128
ReLU units, 8 epochs) on 200,000 rows of 64 float32 inputs (160,000 for
training, 40,000 for dev: 50 MB). The three
back-ends take turns, round after round, and the script reports each one's
median time and its speed-up over serial. It also reports each worker's peak
memory beyond what it held before the search's data arrived, as a multiple
of the data's size: for Dask, from the workers' own high-water mark, reset
before the search; for the local processes, which start with each search,
by sampling their high-water marks during it, less that of a fresh process
that has imported mllib.tune. Every back-end must give the same trial table;
the script checks that too.

The Dask cluster's scheduler and workers are processes of their own (``dask
scheduler``, ``dask worker --nworkers 2``), so that the scheduler's memory is
its own: its resident memory before each search and its high-water mark
during it, beside each worker's, go into ``"memory_mb"`` (the largest growth
over the rounds), in MiB, with the data's size.

Usage:
  python bench/tuning.py                 # 3 rounds
  python bench/tuning.py --rounds 1 --rows 4000 --trials 4   # quick
  python bench/tuning.py --rounds 1 --rows 800000 --trials 2 --epochs 1 --backends serial,dask
  python bench/tuning.py --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from mllib.tune import loguniform, random_search

SPACE = {"learning_rate": loguniform(1e-3, 1e-1), "hidden": [[64], [128]]}
SETTINGS = {"epochs": 8, "batch_size": 256, "activation": "relu"}


def make_data(rows, features=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features)).astype(np.float32)
    y = (X[:, :4].sum(axis=1) + 0.5 * rng.normal(size=rows) > 0).astype(np.int64)
    cut = int(rows * 0.8)
    return (X[:cut], y[:cut]), (X[cut:], y[cut:])


def high_water_bytes(pid="self"):
    """A process's peak resident memory since it started (or since reset_high_water)."""
    return _status_bytes("VmHWM", pid)


def resident_bytes(pid="self"):
    return _status_bytes("VmRSS", pid)


def _status_bytes(field, pid):
    """A memory figure of /proc/PID/status; None for another process that has exited (its
    file is gone, or, while it is a zombie, holds no memory figures)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        if pid == "self":
            raise
        return None
    if pid != "self":
        return None
    raise RuntimeError(f"no {field} in /proc: this measurement needs Linux")


def private_and_mapped():
    """This process's resident memory of its own (RssAnon) and of mapped files (RssFile),
    which the processes that map the same file share."""
    return _status_bytes("RssAnon", "self"), _status_bytes("RssFile", "self")


def reset_high_water():
    """Start the high-water mark afresh from the memory held now (Linux's clear_refs 5)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")
    return resident_bytes()


def baseline_bytes():
    """The peak memory of a fresh spawned process that imports mllib.tune and does nothing."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_imported_peak)


def _imported_peak():
    import mllib.tune  # noqa: F401 - what a worker imports before any trial

    return high_water_bytes()


class ChildSampler:
    """The largest high-water mark of the children this process starts, sampled every 20 ms."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        # Only the children started during the search: not the Dask cluster's workers.
        self._existing = {child.pid for child in multiprocessing.active_children()}
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(0.02):
            for child in multiprocessing.active_children():
                if child.pid in self._existing:
                    continue
                peak = high_water_bytes(child.pid)
                if peak is not None:            # None: it exited as it was sampled
                    self.peak = max(self.peak, peak)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def table(result):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.trials]


def run_round(contenders, train, dev, trials, settings, memory):
    times, results = {}, {}
    for name, backend, workers in contenders:
        if name == "dask":
            before = backend.run(reset_high_water)
            scheduler_before = backend.run_on_scheduler(reset_high_water)
        sampler = ChildSampler()
        started = time.perf_counter()
        split = []         # each Dask worker's private and file-backed memory, per trial
        on_trial = (lambda row: split.append(backend.run(private_and_mapped))) \
            if name == "dask" else None
        with sampler:
            results[name] = random_search(SPACE, train, dev, trials=trials, settings=settings,
                                          seed=0, backend=backend, workers=workers,
                                          on_trial=on_trial)
        times[name] = time.perf_counter() - started
        if name == "dask":
            after = backend.run(high_water_bytes)
            memory["dask"].extend(after[w] - before[w] for w in after)
            memory["workers"].append({w: (before[w], after[w], [s[w] for s in split if w in s])
                                      for w in after})
            memory["scheduler"].append(
                (scheduler_before, backend.run_on_scheduler(high_water_bytes)))
        elif name == "processes":
            memory["processes"].append(sampler.peak)
    return times, results


@contextlib.contextmanager
def dask_cluster(workers=2):
    """A Client of a scheduler and ``workers`` single-threaded workers on 127.0.0.1, each a
    process of its own (``dask scheduler``, ``dask worker``), so that each one's memory is
    its own; they are stopped on the way out."""
    from distributed import Client

    with tempfile.TemporaryDirectory(prefix="mllib-bench-") as folder:
        path = os.path.join(folder, "scheduler.json")
        processes = [_dask("scheduler", "--host", "127.0.0.1", "--port", "0",
                           "--scheduler-file", path)]
        try:
            processes.append(_dask("worker", "--scheduler-file", path, "--nworkers",
                                   str(workers), "--nthreads", "1"))
            deadline = time.monotonic() + 60
            while not os.path.exists(path):
                if time.monotonic() > deadline or processes[0].poll() is not None:
                    raise RuntimeError("the Dask scheduler did not start")
                time.sleep(0.05)
            with Client(scheduler_file=path, timeout="60s") as client:
                client.wait_for_workers(workers, timeout=120)
                try:
                    yield client
                finally:
                    client.shutdown()   # the scheduler, then the workers, end at once
        finally:
            _stop(processes)


def _stop(processes):
    """Wait for the scheduler's and the workers' processes to end, after a shutdown asked
    through the client; stop those that do not. (A SIGTERM during the shutdown made
    each nanny wait about 8 s for its worker.)"""
    for signal in ("wait", "terminate", "kill"):
        for process in reversed(processes):
            if process.poll() is None and signal != "wait":
                getattr(process, signal)()
        try:
            for process in reversed(processes):
                process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


def _dask(role, *args):
    return subprocess.Popen([sys.executable, "-m", f"distributed.cli.dask_{role}", *args,
                             "--no-dashboard"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _mib(value):
    return round(value / 2**20, 1)


def memory_report(memory, data_bytes):
    """The scheduler's and each worker's memory in the round it grew most, in MiB; for a
    worker also the most it held of its own and of mapped files as a trial ended."""
    def figures(before, peak, *split):
        grown = {"before": _mib(before), "peak": _mib(peak), "growth": _mib(peak - before)}
        if split and split[0]:
            grown["private"] = _mib(max(private for private, _ in split[0]))
            grown["mapped"] = _mib(max(mapped for _, mapped in split[0]))
        return grown

    def growth(figures):
        return figures[1] - figures[0]

    report = {"data": _mib(data_bytes)}
    if memory["scheduler"]:
        report["scheduler"] = figures(*max(memory["scheduler"], key=growth))
        report["workers"] = {
            worker: figures(*max((r[worker] for r in memory["workers"] if worker in r),
                                 key=growth))
            for worker in sorted({w for r in memory["workers"] for w in r})}
    return report


def backends(text):
    names = text.split(",")
    if "serial" not in names or not set(names) <= {"serial", "processes", "dask"}:
        raise argparse.ArgumentTypeError(f"a comma-separated list of serial (needed: the "
                                         f"reference), processes and dask, got {text!r}")
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--backends", type=backends, default=["serial", "processes", "dask"])
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    train, dev = make_data(args.rows)
    data_bytes = sum(a.nbytes for pair in (train, dev) for a in pair)
    baseline = baseline_bytes() if "processes" in args.backends else None
    memory = {"processes": [], "dask": [], "scheduler": [], "workers": []}
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(dask_cluster()) if "dask" in args.backends else None
        contenders = [c for c in [("serial", "serial", None), ("processes", "processes", 2),
                                  ("dask", client, None)] if c[0] in args.backends]
        all_times = run_rounds(contenders, train, dev, args, memory)
    medians = {name: statistics.median(seconds) for name, seconds in all_times.items()}
    report = {
        "rows": args.rows, "trials": args.trials, "rounds": args.rounds, "epochs": args.epochs,
        "data_mb": round(data_bytes / 2**20, 2),
        "seconds": all_times, "median_seconds": medians,
        "speedup": {name: medians["serial"] / medians[name] for name in medians
                    if name != "serial"},
        "data_copies_per_worker": {name: max(copies) for name, copies in {
            "processes": [(peak - baseline) / data_bytes for peak in memory["processes"]],
            "dask": [grown / data_bytes for grown in memory["dask"]]}.items() if copies},
        "memory_mb": memory_report(memory, data_bytes),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)


def run_rounds(contenders, train, dev, args, memory):
    """Each back-end's seconds per round; the rounds start with each back-end in turn."""
    settings = {**SETTINGS, "epochs": args.epochs}
    all_times = {name: [] for name, _, _ in contenders}
    for round_ in range(args.rounds):
        shift = round_ % len(contenders)
        times, results = run_round(contenders[shift:] + contenders[:shift], train, dev,
                                   args.trials, settings, memory)
        for name, seconds in times.items():
            all_times[name].append(seconds)
        for name in results:
            assert table(results[name]) == table(results["serial"]), f"{name} differs"
    return all_times


if __name__ == "__main__":
    main()
