"""mllib.preprocessing from Python, without the command: a small CSV read, fitted on its
training rows, encoded, saved and read back. The expected arrays are worked out by hand
from the file below. (The command's own tests of the same rules are tests/test_cli_csv_*.)
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from mllib.preprocessing import (DataError, Preprocessing, feature_names, load, read_csv,
                                 rows_to_use, save)

# File rows 0-4; row 3 has no target. The training rows are file rows 0, 1 and 2.
CSV = """size,colour,weight,label
1.0,red,1.5,a
2.0,blue,,b
,red,3.5,a
4.0,green,4.5,
5.0,blue,5.5,b
"""


@pytest.fixture
def fitted(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(CSV)
    frame = read_csv(path)
    features = feature_names(frame, "label")
    rows, notes, report = rows_to_use(frame, "label", features, "impute")
    used = frame.iloc[rows]
    prep = Preprocessing.fit(used, "label", np.array([0, 1, 2]), path=str(path))
    return path, used, prep, (features, rows, notes, report)


def test_the_rows_to_use_are_those_with_a_target(fitted):
    _, _, _, (features, rows, notes, report) = fitted
    assert features == ["size", "colour", "weight"]
    assert rows.tolist() == [0, 1, 2, 4]
    assert notes == ["left out 1 row whose target label is missing"]
    assert report == {"target_missing": 1, "rows_dropped": 0}


def test_fit_learns_categories_and_fills_from_the_training_rows_only(fitted):
    _, _, prep, _ = fitted
    # size: median of 1.0 and 2.0; colour: red twice, blue once (green is in no
    # training row); weight: median of 1.5 and 3.5.
    assert prep.columns == [
        {"name": "size", "kind": "numeric", "fill": 1.5},
        {"name": "colour", "kind": "categorical", "categories": ["blue", "red"], "fill": "red"},
        {"name": "weight", "kind": "numeric", "fill": 2.5}]
    assert prep.features == ["size", "colour=blue", "colour=red", "weight"]
    assert (prep.target, prep.target_kind, prep.missing) == ("label", "str", "impute")


def test_transform_fills_gaps_and_one_hot_encodes(fitted):
    _, used, prep, _ = fitted
    encoded = prep.transform(used)
    np.testing.assert_array_equal(encoded.X, [[1.0, 0, 1, 1.5],
                                              [2.0, 1, 0, 2.5],
                                              [1.5, 0, 1, 3.5],
                                              [5.0, 1, 0, 5.5]])
    assert encoded.filled == {"size": 1, "weight": 1}
    assert not encoded.incomplete.any()
    assert prep.labels(used).tolist() == ["a", "b", "a", "b"]


def test_missing_drop_marks_the_incomplete_rows_and_error_names_every_gap(fitted):
    path, used, prep, _ = fitted
    dropped = prep.transform(used, missing="drop")
    assert dropped.incomplete.tolist() == [False, True, True, False]
    assert dropped.filled == {}
    with pytest.raises(DataError) as caught:
        prep.transform(used, path=path.name, missing="error")
    assert str(caught.value) == (
        "'data.csv' has problems in 2 columns: size: missing 1 cell, data row 3; weight: "
        "missing 1 cell, data row 2; fill them in, or give --missing impute (fill with "
        "training statistics) or --missing drop (leave those rows out)")


def test_saved_and_loaded_it_encodes_another_file_the_same_way(fitted, tmp_path):
    _, used, prep, _ = fitted
    save(prep, tmp_path / "preprocessing.json")
    text = (tmp_path / "preprocessing.json").read_text()
    document = json.loads(text)
    assert document["format"] == "mllib-preprocessing" and document["version"] == 2
    assert document["inputs"] == ["size", "colour=blue", "colour=red", "weight"]
    again = load(tmp_path / "preprocessing.json")
    np.testing.assert_array_equal(again.transform(used).X, prep.transform(used).X)
    save(again, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == text
    (tmp_path / "new.csv").write_text("weight,colour,size\n2.0,green,3.0\n")
    new = again.transform(read_csv(tmp_path / "new.csv", again.text_columns), "new.csv")
    np.testing.assert_array_equal(new.X, [[3.0, 0, 0, 2.0]])   # green: all zeros
    assert new.notes == ["column colour has 1 value(s) not seen in training; they are "
                         "encoded as all zeros"]


def test_its_errors_are_value_errors_that_name_the_file(tmp_path):
    with pytest.raises(ValueError) as caught:
        read_csv(tmp_path / "nowhere.csv")
    assert type(caught.value) is DataError
    assert str(caught.value) == f"no such file: {str(tmp_path / 'nowhere.csv')!r}"


@pytest.mark.parametrize("edit, match", [
    (lambda d: d["columns"][0].update(name=5), r"bad column entry \{'name': 5"),
    (lambda d: d["columns"][1].update(categories=["blue", 3]), r"bad column entry"),
    (lambda d: d.update(target=["label"]), r"bad target \['label'\] of kind 'str'"),
    (lambda d: d.update(target_kind="complex"), r"bad target 'label' of kind 'complex'"),
    (lambda d: d.update(dropped="id"), r"bad list of dropped columns 'id'"),
    (lambda d: d.update(missing=["impute"]), r"bad missing mode \['impute'\]"),
])
def test_a_forged_file_is_refused_naming_it(fitted, tmp_path, edit, match):
    _, _, prep, _ = fitted
    path = tmp_path / "preprocessing.json"
    save(prep, path)
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    with pytest.raises(DataError, match=rf"'{path}' is not an mllib preprocessing file: "
                                        + match):
        load(path)


def test_a_file_of_another_width_is_refused_before_it_encodes_anything(fitted, tmp_path):
    _, _, prep, _ = fitted
    save(prep, tmp_path / "preprocessing.json")
    assert load(tmp_path / "preprocessing.json", inputs=4).features == prep.features
    with pytest.raises(DataError, match=r"encodes 4 input column\(s\), but the model takes "
                                        r"3: it is not this model's preprocessing file"):
        load(tmp_path / "preprocessing.json", inputs=3)


def test_importing_it_loads_neither_the_command_nor_training_nor_pandas():
    code = ("import sys, mllib.preprocessing; "
            "print(sorted(m for m in sys.modules if m.startswith(('mllib.', 'pandas'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    modules = eval(loaded)      # a list of module names, printed just above
    assert "mllib.preprocessing.table" in modules
    assert not [m for m in modules if m.startswith(("mllib.cli", "mllib.training",
                                                    "mllib.tune", "pandas"))], modules
