"""A run folder of ``mllib train`` survives kill -9 and Ctrl-C anywhere, refuses other data and
damaged or foreign files with one line (exit status 2), and a full disk keeps it resumable.

Faults are injected deterministically: ``_fault_at.py`` runs the command in a process of
its own and sends it a real SIGKILL or SIGINT at the N-th line of mllib's command and file
code, or at the N-th call of a function (see there). The resumes run in this process.
"""

import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mllib
from _cli_csv_testing import notes, run_here
from _cli_testing import assert_ok, deadline
from mllib.cli import fingerprint

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
              pytest.mark.same_bits]   # CI runs these again under other BLAS kernels

FAULT_AT = Path(__file__).with_name("_fault_at.py")
RUN = ["train", "--dataset", "flower", "--hidden", "8", "--batch-size", "8", "--seed", "4",
       "--learning-rate", "0.01", "--lr-decay", "rational:0.01", "--keep-prob", "0.9",
       "--epochs", "8", "-q", "--checkpoint-every", "1"]
TRAIN_IN = "mllib.cli.train.train_in"


def fault(signal_name, what, n, *args, cwd, start=TRAIN_IN, file_limit=None):
    """``mllib ARGS`` in a process of its own, sent SIG``signal_name`` at the ``n``-th
    ``what`` after ``start`` is called; (CompletedProcess, the counts as the harness
    wrote them, or None; under ``file_limit`` they may be torn)."""
    def prepare():
        signal.signal(signal.SIGINT, signal.SIG_DFL)    # as in a terminal
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    result = subprocess.run(
        [sys.executable, FAULT_AT, signal_name, start, what, str(n), "counts.json", "--",
         *args], cwd=cwd, capture_output=True, text=True, timeout=180, preexec_fn=prepare)
    counts = cwd / "counts.json"
    return result, counts.read_text() if counts.exists() else None


def assert_same_run(expected: Path, got: Path):
    """The same files, weights, history (but the seconds) and metrics (but the time)."""
    assert sorted(p.name for p in got.iterdir()) == sorted(p.name for p in expected.iterdir())
    a, b = (mllib.load(folder / "model.npz").get_weights() for folder in (expected, got))
    assert sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a)
    history = [pd.read_csv(folder / "history.csv").drop(columns="time")
               for folder in (expected, got)]
    pd.testing.assert_frame_equal(*history)
    assert len(history[1]) == 8
    metrics = [json.loads((folder / "metrics.json").read_text()) for folder in (expected, got)]
    for document in metrics:
        del document["seconds"]
    assert metrics[0] == metrics[1]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The run never stopped, made under the fault harness (sent nothing), with its counts."""
    folder = tmp_path_factory.mktemp("reference")
    result, counts = fault("INT", "line", 0, *RUN, "--out", "whole", cwd=folder)
    assert_ok(result)
    return folder / "whole", json.loads(counts)


def test_kill_9_anywhere_then_resume_gives_the_bits_and_history_of_a_run_never_killed(
        reference, tmp_path):
    whole, counts = reference
    trained_at, end = counts["first_calls"]["mark_trained"], counts["count"]
    first_save = counts["first_calls"]["save"]
    rng = np.random.default_rng(22)
    points = [("line", 1),                      # before the first checkpoint
              ("write_checkpoint", 3),          # history.json of epoch 3 saved, its checkpoint not
              ("line", int(rng.integers(first_save, trained_at))),
              *(("line", int(n)) for n in rng.choice(np.arange(trained_at, end), 2,
                                                     replace=False))]
    for what, n in points:
        folder = tmp_path / f"{what}-{n}"
        folder.mkdir()
        result, _ = fault("KILL", what, n, *RUN, "--out", "cut", cwd=folder)
        assert result.returncode == -signal.SIGKILL, (what, n, result.stderr)
        if (folder / "cut.incomplete").exists():
            assert_ok(run_here("train", "--resume", "cut.incomplete", "-q", cwd=folder))
        assert sorted(os.listdir(folder)) == ["cut"], (what, n)
        assert_same_run(whole, folder / "cut")


def test_ctrl_c_anywhere_after_training_leaves_the_run_published_or_written_by_resume_alone(
        reference, tmp_path):
    # Without --checkpoint-every, as most runs: the model exists only in memory until the
    # run saves it at the end. Counted from the record that training ended, the lines
    # that follow are the same with checkpoints or without.
    whole, counts = reference
    trained_at = counts["first_calls"]["mark_trained"]
    rng = np.random.default_rng(7)
    points = [*(("line", int(n)) for n in rng.choice(np.arange(1, counts["count"] - trained_at),
                                                     2, replace=False)),
              ("line", counts["first_calls"]["publish"] - trained_at + 3),  # publishing
              ("matplotlib/", 1)]               # in the import of matplotlib
    for what, n in points:
        folder = tmp_path / f"{what.strip('/')}-{n}"
        folder.mkdir()
        result, _ = fault("INT", what, n, *RUN[:-2], "--out", "cut", cwd=folder,
                          start="mllib.cli.runfolder.mark_trained")
        assert result.returncode == 130, (what, n, result.stderr)
        (line,) = result.stderr.splitlines()
        assert line.startswith("mllib: interrupted"), line
        if (folder / "cut.incomplete").exists():
            assert line.endswith("; go on with: mllib train --resume cut.incomplete"), line
            resumed = run_here("train", "--resume", "cut.incomplete", "-q", cwd=folder)
            assert_ok(resumed)
            assert notes(resumed) == ["the run in 'cut.incomplete' had trained; writing its "
                                      "files"]
        assert sorted(os.listdir(folder)) == ["counts.json", "cut"], (what, n)
        assert_same_run(whole, folder / "cut")


@pytest.fixture(scope="module")
def stopped(tmp_path_factory, reference):
    """A run stopped by Ctrl-C after its second checkpoint: the folder to copy and damage."""
    folder = tmp_path_factory.mktemp("stopped")
    result, _ = fault("INT", "write_checkpoint", 2, *RUN, "--out", "cut", cwd=folder)
    assert result.returncode == 130, result.stderr
    return folder / "cut.incomplete"


def snapshot(folder) -> dict:
    """Each file's bytes; a link's target and a FIFO's kind, which are not read."""
    def content(path):
        if path.is_symlink():
            return ("link", os.readlink(path))
        return "fifo" if path.is_fifo() else path.read_bytes()
    return {path.name: content(path) for path in folder.iterdir()}


