"""Side-by-side benchmark: mllib against PyTorch (CPU) and scikit-learn.

Runs of the contenders alternate (A B A B ...), and medians and ratios are
reported, because shared machines are noisy: their speed changes from one
minute to the next. Each contender lives in its own worker process, which
prepares its data and warms up once and then, on each turn, times only the
work itself. The processes are kept apart because in one process PyTorch's
idle OpenMP threads would spin on the two cores while NumPy's BLAS threads
work, and slow down whichever contender ran next; they are kept alive so
that the contenders take turns seconds apart, under the same load.

Cases (see bench/RESULTS.md for the latest figures):
  1. wide network 784-256-128-10, ReLU, softmax + CE, Adam 1e-3, batch 128,
     float32, one epoch over 60,000 synthetic samples; plus mllib's GFLOP/s
     against NumPy's own float32 matmul throughput measured in the same run;
  2. the same with batch norm on both hidden layers and dropout (keep 0.8);
  3. the notes' flower network [2, 4, 1] tanh/sigmoid, full-batch gradient
     descent, 10,000 iterations, float64;
  4. inference: predict_proba on 60,000 rows of case 1;
  5. memory: tracemalloc peak during fit for case 1, as a fraction of X's
     bytes; and fit on an np.memmap X larger than the process's RLIMIT_DATA;
  6. Adam's step alone on case 1's 235,146 parameters (bench/steps.py), with
     all of mllib's threads and with one.
With --baseline DIR (a folder holding an older ``mllib`` package), cases 1,
4 and 6 also run that mllib, in workers of its own, taking turns with the
others, and report baseline/mllib.

The results start with the machine (bench/machine.py): CPU model, BLAS
library and kernel, PyTorch's backend, so that figures from different
machines are never compared as if they were one.

Usage:
  python bench/benchmark.py            # full run (several minutes)
  python bench/benchmark.py --quick    # tiny sizes, proves the script works
  python bench/benchmark.py --json out.json
  python bench/benchmark.py --cases 12  # only the wide network (cases 1 and 2)
  python bench/benchmark.py --cases 6 --baseline /tmp/old/src   # Adam's step, old and new

Needs: pip install -e ".[test]" (torch==2.13.0 and scikit-learn).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings

import numpy as np

import mllib
from mllib.data import minibatch_indices
from mllib.datasets import make_flower

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import machine  # noqa: E402  (bench/machine.py and bench/steps.py, beside this script)
import steps  # noqa: E402

WIDE = [784, 256, 128, 10]


def median_ratio(times_a, times_b):
    return statistics.median(times_a) / statistics.median(times_b)


def turn_ratios(times_a, times_b):
    """The ratio of each round's two turns, and their median.

    Turns of one round run seconds apart, so their ratio holds even when the
    machine's speed changes between rounds, which the ratio of medians does not.
    """
    ratios = [a / b for a, b in zip(times_a, times_b)]
    return {"median": statistics.median(ratios), "each": ratios}


PAUSE = 0.2  # seconds between turns, so that PyTorch's idle OpenMP threads stop spinning


class Contender:
    """A worker process that prepares one contender once, then runs it on each request.

    Keeping contenders in their own processes stops PyTorch's idle OpenMP
    threads from slowing NumPy's BLAS threads; keeping the processes alive
    lets the contenders take turns run by run, seconds apart.
    """

    def __init__(self, name, **options):
        self.name = name
        self._errors = tempfile.TemporaryFile("w+")
        command = [sys.executable, os.path.abspath(__file__), "--serve", name]
        for key, value in options.items():
            command += [f"--{key}", str(value)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._errors, text=True)
        ready = self._answer()
        if ready != {"ready": name}:
            self._fail(f"said {ready!r} instead of being ready")

    def run(self) -> dict:
        try:
            self._process.stdin.write("run\n")
            self._process.stdin.flush()
        except OSError:  # it has died since its last answer
            self._fail("stopped")
        return self._answer()

    def _answer(self) -> dict:
        line = self._process.stdout.readline()
        if not line:
            self._fail("stopped")
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            self._fail(f"wrote {line[:200]!r} instead of a JSON result")

    def _fail(self, what):
        self._errors.seek(0)
        errors = self._errors.read()[-2000:]
        self.close()
        raise RuntimeError(f"worker {self.name} {what} (exit status {self._process.returncode}):"
                           f"\n{errors}")

    def close(self):
        """End the worker (it exits when its input closes) and release its files."""
        try:
            self._process.stdin.close()
        except OSError:  # a request it never read
            pass
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()
        self._errors.close()


def alternate(runs, names, **options):
    """Run each contender ``runs`` times, taking turns; returns name -> [result]."""
    contenders = []
    try:
        for name in names:
            contenders.append(Contender(name, **options))
        results = {name: [] for name in names}
        for turn in range(runs):
            # Each round starts one contender later, so that none always goes first.
            shift = turn % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                results[contender.name].append(contender.run())
                time.sleep(PAUSE)
        return results
    finally:
        for contender in contenders:
            contender.close()


def seconds_of(results):
    return {name: [r["seconds"] for r in runs] for name, runs in results.items()}


def timed(function):
    """A function that calls ``function`` once and returns ``{"seconds": ...}``."""
    def run():
        start = time.perf_counter()
        function()
        return {"seconds": time.perf_counter() - start}
    return run


# -- contenders ---------------------------------------------------------------

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
    if name == "infer_torch":
        model = torch_model()
        torch_predict(model, X[small])
        return timed(lambda: torch_predict(model, X))
    if name == "memory":
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


# -- cases --------------------------------------------------------------------

def medians(times):
    return {name: statistics.median(values) for name, values in times.items()}


def case_wide(n, runs, baseline=""):
    plain, bn = "wide_mllib", "wide_mllib_bn_dropout"
    names = [plain, bn, "wide_torch", "wide_sklearn", "matmul"]
    results = alternate(runs, names + (["wide_baseline"] if baseline else []), n=n,
                        baseline=baseline)
    peak = statistics.median(r["gflops"] for r in results.pop("matmul"))
    times = seconds_of(results)
    compared = with_baseline(times, plain, "wide_baseline")
    achieved = epoch_flops(n) / statistics.median(times[plain]) / 1e9
    return {
        "seconds": medians(times),
        "all_seconds": times,
        "mllib/torch": median_ratio(times[plain], times["wide_torch"]),
        "mllib/sklearn": median_ratio(times[plain], times["wide_sklearn"]),
        "mllib_gflops": achieved,
        "numpy_matmul_gflops": peak,
        "fraction_of_matmul": achieved / peak,
        "bn_dropout/plain": median_ratio(times[bn], times[plain]),
        "per_round": {"mllib/torch": turn_ratios(times[plain], times["wide_torch"]),
                      "mllib/sklearn": turn_ratios(times[plain], times["wide_sklearn"]),
                      "bn_dropout/plain": turn_ratios(times[bn], times[plain]),
                      **compared.pop("per_round")},
        **compared,
    }


def with_baseline(times, mllib_name, baseline_name):
    """The older mllib's figures beside this one's, when --baseline gave it."""
    if baseline_name not in times:
        return {"per_round": {}}
    old, new = times[baseline_name], times[mllib_name]
    return {"baseline/mllib": median_ratio(old, new),
            "per_round": {"baseline/mllib": turn_ratios(old, new)}}


def case_pair(runs, mllib_name, torch_name, baseline_name=None, **options):
    names = [mllib_name, torch_name] + ([baseline_name] if baseline_name else [])
    times = seconds_of(alternate(runs, names, **options))
    compared = with_baseline(times, mllib_name, baseline_name)
    return {"seconds": medians(times), "all_seconds": times,
            "mllib/torch": median_ratio(times[mllib_name], times[torch_name]),
            "per_round": {"mllib/torch": turn_ratios(times[mllib_name], times[torch_name]),
                          **compared.pop("per_round")},
            **compared}


def case_memory(n):
    return alternate(1, ["memory"], n=n)["memory"][0]


MEMMAP_CHILD = """
import mmap, resource, sys, numpy as np, mllib
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
X = np.load(sys.argv[1], mmap_mode="r")
y = (np.arange(X.shape[0]) % 10)
net = mllib.NeuralNetwork(nodes=[784, 64, 10], activators=["relu", "softmax"], seed=0)
net.fit(X, y, optimizer="adam", learning_rate=1e-3, epochs=1, batch_size=512)
print("ok", X.nbytes)
"""


def case_memmap(file_bytes, limit_bytes):
    """fit on a memmap larger than RLIMIT_DATA, in a child process."""
    rows = file_bytes // (784 * 4)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "X.npy")
        mapped = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, 784))
        rng = np.random.default_rng(0)
        for start in range(0, rows, 8192):
            stop = min(rows, start + 8192)
            mapped[start:stop] = rng.standard_normal((stop - start, 784), dtype=np.float32)
        mapped.flush()
        del mapped
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", MEMMAP_CHILD, path, str(limit_bytes)],
                              capture_output=True, text=True)
        return {"file_bytes": rows * 784 * 4, "rlimit_data_bytes": limit_bytes,
                "completed": done.returncode == 0 and done.stdout.startswith("ok"),
                "seconds": time.perf_counter() - started,
                "stderr_tail": done.stderr[-300:]}


def case_step(runs, baseline):
    """Adam's step alone: median seconds a step, and the ratios of the contenders."""
    names = ["adam_mllib", "adam_mllib_1thread"] + (["adam_baseline"] if baseline else [])
    times = seconds_of(alternate(max(runs, 3), names, baseline=baseline or ""))
    result = {"seconds_per_step": medians(times), "all_seconds": times,
              "parameters": steps.parameter_count(),
              "one_thread/all": median_ratio(times["adam_mllib_1thread"], times["adam_mllib"])}
    if baseline:
        result["baseline/mllib"] = median_ratio(times["adam_baseline"], times["adam_mllib"])
        result["per_round"] = {"baseline/mllib": turn_ratios(times["adam_baseline"],
                                                             times["adam_mllib"])}
    return result


