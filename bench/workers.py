"""The benchmark's contenders: the work each worker process prepares and times.

Each worker (bench/harness.py) calls :func:`serve` with its contender's name:
:func:`prepare` makes the data, warms the contender up once, and returns the
work of one turn; :func:`serve` then answers one JSON line a turn.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import tracemalloc
import warnings

import numpy as np

import mllib
from mllib.data import minibatch_indices
from mllib.datasets import make_flower

import steps  # bench/steps.py, beside this file (benchmark.py puts the folder on the path)
from harness import both_paths, timed

WIDE = [784, 256, 128, 10]


def mllib_wide(X, y, *, batch_norm=False, keep=1.0, epochs=1):
    net = mllib.NeuralNetwork(nodes=WIDE, activators=["relu", "relu", "softmax"],
                              batch_norm=batch_norm, keep_probs=[1.0, keep, keep, 1.0], seed=0)
    net.fit(X, y, optimizer="adam", learning_rate=1e-3, epochs=epochs, batch_size=128)
    return net


def torch_wide(X, y, batch_order):
    import torch

    model = torch_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for index in batch_order:
        index = torch.from_numpy(index)
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(Xt[index]), yt[index]).backward()
        optimizer.step()
    return model


def sklearn_wide(X, y):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(256, 128), activation="relu", solver="adam",
                          batch_size=128, learning_rate_init=1e-3, max_iter=1,
                          shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model


def mllib_batch_order(n, seed=0):
    """The batch order mllib's first epoch uses: the Generator after weight init."""
    net = mllib.NeuralNetwork(nodes=WIDE, activators=["relu", "relu", "softmax"], seed=seed)
    return minibatch_indices(n, 128, net.rng)


def matmul_gflops(repeats=30):
    """NumPy's float32 matmul throughput on the wide network's own shapes."""
    rng = np.random.default_rng(0)
    shapes = [(128, 784, 256), (128, 256, 128), (256, 128, 784)]
    pairs = [(rng.standard_normal((m, k), dtype=np.float32),
              rng.standard_normal((k, n), dtype=np.float32)) for m, k, n in shapes]
    flops = sum(2 * m * k * n for m, k, n in shapes)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for a, b in pairs:
            a @ b
        times.append(time.perf_counter() - start)
    return flops / statistics.median(times) / 1e9


def epoch_flops(n):
    return 3 * 2 * n * sum(a * b for a, b in zip(WIDE[:-1], WIDE[1:]))


# -- workers: each runs in its own process and answers one JSON line a turn -------

def wide_data(n):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 784), dtype=np.float32), rng.integers(0, 10, n)


def flower_torch(X, y, iterations):
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(),
                                torch.nn.Linear(4, 1)).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.2)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y.astype(np.float64)).reshape(-1, 1)
    for _ in range(iterations):
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(Xt), yt).backward()
        optimizer.step()


def flower_mllib(X, y, iterations):
    net = mllib.NeuralNetwork(nodes=[2, 4, 1], activators=["tanh", "sigmoid"],
                              init="xavier", dtype="float64", seed=0)
    net.fit(X, y, optimizer="gd", learning_rate=1.2, epochs=iterations)


def torch_model():
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
        torch.nn.ReLU(), torch.nn.Linear(128, 10))


def torch_predict(model, X):
    import torch

    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(X)), dim=1)


def prepare(name, n, iterations, baseline=None):
    """Warm up one contender; returns a function that does its work once."""
    if name.startswith("adam_"):
        return steps.prepare_step(name, baseline)
    if name in ("wide_baseline", "infer_baseline"):   # the older mllib in this worker
        global mllib
        mllib = steps.load_package(baseline)
        name = name.replace("baseline", "mllib")
    if name.startswith("flower"):
        X, y = make_flower(400, seed=1)
        run = flower_mllib if name == "flower_mllib" else flower_torch
        run(X, y, 50)
        return timed(lambda: run(X, y, iterations))
    if name == "matmul":
        return lambda: {"gflops": matmul_gflops()}
    X, y = wide_data(n)
    small = slice(0, 512)
    if name == "wide_mllib":
        mllib_wide(X[small], y[small])
        return timed(lambda: mllib_wide(X, y))
    if name == "wide_paths":   # NumPy's path and the kernels, in this process
        turn = both_paths(timed(lambda: mllib_wide(X, y)))
        both_paths(timed(lambda: mllib_wide(X[small], y[small])))()
        return turn
    if name == "wide_mllib_bn_dropout":
        mllib_wide(X[small], y[small], batch_norm=True, keep=0.8)
        return timed(lambda: mllib_wide(X, y, batch_norm=True, keep=0.8))
    if name == "wide_torch":
        torch_wide(X[small], y[small], mllib_batch_order(512))
        order = mllib_batch_order(n)
        return timed(lambda: torch_wide(X, y, order))
    if name == "wide_sklearn":
        sklearn_wide(X[small], y[small])
        return timed(lambda: sklearn_wide(X, y))
    if name == "infer_mllib":
        net = mllib_wide(X[:2048], y[:2048])
        net.predict_proba(X[small])
        return timed(lambda: net.predict_proba(X))
    if name == "infer_paths":
        net = mllib_wide(X[:2048], y[:2048])
        both_paths(timed(lambda: net.predict_proba(X[small])))()
        return both_paths(timed(lambda: net.predict_proba(X)))
    if name == "infer_torch":
        model = torch_model()
        torch_predict(model, X[small])
        return timed(lambda: torch_predict(model, X))
    if name == "memory":
        # Warmed up, so that the trace holds the fit alone: not the compiled kernels'
        # first load (mllib[fast]), which allocates much and slowly under tracemalloc.
        mllib_wide(X[:256], y[:256])
        return lambda: memory(X, y)
    raise ValueError(f"unknown worker {name!r}")


def serve(name, n, iterations, baseline=None):
    """The worker's side of :class:`Contender`: one JSON line per request."""
    work = prepare(name, n, iterations, baseline)
    print(json.dumps({"ready": name}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        print(json.dumps(work()), flush=True)


def memory(X, y):
    """tracemalloc peak during fit, beyond the model and optimizer, over X's bytes."""
    tracemalloc.start()
    net = mllib_wide(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    model_bytes = sum(p.nbytes for p in net.parameters().values())
    optimizer_bytes = sum(s.nbytes for s in net.optimizer_.get_state().values())
    return {"peak_bytes": peak, "X_bytes": X.nbytes,
            "model_and_optimizer_bytes": model_bytes + optimizer_bytes,
            "peak_minus_model_over_X": (peak - model_bytes - optimizer_bytes) / X.nbytes}