def copy_of(stopped, tmp_path) -> Path:
    staging = tmp_path / "cut.incomplete"
    shutil.copytree(stopped, staging)
    return staging


def resume(tmp_path):
    with deadline(60):
        return run_here("train", "--resume", "cut.incomplete", "-q", cwd=tmp_path)


def test_a_stopped_run_resumes_to_the_bits_of_one_never_stopped(stopped, reference, tmp_path):
    copy_of(stopped, tmp_path)
    assert_ok(resume(tmp_path))
    assert_same_run(reference[0], tmp_path / "cut")


def edit_record(staging, change):
    record = json.loads((staging / "resume.json").read_text())
    change(record)
    (staging / "resume.json").write_text(json.dumps(record))


def wider(record, refingerprint):
    record["settings"]["hidden"] = [64, 32]
    if refingerprint:     # as a careful forger would
        record["fingerprint"]["settings"] = fingerprint.of_settings(record["settings"],
                                                                   record["output"])


def write(name, content):
    return lambda staging: (staging / name).write_text(content)


def replace(name, make):
    def change(staging):
        (staging / name).unlink()
        make(staging / name)
    return change


def truncate(name, size):
    return lambda staging: (staging / name).write_bytes((staging / name).read_bytes()[:size])


def foreign_checkpoint(staging):
    """The checkpoint of a run of other settings (seed 5), in the place of this run's."""
    other = staging.parent / "other"
    other.mkdir()
    run = [a if a != "4" else "5" for a in RUN]
    assert_ok(run_here(*run[:-2], "--epochs", "2", "--out", "o", cwd=other))
    shutil.copy(other / "o" / "model.npz", staging / "checkpoint.npz")


