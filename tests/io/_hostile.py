"""Helpers of the hostile-file tests: a legitimate model, ZIP archives written by hand,
cheap deflate bombs, and loading under ``tracemalloc``.

The big files are cheap to make: a deflate stream of GiB of zeros is one
compressed MiB repeated (each flushed to a byte boundary), and ZIP headers are
written here, so their sizes and CRCs may lie.
"""

import io
import json
import struct
import tracemalloc
import zipfile
import zlib
from functools import lru_cache

import numpy as np
import pytest

import mllib
from mllib.io import ModelFileError, read_model_bytes

ALLOWANCE = 48 * 2**20      # the fixed allowance of mllib.io.modelfile's docstring
GIB = 2**30


# -- a legitimate model, and its parts -----------------------------------------------

@lru_cache(maxsize=None)
def legit_bytes() -> bytes:
    """A small fitted classifier with batch norm, Adam and a standardizer, as a file."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    y = np.array(["cat", "dog", "eel"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    net = mllib.NeuralNetwork(nodes=[4, 6, 3], activators=["relu", "softmax"],
                              batch_norm=True, standardize=True, seed=1)
    net.fit(X, y, epochs=2, batch_size=16, optimizer="adam")
    return mllib.io.dumps_model(net)


def legit_parts():
    """``(header, arrays)`` of :func:`legit_bytes`, fresh copies to change."""
    return read_model_bytes(legit_bytes())


@lru_cache(maxsize=None)
def stored_bytes() -> bytes:
    """The legitimate model uncompressed (``np.savez``), so that changed bytes reach the
    parsers instead of failing the CRC."""
    with zipfile.ZipFile(io.BytesIO(legit_bytes())) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    return craft_zip([stored(name, data) for name, data in members])


def npy_header(shape, dtype="<f4", version=b"\x01\x00") -> bytes:
    """An .npy header alone, for a shape that no array needs to exist for."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue()[:6] + version + buffer.getvalue()[8:]


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def header_npy(header) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return npy(np.frombuffer(text, dtype=np.uint8))


def with_header(text: bytes) -> bytes:
    """The legitimate model's arrays under the header ``text``."""
    _, arrays = legit_parts()
    return craft_zip([stored("__header__.npy", header_npy(text)),
                      *(stored(f"{k}.npy", npy(v)) for k, v in arrays.items())])


# -- ZIP archives written by hand ----------------------------------------------------

def stored(name, data):
    return (name, data, len(data), zipfile.ZIP_STORED, zlib.crc32(data))


def craft_zip(entries, flags=0) -> bytes:
    """A ZIP archive of ``(name, payload, declared size, method, crc)``; the payload is
    written as given, so its declared size and CRC may lie."""
    out, directory = bytearray(), bytearray()
    for name, payload, size, method, crc in entries:
        offset, encoded = len(out), name.encode()
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, method, 0, 0, crc,
                           len(payload), size, len(encoded), 0) + encoded + payload
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, method, 0, 0,
                                 crc, len(payload), size, len(encoded), 0, 0, 0, 0, 0,
                                 offset) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(directory), len(out), 0)
    return bytes(out + directory + end)


def deflated(prefix: bytes, fill: bytes, mib: int) -> bytes:
    """A raw deflate stream of ``prefix`` then ``mib`` MiB of the byte ``fill``, made in
    milliseconds: after a full flush the compressed MiB is the same every time."""
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    return (head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)
            + (block.compress(fill * 2**20) + block.flush(zlib.Z_FULL_FLUSH)) * mib
            + b"\x03\x00")                      # an empty final block


def stored_entries():
    """The legitimate model's members, uncompressed, as :func:`craft_zip` takes them."""
    with zipfile.ZipFile(io.BytesIO(stored_bytes())) as archive:
        return [stored(info.filename, archive.read(info)) for info in archive.infolist()]


def replaced(name, entry):
    """The legitimate model's stored members with member ``name`` replaced by ``entry``."""
    return [entry if item[0] == name else item for item in stored_entries()]


# -- loading under watch -----------------------------------------------------------

def refused(load, *args, match=None, **kwargs):
    """Call ``load``, which must raise ModelFileError; returns (the error, peak bytes)."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=match) as info:
            load(*args, **kwargs)
        return info.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
