"""``mllib evaluate`` and ``mllib predict`` on a model whose output is not finite (issue 11).

The weights are finite (``mllib.load`` may refuse others), but so large that the
forward pass overflows float32: the command exits with status 2 and one line on
stderr, rather than printing a NaN cost or an empty row.
"""

import io

import numpy as np
import pandas as pd
import pytest

import mllib

from _cli_testing import assert_ok, run_cli

ROWS = pd.DataFrame({"x1": [0.5, 1.0, 2.0, -1.0], "x2": [1.5, 2.0, 0.5, 3.0],
                     "y": [0, 1, 1, 0]})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("finite")
    ROWS.to_csv(folder / "rows.csv", index=False)
    ROWS[["x1", "x2"]].to_csv(folder / "inputs.csv", index=False)
    X, y = ROWS[["x1", "x2"]].to_numpy(), ROWS["y"].to_numpy()
    # A linear regressor with weights near float32's largest, 3.4e38: X·Wᵀ overflows.
    regressor = mllib.NeuralNetwork(nodes=[2, 1], activators=["linear"], seed=0)
    regressor.fit(X, y.astype(float), epochs=1)
    regressor.set_weights({"W1": np.array([[2e38, 2e38]]), "b1": np.array([0.0])})
    regressor.save(folder / "regressor.npz")
    # A classifier whose two hidden units overflow to +inf, and whose output takes
    # their difference, inf − inf = NaN.
    classifier = mllib.NeuralNetwork(nodes=[2, 2, 1], activators=["relu", "sigmoid"], seed=0)
    classifier.fit(X, y, epochs=1)
    weights = classifier.get_weights()
    weights.update(W1=np.full((2, 2), 3e38), b1=np.zeros(2), W2=np.array([[1.0, -1.0]]))
    classifier.set_weights(weights)
    classifier.save(folder / "classifier.npz")
    return folder


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mllib: error: "), lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("model", ["regressor", "classifier"])
def test_evaluate_exits_2_instead_of_printing_a_nan_cost(files, model):
    result = run_cli("evaluate", files / f"{model}.npz", files / "rows.csv", "--target", "y")
    assert_one_line_error(result, f"cannot evaluate on '{files / 'rows.csv'}'",
                          "not finite", "overflowed float32", "dtype='float64'")


@pytest.mark.parametrize("model, options", [("regressor", []), ("classifier", []),
                                            ("classifier", ["--proba"])])
def test_predict_exits_2_instead_of_writing_nan_or_empty_rows(files, model, options):
    result = run_cli("predict", files / f"{model}.npz", files / "inputs.csv", *options)
    assert_one_line_error(result, f"cannot predict on '{files / 'inputs.csv'}'",
                          "the network's output is not finite for 4 row(s) of X (the first "
                          "is row 0)", "overflowed float32")


def test_the_same_rows_scaled_down_are_predicted(files):
    small = ROWS[["x1", "x2"]] * 1e-38
    small.to_csv(files / "small.csv", index=False)
    result = run_cli("predict", files / "classifier.npz", files / "small.csv", "--proba")
    assert_ok(result)
    table = pd.read_csv(io.StringIO(result.stdout))
    assert table.shape == (4, 2) and np.isfinite(table.to_numpy()).all()
