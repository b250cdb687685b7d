"""Hostile contents: headers declaring huge or wrong things, arrays a model cannot use,
and paths that are not regular files.

Every file is made by the test (see ``_hostile``); each is refused with the documented
exception, within the memory bound of :mod:`mllib.io.modelfile`.
"""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from _hostile import ALLOWANCE, legit_bytes, legit_parts, refused, with_header

import mllib
from mllib.io import ModelFileError, loads_model, write_model_file


# -- what the header declares ----------------------------------------------------------

def changed_header(**fields):
    header, arrays = legit_parts()
    return header, arrays, {**header, **fields}


@pytest.mark.parametrize("width", [5 * 10**7, 10**9, 2**62])
def test_a_header_declaring_a_huge_network_is_refused_before_anything_is_built(tmp_path,
                                                                               width):
    header, arrays, _ = changed_header()
    header["config"]["nodes"] = [4, width, 3]
    path = tmp_path / "huge.npz"
    write_model_file(path, header, arrays)
    _, peak = refused(mllib.load, path, match=r"max_parameters=268,435,456")
    assert peak < ALLOWANCE
    if width == 5 * 10**7:
        # Allowed by the caller, it is still refused before the layers are allocated.
        _, peak = refused(mllib.load, path, max_parameters=10**9,
                          match=r"weights\['W1'\] has shape \(6, 4\), expected \(50000000, 4\)")
        assert peak < ALLOWANCE


