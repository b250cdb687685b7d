"""CSV files in, the network's inputs and targets out, by rules learned on the training rows.

How a table's columns become arrays is decided once, on the training rows, and kept
as a :class:`Preprocessing` (saved as ``preprocessing.json`` beside a model), so that
other files are encoded the same way later and the target's labels read back as
they were. pandas reads the files (the ``mllib[cli]`` extra). The package sits
above :mod:`mllib.data` and below the ``mllib`` command, which is built on it; from
Python::

    frame = read_csv("penguins.csv")
    features = feature_names(frame, "species")
    rows, notes, _ = rows_to_use(frame, "species", features, "impute")
    used = frame.iloc[rows]                 # the rows that have a target
    prep = Preprocessing.fit(used, "species", train_rows)   # train_rows: positions in used
    X, y = prep.transform(used).X, prep.labels(used)
    save(prep, "preprocessing.json")

    prep = load("preprocessing.json")       # later, for another file
    X_new = prep.transform(read_csv("new.csv", prep.text_columns), "new.csv").X

- :mod:`.read`: reading a file with pandas; columns and values named in messages;
- :mod:`.columns`: a feature column numeric or categorical, and its one-hot encoding;
- :mod:`.missing`: missing cells filled, rows left out, or an error;
- :mod:`.target`: the target's kind (class labels or numbers) and its values;
- :mod:`.table`: :class:`Preprocessing`, the rules of every column, fitted and applied;
- :mod:`.jsonfile`: ``preprocessing.json``, written and read back;
- :mod:`.errors`: :class:`DataError`, a ``ValueError``, for every file, column or
  value that cannot be used, with one line that names it.
"""

from .errors import DataError
from .jsonfile import FILENAME, find, load, save
from .missing import rows_to_use
from .read import read_csv
from .table import Encoded, Preprocessing, feature_names
from .target import is_classification, target_kind, target_values

__all__ = ["DataError", "Encoded", "FILENAME", "Preprocessing", "feature_names", "find",
           "is_classification", "load", "read_csv", "rows_to_use", "save", "target_kind",
           "target_values"]
