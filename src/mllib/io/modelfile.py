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

Files are written by :func:`~mllib.io.atomic.write_atomically`, so a crash
never leaves half a file under the real name.

What a model file may contain
-----------------------------
Reading trusts nothing in the file; it never runs code from it and never
allocates more than the model its header declares needs:

- a regular file (not a FIFO, socket or device), holding a ZIP archive whose
  directory lists at most :data:`MAX_MEMBERS` members in at most
  :data:`MAX_DIRECTORY_BYTES`; every member an ``.npy`` array (format 1.0 or
  2.0, header at most :data:`NPY_HEADER_BYTES`), stored or deflated,
  unencrypted, of dtype bool, integer, real float of at most 64 bits, bytes or
  unicode: never object (pickle), complex, datetime or structured;
- a header of at most :data:`MAX_HEADER_BYTES`, nested at most
  :data:`MAX_HEADER_DEPTH` deep, whose numbers are finite and whose integers
  have at most :data:`MAX_INT_DIGITS` digits;
- arrays whose declared sizes are within the :class:`Limits` that the model
  class computes from the architecture in the header (see
  :mod:`mllib.io.registry`): all of them together, the largest, and how many.
  Every size is checked from the ZIP directory before any array is read. A
  member is then streamed, :data:`CHUNK` bytes at a time, into one array whose
  ``.npy`` shape and dtype must account for exactly the bytes it declares.

The model class then checks the meaning (``from_state``): names and shapes,
finite weights of a real floating dtype, running variances of at least 0,
standardizer scales of at least the smallest normal number of the model's
dtype, and so on.

What :func:`~mllib.load` guarantees
-----------------------------------
- It raises only :class:`ModelFileError` (a ``ValueError``) for any content,
  ``FileNotFoundError``, ``IsADirectoryError`` and ``PermissionError``;
  ``loads_model(bytes)`` only :class:`ModelFileError`. No ``zlib.error``,
  ``RecursionError``, ``MemoryError``, ``OverflowError`` or other leaks out.
- Its peak memory is what the architecture in the header legitimately needs:
  the arrays as read (at most the :class:`Limits`, a little more than a
  legitimate file's arrays), plus the model built from them (building briefly
  holds one more copy of the parameters, as constructing any network does),
  plus a fixed allowance of 48 MiB: the ZIP directory (at most ~10 MiB
  parsed), the header and its parse (at most ~25 MiB), one chunk. Measured
  with ``tracemalloc``, as a share of the loaded model (parameters, gradients,
  running statistics, optimizer state): 1.75× with Adam's state, 2.0× without
  optimizer state, plus well under 1 MiB for a legitimate header.
  A header declaring more than ``max_parameters`` parameters (default
  :data:`MAX_PARAMETERS`) is refused before any array is read.
- Its time is proportional to those bytes: a file of a few MB loads in
  milliseconds, and a damaged or hostile one is refused as fast.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass

import numpy as np

from .._version import __version__
from .archive import (CHUNK, MAX_DIRECTORY_BYTES, MAX_MEMBERS, NPY_HEADER_BYTES,
                      archive_members, open_archive, open_regular, read_array)
from .atomic import write_atomically
from .errors import ModelFileError, reported, size_text
from .jsontext import MAX_DEPTH, MAX_INT_DIGITS, loads_bounded

FORMAT = "mllib-model"
# 2: the model's constructor arguments in "config"; Adam's state is the notes'
# m and v. Version 1 files are still read (mllib.training.model.state upgrades them).
VERSION = 2
HEADER_KEY = "__header__"

MAX_HEADER_BYTES = 2**20        # headers are a few KB
MAX_HEADER_DEPTH = MAX_DEPTH    # headers nest 4 deep
MAX_PARAMETERS = 2**28          # mllib.load's default cap: 1 GiB of float32 weights

__all__ = ["CHUNK", "FORMAT", "HEADER_KEY", "MAX_DIRECTORY_BYTES", "MAX_HEADER_BYTES",
           "MAX_HEADER_DEPTH", "MAX_INT_DIGITS", "MAX_MEMBERS", "MAX_PARAMETERS",
           "NPY_HEADER_BYTES", "VERSION", "Limits", "ModelFileError", "model_file_bytes",
           "read_model_bytes", "read_model_file", "write_atomically", "write_model_file"]


