"""The one switch of the compiled kernels (mllib._jit, issue 20): when they run, and their
fallbacks, each with one warning and never an error.

The children of the subprocess tests break numba on purpose (a package that fails to
import, numba missing, no writable cache) and report what they saw as JSON.
"""

import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

numba = pytest.importorskip("numba", reason="the mllib[fast] extra (installed by mllib[test])")

from mllib import _jit  # noqa: E402
from mllib.optim import Adam, ParameterSet  # noqa: E402
from mllib.optim import _kernels  # noqa: E402

from _cli_testing import assert_ok, run_cli  # noqa: E402

SRC = os.path.dirname(os.path.dirname(os.path.abspath(_jit.__file__)))


@pytest.fixture
def fresh_switch(monkeypatch):
    """The switch's process-wide memory, emptied for the test and restored after it."""
    monkeypatch.setattr(_jit, "_STATE", {"cache": True, "broken": False})
    monkeypatch.setattr(_jit, "_WARNED", set())
    monkeypatch.setattr(_jit, "_LOADED", {})


@pytest.mark.parametrize("value, expected", [(None, "auto"), ("", "auto"), (" Auto ", "auto"),
                                             ("numba", "numba"), ("NUMPY", "numpy")])
def test_the_choice_is_read_from_the_environment_at_each_call(value, expected, monkeypatch):
    if value is None:
        monkeypatch.delenv(_jit.ENVIRONMENT, raising=False)
    else:
        monkeypatch.setenv(_jit.ENVIRONMENT, value)
    assert _jit.choice() == expected


def test_an_unknown_choice_is_a_value_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv(_jit.ENVIRONMENT, "fortran")
    with pytest.raises(ValueError, match=r"MLLIB_KERNELS must be one of auto, numba, numpy, "
                                         r"got 'fortran'"):
        _jit.wanted(10**6, "float32")
    store = ParameterSet.from_arrays({"w": np.ones(3)}, {"w": np.ones(3)})
    opt = Adam()
    with pytest.raises(ValueError, match="MLLIB_KERNELS"):
        opt.step(store, 1e-3)
    assert store.values.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("mode, parameters, dtype, expected", [
    ("auto", _jit.MIN_PARAMETERS - 1, "float32", False),
    ("auto", _jit.MIN_PARAMETERS, "float32", True),
    ("auto", _jit.MIN_PARAMETERS, "float64", True),
    ("numba", 10, "float64", True),
    ("numba", 10, "float16", False),
    ("numpy", 10**7, "float32", False),
])
def test_auto_takes_the_kernels_from_the_threshold_on(mode, parameters, dtype, expected,
                                                      monkeypatch, fresh_switch):
    monkeypatch.setenv(_jit.ENVIRONMENT, mode)
    assert _jit.wanted(parameters, np.dtype(dtype)) is expected
    loaded = _jit.load("mllib.optim._kernels", parameters, np.dtype(dtype))
    assert (loaded is _kernels) is expected


def test_asking_for_numba_tries_again_where_auto_found_it_missing(monkeypatch, fresh_switch):
    # Under auto a missing numba is remembered, so that no step looks for it again; asking
    # for it by name then tries again (and warns if it is still missing).
    _jit._LOADED["mllib.optim._kernels"] = _jit._MISSING
    monkeypatch.setenv(_jit.ENVIRONMENT, "auto")
    assert _jit.load("mllib.optim._kernels", 10**6, np.float32) is None
    monkeypatch.setenv(_jit.ENVIRONMENT, "numba")
    assert _jit.load("mllib.optim._kernels", 10, np.float32) is _kernels


@numba.njit(error_model="numpy", cache=True)
def _halve(p, g, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, step, eps, tiny):
    for i in range(p.shape[0]):
        p[i] *= 0.5
    return 0


def test_fit_reads_the_switch_at_each_call(monkeypatch):
    # A kernel that halves θ shows which path each fit took, in one process.
    import mllib

    monkeypatch.setattr(_kernels, "adam_step", _halve)
    X = np.random.default_rng(0).standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    net = mllib.NeuralNetwork(nodes=[3, 4, 1], activators=["relu", "sigmoid"], seed=0)
    start = net.get_weights()["W1"]
    for mode, halved in [("numba", True), ("numpy", False), ("numba", True)]:
        monkeypatch.setenv(_jit.ENVIRONMENT, mode)
        before = net.get_weights()["W1"]
        net.fit(X, y, optimizer="adam", learning_rate=0.1, epochs=1, batch_size=40)
        assert np.array_equal(net.get_weights()["W1"], before * 0.5) is halved
    assert not np.array_equal(net.get_weights()["W1"], start * 0.125)


def test_a_training_run_reads_the_switch_once_at_its_start(monkeypatch):
    # The environment changed after the first epoch steers the next fit, not this one.
    import mllib
    from mllib.training import Callback

    class Flip(Callback):
        def on_epoch_end(self, epoch, logs=None):
            monkeypatch.setenv(_jit.ENVIRONMENT, "numpy")

    monkeypatch.setattr(_kernels, "adam_step", _halve)
    X = np.random.default_rng(0).standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    net = mllib.NeuralNetwork(nodes=[3, 4, 1], activators=["relu", "sigmoid"], seed=0)
    start = net.get_weights()["W1"]
    monkeypatch.setenv(_jit.ENVIRONMENT, "numba")
    net.fit(X, y, optimizer="adam", learning_rate=0.1, epochs=3, batch_size=40,
            callbacks=[Flip()])
    assert np.array_equal(net.get_weights()["W1"], start * 0.125)   # three halving steps
    assert _jit.choice() == "numpy"
    net.fit(X, y, optimizer="adam", learning_rate=0.1, epochs=1, batch_size=40)
    assert not np.array_equal(net.get_weights()["W1"], start * 0.0625)


