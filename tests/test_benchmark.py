"""The benchmark is not a timed test: these prove that its scripts still run, in their quick
modes, and that its harness reports bad options and failed workers. They are marked
``bench``, so that ``-m bench`` runs them alone."""

import importlib.util
import json
import math
import pathlib
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.bench


def load_benchmark():
    """bench/benchmark.py as a module, whose functions the tests call in this process."""
    spec = importlib.util.spec_from_file_location("benchmark", ROOT / "bench" / "benchmark.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    return benchmark


def test_quick_benchmark_runs_cases_1_to_5_and_only_those(tmp_path):
    # main in this process, where the suite has imported PyTorch already (the results
    # describe it); every contender still runs in a worker process that starts the
    # script as a user does (benchmark.py --serve). Case 6 has a test of its own below:
    # between them, every case runs once.
    out = tmp_path / "bench.json"
    assert load_benchmark().main(["--quick", "--cases", "12345", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert {key for key in results if key.startswith("case")} == {
        "case1_2_wide", "case3_flower", "case4_inference", "case5_memory", "case5_memmap"}
    wide = results["case1_2_wide"]
    assert set(wide["seconds"]) == {"wide_mllib", "wide_torch", "wide_sklearn",
                                    "wide_mllib_bn_dropout"}
    assert all(seconds > 0 for seconds in wide["seconds"].values())
    assert wide["per_round"]["bn_dropout/plain"]["median"] > 0
    # mllib's NumPy path and its compiled kernels, taking turns in one worker
    for paths in (wide["paths"], results["case4_inference"]["paths"]):
        assert paths["kernels_seconds"] > 0 and paths["numpy_seconds"] > 0
        assert paths["kernels/numpy"]["median"] > 0
    for case in ("case3_flower", "case4_inference"):
        assert results[case]["mllib/torch"] > 0
    assert results["case5_memory"]["peak_bytes"] > 0
    memmap = results["case5_memmap"]
    assert memmap["completed"] and memmap["file_bytes"] > memmap["rlimit_data_bytes"]
    # Figures from different machines are told apart by what they ran on.
    machine = results["machine"]
    assert machine["cpu"] and machine["torch"]["version"].startswith("2.")
    assert machine["mllib_kernels"].startswith("kernels: ")
    assert all("architecture" in lib for lib in machine["blas"]) or machine["blas"] == [
        {"unknown": "threadpoolctl is not installed"}]


def test_quick_benchmark_runs_case_6_alone(tmp_path):
    out = tmp_path / "bench.json"
    assert load_benchmark().main(["--quick", "--cases", "6", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert {key for key in results if key.startswith("case")} == {"case6_adam_step"}
    step = results["case6_adam_step"]
    assert step["parameters"] == 235146
    assert set(step["seconds_per_step"]) == {"adam_mllib", "adam_mllib_1thread",
                                             "adam_torch_fused"}
    assert all(seconds > 0 for seconds in step["seconds_per_step"].values())
    paths = step["paths"]
    assert paths["kernels_seconds"] > 0 and paths["numpy_seconds"] > 0
    assert paths["kernels/numpy"]["median"] > 0 and step["kernels/torch_fused"] > 0


@pytest.mark.parametrize("args, message", [
    (["--cases", "7"], "cases are digits from 1 to 6, such as 12, got '7'"),
    (["--runs", "0"], "--runs: must be a positive integer, got '0'"),
    (["--runs", "x"], "--runs: must be a positive integer, got 'x'"),
])
def test_bad_options_are_refused_before_any_run(args, message):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "benchmark.py"), *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr


def test_a_worker_that_fails_to_start_is_reported_with_its_error():
    benchmark = load_benchmark()
    with pytest.raises(RuntimeError, match=r"(?s)worker no_such stopped \(exit status 1\)"
                                           r".*unknown worker 'no_such'"):
        benchmark.alternate(1, ["no_such"], n=64)


def test_a_worker_that_dies_between_turns_is_reported():
    benchmark = load_benchmark()
    contender = benchmark.Contender("matmul")
    assert contender.run()["gflops"] > 0
    contender._process.kill()
    contender._process.wait()
    with pytest.raises(RuntimeError, match=r"worker matmul stopped \(exit status -9\)"):
        contender.run()


def test_copies_script_times_every_copy_against_the_original():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "copies.py"), "--rows", "300",
                           "--rounds", "2"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "one epoch of 300 rows, median of 2 rounds"
    assert [line.split()[0] for line in lines[1:]] == ["original", "deepcopy", "pickle",
                                                       "save/load"]
    assert "1.000 × original" in lines[1]


@pytest.mark.same_bits
def test_tuning_benchmark_runs_every_back_end_checks_their_tables_and_the_memory(tmp_path):
    # 100,000 rows of 64 float32 inputs: 25 MiB, which the Dask scheduler held in full once.
    out = tmp_path / "tuning.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "tuning.py"), "--rounds", "1",
                           "--rows", "100000", "--trials", "2", "--epochs", "1",
                           "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert set(report["median_seconds"]) == {"serial", "processes", "dask"}
    assert set(report["speedup"]) == {"processes", "dask"}
    assert all(copies > 0 for copies in report["data_copies_per_worker"].values())
    memory = report["memory_mb"]
    assert memory["data"] == round(report["data_mb"], 1) > 24 and len(memory["workers"]) == 2
    for figures in (memory["scheduler"], *memory["workers"].values()):
        assert figures["peak"] >= figures["before"] > 0
        assert figures["growth"] == pytest.approx(figures["peak"] - figures["before"], abs=0.11)
    assert all(worker["private"] > 0 and worker["mapped"] > 0
               for worker in memory["workers"].values())
    # The data does not grow the scheduler; each worker still maps it (its pages count
    # in its resident memory).
    assert memory["scheduler"]["growth"] < memory["data"] / 4, memory
    assert all(worker["growth"] > memory["data"] / 2 for worker in memory["workers"].values())


def test_the_memory_sampler_skips_a_process_that_has_exited():
    spec = importlib.util.spec_from_file_location("tuning", ROOT / "bench" / "tuning.py")
    tuning = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tuning)
    assert tuning.high_water_bytes() > 0
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    status = pathlib.Path(f"/proc/{child.pid}/status")
    deadline = time.monotonic() + 60
    while "State:\tZ" not in status.read_text():      # exited, not yet reaped: no VmHWM
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert tuning.high_water_bytes(child.pid) is None
    child.wait(timeout=60)
    assert tuning.high_water_bytes(child.pid) is None   # reaped: no /proc entry at all


@pytest.mark.same_bits
def test_the_pruning_benchmark_compares_both_searches_and_checks_the_table(tmp_path):
    out = tmp_path / "pruning.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "pruning.py"), "--repeats", "2",
                           "--trials", "8", "--epochs", "8", "--warmup", "2", "--min-trials",
                           "2", "--backend", "processes", "--workers", "2", "--json",
                           str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["pruner"] == {"rule": "median", "warmup": 2, "every": 1, "min_trials": 2}
    runs, summary = report["runs"], report["summary"]
    assert [run["seed"] for run in runs] == [0, 1]
    for run in runs:
        plain, pruned = run["plain"], run["pruned"]
        assert plain["epochs"] == plain["epochs_trained"] == 64 and plain["pruned"] == 0
        assert 0 < pruned["pruned"] < 8 and pruned["epochs"] < 64
        assert pruned["epochs"] <= pruned["epochs_trained"] <= 64
    shares = sorted(run["pruned"]["epochs"] / 64 for run in runs)
    assert summary["median_epoch_share"] == pytest.approx(sum(shares) / 2)
    assert summary["at_most_60_percent_of_epochs"] == (summary["median_epoch_share"] <= 0.6)


def test_the_searches_benchmark_runs_every_contender_and_repeats_its_choices(tmp_path,
                                                                             monkeypatch):
    out = tmp_path / "searches.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "searches.py"), "--repeats", "1",
                           "--trials", "4", "--epochs", "3", "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["arguments"]["min_epochs"] == 1 and set(report["results"]) == {
        "digits", "diabetes"}
    # 4 trials × 3 epochs; halving 1 → 3 epochs keeps 2 of 4; Hyperband 1 → 3 has brackets
    # of 3 trials (1 goes on) and 2; scikit-learn trains 4 × 1 and 2 × 3 from scratch.
    epochs = {"random": 12, "median": 12, "halving": 8, "async_halving": 8, "hyperband": 11,
              "tpe": 12, "tpe_median": 12, "sklearn": 10}
    for problem, entries in report["results"].items():
        assert list(entries) == ["random", "median", "halving", "hyperband", "async_halving",
                                 "tpe", "tpe_median", "optuna", "sklearn"]
        for name, entry in entries.items():
            (run,) = entry["runs"]
            assert math.isfinite(run["best_dev_error"]) and math.isfinite(run["test_error"])
            assert run["seconds"] > 0 and 0 < run["utilisation"] <= 1.0
            if name not in ("optuna", "sklearn"):     # serial: the trials fill their window
                assert run["utilisation"] < run["busy_utilisation"] <= 1.0
            assert run["trials"] == (5 if name == "hyperband" else 4)
            assert run["epochs"] == epochs.get(name, run["epochs"]) and 0 < run["epochs"] <= 12
            assert entry["median"]["best_dev_error"] == run["best_dev_error"]
        sklearn_run = entries["sklearn"]["runs"][0]
        assert sklearn_run["refit_dev_error"] == pytest.approx(sklearn_run["best_dev_error"])
    assert "| digits (1 − accuracy) | mllib random search | 4 |" in done.stdout
    # The same seed chooses the same again, in this process: the mllib searches' whole tables.
    spec = importlib.util.spec_from_file_location("searches", ROOT / "bench" / "searches.py")
    searches = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "searches", searches)     # for its dataclass
    spec.loader.exec_module(searches)
    args = searches.parse_args(["--trials", "4", "--epochs", "3"])
    digits = searches.load_problem("digits")
    for name, entry in report["results"]["digits"].items():
        if "best_dev_error" not in entry["runs"][0]:
            continue
        again = searches.run_contender(name, digits, 0, args)
        assert again["best_dev_error"] == entry["runs"][0]["best_dev_error"], name
        if "table" in again:
            assert searches.run_contender(name, digits, 0, args)["table"] == again["table"]
