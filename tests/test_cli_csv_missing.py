"""``mllib`` on a penguins-style CSV as it comes: empty cells in features and in the target,
an integer column of three years, and a column name with a space in it.

One module-scoped ``train`` with the defaults serves the evaluate and predict tests.
"""

import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from _cli_csv_testing import notes, run_here, tune_once
from _cli_testing import assert_ok, options_of, run_cli

BILL = "bill length mm"          # a name a shell needs quoted
BILL_GAPS, FLIPPER_GAPS = [3, 40, 77, 120], [3, 90]
SEX_GAPS, SPECIES_GAPS = [5, 11, 60, 61, 150], [8, 100, 170]
N = 180


def penguins(n=N, seed=0):
    """Three species told apart by bill and flipper length, with the gaps above."""
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Chinstrap", "Gentoo"], size=n)
    means = {"Adelie": (38.8, 190.0, 3700.0), "Chinstrap": (48.8, 196.0, 3730.0),
             "Gentoo": (47.5, 217.0, 5080.0)}
    mean = np.array([means[s] for s in species])
    frame = pd.DataFrame({
        "species": species.astype(object),
        "island": np.where(species == "Gentoo", "Biscoe", rng.choice(["Dream", "Torgersen"], n)),
        BILL: mean[:, 0] + rng.normal(0, 1.5, n),
        "flipper_length_mm": np.round(mean[:, 1] + rng.normal(0, 4, n)),
        "body_mass_g": np.round(mean[:, 2] + rng.normal(0, 300, n)),
        "sex": rng.choice(["female", "male"], size=n).astype(object),
        "year": rng.choice([2007, 2008, 2009], size=n)})
    for rows, column in ((BILL_GAPS, BILL), (FLIPPER_GAPS, "flipper_length_mm"),
                         (SEX_GAPS, "sex"), (SPECIES_GAPS, "species")):
        frame.loc[[row for row in rows if row < n], column] = None
    return frame


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("penguins")
    penguins().to_csv(path / "penguins.csv", index=False)
    return path


@pytest.fixture(scope="module")
def trained(folder):
    result = run_cli("train", "penguins.csv", "--target", "species", "--epochs", "60",
                     "--out", "run", "-q", cwd=folder)
    assert_ok(result)
    return folder / "run", result


def test_train_with_defaults_fills_gaps_and_leaves_out_rows_without_target(trained, folder):
    out, result = trained
    said = notes(result)
    assert "left out 3 rows whose target species is missing" in said
    filled = next(note for note in said if note.startswith("filled "))
    assert filled.startswith("filled 11 missing cells with training statistics: "
                             "'bill length mm' 4 (median ")
    assert "flipper_length_mm 2 (median " in filled and "sex 5 (most frequent '" in filled

    metrics = json.loads((out / "metrics.json").read_text())
    data = metrics["data"]
    assert data["rows_in_file"] == N and data["rows"] == N - 3 and data["target_missing"] == 3
    assert data["filled"] == {BILL: 4, "flipper_length_mm": 2, "sex": 5}
    assert metrics["test"]["accuracy"] >= 0.9
    split = json.loads((out / "split.json").read_text())
    used = sorted(split["train"] + split["dev"] + split["test"])
    assert used == sorted(set(range(N)) - set(SPECIES_GAPS))    # file positions

    # The fill values are the training rows' own statistics.
    frame = pd.read_csv(folder / "penguins.csv")
    train = frame.iloc[split["train"]]
    fills = {c["name"]: c["fill"] for c in json.loads((out / "preprocessing.json").read_text())
             ["columns"]}
    assert fills[BILL] == pytest.approx(train[BILL].median(), rel=1e-12)
    assert fills["flipper_length_mm"] == train["flipper_length_mm"].median()
    assert fills["sex"] == train["sex"].value_counts().idxmax()


def test_an_integer_column_of_few_values_is_noted_and_categorical_takes_it(trained, folder):
    _, result = trained
    assert ("column year holds integers with 3 distinct values (2007, 2008, 2009) and is used "
            "as a number; give --categorical year to one-hot encode it as categories"
            in notes(result))
    again = run_here("train", "penguins.csv", "--target", "species", "--categorical", "year",
                    "--epochs", "2", "--out", "by-year", "-q", cwd=folder)
    assert_ok(again)
    assert not any("year" in note for note in notes(again))
    inputs = json.loads((folder / "by-year" / "preprocessing.json").read_text())["inputs"]
    assert inputs[-3:] == ["year=2007", "year=2008", "year=2009"]


