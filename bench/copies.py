"""Does a copied model train as fast as the original? Side by side, in one process.

A deep copy, a pickle round trip and a save/load of a fitted model must keep
the parameter store's layout (one flat buffer per kind), and with it the speed
of the optimizer's step. This script fits the benchmark's wide network
(784-256-128-10, Adam, batch 128, float32) for one epoch, makes the three
copies, then times one more epoch of each of the four models in turn, round
after round, and reports each copy's median epoch time over the original's.

Usage:
  python bench/copies.py               # 20,000 rows, 7 rounds
  python bench/copies.py --rows 2000 --rounds 2
"""

from __future__ import annotations

import argparse
import copy
import os
import pickle
import statistics
import tempfile
import time

import numpy as np

import mllib

WIDE = [784, 256, 128, 10]


def contenders(X, y):
    """The fitted original and its three copies, by name."""
    net = mllib.NeuralNetwork(nodes=WIDE, activators=["relu", "relu", "softmax"], seed=0)
    net.fit(X, y, epochs=1, batch_size=128)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "wide.npz")
        net.save(path)
        loaded = mllib.load(path)
    return {"original": net, "deepcopy": copy.deepcopy(net),
            "pickle": pickle.loads(pickle.dumps(net)), "save/load": loaded}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, WIDE[0])).astype(np.float32)
    y = rng.integers(0, WIDE[-1], size=args.rows)
    models = contenders(X, y)
    times = {name: [] for name in models}
    names = list(models)
    for round_ in range(args.rounds):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            started = time.perf_counter()
            models[name].fit(X, y, epochs=1, batch_size=128)
            times[name].append(time.perf_counter() - started)
    base = statistics.median(times["original"])
    print(f"one epoch of {args.rows} rows, median of {args.rounds} rounds")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"  {name:10s} {median:.3f} s   {median / base:.3f} × original   "
              f"(runs: {', '.join(f'{s:.3f}' for s in seconds)})")


if __name__ == "__main__":
    main()