DAMAGED = {
    "resume.json torn": (truncate("resume.json", 100), "resume.json' is damaged: it is not valid JSON"),
    "resume.json nested": (write("resume.json", "[" * 100_000),
                           "resume.json' is damaged: it is not valid JSON: it nests 100000 deep"),
    "resume.json a list": (write("resume.json", "[]"),
                           "resume.json' is damaged: it holds a JSON list, not an object"),
    "resume.json a FIFO": (replace("resume.json", os.mkfifo),
                           "resume.json' is damaged: it is a FIFO, not a regular file"),
    "resume.json to /dev/zero": (replace("resume.json", lambda p: p.symlink_to("/dev/zero")),
                                 "resume.json' is damaged: it is a symbolic link"),
    "resume.json too large": (write("resume.json", " " * (5 * 2**20)),
                              "resume.json' is damaged: it has 5.0 MiB, more than the 4.0 MiB"),
    "settings edited": (lambda s: edit_record(s, lambda r: wider(r, False)),
                        "resume.json' is damaged: its settings are not those the run began "
                        "with (they do not match their fingerprint)"),
    "settings of the wrong type": (
        lambda s: edit_record(s, lambda r: r["settings"].update(epochs="x")),
        "resume.json' is damaged: its settings: epochs: expected an integer, got 'x'"),
    "settings forged": (lambda s: edit_record(s, lambda r: wider(r, True)),
                        "checkpoint.npz' is not a checkpoint of this run: it has "
                        "nodes=[2, 8, 1], the run's settings give nodes=[2, 64, 32, 1]"),
    "fingerprint gone from a new record": (
        lambda s: edit_record(s, lambda r: r.pop("fingerprint")),
        "resume.json' is damaged: its fingerprint is missing or malformed"),
    "trained, forged": (
        lambda s: edit_record(s, lambda r: r.update(trained={
            "seconds": 1.0, "best_epoch": None, "stopped_epoch": None})),
        "resume.json' is damaged: it says that training ended, but checkpoint.npz is in "
        "epoch 3 of 8"),
    "trained, malformed": (
        lambda s: edit_record(s, lambda r: r.update(trained={"seconds": -1})),
        "resume.json' is damaged: its 'trained' entry {'seconds': -1} is malformed"),
    "history.json torn": (truncate("history.json", 40), "history.json' is damaged: it is not valid JSON"),
    "history.json a FIFO": (replace("history.json", os.mkfifo),
                            "history.json' is damaged: it is a FIFO, not a regular file"),
    "history.json with digests of null": (
        lambda s: (s / "history.json").write_text(json.dumps(
            {**json.loads((s / "history.json").read_text()), "checkpoints": None})),
        "history.json' is damaged: its 'checkpoints' is not a list of 1 to 2 SHA-256 digests"),
    "history.json of fewer epochs": (
        write("history.json", '{"epoch": [0], "history": {"cost": [1], "accuracy": [1], '
                              '"val_cost": [1], "val_accuracy": [1], "lr": [1], "time": [1]}}'),
        "history.json' logs 1 epoch(s), but checkpoint.npz is at epoch 2"),
    "history.json of other epochs": (
        write("history.json", '{"epoch": [0, 2], "history": {"cost": [1.0, 2.0]}}'),
        "history.json' is damaged: its 'epoch' is not the list 0, 1, 2, ..."),
    "history.json of other logs": (
        write("history.json", '{"epoch": [0], "history": {"cost": [1.0]}}'),
        "history.json' is damaged: its 'history' does not log cost, accuracy, val_cost, "
        "val_accuracy, lr, time"),
    "history.json gone": (lambda s: (s / "history.json").unlink(),
                          "history.json' is missing, but checkpoint.npz is at epoch 2"),
    "checkpoint.npz torn": (truncate("checkpoint.npz", 300),
                            "checkpoint.npz' is damaged: the end of its ZIP directory is "
                            "missing"),
    "checkpoint.npz a FIFO": (replace("checkpoint.npz", os.mkfifo),
                              "checkpoint.npz' is damaged: it is a FIFO, not a regular file"),
    "checkpoint.npz a link to its copy": (
        lambda s: (shutil.move(s / "checkpoint.npz", s.parent / "copy.npz"),
                   (s / "checkpoint.npz").symlink_to(s.parent / "copy.npz")),
        "checkpoint.npz' is damaged: it is a symbolic link; mllib follows no links in its "
        "own folders"),
    "checkpoint.npz of another run": (foreign_checkpoint,
                                      "checkpoint.npz' is not a checkpoint of this run: it "
                                      "has seed=5, the run's settings give seed=4"),
}