def test_evaluate_leaves_out_rows_without_target_and_fills_the_rest(trained, folder):
    out, _ = trained
    split = json.loads((out / "split.json").read_text())
    rows = sorted(split["test"] + SPECIES_GAPS[:2] + BILL_GAPS + SEX_GAPS)
    frame = pd.read_csv(folder / "penguins.csv").iloc[rows]
    frame.to_csv(folder / "some.csv", index=False)
    result = run_cli("evaluate", out / "model.npz", "some.csv", cwd=folder)
    assert_ok(result)
    assert "left out 2 rows whose target species is missing" in notes(result)
    printed = json.loads(result.stdout)
    assert printed["n"] == len(rows) - 2

    # The test rows alone: the figures of metrics.json, through the same fills.
    pd.read_csv(folder / "penguins.csv").iloc[split["test"]].to_csv(folder / "test.csv",
                                                                    index=False)
    test = run_cli("evaluate", out / "model.npz", "test.csv", cwd=folder)
    assert_ok(test)
    expected = json.loads((out / "metrics.json").read_text())["test"]
    assert json.loads(test.stdout) == pytest.approx(expected, rel=1e-12)


def test_predict_predicts_every_row_with_gaps_or_without_target(trained, folder):
    out, _ = trained
    result = run_cli("predict", out / "model.npz", "penguins.csv", cwd=folder)
    assert_ok(result)
    predicted = pd.read_csv(io.StringIO(result.stdout))["species"]
    assert len(predicted) == N and predicted.notna().all()
    assert set(predicted) <= {"Adelie", "Chinstrap", "Gentoo"}
    truth = pd.read_csv(folder / "penguins.csv")["species"]
    known = truth.notna()
    assert (predicted[known] == truth[known]).mean() >= 0.9


def test_missing_error_names_every_column_with_gaps_in_one_line(folder):
    result = run_here("train", "penguins.csv", "--target", "species", "--missing", "error",
                     "--out", "refused", cwd=folder)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "mllib: error: 'penguins.csv' has problems in 3 columns: "
        "'bill length mm': missing 4 cells, first in data row 4; "
        "flipper_length_mm: missing 2 cells, first in data row 4; "
        "sex: missing 5 cells, first in data row 6; fill them in, or give --missing impute "
        "(fill with training statistics) or --missing drop (leave those rows out)"]
    assert not (folder / "refused").exists() and not (folder / "refused.incomplete").exists()


def test_missing_drop_leaves_rows_out_and_predict_leaves_them_empty(trained, folder):
    result = run_here("train", "penguins.csv", "--target", "species", "--missing", "drop",
                     "--epochs", "2", "--out", "dropped", "-q", cwd=folder)
    assert_ok(result)
    incomplete = set(BILL_GAPS + FLIPPER_GAPS + SEX_GAPS) - set(SPECIES_GAPS)
    assert f"left out {len(incomplete)} rows with missing cells (--missing drop)" in \
        notes(result)
    data = json.loads((folder / "dropped" / "metrics.json").read_text())["data"]
    assert data["rows"] == N - 3 - len(incomplete) and data["filled"] == {}

    predicted = run_here("predict", folder / "dropped" / "model.npz", "penguins.csv",
                        cwd=folder)
    assert_ok(predicted)
    column = pd.read_csv(io.StringIO(predicted.stdout))["species"]
    gaps = set(BILL_GAPS + FLIPPER_GAPS + SEX_GAPS)
    assert len(column) == N and set(np.flatnonzero(column.isna())) == gaps
    # The model trained with the defaults fills them when asked to drop: the same
    # answer as a model of the drop mode would give, but the mode is the caller's.
    filled = run_here("predict", folder / "dropped" / "model.npz", "penguins.csv",
                     "--missing", "impute", cwd=folder)
    assert_ok(filled)
    assert pd.read_csv(io.StringIO(filled.stdout))["species"].notna().all()