@dataclass(frozen=True)
class Limits:
    """The most a model file's arrays may declare, in bytes as decoded, ``.npy`` headers
    included: ``total`` for all of them, ``member`` for any one, and how many ``members``.

    A model class states them for a header (``model_file_limits``, see
    :mod:`mllib.io.registry`); :meth:`for_parameters` is the rule for a class that
    does not.
    """

    total: int
    member: int
    members: int = MAX_MEMBERS

    @classmethod
    def for_parameters(cls, max_parameters: int) -> "Limits":
        """Up to ``max_parameters`` float64 values, each with three arrays beside its own."""
        return cls(total=32 * max_parameters + NPY_HEADER_BYTES * MAX_MEMBERS,
                   member=8 * max_parameters + NPY_HEADER_BYTES)


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


def read_model_bytes(data: bytes, name="<bytes>", *, limits=None) -> tuple[dict, dict]:
    """:func:`read_model_file` for a model file held in memory."""
    return _read(io.BytesIO(data), name, limits)


def write_model_file(path, header: dict, arrays: dict) -> None:
    """Write ``header`` (JSON-serializable) and ``arrays`` to ``path``."""
    payload = _payload(header, arrays)
    write_atomically(path, lambda handle: np.savez_compressed(handle, **payload))


def read_model_file(path, *, limits=None, follow_links=True) -> tuple[dict, dict]:
    """Read ``(header, arrays)`` from ``path``, or raise :class:`ModelFileError`.

    ``limits(header, name)`` returns the :class:`Limits` of the arrays once the
    header is read (or raises ModelFileError); None: ``Limits.for_parameters``
    of :data:`MAX_PARAMETERS`. A missing file raises ``FileNotFoundError``, a
    folder ``IsADirectoryError``, an unreadable file ``PermissionError``; a
    link is refused (ModelFileError) unless ``follow_links``.
    """
    name = os.fspath(path)
    try:
        handle = open_regular(name, follow_links=follow_links)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except OSError as err:
        raise ModelFileError(f"{name!r} cannot be read as a model file: {err}") from None
    with handle:
        return _read(handle, name, limits)


def _read(handle, name, limits) -> tuple[dict, dict]:
    """``(header, arrays)`` of the model file open in ``handle``; ``name`` names it in errors."""
    with reported(name):
        start = handle.read(6)
        if start == b"\x93NUMPY":
            raise ModelFileError(f"{name!r} is a single .npy array, not an mllib model file")
        if start[:4] != b"PK\x03\x04":
            raise ModelFileError(f"{name!r} is not an mllib model file (not an .npz archive)")
        with open_archive(handle, name) as archive:
            members = archive_members(archive, name)
            if HEADER_KEY not in members:
                raise ModelFileError(f"{name!r} is not an mllib model file (no header)")
            raw = read_array(archive, members.pop(HEADER_KEY), name, MAX_HEADER_BYTES,
                             "a header may take")
            header = _parse_header(raw, name)
            budget = limits(header, name) if limits else Limits.for_parameters(MAX_PARAMETERS)
            _check_sizes(members, budget, name)
            return header, {key: read_array(archive, info, name, budget.member)
                            for key, info in members.items()}


def _check_sizes(members, limits, name):
    """Every declared size against ``limits``, before any array is read."""
    if len(members) > limits.members:
        raise ModelFileError(f"{name!r} has {len(members)} arrays, more than the "
                             f"{limits.members} its header's architecture has")
    for key, info in members.items():
        if info.file_size > limits.member:
            raise ModelFileError(
                f"{name!r}: member {key!r} declares {size_text(info.file_size)}, more than "
                f"the {size_text(limits.member)} its header's architecture allows")
    total = sum(info.file_size for info in members.values())
    if total > limits.total:
        raise ModelFileError(f"{name!r}: its arrays declare {size_text(total)}, more than "
                             f"the {size_text(limits.total)} its header's architecture allows")


def _parse_header(raw, name):
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(f"{name!r} has a damaged header: a {raw.dtype} array of "
                             f"shape {raw.shape}, not bytes")
    try:
        header = loads_bounded(raw.tobytes(), MAX_HEADER_DEPTH)
    except ValueError as err:   # UnicodeDecodeError and JSONDecodeError among them
        raise ModelFileError(f"{name!r} has a damaged header: {err}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{name!r} is not an mllib model file")
    version = header.get("version")
    if type(version) is not int or version < 1:
        raise ModelFileError(f"{name!r} has an invalid format version {version!r}")
    if version > VERSION:
        raise ModelFileError(f"{name!r} has format version {version}, newer than this "
                             f"mllib reads ({VERSION}); upgrade mllib")
    return header
