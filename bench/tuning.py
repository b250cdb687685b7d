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

Usage:
  python bench/tuning.py                 # 3 rounds
  python bench/tuning.py --rounds 1 --rows 4000 --trials 4   # quick
  python bench/tuning.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
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
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc: this measurement needs Linux")


def resident_bytes():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc: this measurement needs Linux")


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
                try:
                    self.peak = max(self.peak, high_water_bytes(child.pid))
                except (FileNotFoundError, ProcessLookupError):
                    pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def table(result):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.trials]


def run_round(contenders, train, dev, trials, memory):
    times, results = {}, {}
    for name, backend, workers in contenders:
        if name == "dask":
            before = backend.run(reset_high_water)
        sampler = ChildSampler()
        started = time.perf_counter()
        with sampler:
            results[name] = random_search(SPACE, train, dev, trials=trials, settings=SETTINGS,
                                          seed=0, backend=backend, workers=workers)
        times[name] = time.perf_counter() - started
        if name == "dask":
            after = backend.run(high_water_bytes)
            memory["dask"].extend(after[w] - before[w] for w in after)
        elif name == "processes":
            memory["processes"].append(sampler.peak)
    return times, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    train, dev = make_data(args.rows)
    data_bytes = sum(a.nbytes for pair in (train, dev) for a in pair)
    baseline = baseline_bytes()
    memory = {"processes": [], "dask": []}
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")
    client = Client(cluster)
    contenders = [("serial", "serial", None), ("processes", "processes", 2), ("dask", client, None)]
    all_times = {name: [] for name, _, _ in contenders}
    for round_ in range(args.rounds):
        shift = round_ % len(contenders)
        times, results = run_round(contenders[shift:] + contenders[:shift], train, dev,
                                   args.trials, memory)
        for name, seconds in times.items():
            all_times[name].append(seconds)
        assert table(results["processes"]) == table(results["serial"]), "processes differ"
        assert table(results["dask"]) == table(results["serial"]), "dask differs"
    client.close()
    cluster.close()
    medians = {name: statistics.median(seconds) for name, seconds in all_times.items()}
    report = {
        "rows": args.rows, "trials": args.trials, "rounds": args.rounds,
        "data_mb": round(data_bytes / 2**20, 2),
        "seconds": all_times, "median_seconds": medians,
        "speedup": {name: medians["serial"] / medians[name] for name in ("processes", "dask")},
        "data_copies_per_worker": {
            "processes": max((peak - baseline) / data_bytes for peak in memory["processes"]),
            "dask": max(grown / data_bytes for grown in memory["dask"])},
    }
    print(json.dumps(report, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
