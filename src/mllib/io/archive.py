"""A ZIP archive of ``.npy`` members, read with every size checked before it is read.

- :func:`open_regular` opens a path only if it is a regular file: a FIFO or a
  device could block forever or never end. The file is opened non-blocking,
  after a ``stat``, and checked again once open (:mod:`.bounded`).
- :func:`open_archive` reads the end of the ZIP directory itself and refuses a
  directory larger than :data:`MAX_DIRECTORY_BYTES` before :mod:`zipfile`
  parses it (zipfile holds the whole directory in memory).
- :func:`archive_members` refuses members that are not ``.npy``, duplicated,
  encrypted or compressed other than stored or deflated: those are the methods
  numpy writes, and zipfile decompresses bzip2 and LZMA without a bound.
- :func:`read_array` parses a member's ``.npy`` header with
  :mod:`numpy.lib.format` (no pickle), checks that its shape and dtype account
  for exactly the bytes the member declares, allocates the array once and
  streams the member into it in chunks of :data:`CHUNK` bytes. zipfile never
  returns more than a member declares, so a member that inflates to more is
  cut there, and its CRC then fails.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile

import numpy as np

from .bounded import FileRefusedError, open_checked
from .errors import ModelFileError, size_text

MAX_MEMBERS = 10_000            # arrays in one model file
MAX_DIRECTORY_BYTES = 2**20     # the ZIP directory: ~75 bytes a member
NPY_HEADER_BYTES = 4096         # one .npy header (numpy writes 128 bytes)
CHUNK = 2**20                   # bytes decompressed at a time
KINDS = "biufSU"                # bool, ints, floats, bytes, unicode: nothing else is read

_END = struct.Struct("<4s4H2LH")                    # end of central directory
_END64 = struct.Struct("<4sQ2H2L4Q")                # its ZIP64 form, before the locator
_LOCATOR64 = 20


def open_regular(path, *, follow_links=True):
    """``path`` open for binary reading, if it is a regular file (see :mod:`.bounded`).

    FileNotFoundError, IsADirectoryError and PermissionError as ``open``
    raises them; ModelFileError for a FIFO, socket or device, and for a link
    when ``follow_links`` is False.
    """
    try:
        return open_checked(path, "model file", follow_links=follow_links)
    except FileRefusedError as err:
        raise ModelFileError(str(err)) from None


def open_archive(handle, name) -> zipfile.ZipFile:
    """The ZIP archive in ``handle``, once its directory is known to be small enough."""
    count, directory = _directory_size(handle, name)
    if count > MAX_MEMBERS or directory > MAX_DIRECTORY_BYTES:
        raise ModelFileError(
            f"{name!r}: its ZIP directory lists {count} members in {size_text(directory)}; "
            f"a model file has at most {MAX_MEMBERS} in {size_text(MAX_DIRECTORY_BYTES)}")
    handle.seek(0)
    return zipfile.ZipFile(handle)


def _directory_size(handle, name) -> tuple[int, int]:
    """``(members, bytes)`` of the ZIP directory, found as :mod:`zipfile` finds it."""
    size = handle.seek(0, os.SEEK_END)
    start = max(0, size - (_END.size + 0xFFFF + _END64.size + _LOCATOR64))
    handle.seek(start)
    tail = handle.read()
    at = len(tail) - _END.size
    if at < 0 or tail[at:at + 4] != b"PK\x05\x06" or tail[-2:] != b"\0\0":
        at = tail.rfind(b"PK\x05\x06")      # the end record is followed by a comment
    if at < 0 or at + _END.size > len(tail):
        raise ModelFileError(f"{name!r} is damaged: the end of its ZIP directory is missing")
    count, directory = _END.unpack_from(tail, at)[4:6]
    locator = at - _LOCATOR64
    if locator >= _END64.size and tail[locator:locator + 4] == b"PK\x06\x07":
        record = _END64.unpack_from(tail, locator - _END64.size)
        if record[0] == b"PK\x06\x06":
            count, directory = record[7], record[8]
    return count, directory


def archive_members(archive: zipfile.ZipFile, name) -> dict:
    """``{array name: ZipInfo}``; ModelFileError for a member mllib would not read."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError(f"{name!r} has {len(infos)} members; a model file has at most "
                             f"{MAX_MEMBERS}")
    members = {}
    for info in infos:
        member = f"{name!r}: member {info.filename!r}"
        if not info.filename.endswith(".npy") or info.filename[:-4] in members:
            raise ModelFileError(f"{member} is not an .npy array, or is there twice")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"{member} is compressed by method {info.compress_type}; "
                                 "model files are stored or deflated")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{member} is encrypted")
        members[info.filename[:-4]] = info
    return members


def read_array(archive, info, name, max_bytes,
               rule="its header's architecture allows") -> np.ndarray:
    """The array of member ``info``, refused unless it declares at most ``max_bytes``
    (what ``rule`` allows, for the message)."""
    label = f"{name!r}: member {info.filename[:-4]!r}"
    if info.file_size > max_bytes:
        raise ModelFileError(f"{label} declares {size_text(info.file_size)}, more than "
                             f"the {size_text(max_bytes)} {rule}")
    with archive.open(info) as member:
        dtype, shape, fortran = _npy_header(member, label)
        count = math.prod(shape)
        data = info.file_size - member.tell()
        if count * dtype.itemsize != data:
            raise ModelFileError(f"{label} holds a {dtype} array of shape {shape}, "
                                 f"{count * dtype.itemsize} bytes, but declares {data}")
        array = np.empty(count, dtype=dtype)
        if data:
            _fill(member, memoryview(array.view(np.uint8)), label)
    return array.reshape(shape, order="F" if fortran else "C")


def _npy_header(member, label):
    version = np.lib.format.read_magic(member)
    if version not in ((1, 0), (2, 0)):
        raise ModelFileError(f"{label} is an .npy array of version {version}, not 1.0 or 2.0")
    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
            else np.lib.format.read_array_header_2_0)
    shape, fortran, dtype = read(member, max_header_size=NPY_HEADER_BYTES)
    if dtype.kind not in KINDS or dtype.fields is not None or dtype.subdtype is not None \
            or dtype.itemsize == 0 or (dtype.kind in "biuf" and dtype.itemsize > 8):
        raise ModelFileError(f"{label} has dtype {dtype}; a model file holds bools, "
                             "integers, real floats of at most 64 bits and non-empty strings")
    if any(n < 0 for n in shape):
        raise ModelFileError(f"{label} has the negative shape {shape}")
    return dtype, shape, fortran


def _fill(member, view, label):
    filled = 0
    while filled < len(view):
        got = member.readinto(view[filled:filled + CHUNK])
        if not got:
            raise ModelFileError(f"{label} ends after {filled} of its {len(view)} bytes of data")
        filled += got