@numba.njit(error_model="numpy", cache=True)
def _does_not_compile(*args):
    return args[0].no_such_attribute


def test_a_kernel_that_fails_to_compile_falls_back_to_numpy_with_one_warning(
        monkeypatch, fresh_switch):
    monkeypatch.setenv(_jit.ENVIRONMENT, "numba")
    results = []
    for broken in (False, True):
        if broken:
            monkeypatch.setattr(_kernels, "adam_step", _does_not_compile)
        store = ParameterSet.from_arrays({"w": np.linspace(-1, 1, 7)}, {"w": np.ones(7)})
        opt = Adam()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                opt.step(store, 1e-2)
        results.append(store.values.tobytes())
        assert len(caught) == broken
    assert "adam_step could not be compiled" in str(caught[0].message)
    assert caught[0].category is _jit.KernelWarning
    assert results[0] == results[1]          # the NumPy path's bits: the kernel's
    assert "numba failed" in _jit.describe() and not _jit.wanted(10**6, "float32")


def test_the_version_says_which_path_runs(monkeypatch):
    for mode, said in [("numpy", "kernels: numpy, by MLLIB_KERNELS=numpy"),
                       ("auto", f"kernels: numba, for models of {_jit.MIN_PARAMETERS:,}+"),
                       ("numba", "kernels: numba, for any model")]:
        monkeypatch.setenv(_jit.ENVIRONMENT, mode)
        result = run_cli("--version")
        assert_ok(result)
        assert said in result.stdout


# -- in child processes: numba broken, missing, or without a cache -------------------

CHILD = textwrap.dedent("""
    import hashlib, json, sys, warnings
    {prelude}
    import numpy as np
    from mllib import _jit
    from mllib.optim import Adam, ParameterSet

    seen = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        digest = hashlib.sha256()
        for size in ({size}, {size} + 1):          # two stores: two chances to warn again
            store = ParameterSet.from_arrays({{"w": np.linspace(-1, 1, size, dtype="float32")}},
                                             {{"w": np.full(size, 0.5, dtype="float32")}})
            opt = Adam()
            for _ in range(3):
                opt.step(store, 1e-2)
            digest.update(store.values.tobytes())
    print(json.dumps({{"warnings": [str(w.category.__name__) + ": " + str(w.message)
                                    for w in caught],
                      "theta": digest.hexdigest(), "describe": _jit.describe(),
                      "kernels": "mllib.optim._kernels" in sys.modules,
                      "numba": "numba" in sys.modules}}))
""")


def child(mode, *, prelude="", size=1000, extra_env=None, path=()):
    env = {**os.environ, _jit.ENVIRONMENT: mode, **(extra_env or {})}
    env["PYTHONPATH"] = os.pathsep.join([*map(str, path), SRC, env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", CHILD.format(prelude=prelude, size=size)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def numpy_theta():
    return child("numpy")["theta"]


def test_a_small_model_never_imports_numba(numpy_theta):
    # Below MIN_PARAMETERS, auto costs a process nothing: numba is not even imported.
    seen = child("auto")
    assert not seen["numba"] and not seen["kernels"] and seen["warnings"] == []
    assert seen["theta"] == numpy_theta
    assert child("numba")["theta"] == numpy_theta


def test_numba_that_fails_to_import_means_numpy_with_one_warning(tmp_path, numpy_theta):
    broken = tmp_path / "numba"
    broken.mkdir()
    (broken / "__init__.py").write_text(
        'raise ImportError("Numba needs NumPy 2.5 or less, got NumPy 9.0.")\n')
    for mode, size in [("numba", 1000), ("auto", _jit.MIN_PARAMETERS)]:
        seen = child(mode, size=size, path=[tmp_path])
        assert len(seen["warnings"]) == 1, seen
        assert seen["warnings"][0].startswith("KernelWarning: numba could not be imported")
        assert "Numba needs NumPy" in seen["warnings"][0]
        assert seen["describe"] == "kernels: numpy, numba failed (see its warning)"
        if size == 1000:
            assert seen["theta"] == numpy_theta


def test_numba_missing_means_numpy_silently_unless_it_was_asked_for(numpy_theta):
    missing = "sys.modules['numba'] = None   # import numba: ModuleNotFoundError"
    seen = child("auto", prelude=missing, size=_jit.MIN_PARAMETERS)
    assert seen["warnings"] == [] and not seen["kernels"]
    assert seen["describe"] == "kernels: numpy, numba is not installed (mllib[fast])"
    seen = child("numba", prelude=missing)
    assert len(seen["warnings"]) == 1 and "could not be imported" in seen["warnings"][0]
    assert seen["theta"] == numpy_theta


def test_no_writable_cache_means_kernels_compiled_in_the_process_with_one_warning(
        tmp_path, numpy_theta):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    seen = child("numba", extra_env={"NUMBA_CACHE_DIR": str(not_a_folder / "cache"),
                                     "NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator"})
    assert len(seen["warnings"]) == 1, seen
    assert seen["warnings"][0].startswith("KernelWarning: numba cannot cache mllib's kernels")
    assert seen["kernels"] and seen["describe"] == "kernels: numba, for any model"
    assert seen["theta"] == numpy_theta