def test_max_parameters_is_the_callers(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(legit_bytes())
    refused(mllib.load, path, max_parameters=50, match="max_parameters=50")
    assert mllib.load(path, max_parameters=200).config["nodes"] == [4, 6, 3]
    with pytest.raises(ValueError, match="max_parameters"):
        mllib.load(path, max_parameters=0)


@pytest.mark.parametrize("text, match", [
    (b'{"format": "mllib-model", "version": 2, "x": ' + b"[" * 100_000 + b"]" * 100_000
     + b"}", "nests 100001 deep"),
    (b'{"format": "mllib-model", "version": 2, "x": "' + b"[{" * 1000 + b'"}', None),
    (b'{"format": "mllib-model", "version": 2, "epoch": 1e999}', "out of range"),
    (b'{"format": "mllib-model", "version": 2, "epoch": -1e999}', "out of range"),
    (b'{"format": "mllib-model", "version": 2, "epoch": NaN}', "not a finite number"),
    (b'{"format": "mllib-model", "version": 2, "epoch": Infinity}', "not a finite number"),
    (b'{"format": "mllib-model", "version": 2, "epoch": 1' + b"0" * 5000 + b"}", "digits"),
    (b'{"format": "mllib-model", "version": 2e0}', "invalid format version"),
    (b'{"format": "mllib-model", "version": true}', "invalid format version"),
    (b'\xff\xfe{}', "damaged header"),
    (b"[]", "not an mllib model file"),
])
def test_a_damaged_or_hostile_header_is_refused(text, match):
    _, peak = refused(loads_model, with_header(text), match=match)
    assert peak < ALLOWANCE


@pytest.mark.parametrize("fields, match", [
    ({"epoch": 1e300}, "'epoch' must be a JSON int"),
    ({"epoch": 10**30}, r"'epoch' must lie in \[0, 9007199254740992\]"),
    ({"epoch": -1}, "'epoch' must lie"),
    ({"n_features": 0}, "'n_features' must lie"),
    ({"n_outputs": True}, "'n_outputs' must be a JSON int"),
    ({"fitted": 1}, "'fitted' must be a JSON bool"),
    ({"config": []}, "'config' must be a JSON dict"),
    ({"optimizer": "adam"}, "'optimizer' must be a JSON dict or null"),
    ({"optimizer": {"name": "adam", "beta1": 2.0}}, "beta1"),
    ({"rng": {"bit_generator": "PCG64", "state": {"state": 10**39, "inc": 1}}}, "rng|state"),
    ({"class": ["NeuralNetwork"]}, "unknown model class"),
    ({"class": "Transformer"}, "unknown model class 'Transformer'"),
])
def test_header_fields_of_the_wrong_type_or_range_are_refused(tmp_path, fields, match):
    _, arrays, header = changed_header(**fields)
    write_model_file(tmp_path / "m.npz", header, arrays)
    refused(mllib.load, tmp_path / "m.npz", match=match)


def test_a_tiny_batch_norm_epsilon_is_refused(tmp_path):
    header, arrays, _ = changed_header()
    header["config"]["bn_epsilon"] = 1e-320
    write_model_file(tmp_path / "m.npz", header, arrays)
    refused(mllib.load, tmp_path / "m.npz", match="bn_epsilon must be at least")


# -- what the arrays hold --------------------------------------------------------------

def _set(name, make):
    def change(arrays):
        arrays[name] = make(arrays[name])
    return change


def _with(name, index, value):
    def make(a):
        a = a.copy()
        a[index] = value
        return a
    return _set(name, make)


@pytest.mark.parametrize("change, match", [
    (_with("params/W1", (0, 0), np.nan), "params/W1 holds NaN"),
    (_with("params/beta1", 2, np.inf), "params/beta1 holds NaN"),
    (_with("optimizer/v.W2", (1, 1), -np.inf), "optimizer/v.W2 holds NaN"),
    (_set("params/W1", lambda a: a.astype(np.float64) * 1e300), "beyond the range of float32"),
    (_with("state/running_mean1", 0, np.nan), "running_mean1 holds NaN"),
    (_with("state/running_var1", 0, -1e-3), "running_var must be >= 0"),
    (_with("standardizer/scale", 1, 1e-320), "finite positive scale"),
    (_with("standardizer/scale", 1, 0.0), "finite positive scale"),
    (_with("standardizer/mean", 1, np.nan), "finite positive scale"),
    (_with("standardizer/mean", 1, 1e300), "finite positive scale"),
    (_set("params/W1", lambda a: np.zeros(a.shape, "datetime64[s]")), "dtype datetime64"),
    (_set("params/W1", lambda a: np.zeros(a.shape, "timedelta64[s]")), "dtype timedelta64"),
    (_set("params/W1", lambda a: a.astype(np.complex64)), "dtype complex64"),
    (_set("params/W1", lambda a: a.astype(np.int32)), "must hold real floats"),
    (_set("params/W1", lambda a: a.astype(str)), "must hold real floats"),
    (_set("params/W1", lambda a: np.zeros(a.shape, "f4,f4")), "has dtype"),
    (_set("params/W1", lambda a: a.astype(np.longdouble)), "has dtype|real floats"),
    (_set("standardizer/scale", lambda a: a.astype(bool)), "real numbers"),
    (_set("optimizer/t", lambda a: np.array(1.5)), "'t'"),
    (_set("params/W1", lambda a: a.T), r"weights\['W1'\] has shape \(4, 6\)"),
    (_set("params/W1", lambda a: a[:, :3]), r"has shape \(6, 3\)"),
    (_set("params/W2", lambda a: a.reshape(-1)), r"has shape \(18,\)"),
    (_set("state/running_var1", lambda a: a[:2]), r"has shape \(2,\)"),
    (_set("standardizer/mean", lambda a: a[:2]), "equal length"),
    (_set("classes/classes", lambda a: a[:2]), "2 classes for a softmax output of 3"),
    (_set("classes/classes", lambda a: a[::-1]), "sorted"),
    (lambda arrays: arrays.pop("params/W2"), "W2"),
    (lambda arrays: arrays.update({"params/W9": np.zeros(2, np.float32)}), "W9"),
])
def test_arrays_a_model_cannot_use_are_refused(tmp_path, change, match):
    header, arrays = legit_parts()
    change(arrays)
    write_model_file(tmp_path / "m.npz", header, arrays)
    refused(mllib.load, tmp_path / "m.npz", match=match)


def test_a_zero_running_variance_loads_and_predicts_finite_values():
    # A unit whose input is constant in every batch decays to it; ε keeps it finite.
    header, arrays = legit_parts()
    arrays["state/running_var1"][:] = 0.0
    model = mllib.NeuralNetwork.from_state(header, arrays)
    assert np.isfinite(model.predict_proba(np.ones((3, 4)))).all()


# -- what the path names ---------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    outcome = []

    def load():
        try:
            mllib.load(fifo)
        except BaseException as err:        # noqa: BLE001 - handed to the test below
            outcome.append(err)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))   # let the reader go
        pytest.fail("mllib.load blocked on a FIFO")
    assert isinstance(outcome[0], ModelFileError) and "not a regular file" in str(outcome[0])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_device_is_refused():
    refused(mllib.load, "/dev/zero", match="not a regular file")


def test_folders_missing_and_unreadable_files_raise_their_os_errors(tmp_path):
    with pytest.raises(IsADirectoryError, match="folder"):
        mllib.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        mllib.load(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError):
        mllib.load(tmp_path / "nope" / "m.npz")
    locked = tmp_path / "locked.npz"
    locked.write_bytes(legit_bytes())
    locked.chmod(0)
    try:
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            pytest.skip("root reads any file")
        with pytest.raises(PermissionError):
            mllib.load(locked)
    finally:
        locked.chmod(0o600)


def test_permission_errors_pass_as_they_are(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    path.write_bytes(legit_bytes())

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(PermissionError):
        mllib.load(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_the_cli_does_not_hang_on_a_fifo(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    result = subprocess.run([sys.executable, "-m", "mllib.cli", "predict", str(fifo),
                             str(tmp_path / "data.csv")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0 and "not a regular file" in result.stderr
    assert "Traceback" not in result.stderr
