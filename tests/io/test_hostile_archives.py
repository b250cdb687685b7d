"""Hostile archives: zip bombs, huge headers and directories, damaged or lying members.

Every file is made by the test (see ``_hostile``); each is refused cleanly, fast, and
within the bound of :mod:`mllib.io.modelfile`: the legitimate model of its header
(here a few KB) plus a fixed allowance, measured with ``tracemalloc``.
"""

import os
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from _hostile import (ALLOWANCE, GIB, craft_zip, deflated, header_npy, legit_bytes,
                      legit_parts, npy, npy_header, refused, replaced, stored, stored_bytes,
                      stored_entries)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mllib
from mllib.io import ModelFileError, loads_model

DOCUMENTED = (ModelFileError, FileNotFoundError, IsADirectoryError, PermissionError)


# -- zip bombs -----------------------------------------------------------------------

def test_the_deflate_helper_makes_what_it_says():
    stream = deflated(b"head", b"\0", 3)
    assert zlib.decompress(stream, -15) == b"head" + bytes(3 * 2**20)


def test_a_member_declaring_3_gib_is_refused_before_it_is_read(tmp_path):
    bomb = deflated(npy_header((3 * GIB // 4,)), b"\0", 3 * 1024)    # 3 MB for 3 GiB
    path = tmp_path / "bomb.npz"
    path.write_bytes(craft_zip(replaced("params/W1.npy", ("params/W1.npy", bomb, 3 * GIB,
                                                           zipfile.ZIP_DEFLATED, 0))))
    assert path.stat().st_size < 4 * 2**20
    err, peak = refused(mllib.load, path, match=r"'params/W1' declares 3\.0 GiB, more than "
                                                r"the .* its header's architecture allows")
    assert str(path) in str(err) and peak < ALLOWANCE


def test_a_member_that_inflates_beyond_what_it_declares_is_cut_there():
    W1 = legit_parts()[1]["params/W1"]
    legit = npy(np.zeros_like(W1))
    header_size = len(legit) - W1.nbytes
    bomb = deflated(legit[:header_size], b"\0", 3 * 1024)       # 3 GiB behind the header
    for crc, loads in ((zlib.crc32(legit), True), (0, False)):
        data = craft_zip(replaced("params/W1.npy", ("params/W1.npy", bomb, len(legit),
                                                     zipfile.ZIP_DEFLATED, crc)))
        tracemalloc.start()
        try:
            try:
                model = loads_model(data)
                assert loads and not model.get_weights()["W1"].any()
            except ModelFileError as err:
                assert not loads and "CRC" in str(err)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < ALLOWANCE


def test_arrays_declaring_more_in_all_than_the_architecture_allows_are_refused():
    limits = mllib.NeuralNetwork.model_file_limits(legit_parts()[0], max_parameters=2**28)
    assert limits.member < limits.total < 21 * limits.member
    padded = [(n, p, limits.member if n != "__header__.npy" else s, m, c)
              for n, p, s, m, c in stored_entries()]
    refused(loads_model, craft_zip(padded), match=r"arrays declare .* more than the")


# -- huge headers --------------------------------------------------------------------

def test_a_1_gib_header_in_a_sparse_file_is_refused_unread(tmp_path):
    path = tmp_path / "sparse.npz"
    name = b"__header__.npy"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, GIB, GIB, len(name), 0)
    directory = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, GIB, GIB,
                            len(name), 0, 0, 0, 0, 0, 0) + name
    with open(path, "wb") as handle:
        handle.write(local + name)
        handle.seek(GIB, os.SEEK_CUR)           # a hole: nothing is written
        start = handle.tell()
        handle.write(directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1,
                                             len(directory), start, 0))
    assert path.stat().st_size > GIB
    err, peak = refused(mllib.load, path, match=r"'__header__' declares 1\.0 GiB, more than "
                                                r"the 1\.0 MiB a header may take")
    assert peak < ALLOWANCE


@pytest.mark.parametrize("declared", [GIB, 1000])
def test_a_header_that_inflates_to_1_gib_is_refused(declared):
    prefix = npy_header((GIB,), "|u1")
    data = craft_zip(replaced("__header__.npy", ("__header__.npy", deflated(prefix, b" ", 1024),
                                                 declared, zipfile.ZIP_DEFLATED, 0)))
    assert len(data) < 2 * 2**20
    refused(loads_model, data, match="declares 1.0 GiB" if declared == GIB else "__header__")


def test_a_directory_of_too_many_members_is_refused_before_it_is_parsed():
    data = craft_zip([stored(f"{i}.npy", b"") for i in range(20_000)])
    _, peak = refused(loads_model, data, match="ZIP directory lists 20000 members")
    assert peak < ALLOWANCE
    # Under the directory's byte limit, the count is still checked, after parsing.
    data = craft_zip([stored(f"{i}.npy", b"") for i in range(10_001)])
    data = data[:-14] + struct.pack("<2H", 1, 1) + data[-10:]     # the end record says 1
    _, peak = refused(loads_model, data, match="has 10001 members")
    assert peak < ALLOWANCE


def test_the_allowance_covers_the_largest_directory_and_header_together():
    text = (b'{"format": "mllib-model", "version": 2, "x": [' + b"[]," * ((2**20 - 200) // 3)
            + b"[]]}")
    entries = [stored("__header__.npy", header_npy(text))]
    entries += [stored(f"{i:05d}{'x' * 46}.npy", b"") for i in range(9_999)]
    _, peak = refused(loads_model, craft_zip(entries), match="unknown model class None")
    assert peak < ALLOWANCE


# -- damaged archives ----------------------------------------------------------------

@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, 99])
def test_members_compressed_other_than_stored_or_deflated_are_refused(method):
    entry = ("params/W1.npy", b"\0" * 64, 64, method, 0)
    refused(loads_model, craft_zip(replaced("params/W1.npy", entry)),
            match=f"compressed by method {method}")


