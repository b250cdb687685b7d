"""Bounded, typed reads (mllib.io.bounded) and bounded JSON (mllib.io.jsontext): no FIFO,
device or link where links are not followed is read, written or waited on, and no file is
read past its cap."""

import json
import os
import threading

import pytest

from mllib.io import jsontext
from mllib.io.bounded import (FileRefusedError, check_own_entry, open_checked, read_bounded,
                              read_json)

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


def within(seconds, call):
    """``call()``'s result or exception, or a failure if it has not returned in ``seconds``
    (a read that blocks on a FIFO would hang the test run otherwise)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as err:     # noqa: BLE001 - handed to the test
            outcome["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{call} blocked"
    return outcome


@needs_fifo
@pytest.mark.parametrize("call", [
    lambda p: read_bounded(p, 100, "config file"),
    lambda p: read_json(p, 100, "config file"),
    lambda p: open_checked(p, "search journal", mode="ab", follow_links=False),
    lambda p: open_checked(p, "search journal", mode="r+b", follow_links=False),
    lambda p: check_own_entry(p, "search journal"),
])
def test_a_fifo_is_refused_without_blocking(tmp_path, call):
    fifo = tmp_path / "f.json"
    os.mkfifo(fifo)
    outcome = within(10, lambda: call(fifo))
    assert isinstance(outcome.get("error"), FileRefusedError)
    assert "'" + str(fifo) + "' is a FIFO, not a regular file" in str(outcome["error"])


def test_a_device_behind_a_link_is_refused_and_a_link_in_an_own_folder_is_not_followed(tmp_path):
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    outcome = within(10, lambda: read_bounded(zero, 2**30, "space file"))
    assert isinstance(outcome.get("error"), FileRefusedError)
    assert str(outcome["error"]).endswith("is a character device, not a regular file")
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    link = tmp_path / "own" / "manifest.json"
    link.parent.mkdir()
    link.symlink_to(outside)
    assert read_json(link, 100, "space file") == {}         # a user's link is followed
    for call in (lambda: read_json(link, 100, "search manifest", follow_links=False),
                 lambda: open_checked(link, "search journal", mode="ab", follow_links=False),
                 lambda: check_own_entry(link, "search manifest")):
        with pytest.raises(FileRefusedError, match=r"is a symbolic link; mllib follows no "
                                                   r"links in its own folders"):
            call()
    assert outside.read_text() == "{}"


def test_a_file_over_its_cap_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 1025)
    with pytest.raises(FileRefusedError, match=r"config file '.*big\.json' has 1\.0 KiB, more "
                                               r"than the 1\.0 KiB a config file may take"):
        read_bounded(path, 1024, "config file")
    assert read_bounded(path, 1025, "config file") == b" " * 1025


def test_missing_files_and_folders_raise_as_open_does(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such config file"):
        read_bounded(tmp_path / "nowhere.json", 10, "config file")
    with pytest.raises(IsADirectoryError):
        read_bounded(tmp_path, 10, "config file")
    assert check_own_entry(tmp_path / "nowhere", "search journal") is False
    assert check_own_entry(tmp_path, "models folder", folder=True) is True
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileRefusedError, match=r"models folder .* is a regular file, not a "
                                               r"folder"):
        check_own_entry(tmp_path / "file", "models folder", folder=True)


def test_append_creates_a_regular_file_and_appends(tmp_path):
    path = tmp_path / "trials.jsonl"
    for line in (b"a\n", b"b\n"):
        with open_checked(path, "search journal", mode="ab", follow_links=False) as handle:
            handle.write(line)
    assert path.read_bytes() == b"a\nb\n"


@pytest.mark.parametrize("text, match", [
    ("[" * 33 + "]" * 33, r"it nests 33 deep, more than 32"),
    ('{"a": NaN}', r"it holds NaN, which is not a finite number"),
    ('{"a": 1e999}', r"the number 1e999 is out of range"),
    ('{"a": ' + "9" * 41 + "}", r"the number 9{12}\.\.\. has more than 40 digits"),
    ('{"a": ', r"Expecting value"),
])
def test_json_out_of_bounds_is_a_value_error(text, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        jsontext.loads_bounded(text)
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(FileRefusedError, match=r"settings file '.*x\.json' is not valid JSON: "
                                               + match):
        read_json(path, 1000, "settings file")


def test_json_within_bounds_reads_as_json_does():
    text = '{"a": [1, 2.5, "x\\"]]]]", {"b": null}], "c": ' + "9" * 40 + "}"
    assert jsontext.loads_bounded(text) == {"a": [1, 2.5, 'x"]]]]', {"b": None}],
                                            "c": int("9" * 40)}
    deepest = "[" * 32 + "]" * 32
    assert jsontext.loads_bounded(deepest.encode()) == json.loads(deepest)


def test_a_refusal_names_the_file_and_keeps_its_reason_across_pickling(tmp_path):
    import pickle

    os.mkfifo(tmp_path / "f.json")
    with pytest.raises(FileRefusedError) as caught:
        read_json(tmp_path / "f.json", 100, "config file")
    err = caught.value
    assert str(err) == f"config file {str(tmp_path / 'f.json')!r} is a FIFO, not a regular file"
    assert err.reason == "is a FIFO, not a regular file" and err.what == "config file"
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is FileRefusedError and str(again) == str(err)
    assert again.reason == err.reason