@pytest.mark.parametrize("case", DAMAGED)
def test_a_damaged_or_foreign_file_exits_2_with_one_line_naming_it(stopped, tmp_path, case):
    damage, message = DAMAGED[case]
    staging = copy_of(stopped, tmp_path)
    damage(staging)
    before = snapshot(staging)
    result = resume(tmp_path)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("mllib: error: ") and "'cut.incomplete/" in line, line
    assert message in line, line
    assert snapshot(staging) == before
    assert not (tmp_path / "cut").exists()


def test_a_record_of_an_earlier_mllib_resumes_with_a_note_and_gets_its_fingerprints(
        stopped, reference, tmp_path):
    staging = copy_of(stopped, tmp_path)
    edit_record(staging, lambda r: [r.pop(key) for key in ("format", "version", "fingerprint",
                                                           "trained")])
    result = resume(tmp_path)
    assert_ok(result)
    assert notes(result) == [
        "'cut.incomplete/resume.json' was written by an earlier mllib, which kept no "
        "fingerprint of the data and settings: going on without checking that they are the "
        "ones the run began with"]
    assert_same_run(reference[0], tmp_path / "cut")


def test_a_finished_run_is_not_resumed(reference, tmp_path):
    shutil.copytree(reference[0], tmp_path / "cut")
    (tmp_path / "cut" / "resume.json").write_text("{}")    # left by a killed publication
    result = run_here("train", "--resume", "cut", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("mllib: error: 'cut' is not the folder of an interrupted "
                                    "run: its name does not end with '.incomplete'")


def test_publishing_removes_an_older_run_that_a_killed_publication_left_aside(
        stopped, reference, tmp_path):
    copy_of(stopped, tmp_path)
    dead = subprocess.Popen(["true"])
    dead.wait()
    for pid in (dead.pid, os.getpid()):               # a killed publisher, and a live one
        shutil.copytree(reference[0], tmp_path / f".cut.mllib-old-{pid}")
    assert_ok(resume(tmp_path))
    assert sorted(os.listdir(tmp_path)) == [f".cut.mllib-old-{os.getpid()}", "cut"]
    assert_same_run(reference[0], tmp_path / "cut")


def test_links_left_in_the_folder_are_replaced_not_written_through(stopped, tmp_path):
    staging = copy_of(stopped, tmp_path)
    names = ["preprocessing.json", "model.npz", "metrics.json", "cost.png", "history.csv"]
    for name in names:
        (tmp_path / f"victim-{name}").write_text("keep me")
        (staging / name).symlink_to(tmp_path / f"victim-{name}")
    assert_ok(resume(tmp_path))
    for name in names:
        assert (tmp_path / f"victim-{name}").read_text() == "keep me"
        assert not (tmp_path / "cut" / name).is_symlink()


def test_a_folder_left_before_the_record_was_written_says_to_start_again(tmp_path):
    (tmp_path / "cut.incomplete").mkdir()     # killed between creating it and its record
    message = ("mllib: error: 'cut.incomplete' is left from a run that stopped before it "
               "wrote its resume.json: nothing in it can be resumed; remove it and start again")
    for command in (RUN + ["--out", "cut"], ["train", "--resume", "cut.incomplete"]):
        result = run_here(*command, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.splitlines() == [message]
    assert os.listdir(tmp_path / "cut.incomplete") == []


# -- other data ---------------------------------------------------------------------------


def table(n=120, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).round(3)
    label = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "label": label})


def edited(frame):
    frame = frame.copy()
    frame.loc[5, "b"] += 1.0
    return frame


def swapped(frame):
    frame = frame.copy()
    frame["label"] = frame["label"].map({"yes": "no", "no": "yes"})
    return frame


def scaled(frame):
    return frame.assign(c=frame["c"] * 10)


CHANGES = {
    "a value edited": (edited, "the input values differ"),
    # The split is stratified by label: rows of other labels at a place split otherwise.
    "rows shuffled": (lambda f: f.sample(frac=1.0, random_state=1),
                      "the input values differ; the target values differ; the "
                      "train/dev/test split differs"),
    "a column scaled": (scaled, "the input values differ"),
    "rows appended": (lambda f: pd.concat([f, table(10, seed=1)]),
                      "the run began with 120 rows, the data now gives 130"),
    "labels swapped": (swapped,
                       "the target values differ; the train/dev/test split differs"),
}


