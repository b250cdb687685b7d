"""The searches of issue 21 killed with SIGKILL mid-search, then resumed: the table of a
search never stopped, and no trial trained twice."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from mllib.datasets import make_flower
from mllib.tune import MedianPruner, async_halving, hyperband, loguniform, random_search

X, Y = make_flower(240, seed=3)
TRAIN, DEV = (X[:180], Y[:180]), (X[180:], Y[180:])
SPACE = {"learning_rate": loguniform(1e-3, 3e-1), "hidden": [[16], [32]]}
SEARCHES = {
    "async": (async_halving, dict(trials=12, min_epochs=5, max_epochs=45,
                                  settings={"batch_size": 16}, seed=2)),
    "tpe, cv": (random_search, dict(trials=10, settings={"epochs": 12, "batch_size": 16},
                                    seed=2, sampler="tpe", batch=2, cv=3)),
    "repeats": (random_search, dict(trials=6, settings={"epochs": 30, "batch_size": 16},
                                    seed=2, repeats=3)),
    "hyperband": (hyperband, dict(min_epochs=5, max_epochs=45, settings={"batch_size": 16},
                                  seed=2)),
    "tpe, pruner": (random_search, dict(trials=10, settings={"epochs": 30, "batch_size": 16},
                                        seed=2, sampler="tpe", batch=2,
                                        pruner=MedianPruner(warmup=2, min_trials=2))),
}
SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[3])
    from test_killed_searches import SEARCHES, SPACE, TRAIN, DEV
    search, arguments = SEARCHES[sys.argv[1]]
    if __name__ == "__main__":
        search(SPACE, TRAIN, DEV, backend="processes", workers=2, out=sys.argv[2],
               **arguments)
""")


def lines(journal):
    """The journal's whole lines (a kill may tear the last one)."""
    return [json.loads(line) for line in journal.read_text().splitlines() if line.endswith("}")]


def key(row):
    return row.get("rung", 0), row["trial"], row.get("repeat", 0)


def trained(row):
    """What a journal line records as trained: a trial, to its epochs, with its seed (a
    Hyperband line's rung counts within its bracket, the table's among all budgets)."""
    return row["trial"], row["epochs"], row["seed"]


def table(rows):
    return sorted(({k: v for k, v in row.items() if k != "seconds"} for row in rows), key=key)


@pytest.mark.parametrize("name", SEARCHES)
def test_a_search_killed_mid_way_resumes_to_the_uninterrupted_table(name, tmp_path):
    out, script = tmp_path / "killed", tmp_path / "search.py"
    script.write_text(SCRIPT)
    process = subprocess.Popen([sys.executable, str(script), name, str(out),
                                os.path.dirname(__file__)])
    journal = out / "trials.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and len(lines(journal)) >= 3:
            break
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    search, arguments = SEARCHES[name]
    whole, seen = search(SPACE, TRAIN, DEV, **arguments), []
    every = [row for rung in (whole.rungs or [whole.trials]) for row in rung]
    every += whole.repeats or []
    before = len(lines(journal))
    assert 3 <= before < len(every)                 # killed in the middle
    resumed = search(SPACE, TRAIN, DEV, out=out, on_trial=seen.append, **arguments)
    assert len(seen) == len(every) - before
    assert sorted(map(trained, lines(journal))) == sorted(map(trained, every))  # none twice
    assert table(resumed.trials) == table(whole.trials)
    assert table(resumed.repeats or []) == table(whole.repeats or [])
    assert table([resumed.best]) == table([whole.best])