def _positive_int(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


def _case_numbers(text):
    if not text or set(text) - set("123456"):
        raise argparse.ArgumentTypeError(f"cases are digits from 1 to 6, such as 12, got {text!r}")
    return set(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run each")
    parser.add_argument("--runs", type=_positive_int, default=9,
                        help="turns each contender takes, alternating (default 9)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--cases", default="123456", type=_case_numbers,
                        help="which cases to run, e.g. 12 for the wide network alone "
                             "(default: all of 123456)")
    parser.add_argument("--baseline", default="",
                        help="a folder holding an older mllib package, whose Adam step "
                             "case 6 times beside this one")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=60000, help=argparse.SUPPRESS)
    parser.add_argument("--iterations", type=int, default=10000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.n, args.iterations, args.baseline or None)
        return 0
    n, runs, iterations = (2048, 1, 200) if args.quick else (60000, args.runs, 10000)
    memmap = (384 << 20, 256 << 20) if args.quick else (2 << 30, 1 << 30)
    cases = [  # (the case numbers it reports, its key in the results, how to run it)
        ("12", "case1_2_wide", lambda: case_wide(n, runs, args.baseline)),
        ("3", "case3_flower", lambda: case_pair(runs, "flower_mllib", "flower_torch",
                                                iterations=iterations)),
        ("4", "case4_inference", lambda: case_pair(
            max(runs, 3), "infer_mllib", "infer_torch",
            "infer_baseline" if args.baseline else None, n=n, baseline=args.baseline)),
        ("5", "case5_memory", lambda: case_memory(n)),
        ("5", "case5_memmap", lambda: case_memmap(*memmap)),
        ("6", "case6_adam_step", lambda: case_step(runs, args.baseline)),
    ]
    results = {"machine": machine.describe(), "quick": args.quick, "runs": runs}
    for numbers, name, run in cases:
        if args.cases & set(numbers):
            results[name] = run()
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as handle:
            handle.write(text + "\n")
    return 0 if results.get("case5_memmap", {"completed": True})["completed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
