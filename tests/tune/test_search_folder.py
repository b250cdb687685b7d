"""A search's folder trusts only what it made: rows of another search are refused, damaged
or forged files are refused naming the file (or their trial is trained again, where that
is safe), links and FIFOs in it are neither followed nor waited on, and counts are bounded."""

import json
import os
import shutil
import warnings

import numpy as np
import pytest

from mllib.datasets import make_flower
from mllib.tune import grid_search, loguniform, random_search, successive_halving
from mllib.tune.candidates import MAX_TRIALS
from mllib.tune.records import MAX_MANIFEST_BYTES

X, Y = make_flower(240, seed=3)
TRAIN, DEV = (X[:180], Y[:180]), (X[180:], Y[180:])
SPACE = {"learning_rate": loguniform(1e-3, 3e-1)}
FIXED = {"epochs": 3, "batch_size": 32, "hidden": [4]}


def table(result):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.trials]


def search(out, trials=3, seed=0, **kwargs):
    return random_search(SPACE, TRAIN, DEV, trials=trials, settings=FIXED, seed=seed, out=out,
                         **kwargs)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A folder with 2 trials of the search, and the table of the whole search of 3."""
    out = tmp_path_factory.mktemp("recorded") / "search"
    search(out, trials=2)
    return out, table(search(None))


@pytest.fixture
def folder(recorded, tmp_path):
    out = tmp_path / "search"
    shutil.copytree(recorded[0], out)
    return out


def rows(out):
    return [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()]


def write_rows(out, rows_):
    (out / "trials.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows_))


def test_rows_carry_the_identity_of_their_search(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    assert len(manifest["search"]) == 64
    assert [row["search"] for row in rows(folder)] == [manifest["search"]] * 2


def test_a_journal_without_its_manifest_is_not_adopted_by_another_search(folder):
    # The case: tune --seed 1 --out D; rm D/manifest.json; tune --seed 0 --out D.
    (folder / "manifest.json").unlink()
    before = (folder / "trials.jsonl").read_bytes()
    with pytest.raises(ValueError, match=r"search journal '.*trials\.jsonl' holds trials of "
                                         r"another search: line 1: it is a trial of another "
                                         r"search .*; use another folder, or restart"):
        search(folder, seed=1)
    assert (folder / "trials.jsonl").read_bytes() == before
    assert not (folder / "manifest.json").exists()      # refused before anything is written
    # The same search finds its own rows again, and runs only the missing trial.
    seen = []
    assert table(search(folder, on_trial=seen.append)) == table(search(None))
    assert [row["trial"] for row in seen] == [2]


def test_rows_of_another_search_beside_a_matching_manifest_are_refused(folder, tmp_path):
    other = tmp_path / "other"
    search(other, seed=1, trials=1)
    with open(folder / "trials.jsonl", "a") as journal:
        journal.write((other / "trials.jsonl").read_text())
    with pytest.raises(ValueError, match=r"holds trials of another search: line 3"):
        search(folder)


def test_rows_from_before_identities_resume_beside_their_manifest_only(folder, recorded):
    old = [{k: v for k, v in row.items() if k != "search"} for row in rows(folder)]
    write_rows(folder, old)
    seen = []
    assert table(search(folder, on_trial=seen.append)) == recorded[1]
    assert [row["trial"] for row in seen] == [2]
    write_rows(folder, old)
    (folder / "manifest.json").unlink()
    with pytest.raises(ValueError, match=r"line 1: it does not say which search it belongs "
                                         r"to, and the folder has no manifest\.json"):
        search(folder)


@pytest.mark.parametrize("edit, match", [
    (lambda m: [], r"it holds list, not a JSON object"),
    (lambda m: {**m, "settings": 5}, r"'settings' is 5, not a JSON object"),
    (lambda m: {k: v for k, v in m.items() if k != "seed"}, r"it has no 'seed'"),
    (lambda m: {**m, "seed": True}, r"'seed' is true, not a whole number"),
    (lambda m: {**m, "search": "forged"}, r"'search' is \"forged\", not a SHA-256 in hex"),
])
def test_a_damaged_manifest_is_refused_naming_it(folder, edit, match):
    path = folder / "manifest.json"
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    with pytest.raises(ValueError, match=r"search manifest '.*manifest\.json' is damaged: "
                                         + match + r"; restore it, or use another folder"):
        search(folder)


@pytest.mark.parametrize("text, match", [
    ("[" * 50_000 + "]" * 50_000, r"is not valid JSON: it nests 50000 deep"),
    ('{"kind": "random", "seed": NaN}', r"is not valid JSON: it holds NaN"),
    ("\xff", r"is not valid JSON: 'utf-8' codec can't decode"),
])
def test_a_manifest_that_is_not_json_is_refused_naming_it(folder, text, match):
    (folder / "manifest.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(ValueError, match=r"search manifest '.*manifest\.json' " + match):
        search(folder)


@pytest.mark.parametrize("key, value, match", [
    ("status", 5, r"'status' is 5, not \"ok\" or \"failed\""),
    ("trial", "0", r"'trial' is \"0\", not a whole number"),
    ("trial", -1, r"'trial' is -1, not a whole number"),
    ("rung", 1.5, r"'rung' is 1\.5, not a whole number"),
    ("params", [], r"'params' is \[\], not a JSON object"),
    ("dev_error", "x", r"'dev_error' is \"x\", not a finite number"),
    ("dev_error", None, r"'dev_error' is null, not a finite number"),
    ("seconds", None, r"'seconds' is null, not a finite number"),
    ("epochs", 2.0, r"'epochs' is 2\.0, not a whole number"),
    ("error", 3, r"'error' is 3, not text or null"),
])
def test_a_journal_row_of_wrong_types_is_refused_naming_its_line(folder, key, value, match):
    edited = rows(folder)
    edited[1][key] = value
    write_rows(folder, edited)
    with pytest.raises(ValueError, match=r"search journal '.*trials\.jsonl' line 2 is damaged: "
                                         + match + r"; remove that line to run its trial again"):
        search(folder)


def test_a_torn_line_anywhere_is_skipped_and_its_trial_runs_again(folder, recorded):
    lines = (folder / "trials.jsonl").read_text().splitlines()
    (folder / "trials.jsonl").write_text(lines[0][:40] + "\n" + lines[1] + "\n")
    seen = []
    assert table(search(folder, on_trial=seen.append)) == recorded[1]
    assert sorted(row["trial"] for row in seen) == [0, 2]


@pytest.mark.parametrize("damage", ["truncated", "empty", "fifo", "link to /dev/zero",
                                    "link out of the folder", "another file format"])
def test_a_best_model_that_cannot_be_read_back_is_trained_again(folder, recorded, damage):
    best = min(rows(folder), key=lambda row: (row["dev_error"], row["trial"]))["trial"]
    path = folder / "models" / f"trial-{best}.npz"
    data = path.read_bytes()
    path.unlink()
    outside = folder.parent / "outside.npz"
    outside.write_bytes(data)
    {"truncated": lambda: path.write_bytes(data[:len(data) // 2]),
     "empty": lambda: path.write_bytes(b""),
     "fifo": lambda: os.mkfifo(path),
     "link to /dev/zero": lambda: path.symlink_to("/dev/zero"),
     "link out of the folder": lambda: path.symlink_to(outside),
     "another file format": lambda: path.write_text("{}")}[damage]()
    seen = []
    with pytest.warns(UserWarning, match=rf"trial {best} is trained again"):
        result = search(folder, on_trial=seen.append)
    assert table(result) == recorded[1] and sorted(r["trial"] for r in seen) == [best, 2]
    assert not path.is_symlink() and path.read_bytes()[:2] == b"PK"
    assert outside.read_bytes() == data
    np.testing.assert_array_equal(result.best_model.get_weights()["W1"],
                                  search(None).best_model.get_weights()["W1"])


@pytest.mark.parametrize("name", ["manifest.json", "trials.jsonl"])
@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero", "link out of the folder"])
def test_no_link_or_fifo_in_the_folder_is_read_or_written(folder, name, kind):
    path, outside = folder / name, folder.parent / f"outside-{name}"
    shutil.move(path, outside)
    before = outside.read_bytes()
    {"fifo": lambda: os.mkfifo(path), "link to /dev/zero": lambda: path.symlink_to("/dev/zero"),
     "link out of the folder": lambda: path.symlink_to(outside)}[kind]()
    expected = (r"is a FIFO, not a regular file" if kind == "fifo" else
                r"is a symbolic link; mllib follows no links in its own folders")
    with pytest.raises(ValueError, match=rf"'{folder}/{name}' {expected}"):
        search(folder)
    assert outside.read_bytes() == before
    # Restart starts over, removing them without following them.
    assert table(search(folder, restart=True)) == table(search(None))
    assert outside.read_bytes() == before and not path.is_symlink()


def test_a_models_folder_that_is_a_link_is_refused(folder):
    elsewhere = folder.parent / "elsewhere"
    shutil.move(folder / "models", elsewhere)
    (folder / "models").symlink_to(elsewhere)
    with pytest.raises(ValueError, match=r"models folder '.*models' is a symbolic link"):
        search(folder)
    assert sorted(os.listdir(elsewhere)) == ["trial-0.npz", "trial-1.npz"]


def test_a_halving_whose_recorded_models_cannot_be_read_back_resumes_to_the_same_bits(tmp_path):
    space = {"learning_rate": loguniform(1e-3, 3e-1), "hidden": [[4], [8]]}
    kwargs = dict(trials=6, min_epochs=2, max_epochs=8, factor=2,
                  settings={"batch_size": 32}, seed=1, out=tmp_path / "halving")
    whole = successive_halving(space, TRAIN, DEV, **kwargs)
    best, survivor = whole.best, whole.rungs[1][0]["trial"]
    models = tmp_path / "halving" / "models"
    # The last rung's best, read back at the end, and a survivor's rung-0 state, which
    # rung 1 continues once the journal is cut back to rung 0.
    path = models / f"trial-{best['trial']}-rung-{best['rung']}.npz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning, match=rf"trial {best['trial']} is trained again"):
        again = successive_halving(space, TRAIN, DEV, **kwargs)
    np.testing.assert_array_equal(again.best_model.get_weights()["W1"],
                                  whole.best_model.get_weights()["W1"])
    lines = (tmp_path / "halving" / "trials.jsonl").read_text().splitlines()
    (tmp_path / "halving" / "trials.jsonl").write_text("\n".join(lines[:6]) + "\n")
    (models / f"trial-{survivor}.npz").write_bytes(b"")
    with pytest.warns(UserWarning, match=rf"trial {survivor} is trained again"):
        again = successive_halving(space, TRAIN, DEV, **kwargs)
    strip = lambda rung: [{k: v for k, v in r.items() if k != "seconds"} for r in rung]  # noqa
    assert [strip(r) for r in again.rungs] == [strip(r) for r in whole.rungs]
    np.testing.assert_array_equal(again.best_model.get_weights()["W1"],
                                  whole.best_model.get_weights()["W1"])


def test_a_manifest_too_large_to_read_back_is_refused_before_anything_is_written(tmp_path):
    # A choice of 1.2 million λ: whichever is drawn, the one trial's network is small.
    huge = {"learning_rate": loguniform(1e-3, 1e-1), "lambda": [0.0] + [1e-300] * 1_200_000}
    with pytest.raises(ValueError, match=r"the search's manifest would take .* MiB, more than "
                                         r"the 16\.0 MiB"):
        random_search(huge, TRAIN, DEV, trials=1, settings={"epochs": 1}, out=tmp_path / "x")
    assert not (tmp_path / "x").exists()
    assert MAX_MANIFEST_BYTES == 2**24


@pytest.mark.parametrize("call, match", [
    (lambda: random_search(SPACE, TRAIN, DEV, trials=MAX_TRIALS + 1),
     r"trials must be at most 100,000, got 100001"),
    (lambda: grid_search({"learning_rate": loguniform(1e-3, 1e-1),
                          "lambda": loguniform(1e-3, 1e-1)}, TRAIN, DEV, points=400),
     r"the grid has 160,000 points \(400 × 400\), more than the 100,000 a search may try"),
    (lambda: successive_halving(SPACE, TRAIN, DEV, trials=2, min_epochs=1,
                                max_epochs=10**6 + 1),
     r"max_epochs must be at most 1,000,000"),
    (lambda: successive_halving(SPACE, TRAIN, DEV, trials=2, min_epochs=1, max_epochs=10**6,
                                factor=1 + 1e-9),
     r"factor=1\.000000001 gives 13,815,50\d,\d{3} rungs from 1 to 1000000 epochs, "
     r"more than 1,000; use a larger factor"),
    (lambda: random_search(SPACE, TRAIN, DEV, trials=1, settings={"epochs": 10**30}),
     r"epochs: expected an integer from 0 to 1,000,000"),
])
def test_counts_have_upper_bounds(call, match):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=match):
            call()


def test_a_folder_another_mllib_version_wrote_resumes(folder, recorded):
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "mllib_version": "0.1.0"}))
    ran = []
    assert table(search(folder, on_trial=ran.append)) == recorded[1]
    assert [row["trial"] for row in ran] == [2]       # the two recorded trials stand
