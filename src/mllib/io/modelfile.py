"""The mllib model file: a versioned ``.npz`` archive, with nothing pickled.

Layout (format version 2)
-------------------------
A model file is a ZIP archive written by :func:`numpy.savez_compressed`:

- ``__header__``: UTF-8 JSON as a ``uint8`` array. It holds
  ``{"format": "mllib-model", "version": 2, "mllib_version": ..., ...}``
  plus whatever the model puts there (class, configuration, epoch,
  optimizer settings, Generator state, label kind).
- every other entry is a numeric or fixed-width unicode array named by a
  path such as ``params/W1``, ``state/running_mean1``, ``optimizer/m.W1``,
  ``standardizer/mean`` or ``classes/classes``.

It is read with ``allow_pickle=False``, so an object array (which would need
pickle) is rejected rather than executed. Files are written by
:func:`~mllib.io.atomic.write_atomically`, so a crash never leaves half a
file under the real name.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np

from .._version import __version__
from .atomic import write_atomically

FORMAT = "mllib-model"
# 2: the model's constructor arguments in "config"; Adam's state is the notes'
# m and v. Version 1 files are still read (mllib.training.state upgrades them).
VERSION = 2
HEADER_KEY = "__header__"


class ModelFileError(ValueError):
    """The file is not an mllib model, is damaged, or is of a newer version."""


def _payload(header: dict, arrays: dict) -> dict:
    full_header = {"format": FORMAT, "version": VERSION, "mllib_version": __version__, **header}
    payload = {HEADER_KEY: np.frombuffer(json.dumps(full_header).encode("utf-8"), dtype=np.uint8)}
    for name, array in arrays.items():
        array = np.asarray(array)
        if array.dtype == object:
            raise ValueError(f"array {name!r} has dtype object, which cannot be saved without pickle")
        payload[name] = array
    return payload


def model_file_bytes(header: dict, arrays: dict) -> bytes:
    """The bytes :func:`write_model_file` would write: a model file in memory."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **_payload(header, arrays))
    return buffer.getvalue()


def read_model_bytes(data: bytes, name="<bytes>") -> tuple[dict, dict]:
    """:func:`read_model_file` for a model file held in memory."""
    return _read(io.BytesIO(data), name)


def write_model_file(path, header: dict, arrays: dict) -> None:
    """Write ``header`` (JSON-serializable) and ``arrays`` to ``path``."""
    payload = _payload(header, arrays)
    write_atomically(path, lambda handle: np.savez_compressed(handle, **payload))


def read_model_file(path) -> tuple[dict, dict]:
    """Read ``(header, arrays)`` from ``path``, or raise :class:`ModelFileError`.

    A missing file raises ``FileNotFoundError``.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file: {path!r}")
    # The file is opened here, not by np.load, so that it is closed even when
    # the archive turns out to be damaged.
    with open(path, "rb") as handle:
        return _read(handle, path)


def _read(handle, path) -> tuple[dict, dict]:
    """``(header, arrays)`` of the model file open in ``handle``; ``path`` names it in errors."""
    if handle.read(4) != b"PK\x03\x04" and not _is_npy(handle):
        raise ModelFileError(f"{path!r} is not an mllib model file (not an .npz archive)")
    handle.seek(0)
    try:
        archive = np.load(handle, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ModelFileError(f"{path!r} is not a readable mllib model file: {err}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ModelFileError(f"{path!r} is a single .npy array, not an mllib model file")
    try:
        if HEADER_KEY not in archive.files:
            raise ModelFileError(f"{path!r} is not an mllib model file (no header)")
        header = _parse_header(archive[HEADER_KEY], path)
        arrays = {name: archive[name] for name in archive.files if name != HEADER_KEY}
    except ModelFileError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise ModelFileError(f"{path!r} is damaged: {err}") from None
    finally:
        archive.close()
    return header, arrays


def _is_npy(handle):
    handle.seek(0)
    return handle.read(6) == b"\x93NUMPY"


def _parse_header(raw, path):
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{path!r} has a damaged header: {err}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path!r} is not an mllib model file")
    version = header.get("version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path!r} has an invalid format version {version!r}")
    if version > VERSION:
        raise ModelFileError(f"{path!r} has format version {version}, newer than this "
                             f"mllib reads ({VERSION}); upgrade mllib")
    return header
