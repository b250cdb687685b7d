"""``mllib train`` stopped by Ctrl-C goes on with ``--resume`` to the same bits; run folders are
replaced whole; Ctrl-C at any moment exits 130 with at most one line.

The runs that Ctrl-C stops are the ``mllib`` command in a process of its own; the
others call ``main`` in this process (a subprocess takes a second to import pandas and
matplotlib), so that a resume reads all it knows from the checkpoint of another process.
"""

import json
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mllib
from _cli_csv_testing import run_here
from _cli_testing import assert_ok, run_cli

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
              pytest.mark.same_bits]   # CI runs these again under other BLAS kernels

RUN = ["train", "--dataset", "flower", "--hidden", "8", "--batch-size", "8", "--seed", "4",
       "--learning-rate", "0.01", "--lr-decay", "rational:0.01", "--keep-prob", "0.9",
       "--epochs", "60", "-q"]


MLLIB = Path(sys.executable).with_name("mllib")   # the console script a user runs


def start(*args, cwd):
    """The mllib command in the background, with SIGINT handled as in a terminal."""
    return subprocess.Popen(
        [MLLIB, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(path, process, timeout=60):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.005)


def weights(path):
    return mllib.load(path).get_weights()


def test_ctrl_c_saves_a_checkpoint_and_resume_ends_with_the_same_bits(tmp_path):
    assert_ok(run_here(*RUN, "--out", "whole", cwd=tmp_path))
    process = start(*RUN, "--out", "cut", "--checkpoint-every", "1", cwd=tmp_path)
    wait_for(tmp_path / "cut.incomplete" / "checkpoint.npz", process)   # after epoch 1
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    (line,) = err.splitlines()
    assert line.startswith("mllib: interrupted in epoch ")
    assert line.endswith("; go on with: mllib train --resume cut.incomplete")
    assert not (tmp_path / "cut").exists()
    # The checkpoint is where Ctrl-C stopped training, not the last one of every epoch.
    stopped = mllib.load(tmp_path / "cut.incomplete" / "checkpoint.npz")
    where = f"epoch {stopped.epoch_ + 1}"
    if stopped.position_ is not None:
        where += f", after batch {stopped.position_.done} of {stopped.position_.n_batches}"
    assert line.startswith(f"mllib: interrupted in {where};")
    assert_ok(run_here("train", "--resume", "cut.incomplete", "-q", cwd=tmp_path))
    assert not (tmp_path / "cut.incomplete").exists()
    whole, cut = weights(tmp_path / "whole" / "model.npz"), weights(tmp_path / "cut" / "model.npz")
    assert all(np.array_equal(whole[k], cut[k]) for k in whole)
    history = {name: pd.read_csv(tmp_path / name / "history.csv") for name in ("whole", "cut")}
    columns = ["epoch", "cost", "accuracy", "val_cost", "val_accuracy", "lr"]
    pd.testing.assert_frame_equal(history["whole"][columns], history["cut"][columns])
    assert len(history["cut"]) == 60


TUNE = ["tune", "--dataset", "flower", "--space", "space.json", "--settings", "settings.json",
        "--trials", "6", "--out", "search"]


def test_ctrl_c_in_tune_prints_the_command_that_resumes_the_search(tmp_path):
    (tmp_path / "space.json").write_text('{"learning_rate": {"loguniform": [1e-3, 0.3]}, '
                                         '"hidden": [[4], [8]]}')
    (tmp_path / "settings.json").write_text('{"epochs": 60, "batch_size": 8}')
    # In worker processes, as by default; --restart is left out of the command that goes on.
    process = start(*TUNE, "--restart", cwd=tmp_path)
    journal = tmp_path / "search" / "trials.jsonl"
    wait_for(journal, process, timeout=120)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    done = journal.read_text().splitlines()
    assert 1 <= len(done) < 6
    assert err.splitlines()[-1] == (f"mllib: interrupted after {len(done)} of 6 trials; go on "
                                    f"with: mllib {shlex.join(TUNE)}")
    assert "Traceback" not in err
    command = shlex.split(err.splitlines()[-1].split("; go on with: ")[1])
    again = subprocess.run([MLLIB, *command[1:]], cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
    assert_ok(again)
    assert again.stderr.startswith(f"mllib: resuming: {len(done)} of 6 trials read back from "
                                   "search, best so far ")
    lines = journal.read_text().splitlines()
    assert lines[:len(done)] == done        # the finished trials are not run again
    assert sorted(json.loads(line)["trial"] for line in lines) == list(range(6))
    assert "trials   6 of 6 ok" in again.stdout


def test_resume_takes_the_checkpoint_file_and_refuses_other_settings(tmp_path):
    process = start(*RUN, "--out", "cut", "--checkpoint-every", "1", cwd=tmp_path)
    wait_for(tmp_path / "cut.incomplete" / "checkpoint.npz", process)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    result = run_here("train", "--resume", "cut.incomplete", "--epochs", "3", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "mllib: error: --resume continues a run with its own data and settings; drop epochs"]
    result = run_here(*RUN, "--out", "cut", cwd=tmp_path)
    assert result.returncode == 2 and "holds an interrupted run; go on with 'mllib train " \
        "--resume cut.incomplete'" in result.stderr
    assert_ok(run_here("train", "--resume", "cut.incomplete/checkpoint.npz", "-q", cwd=tmp_path))
    assert (tmp_path / "cut" / "model.npz").exists()


def test_resume_of_a_folder_that_is_not_a_run_is_refused(tmp_path):
    (tmp_path / "nothing").mkdir()
    result = run_here("train", "--resume", "nothing", cwd=tmp_path)
    assert result.returncode == 2
    assert "is not the folder of an interrupted run" in result.stderr


def test_a_run_folder_is_replaced_whole(tmp_path):
    old = tmp_path / "out"
    old.mkdir()
    for name in ("model.npz", "decision_boundary.png", "confusion_matrix.png"):
        (old / name).write_bytes(b"from an older run")
    data = tmp_path / "reg.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "t": X @ [1.0, 2.0, -1.0]}).to_csv(
        data, index=False)
    assert_ok(run_here("train", data, "--target", "t", "--epochs", "3", "-q", "--out", old,
                       cwd=tmp_path))
    files = sorted(p.name for p in old.iterdir())
    assert "confusion_matrix.png" not in files and "decision_boundary.png" not in files
    assert (old / "model.npz").read_bytes() != b"from an older run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "reg.csv"]


def test_a_folder_with_other_files_is_never_replaced(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = run_here("train", "--epochs", "1", "--out", "mine", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "mllib: error: --out 'mine' holds files that mllib train did not write ('notes.txt'); "
        "it would replace the whole folder, so choose another"]
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


START_UP = ("mllib/__init__.py", "mllib/_version.py", "mllib/cli/__init__.py")


def interpreter_start_up(err):
    """Whether a KeyboardInterrupt traceback comes from before mllib's ``main`` could catch
    it: Python's own start-up (``site`` reading .pth files, runpy, the console script's
    first imports), or the bodies of the three tiny modules the console script imports
    to reach ``main``, which import nothing but the standard library's already loaded
    ``sys`` (some milliseconds in all). Any frame of another mllib module, or inside
    ``main``, means the interrupt came later and should have been caught."""
    frames = [line.strip() for line in err.splitlines() if line.lstrip().startswith("File ")]
    package = str(Path(mllib.__file__).parent.parent)
    ours = [frame for frame in frames if package in frame]
    return err.rstrip().endswith("KeyboardInterrupt") and bool(frames) and all(
        frame.endswith("in <module>") and any(name in frame for name in START_UP)
        for frame in ours)


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8])
def test_ctrl_c_at_any_moment_exits_130_with_at_most_one_line(tmp_path, delay):
    process = start(*RUN[:-3], "--epochs", "100000", "--out", "run", cwd=tmp_path)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    if process.returncode in (1, -signal.SIGINT) and interpreter_start_up(err):
        return
    # Before Python has set up its handler, SIGINT ends the process as a shell's 130 does.
    assert process.returncode in (130, -signal.SIGINT)
    assert "Traceback" not in err and len(err.splitlines()) <= 1 and out == ""
    if err:
        assert err.startswith("mllib: interrupted")
    staging = tmp_path / "run.incomplete"
    assert not staging.exists() or (staging / "checkpoint.npz").exists()
    assert not (tmp_path / "run").exists()


def test_training_that_diverges_exits_2_with_one_line_and_leaves_nothing(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    pd.DataFrame({"x": x, "y": 100 * x}).to_csv(tmp_path / "line.csv", index=False)
    result = run_cli("train", "line.csv", "--target", "y", "--optimizer", "gd",
                     "--learning-rate", "1000", "--epochs", "50", "--out", "run", cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("mllib: error: training diverged: ") and "smaller learning rate" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.csv"]
