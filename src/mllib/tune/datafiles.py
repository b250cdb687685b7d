"""A search's data as files that every Dask worker reads for itself, checked by their hash.

The client writes each array once per search as an ``.npy`` file in a fresh
folder of ``data_dir`` (:func:`write`), with its SHA-256, and removes the
folder when the search ends (:func:`remove`). A worker loads the data the
first time it runs one of the search's trials (:meth:`DataFiles.load`), from
the folder and the hashes alone: it refuses a file whose hash differs, maps
it read-only, so that the workers of one machine share the operating
system's one copy, and keeps it for the search's later trials. A worker that
replaces a lost one loads it again in the same way. The data therefore never
passes through the Dask scheduler: its tasks carry the folder and the hashes,
a few hundred bytes.

``data_dir`` must be a folder that every worker sees at the same path: the
temp folder does for a cluster on this machine; a cluster of several machines
needs a shared file system.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass

import numpy as np

NAMES = ("train_X", "train_y", "dev_X", "dev_y")


class DataMismatch(ValueError):
    """A data file's hash is not the one the search wrote: it is not the search's data."""


@dataclass(frozen=True)
class DataFiles:
    """The folder of a search's data and each file's ``(name, SHA-256, pickled)``, in
    NAMES' order; ``pickled`` for an object array, which cannot be mapped."""

    folder: str
    files: tuple

    def paths(self) -> list:
        return [os.path.join(self.folder, name) for name, *_ in self.files]

    def load(self):
        """``(train, dev)``, each ``(X, y)``, read in this process once and then kept."""
        with _LOCK:
            for stale in [key for key in _LOADED if not os.path.isdir(key.folder)]:
                del _LOADED[stale]    # an earlier search's, whose folder has been removed
            if self not in _LOADED:
                arrays = [_read(path, digest, pickled) for path, (_, digest, pickled)
                          in zip(self.paths(), self.files)]
                _LOADED[self] = ((arrays[0], arrays[1]), (arrays[2], arrays[3]))
            return _LOADED[self]


# The data a worker process has loaded, by search.
_LOADED: dict = {}
_LOCK = threading.Lock()


def release(files: DataFiles) -> None:
    """Forget a search's data in this process (run on each worker as the search ends), so
    that its files, removed by then, are unmapped and their disk space given back."""
    with _LOCK:
        _LOADED.pop(files, None)


def write(train, dev, data_dir=None) -> DataFiles:
    """Each array of ``train`` and ``dev`` as an .npy file in a new folder of ``data_dir``
    (default: the temp folder, private to this user)."""
    folder = tempfile.mkdtemp(prefix="mllib-dask-data-", dir=data_dir)
    if data_dir is not None:
        os.chmod(folder, 0o755)   # the workers may run as other users of the shared folder
    try:
        files = []
        for name, array in zip(NAMES, (*train, *dev)):
            path = os.path.join(folder, name + ".npy")
            array = np.asarray(array)
            # Object arrays need pickle; they are checked by hash before they are unpickled.
            np.save(path, array, allow_pickle=array.dtype.hasobject)
            files.append((name + ".npy", sha256_of(path), array.dtype.hasobject))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return DataFiles(folder, tuple(files))


def remove(files: DataFiles) -> None:
    """Delete the search's folder; a warning, not an error, if it cannot be."""
    try:
        shutil.rmtree(files.folder)
    except FileNotFoundError:
        pass
    except OSError as err:
        warnings.warn(f"could not remove the search's data folder {files.folder!r}: {err}",
                      RuntimeWarning, stacklevel=2)


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 23), b""):
            digest.update(block)
    return digest.hexdigest()


def _read(path, digest, pickled):
    found = sha256_of(path)
    if found != digest:
        raise DataMismatch(f"the search's data file {path!r} has SHA-256 {found[:16]}..., not "
                           f"{digest[:16]}... as the search wrote it: it was changed, or this "
                           "path shows this worker another file")
    if pickled:
        return np.load(path, allow_pickle=True)
    return np.load(path, mmap_mode="r")
