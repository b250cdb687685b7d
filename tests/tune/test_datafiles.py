"""The search's data as files that each Dask worker reads itself (mllib.tune.datafiles), in this
process: written once, checked by hash, mapped read-only, kept per search, removed at the end."""

import os

import numpy as np
import pytest

from mllib.tune import datafiles
from mllib.tune.datafiles import DataMismatch

RNG = np.random.default_rng(0)
TRAIN = (RNG.normal(size=(50, 3)).astype(np.float32), RNG.integers(0, 2, 50))
DEV = (RNG.normal(size=(10, 3)).astype(np.float32), RNG.integers(0, 2, 10))


@pytest.fixture
def files(tmp_path):
    written = datafiles.write(TRAIN, DEV, tmp_path)
    yield written
    datafiles.release(written)
    datafiles.remove(written)


def test_the_data_comes_back_mapped_read_only_and_equal(files, tmp_path):
    assert os.path.dirname(files.folder) == str(tmp_path)
    (train, dev) = files.load()
    for got, expected in zip((*train, *dev), (*TRAIN, *DEV)):
        assert isinstance(got, np.memmap) and not got.flags.writeable
        assert got.dtype == expected.dtype and np.array_equal(got, expected)
    assert files.load()[0][0] is train[0]      # read once per process, then kept


def test_a_file_whose_hash_differs_is_refused_naming_it(files):
    path = files.paths()[0]
    with open(path, "r+b") as file:
        file.seek(-1, os.SEEK_END)
        last = file.read(1)
        file.seek(-1, os.SEEK_END)
        file.write(bytes([last[0] ^ 1]))
    with pytest.raises(DataMismatch, match=r"data file '.*train_X\.npy' has SHA-256 \w+\.\.\., "
                                           r"not \w+\.\.\. as the search wrote it"):
        files.load()


def test_object_arrays_are_pickled_and_still_checked(tmp_path):
    labels = np.array(["a", 1, None] * 4, dtype=object)
    written = datafiles.write((TRAIN[0][:12], labels), DEV, tmp_path)
    try:
        train, _ = written.load()
        assert train[1].dtype == object and list(train[1]) == list(labels)
        assert [pickled for _, _, pickled in written.files] == [False, True, False, False]
    finally:
        datafiles.release(written)
        datafiles.remove(written)


def test_release_and_remove_leave_nothing(files):
    files.load()
    datafiles.release(files)
    assert files not in datafiles._LOADED
    datafiles.remove(files)
    assert not os.path.exists(files.folder)
    datafiles.remove(files)                   # twice is harmless


def test_a_searchs_data_is_forgotten_once_its_folder_is_gone(tmp_path):
    first = datafiles.write(TRAIN, DEV, tmp_path)
    first.load()
    datafiles.remove(first)                   # a search that ended without releasing
    second = datafiles.write(TRAIN, DEV, tmp_path)
    try:
        second.load()
        assert first not in datafiles._LOADED and second in datafiles._LOADED
    finally:
        datafiles.release(second)
        datafiles.remove(second)


def test_a_failed_write_leaves_no_folder(tmp_path):
    unpicklable = np.array([(n for n in ()), None], dtype=object)
    with pytest.raises(TypeError, match="pickle"):
        datafiles.write(TRAIN, (DEV[0][:2], unpicklable), tmp_path)
    assert list(tmp_path.iterdir()) == []
