"""Side-by-side benchmark: mllib against PyTorch (CPU) and scikit-learn.

Runs of the contenders alternate (A B A B ...), and medians and ratios are
reported, because shared machines are noisy: their speed changes from one
minute to the next. Each contender lives in a worker process of its own
(bench/harness.py); the work each one times is in bench/workers.py.

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
     all of mllib's threads and with one, and PyTorch's Adam(fused=True).
Cases 1, 4 and 6 also time mllib's NumPy path and its compiled kernels (the
mllib[fast] extra) taking turns in one worker (``paths`` in the results: their
medians and the median of the per-round ratios kernels/numpy). The header
(``machine``) says which path mllib takes by default (``mllib_kernels``).
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

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# bench/harness.py, workers.py, machine.py and steps.py, beside this script
import machine  # noqa: E402
import steps  # noqa: E402
from harness import (  # noqa: E402
    PAUSE, Contender, alternate, median_ratio, medians, paths, seconds_of, turn_ratios,
    with_baseline,
)
from workers import epoch_flops, serve  # noqa: E402

__all__ = ["Contender", "alternate", "main"]


# -- cases --------------------------------------------------------------------

def case_wide(n, runs, baseline="", pause=PAUSE):
    plain, bn = "wide_mllib", "wide_mllib_bn_dropout"
    names = [plain, bn, "wide_torch", "wide_sklearn", "matmul", "wide_paths"]
    results = alternate(runs, names + (["wide_baseline"] if baseline else []), pause, n=n,
                        baseline=baseline)
    peak = statistics.median(r["gflops"] for r in results.pop("matmul"))
    both = paths(results.pop("wide_paths"))
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
        "paths": both,
        "kernels/torch": both["kernels_seconds"] / statistics.median(times["wide_torch"]),
        "per_round": {"mllib/torch": turn_ratios(times[plain], times["wide_torch"]),
                      "mllib/sklearn": turn_ratios(times[plain], times["wide_sklearn"]),
                      "bn_dropout/plain": turn_ratios(times[bn], times[plain]),
                      **compared.pop("per_round")},
        **compared,
    }


def case_pair(runs, mllib_name, torch_name, baseline_name=None, pause=PAUSE, paths_name=None,
              **options):
    names = [mllib_name, torch_name] + ([baseline_name] if baseline_name else []) + (
        [paths_name] if paths_name else [])
    results = alternate(runs, names, pause, **options)
    both = {"paths": paths(results.pop(paths_name))} if paths_name else {}
    times = seconds_of(results)
    compared = with_baseline(times, mllib_name, baseline_name)
    return {"seconds": medians(times), "all_seconds": times, **both,
            "mllib/torch": median_ratio(times[mllib_name], times[torch_name]),
            "per_round": {"mllib/torch": turn_ratios(times[mllib_name], times[torch_name]),
                          **compared.pop("per_round")},
            **compared}


def case_memory(n, pause=PAUSE):
    return alternate(1, ["memory"], pause, n=n)["memory"][0]


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
        # One block of random rows, repeated: the values do not matter here, and drawing
        # them all took seconds of the quick run.
        block = np.random.default_rng(0).standard_normal((8192, 784), dtype=np.float32)
        for start in range(0, rows, len(block)):
            stop = min(rows, start + len(block))
            mapped[start:stop] = block[:stop - start]
        mapped.flush()
        del mapped
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", MEMMAP_CHILD, path, str(limit_bytes)],
                              capture_output=True, text=True)
        return {"file_bytes": rows * 784 * 4, "rlimit_data_bytes": limit_bytes,
                "completed": done.returncode == 0 and done.stdout.startswith("ok"),
                "seconds": time.perf_counter() - started,
                "stderr_tail": done.stderr[-300:]}


def case_step(runs, baseline, pause=PAUSE):
    """Adam's step alone: median seconds a step, and the ratios of the contenders."""
    names = ["adam_mllib", "adam_mllib_1thread", "adam_paths", "adam_torch_fused"] + (
        ["adam_baseline"] if baseline else [])
    results = alternate(max(runs, 3), names, pause, baseline=baseline or "")
    both = paths(results.pop("adam_paths"))
    times = seconds_of(results)
    result = {"seconds_per_step": medians(times), "all_seconds": times,
              "parameters": steps.parameter_count(),
              "one_thread/all": median_ratio(times["adam_mllib_1thread"], times["adam_mllib"]),
              "paths": both,
              "kernels/torch_fused": both["kernels_seconds"] / statistics.median(
                  times["adam_torch_fused"])}
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
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, one run each, no pause between turns")
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
    # Quick figures mean nothing, so no turn waits for PyTorch's idle threads to stop.
    pause = 0.0 if args.quick else PAUSE
    cases = [  # (the case numbers it reports, its key in the results, how to run it)
        ("12", "case1_2_wide", lambda: case_wide(n, runs, args.baseline, pause)),
        ("3", "case3_flower", lambda: case_pair(runs, "flower_mllib", "flower_torch",
                                                pause=pause, iterations=iterations)),
        ("4", "case4_inference", lambda: case_pair(
            max(runs, 3), "infer_mllib", "infer_torch",
            "infer_baseline" if args.baseline else None, pause, "infer_paths", n=n,
            baseline=args.baseline)),
        ("5", "case5_memory", lambda: case_memory(n, pause)),
        ("5", "case5_memmap", lambda: case_memmap(*memmap)),
        ("6", "case6_adam_step", lambda: case_step(runs, args.baseline, pause)),
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