def test_damaged_deflate_data_and_encryption_are_reported():
    entry = ("params/W1.npy", b"\xff" * 64, 200, zipfile.ZIP_DEFLATED, 0)
    refused(loads_model, craft_zip(replaced("params/W1.npy", entry)), match="is damaged")
    refused(loads_model, craft_zip(stored_entries(), flags=0x1), match="encrypted")


def test_members_that_are_not_arrays_or_twice_there_are_refused():
    entries = stored_entries()
    refused(loads_model, craft_zip(entries + [stored("notes.txt", b"hi")]), match="notes.txt")
    refused(loads_model, craft_zip(entries + entries[-1:]), match="there twice")


def test_npy_headers_that_lie_are_refused():
    data = legit_parts()[1]["params/W1"].tobytes()         # (6, 4) float32
    cases = [
        (npy_header((6, 5)) + data, "holds a float32 array of shape \\(6, 5\\), 120 bytes, "
                                    "but declares 96"),
        (npy_header((-6, 4)) + data, "negative shape"),
        (npy_header((10**19, 99)) + data, "but declares 96"),
        (npy_header((6, 4), "<c8") + data, "dtype complex64"),
        (npy_header((6, 4), "|O") + data, "dtype object"),
        (npy_header((6, 4), version=b"\x03\x00") + data, "version \\(3, 0\\)"),
        (npy_header((6, 4))[:10] + b"\xff" * 118 + data, "is damaged"),
        (b"\x93NUMPX\x01\x00" + npy_header((6, 4))[8:] + data, "is damaged"),
    ]
    for payload, match in cases:
        refused(loads_model, craft_zip(replaced("params/W1.npy", stored("params/W1.npy",
                                                                         payload))),
                match=match)
    short = npy_header((6, 4)) + data[:-8]
    entry = ("params/W1.npy", short, len(short) + 8, zipfile.ZIP_STORED, zlib.crc32(short))
    refused(loads_model, craft_zip(replaced("params/W1.npy", entry)),
            match="ends after 88 of its 96 bytes")


def test_a_file_truncated_anywhere_is_reported_as_damaged():
    for data in (legit_bytes(), stored_bytes()):
        cuts = sorted({*np.linspace(0, len(data) - 1, 80).astype(int),
                       *range(len(data) - 120, len(data))})
        for cut in cuts:
            with pytest.raises(ModelFileError):
                loads_model(data[:cut])


def test_random_bit_flips_never_raise_anything_else():
    rng = np.random.default_rng(11)
    for data in (legit_bytes(), stored_bytes()):
        for _ in range(150):
            damaged = bytearray(data)
            at = int(rng.integers(len(damaged)))
            damaged[at] ^= 1 << int(rng.integers(8))
            try:
                loads_model(bytes(damaged))
            except ModelFileError:
                pass


# -- legitimate files stay cheap ---------------------------------------------------------

HEADER_ALLOWANCE = 2**20    # a legitimate file's header and directory: a few KB


def traced_load(path):
    """``(model, peak bytes allocated while loading it)``."""
    tracemalloc.start()
    try:
        model = mllib.load(path)
        return model, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_legitimate_model_loads_within_its_bound(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 300)), rng.integers(0, 4, 16)
    net = mllib.NeuralNetwork(nodes=[300, 600, 4], activators=["relu", "softmax"],
                              batch_norm=True, seed=0)
    net.fit(X, y, epochs=1, batch_size=16, optimizer="adam")
    net.save(tmp_path / "m.npz")
    model, peak = traced_load(tmp_path / "m.npz")
    size = (2 * model.store.values.nbytes + sum(a.nbytes for a in model.state().values())
            + sum(a.nbytes for a in model.optimizer_.get_state().values()))
    assert peak < 2 * size + HEADER_ALLOWANCE
    np.testing.assert_array_equal(model.predict_proba(X), net.predict_proba(X))


def test_a_large_model_without_optimizer_state_loads_within_twice_its_size(tmp_path):
    """Reading P weights (P), building the network (whose store takes 2P) and copying them
    in stays within 4P = 2× the model, because the store lets each layer array go once
    copied (it was 2.5×)."""
    net = mllib.NeuralNetwork(nodes=[2000, 2000, 1], activators=["relu", "sigmoid"], seed=0)
    net.fitted_ = True
    net.save(tmp_path / "m.npz")
    model, peak = traced_load(tmp_path / "m.npz")
    assert peak < 2 * (model.store.values.nbytes + model.store.grads.nbytes) + HEADER_ALLOWANCE


# -- properties ------------------------------------------------------------------------

@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=600),
                 st.binary(max_size=600).map(lambda b: b"PK\x03\x04" + b),
                 st.binary(max_size=600).map(lambda b: b"\x93NUMPY" + b)))
def test_arbitrary_bytes_raise_only_model_file_error(data):
    with pytest.raises(ModelFileError):
        loads_model(data)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_valid_files_raise_only_the_documented_errors(data):
    base = bytearray(data.draw(st.sampled_from([legit_bytes(), stored_bytes()])))
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(base) - 1), st.integers(0, 255)),
                               min_size=1, max_size=6))
    for at, value in edits:
        base[at] = value
    cut = data.draw(st.integers(len(base) // 2, len(base)))
    try:
        loads_model(bytes(base[:cut]))
    except DOCUMENTED:
        pass
