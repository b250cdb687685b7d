"""Case 6 of the benchmark: Adam's step alone, on the wide network's 235,146 float32 parameters.

Each turn times ``STEPS`` steps one by one and reports their median, so that a
turn is a fair sample even when the shared machine changes speed within it.
The contenders are mllib as installed, the same with one thread
(``set_num_threads(1)``), mllib's NumPy path and its compiled kernels taking turns in
one process, PyTorch's ``Adam(fused=True)``, and, with ``--baseline DIR``, the ``mllib`` package
found in DIR (an older commit, e.g. from ``git archive``), loaded under
another name so that both live side by side in one run.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time

import numpy as np

WIDE = [784, 256, 128, 10]
STEPS = 200


def parameter_count(nodes=WIDE) -> int:
    return sum(a * b + b for a, b in zip(nodes[:-1], nodes[1:]))


def load_package(folder: str, name: str = "mllib_baseline"):
    """The package ``folder/mllib`` imported as ``name``; its imports are relative."""
    init = os.path.join(folder, "mllib", "__init__.py")
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[os.path.dirname(init)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def adam_step_timer(package, threads=None):
    """Warm up an Adam on ``package``'s ParameterSet; returns a turn: ``{"seconds": median}``."""
    optim = importlib.import_module(package.__name__ + ".optim")
    rng = np.random.default_rng(0)
    n = parameter_count()
    params = {"w": rng.standard_normal(n, dtype=np.float32) * np.float32(0.05)}
    grads = {"w": rng.standard_normal(n, dtype=np.float32) * np.float32(0.01)}
    store = optim.ParameterSet.from_arrays(params, grads)
    opt = optim.Adam()
    if threads is not None:
        optim.set_num_threads(threads)
    for _ in range(10):
        opt.step(store, 1e-3)

    def turn():
        times = []
        for _ in range(STEPS):
            start = time.perf_counter()
            opt.step(store, 1e-3)
            times.append(time.perf_counter() - start)
        return {"seconds": statistics.median(times)}
    return turn


def torch_adam_timer():
    """PyTorch's ``Adam(fused=True)`` on as many float32 parameters, on its own threads."""
    import torch

    rng = np.random.default_rng(0)
    n = parameter_count()
    weights = torch.nn.Parameter(torch.from_numpy(
        rng.standard_normal(n, dtype=np.float32) * np.float32(0.05)))
    weights.grad = torch.from_numpy(rng.standard_normal(n, dtype=np.float32) * np.float32(0.01))
    opt = torch.optim.Adam([weights], lr=1e-3, fused=True)
    for _ in range(10):
        opt.step()

    def turn():
        times = []
        for _ in range(STEPS):
            start = time.perf_counter()
            opt.step()
            times.append(time.perf_counter() - start)
        return {"seconds": statistics.median(times)}
    return turn


def prepare_step(name, baseline):
    """The worker of one case-6 contender: ``adam_mllib``, ``adam_mllib_1thread``,
    ``adam_paths`` (NumPy's path and the kernels in one process), ``adam_torch_fused``
    or ``adam_baseline``."""
    if name == "adam_baseline":
        return adam_step_timer(load_package(baseline))
    if name == "adam_torch_fused":
        return torch_adam_timer()
    import mllib
    from harness import both_paths

    if name == "adam_paths":
        os.environ["MLLIB_KERNELS"] = "numba"     # warm the kernel up too
        turn = both_paths(adam_step_timer(mllib))
        turn()
        return turn

    return adam_step_timer(mllib, threads=1 if name == "adam_mllib_1thread" else None)