@pytest.fixture(scope="module")
def stopped_on_csv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("csv")
    table().to_csv(folder / "data.csv", index=False)
    result, _ = fault("INT", "write_checkpoint", 1, "train", "data.csv", "--target", "label",
                      "--hidden", "4", "--batch-size", "16", "--epochs", "5", "-q",
                      "--checkpoint-every", "1", "--out", "cut", cwd=folder)
    assert result.returncode == 130, result.stderr
    return folder


@pytest.mark.parametrize("case", CHANGES)
def test_resume_on_other_data_is_refused_naming_what_differs(stopped_on_csv, tmp_path, case):
    change, difference = CHANGES[case]
    data = stopped_on_csv / "data.csv"
    original = data.read_bytes()
    staging = copy_of(stopped_on_csv / "cut.incomplete", tmp_path)
    before = snapshot(staging)
    try:
        change(table()).to_csv(data, index=False)
        result = resume(tmp_path)
    finally:
        data.write_bytes(original)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"mllib: error: {str(data)} is not the data the run began with: {difference}; resume "
        "with that data, or start a new run"]
    assert snapshot(staging) == before


def test_the_same_data_written_again_resumes(stopped_on_csv, tmp_path):
    data = stopped_on_csv / "data.csv"
    original = data.read_bytes()
    copy_of(stopped_on_csv / "cut.incomplete", tmp_path)
    try:
        table().to_csv(data, index=False, lineterminator="\r\n", float_format="%.6f")
        assert data.read_bytes() != original
        assert_ok(resume(tmp_path))
    finally:
        data.write_bytes(original)
    assert (tmp_path / "cut" / "model.npz").exists()


def test_a_checkpoint_of_a_run_on_other_data_is_refused(stopped_on_csv, tmp_path):
    # The same settings and shapes, other values: only the checkpoint's digest, which the
    # run's history records, tells the two checkpoints apart.
    other = tmp_path / "other"
    other.mkdir()
    table(seed=3).to_csv(other / "data.csv", index=False)
    result, _ = fault("INT", "write_checkpoint", 1, "train", "data.csv", "--target", "label",
                      "--hidden", "4", "--batch-size", "16", "--epochs", "5", "-q",
                      "--checkpoint-every", "1", "--out", "cut", cwd=other)
    assert result.returncode == 130, result.stderr
    staging = copy_of(stopped_on_csv / "cut.incomplete", tmp_path)
    shutil.copy(other / "cut.incomplete" / "checkpoint.npz", staging / "checkpoint.npz")
    before = snapshot(staging)
    result = resume(tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "mllib: error: 'cut.incomplete/checkpoint.npz' is not a checkpoint this run saved: "
        "its SHA-256 is not among those history.json records; start the run again"]
    assert snapshot(staging) == before


def test_a_resume_killed_between_its_history_and_its_checkpoint_resumes_again(reference,
                                                                               tmp_path):
    # Killed after the 3rd history, before its checkpoint; the resume killed likewise at
    # its first save. The history then names two checkpoints that were never written,
    # unless the resume kept the digest of the one on disk.
    result, _ = fault("KILL", "write_checkpoint", 3, *RUN, "--out", "cut", cwd=tmp_path)
    assert result.returncode == -signal.SIGKILL
    result, _ = fault("KILL", "write_checkpoint", 1, "train", "--resume", "cut.incomplete",
                      "-q", cwd=tmp_path)
    assert result.returncode == -signal.SIGKILL
    assert_ok(resume(tmp_path))
    assert_same_run(reference[0], tmp_path / "cut")


def test_the_history_records_the_digest_of_the_checkpoint_beside_it(stopped):
    history = json.loads((stopped / "history.json").read_text())
    digest = hashlib.sha256((stopped / "checkpoint.npz").read_bytes()).hexdigest()
    assert len(history["checkpoints"]) == 2 and history["checkpoints"][-1] == digest


def test_a_history_without_digests_as_an_earlier_mllib_wrote_it_resumes(stopped, reference,
                                                                       tmp_path):
    staging = copy_of(stopped, tmp_path)
    history = json.loads((staging / "history.json").read_text())
    del history["checkpoints"]
    (staging / "history.json").write_text(json.dumps(history))
    assert_ok(resume(tmp_path))
    assert_same_run(reference[0], tmp_path / "cut")


