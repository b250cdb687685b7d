"""``mllib tune --out`` against a damaged or hostile search folder, as a user runs it.

Every file that tune reads or appends to in its folder (``manifest.json``,
``trials.jsonl``, the trials' models and ``models/`` itself), and the JSON files it
is given, is replaced by a FIFO, a link to ``/dev/zero`` and a link out of the folder;
the command runs in a process of its own with a timeout, so that a regression that
blocks fails instead of hanging the test run. Whatever the folder holds, tune ends with
0 (a trial's model that cannot be read back is trained again) or 2 and one line that
names the file, never 1 ("unexpected ...") and never a hang.
"""

import json
import os
import shutil
import string
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mllib
from _cli_csv_testing import run_here
from _cli_testing import assert_ok, deadline, run_cli

SPACE = {"learning_rate": {"loguniform": [1e-3, 0.3]}}
SETTINGS = {"epochs": 2, "hidden": [4], "batch_size": 32}
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


def tune(root, out, *extra, trials=3, seed=0, space="space.json"):
    """The search of 3 trials (2 of which ``base`` holds), in a process of its own."""
    return run_cli("tune", "--dataset", "flower", "--space", space, "--settings",
                   "settings.json", "--trials", trials, "--seed", seed, "--scheduler", "serial",
                   "-q", "--out", out, *extra, cwd=root, timeout=90)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile")
    (path / "space.json").write_text(json.dumps(SPACE))
    (path / "settings.json").write_text(json.dumps(SETTINGS))
    assert_ok(tune(path, "base", trials=2))
    return path


@pytest.fixture
def case(root, request):
    """A copy of the base folder, named after the test, and a folder outside it."""
    name = "case-" + "".join(c if c.isalnum() else "-" for c in request.node.name)[:80]
    return fresh_case(root, name)


def fresh_case(root, name):
    shutil.rmtree(root / name, ignore_errors=True)
    shutil.copytree(root / "base", root / name / "out")
    (root / name / "outside").mkdir()
    for given_file in ("space.json", "settings.json"):
        shutil.copy(root / given_file, root / name / given_file)
    return root / name