def test_every_unusable_column_is_named_in_one_line(folder):
    frame = penguins(130).assign(tag=[f"bird {i}" for i in range(130)])
    frame["body_mass_g"] = frame["body_mass_g"].astype(object)
    frame.loc[7, "body_mass_g"] = "3,700"
    frame.to_csv(folder / "messy.csv", index=False)
    result = run_here("train", "messy.csv", "--target", "species", "--missing", "error",
                     "--out", "messy", cwd=folder)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("mllib: error: 'messy.csv' has problems in 5 columns: "
                           "'bill length mm': missing 4 cells, first in data row 4; ")
    assert ("body_mass_g: numbers mixed with text, such as '3,700' in data row 8; " in line)
    assert "tag: 128 distinct text values, more than --max-categories 20" in line
    assert "leave the columns out with --drop body_mass_g,tag; fill them in" in line
    assert not (folder / "messy").exists()


def test_tune_and_diagnose_read_the_file_as_train_does(folder):
    tuned = tune_once("penguins.csv", "species", {"epochs": 3, "categorical": ["year"]},
                      cwd=folder)
    assert tuned.returncode == 0, tuned.stderr
    said = notes(tuned)
    assert "left out 3 rows whose target species is missing" in said
    assert any(note.startswith("filled 11 missing cells") for note in said)
    prep = json.loads((folder / "search" / "preprocessing.json").read_text())
    assert prep["missing"] == "impute" and prep["inputs"][-1] == "year=2009"

    refused = run_here("diagnose", "penguins.csv", "--target", "species", "--missing", "error",
                       "--out", "curve", cwd=folder)
    assert refused.returncode == 2
    (line,) = refused.stderr.splitlines()
    assert line.startswith("mllib: error: 'penguins.csv' has problems in 3 columns: "
                           "'bill length mm': missing 4 cells")
    assert not (folder / "curve").exists()


def test_predict_with_every_row_dropped_writes_empty_predictions(trained, folder):
    out, _ = trained
    penguins().iloc[[3]].drop(columns="species").to_csv(folder / "gap.csv", index=False)
    result = run_here("predict", out / "model.npz", "gap.csv", "--missing", "drop", "--proba",
                      cwd=folder)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns) == ["Adelie", "Chinstrap", "Gentoo"] and len(table) == 1
    assert table.isna().all(axis=None)
    assert notes(result) == ["1 row(s) with missing cells have no prediction (--missing drop)"]


def test_tune_takes_the_data_flags_of_train_that_its_advice_names(folder):
    penguins().assign(tag=[f"bird {i}" for i in range(N)]).to_csv(folder / "tagged.csv",
                                                                  index=False)
    (folder / "lr.json").write_text('{"learning_rate": [0.01]}')
    search = ["tune", "tagged.csv", "--target", "species", "--space", "lr.json", "--trials", "1",
              "--settings", "few.json", "--scheduler", "serial", "-q", "--out", "tagged"]
    (folder / "few.json").write_text('{"epochs": 3}')
    refused = run_here(*search, cwd=folder)
    assert refused.returncode == 2
    (line,) = refused.stderr.splitlines()
    assert line == (f"mllib: error: 'tagged.csv' has problems in a column: tag: "
                    f"{N - len(SPECIES_GAPS)} distinct text values, more than --max-categories "
                    "20, so it is not one-hot encoded (an identifier or free text?); fix those "
                    "values, or leave the columns out with --drop tag")
    flags = re.findall(r"--[a-z-]+", line)
    assert flags == ["--max-categories", "--drop"] and set(flags) <= set(options_of("tune"))
    assert not (folder / "tagged").exists()

    tuned = run_here(*search, "--drop", "tag", "--missing", "drop", cwd=folder)
    assert tuned.returncode == 0, tuned.stderr
    prep = json.loads((folder / "tagged" / "preprocessing.json").read_text())
    assert prep["dropped"] == ["tag"] and prep["missing"] == "drop"
    assert "tag" not in {column["name"] for column in prep["columns"]}
    manifest = json.loads((folder / "tagged" / "manifest.json").read_text())
    assert manifest["data_options"]["drop"] == ["tag"]
    assert manifest["data_options"]["missing"] == "drop"

    other = run_here(*search, "--drop", "tag,island", "--missing", "drop", cwd=folder)
    assert other.returncode == 2
    line = other.stderr.splitlines()[-1]      # after the notes on the data
    assert line.startswith("mllib: error: cannot search: 'tagged' holds another search: ")
    assert 'data_options.drop: ["tag"] in the folder, ["tag", "island"] now' in line
