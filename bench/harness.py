"""The benchmark's harness: contenders in worker processes of their own, taking turns.

Each contender lives in its own worker process, which prepares its data and
warms up once and then, on each turn, times only the work itself. The
processes are kept apart because in one process PyTorch's idle OpenMP threads
would spin on the two cores while NumPy's BLAS threads work, and slow down
whichever contender ran next; they are kept alive so that the contenders take
turns seconds apart, under the same load. The workers are ``benchmark.py
--serve NAME`` (the work itself is in bench/workers.py).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "benchmark.py")


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
        command = [sys.executable, SCRIPT, "--serve", name]
        for key, value in options.items():
            command += [f"--{key}", str(value)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._errors, text=True)
        self._ready = False

    def wait_ready(self):
        """Wait until the worker has prepared and warmed up its contender (once).

        The process starts in ``__init__`` and prepares on its own, so that several
        contenders started one after the other prepare side by side.
        """
        if not self._ready:
            ready = self._answer()
            if ready != {"ready": self.name}:
                self._fail(f"said {ready!r} instead of being ready")
            self._ready = True

    def run(self) -> dict:
        self.wait_ready()
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

    def end_input(self):
        """Ask the worker to end: it exits when its input closes."""
        try:
            self._process.stdin.close()
        except OSError:  # a request it never read
            pass

    def close(self):
        """End the worker, wait for it, and release its files."""
        self.end_input()
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()
        self._errors.close()


def alternate(runs, names, pause=PAUSE, **options):
    """Run each contender ``runs`` times, taking turns, ``pause`` seconds apart; returns
    name -> [result].

    The workers start together and prepare side by side (on a machine of two cores,
    the start-ups of PyTorch and scikit-learn took most of a quick run's time); the
    first turn waits until every one is ready, so that no turn is timed while
    another worker is still preparing.
    """
    contenders = []
    try:
        for name in names:
            contenders.append(Contender(name, **options))
        for contender in contenders:
            contender.wait_ready()
        results = {name: [] for name in names}
        for turn in range(runs):
            # Each round starts one contender later, so that none always goes first.
            shift = turn % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                results[contender.name].append(contender.run())
                time.sleep(pause)
        return results
    finally:
        for contender in contenders:   # all at once: each takes a while to exit
            contender.end_input()
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


def both_paths(turn):
    """A turn that runs ``turn`` on mllib's NumPy path and with its compiled kernels, in
    this one process, the two taking turns (``MLLIB_KERNELS``, read at each call): returns
    ``{"seconds": kernels, "numpy_seconds": numpy}``.

    Two identical worker processes differ by up to 15 % on a shared machine, one process
    alternating by about 5 %: the paths are compared in one. Which goes first alternates
    from turn to turn.
    """
    rounds = []

    def run():
        order = ("numpy", "numba") if len(rounds) % 2 == 0 else ("numba", "numpy")
        rounds.append(None)
        seconds = {}
        for mode in order:
            os.environ["MLLIB_KERNELS"] = mode
            seconds[mode] = turn()["seconds"]
        os.environ.pop("MLLIB_KERNELS")
        return {"seconds": seconds["numba"], "numpy_seconds": seconds["numpy"]}
    return run


def paths(results):
    """The figures of a :func:`both_paths` contender's turns: medians and the kernels' ratio."""
    kernels = [r["seconds"] for r in results]
    numpy = [r["numpy_seconds"] for r in results]
    return {"kernels_seconds": statistics.median(kernels),
            "numpy_seconds": statistics.median(numpy),
            "kernels/numpy": turn_ratios(kernels, numpy)}


def medians(times):
    return {name: statistics.median(values) for name, values in times.items()}


def with_baseline(times, mllib_name, baseline_name):
    """The older mllib's figures beside this one's, when --baseline gave it."""
    if baseline_name not in times:
        return {"per_round": {}}
    old, new = times[baseline_name], times[mllib_name]
    return {"baseline/mllib": median_ratio(old, new),
            "per_round": {"baseline/mllib": turn_ratios(old, new)}}