def one_error(result, *fragments):
    """Exit status 2 and one ``mllib: error:`` line holding each of ``fragments``."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mllib: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def make_hostile(path, kind, outside):
    """Put a FIFO, a link to /dev/zero or a link to a copy out of the folder at ``path``."""
    if kind == "outside":
        shutil.move(path, outside / path.name)
        path.symlink_to(outside / path.name)
        return
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")


def snapshot(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@needs_fifo
@pytest.mark.parametrize("name", ["manifest.json", "trials.jsonl", "models"])
@pytest.mark.parametrize("kind", ["fifo", "zero", "outside"])
def test_a_fifo_or_link_in_the_folder_exits_2_naming_it_and_nothing_outside_changes(
        case, name, kind):
    make_hostile(case / "out" / name, kind, case / "outside")
    before = snapshot(case / "outside") if kind == "outside" and name != "models" else None
    expected = "is a FIFO" if kind == "fifo" else "is a symbolic link; mllib follows no links"
    if name == "models" and kind == "fifo":
        expected = "is a FIFO, not a folder"
    one_error(tune(case, "out"), f"'out/{name}' {expected}")
    if before is not None:
        assert snapshot(case / "outside") == before
    if name == "models" and kind == "outside":
        assert sorted(os.listdir(case / "outside" / "models")) == ["trial-0.npz", "trial-1.npz"]


@needs_fifo
def test_results_written_into_the_folder_replace_links_and_fifos_without_following_them(case):
    out, outside = case / "out", case / "outside"
    for name, kind in (("trials.csv", "outside"), ("best.json", "fifo"),
                       ("preprocessing.json", "zero"), ("best_model.npz", "outside"),
                       ("dev_error_learning_rate.png", "outside")):
        make_hostile(out / name, kind, outside)
    before = snapshot(outside)
    assert_ok(tune(case, "out"))
    assert snapshot(outside) == before
    for name in ("trials.csv", "best.json", "preprocessing.json", "best_model.npz",
                 "dev_error_learning_rate.png"):
        assert (out / name).is_file() and not (out / name).is_symlink(), name
    assert json.loads((out / "best.json").read_text())["trial"] == best_trial(out)


def best_trial(folder) -> int:
    rows = [json.loads(line) for line in (folder / "trials.jsonl").read_text().splitlines()]
    return min(rows, key=lambda row: (row["dev_error"], row["trial"]))["trial"]


@needs_fifo
@pytest.mark.parametrize("kind", ["fifo", "zero", "outside", "truncated"])
def test_a_best_model_that_cannot_be_read_back_is_trained_again(case, root, kind):
    best = best_trial(case / "out")
    path = case / "out" / "models" / f"trial-{best}.npz"
    if kind == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    else:
        make_hostile(path, kind, case / "outside")
    result = tune(case, "out")
    assert_ok(result)
    assert f"trial {best} is trained again" in result.stderr
    assert not path.is_symlink()
    retrained = mllib.load(path).get_weights()
    recorded = mllib.load(root / "base" / "models" / f"trial-{best}.npz").get_weights()
    assert retrained.keys() == recorded.keys()
    for key, value in recorded.items():
        np.testing.assert_array_equal(retrained[key], value)


@needs_fifo
def test_fifos_named_like_temporary_files_do_not_hang_the_saves(case):
    fifos = [case / "out" / ".mllib-x.tmp", case / "out" / "models" / ".mllib-1-abcdefgh.tmp"]
    for fifo in fifos:
        os.mkfifo(fifo)
    assert_ok(tune(case, "out"))
    assert all(os.path.lexists(fifo) for fifo in fifos)


@needs_fifo
@pytest.mark.parametrize("flag, kind, expected", [
    ("--space", "fifo", "space file 'given.json' is a FIFO, not a regular file"),
    ("--space", "zero", "space file 'given.json' is a character device, not a regular file"),
    ("--settings", "fifo", "config file 'given.json' is a FIFO, not a regular file"),
    ("--settings", "zero", "config file 'given.json' is a character device"),
])
def test_a_json_file_given_as_a_fifo_or_device_exits_2(case, flag, kind, expected):
    given_path = case / "given.json"
    given_path.write_text("{}")
    make_hostile(given_path, kind, case / "outside")
    space = "given.json" if flag == "--space" else "space.json"
    settings_file = ["--settings", "given.json"] if flag == "--settings" else []
    one_error(run_cli("tune", "--dataset", "flower", "--space", space, "--trials", "1",
                      "--out", "new", *settings_file, cwd=case, timeout=60), expected)
    assert not (case / "new").exists()


@pytest.mark.parametrize("edit, fragments", [
    (lambda out: (out / "manifest.json").write_text("[]"),
     ["search manifest 'out/manifest.json' is damaged: it holds list"]),
    (lambda out: (out / "manifest.json").write_text("[" * 100_000 + "]" * 100_000),
     ["search manifest 'out/manifest.json' is not valid JSON: it nests 100000 deep"]),
    (lambda out: (out / "trials.jsonl").write_text(
        (out / "trials.jsonl").read_text().replace('"status": "ok"', '"status": 5', 1)),
     ["search journal 'out/trials.jsonl' line 1 is damaged: 'status' is 5"]),
    (lambda out: (out / "trials.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n"),
     ["search journal 'out/trials.jsonl' line 1 is damaged: it nests 100000 deep"]),
])
def test_a_damaged_file_of_the_folder_exits_2_with_one_line_naming_it(case, edit, fragments):
    edit(case / "out")
    one_error(tune(case, "out"), *fragments)


def test_a_journal_whose_manifest_was_removed_is_not_adopted_by_another_search(case):
    # tune ... --seed 1 --out D; rm D/manifest.json; tune ... --seed 0 --out D
    (case / "out" / "manifest.json").unlink()
    before = (case / "out" / "trials.jsonl").read_bytes()
    one_error(tune(case, "out", seed=1), "search journal 'out/trials.jsonl' holds trials of "
              "another search", "mllib tune --restart")
    assert (case / "out" / "trials.jsonl").read_bytes() == before
    result = tune(case, "out", "--restart", seed=1)
    assert_ok(result)
    assert len((case / "out" / "trials.jsonl").read_text().splitlines()) == 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs resource limits")
def test_a_file_size_limit_exits_2_keeping_the_folder_resumable(case):
    import resource

    def limit_files():                  # ulimit -f: smaller than one trial's model file
        resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))

    shutil.rmtree(case / "out")
    command = [sys.executable, "-m", "mllib.cli", "tune", "--dataset", "flower", "--space",
               "space.json", "--settings", "settings.json", "--trials", "2", "--scheduler",
               "serial", "-q", "--out", "out"]
    result = subprocess.run(command, cwd=case, capture_output=True, text=True, timeout=90,
                            preexec_fn=limit_files)
    one_error(result, "cannot write into 'out': File too large; the trials finished so far "
              "are kept there: make room and run the same command again")
    assert_ok(subprocess.run(command, cwd=case, capture_output=True, text=True, timeout=90))
    assert len((case / "out" / "trials.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize("args, message", [
    (["tune", "--space", "space.json", "--trials", "1000000000000"],
     "argument --trials: expected an integer from 1 to 100,000, got 1000000000000"),
    (["tune", "--space", "space.json", "--halving", "--trials", "3", "--min-epochs", "1",
      "--max-epochs", "2000000"], "argument --max-epochs: expected an integer from 1 to "
                                  "1,000,000"),
    (["tune", "--space", "space.json", "--trials", "2", "--settings", "e30.json"],
     "config file 'e30.json': epochs: expected an integer from 0 to 1,000,000, got 1" + "0" * 30),
    (["tune", "--space", "space.json", "--trials", "2", "--settings", "wide.json"],
     "config file 'wide.json': hidden: expected integers from 1 to 1,048,576"),
    (["train", "--epochs", "1e30"], "argument --epochs: expected an integer, got '1e30'"),
    (["train", "--epochs", "1000001"], "argument --epochs: expected an integer from 0 to "
                                       "1,000,000, got 1000001"),
    (["train", "--batch-size", str(2**24 + 1)], "argument --batch-size: expected an integer "
                                                "from 1 to 16,777,216"),
])
def test_counts_out_of_bounds_exit_2_before_anything_runs(root, args, message):
    (root / "e30.json").write_text('{"epochs": 1' + "0" * 30 + "}")
    (root / "wide.json").write_text('{"hidden": [2000000]}')
    out = root / "never"
    result = run_here(*args, "--dataset", "flower", "--out", out, cwd=root)
    one_error(result, message)
    assert not out.exists()


@needs_fifo
@pytest.mark.parametrize("kind, message", [
    ("fifo", "preprocessing file 'out/preprocessing.json' is a FIFO, not a regular file"),
    ("zero", "preprocessing file 'out/preprocessing.json' is a character device"),
    ("categories", "'out/preprocessing.json' encodes 1000001 input column(s), but the model "
                   "takes 2: it is not this model's preprocessing file"),
    ("deep", "preprocessing file 'out/preprocessing.json' is not valid JSON: it nests 100000"),
])
def test_predict_with_a_hostile_preprocessing_file_beside_the_best_model_exits_2(case, kind,
                                                                                 message):
    (case / "rows.csv").write_text("x1,x2\n0.5,-0.5\n")
    path = case / "out" / "preprocessing.json"
    if kind in ("fifo", "zero"):
        make_hostile(path, kind, case / "outside")
    elif kind == "categories":   # a forged file that would one-hot encode a million columns
        document = json.loads(path.read_text())
        document["columns"][0] = {"name": "x1", "kind": "categorical", "fill": None,
                                  "categories": [str(i) for i in range(1_000_000)]}
        path.write_text(json.dumps(document))
    else:
        path.write_text("[" * 100_000 + "]" * 100_000)
    one_error(run_cli("predict", "out/best_model.npz", "rows.csv", cwd=case, timeout=60),
              message)


# -- a property over damaged and hostile folders ---------------------------------------

FILES = ["manifest.json", "trials.jsonl", "models/trial-0.npz", "models/trial-1.npz",
         "models"]
JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70)
                    | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(string.printable, max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(string.ascii_lowercase, max_size=6), inner,
                                      max_size=3), max_leaves=6)
DAMAGE = st.one_of(
    st.tuples(st.just("truncate"), st.sampled_from(FILES[:4]), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.sampled_from(FILES[:4]), st.floats(0, 1),
              st.integers(1, 255)),
    st.tuples(st.just("hostile"), st.sampled_from(FILES), st.sampled_from(["fifo", "zero",
                                                                            "outside"])),
    st.tuples(st.just("delete"), st.sampled_from(FILES)),
    st.tuples(st.just("field"), st.sampled_from(["manifest.json", "trials.jsonl"]),
              st.sampled_from(["trial", "status", "params", "dev_error", "seed", "rung",
                               "search", "kind", "space", "settings", "data"]), JSON),
    st.tuples(st.just("append"), st.text(string.printable, max_size=40)),
)


def damage(out, outside, step):
    """Apply one ``step`` of :data:`DAMAGE` to the folder ``out``, where it can apply."""
    kind, target = step[0], out / step[1] if step[0] != "append" else out / "trials.jsonl"
    if not os.path.lexists(target) or (target.is_symlink() or not
                                       (target.is_file() or target.is_dir())):
        return
    if kind == "truncate":
        data = target.read_bytes()
        target.write_bytes(data[:int(len(data) * step[2])])
    elif kind == "flip":
        data = bytearray(target.read_bytes())
        if data:
            data[min(int(len(data) * step[2]), len(data) - 1)] ^= step[3]
            target.write_bytes(bytes(data))
    elif kind == "hostile" and not os.path.lexists(outside / target.name):
        make_hostile(target, step[2], outside)
    elif kind == "delete":
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    elif kind == "field":
        _set_field(target, step[2], step[3])
    elif kind == "append":
        with open(target, "a") as journal:
            journal.write(step[1] + "\n")


def _set_field(path, key, value):
    lines = path.read_text(errors="replace").splitlines() if path.name.endswith("l") else [
        path.read_text(errors="replace")]
    try:
        document = json.loads(lines[0])
    except (ValueError, IndexError):
        return
    if isinstance(document, dict):
        document[key] = value
        lines[0] = json.dumps(document)
        path.write_text("\n".join(lines) + "\n")


@needs_fifo
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(DAMAGE, min_size=1, max_size=3))
def test_tune_on_any_damaged_or_hostile_folder_exits_0_or_2_and_never_hangs(root, steps):
    case = fresh_case(root, "property")
    for step in steps:
        damage(case / "out", case / "outside", step)
    result = tune(case, "out")
    assert result.returncode in (0, 2), (steps, result.stderr)
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr, steps
    if result.returncode == 2:
        one_error(result)


# -- evaluate and predict on a damaged or hostile folder -----------------------------------

READ = ["best_model.npz", "preprocessing.json"]
READ_DAMAGE = st.one_of(
    st.tuples(st.just("truncate"), st.sampled_from(READ), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.sampled_from(READ), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("hostile"), st.sampled_from(READ), st.sampled_from(["fifo", "zero",
                                                                           "outside"])),
    st.tuples(st.just("delete"), st.sampled_from(READ)),
    st.tuples(st.just("field"), st.just("preprocessing.json"),
              st.sampled_from(["format", "version", "target", "target_kind", "columns",
                               "dropped", "missing", "inputs"]), JSON),
)


@needs_fifo
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(READ_DAMAGE, min_size=1, max_size=2))
def test_evaluate_and_predict_on_any_damaged_or_hostile_folder_exit_0_or_2_and_never_hang(
        root, steps):
    # In this process, under an alarm that interrupts a read that blocks (a FIFO).
    case = fresh_case(root, "read-property")
    (case / "rows.csv").write_text("x1,x2,y\n0.5,-0.5,1\n-1.0,0.25,0\n")
    for step in steps:
        damage(case / "out", case / "outside", step)
    for command in (["evaluate", "out/best_model.npz", "rows.csv", "--target", "y"],
                    ["predict", "out/best_model.npz", "rows.csv", "--out", "predictions.csv"]):
        with deadline(30):
            result = run_here(*command, cwd=case)
        assert result.returncode in (0, 2), (steps, command, result.stderr)
        assert "unexpected" not in result.stderr and "Traceback" not in result.stderr, steps
        if result.returncode == 2:
            one_error(result)