def test_a_folder_that_another_command_works_in_is_refused_and_left_as_it_is(stopped, reference,
                                                                             tmp_path):
    import fcntl

    staging = copy_of(stopped, tmp_path)
    before = snapshot(staging)
    fd = os.open(staging, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)    # as a running train holds it
        result = resume(tmp_path)
    finally:
        os.close(fd)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "mllib: error: 'cut.incomplete' is in use: another mllib train is working in it; "
        "wait for it to end"]
    assert snapshot(staging) == before
    assert_ok(resume(tmp_path))                          # once it has ended
    assert_same_run(reference[0], tmp_path / "cut")


# -- a full disk ---------------------------------------------------------------------------


def test_a_full_disk_says_so_and_keeps_the_trained_run_resumable(reference, tmp_path):
    # ulimit -f: the record and the checkpoints fit, the plots do not (EFBIG).
    result, _ = fault("INT", "line", 0, *RUN, "--out", "cut", cwd=tmp_path,
                      file_limit=16 * 1024)
    assert result.returncode == 2        # a problem with a file, as in tune
    assert result.stderr.splitlines() == [
        "mllib: error: no room to write the run (File too large); it is kept in "
        "'cut.incomplete': make room, then go on with: mllib train --resume cut.incomplete"]
    resumed = run_here("train", "--resume", "cut.incomplete", "-q", cwd=tmp_path)
    assert_ok(resumed)
    assert notes(resumed) == ["the run in 'cut.incomplete' had trained; writing its files"]
    assert_same_run(reference[0], tmp_path / "cut")


def test_no_room_for_the_record_leaves_nothing(tmp_path):
    result, _ = fault("INT", "line", 0, *RUN, "--out", "cut", cwd=tmp_path, file_limit=512)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "mllib: error: no room to start the run (File too large); nothing was written"]
    assert sorted(os.listdir(tmp_path)) == ["counts.json"]


# -- any damage ----------------------------------------------------------------------------


def json_values():
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    return scalars | st.lists(scalars, max_size=3) | st.dictionaries(st.text(max_size=6),
                                                                    scalars, max_size=3)


def damage_bytes(data, offset, value):
    if value is None:
        return data[:offset % (len(data) + 1)]           # torn
    at = offset % len(data)
    return data[:at] + bytes([value]) + data[at + 1:]    # one byte changed


def damage_record(text, key, value, forge):
    """``resume.json`` with ``key`` set to ``value``; with ``forge``, and its settings'
    fingerprint made again to match, as a careful forger would."""
    record = json.loads(text)
    target = record["settings"] if key.startswith("settings.") else record
    target[key.removeprefix("settings.")] = value
    if forge and isinstance(record["settings"], dict) and isinstance(record["fingerprint"],
                                                                     dict):
        record["fingerprint"]["settings"] = fingerprint.of_settings(record["settings"],
                                                                   record["output"])
    return json.dumps(record, allow_nan=True).encode()


KEYS = ["format", "version", "data", "output", "checkpoint_every", "fingerprint", "trained",
        "settings", "settings.hidden", "settings.epochs", "settings.seed", "settings.dataset",
        "settings.batch_size", "settings.learning_rate", "settings.optimizer",
        "settings.keep_prob", "settings.validation_split"]


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(["resume.json", "history.json", "checkpoint.npz"]),
       offset=st.integers(0, 10**6), byte=st.none() | st.integers(0, 255),
       key=st.sampled_from(KEYS), value=json_values(), as_json=st.booleans(),
       forge=st.booleans())
def test_resume_of_a_damaged_folder_exits_0_or_2_never_1_and_never_hangs(
        stopped, tmp_path_factory, name, offset, byte, key, value, as_json, forge):
    cwd = tmp_path_factory.mktemp("damaged")
    staging = copy_of(stopped, cwd)
    path = staging / name
    if as_json and name == "resume.json":
        path.write_bytes(damage_record(path.read_text(), key, value, forge))
    else:
        path.write_bytes(damage_bytes(path.read_bytes(), offset, byte))
    result = resume(cwd)
    assert result.returncode in (0, 2), result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    if result.returncode == 2:
        assert len(result.stderr.splitlines()) == 1
    shutil.rmtree(cwd)
