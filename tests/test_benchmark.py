"""The benchmark is not a timed test: this only proves that its --quick mode still runs."""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_quick_benchmark_runs_every_case(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "benchmark.py"), "--quick",
                           "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(out.read_text())
    wide = results["case1_2_wide"]
    assert set(wide["seconds"]) == {"wide_mllib", "wide_torch", "wide_sklearn",
                                    "wide_mllib_bn_dropout"}
    assert all(seconds > 0 for seconds in wide["seconds"].values())
    for case in ("case3_flower", "case4_inference"):
        assert results[case]["mllib/torch"] > 0
    assert results["case5_memory"]["peak_bytes"] > 0
    memmap = results["case5_memmap"]
    assert memmap["completed"] and memmap["file_bytes"] > memmap["rlimit_data_bytes"]
