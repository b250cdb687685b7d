"""mllib.sklearn's early stopping: the held-out rows as scikit-learn's MLP holds them out.

Written from the behaviour that scikit-learn's own tests check (issue 19), for data that
mllib takes: two classes at least, where scikit-learn also takes one.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from mllib.sklearn import MLPClassifier, MLPRegressor


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_feature_names_are_kept_and_not_asked_of_the_validation_rows(Estimator):
    """The validation rows are scored as the arrays that validate_data made of X: asking
    them for feature names again would warn that X has none."""
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randn(20, 2), columns=["colname_a", "colname_b"])
    y = pd.Series(np.arange(20) % 2, name="colname_y")
    model = Estimator((4,), early_stopping=True, validation_fraction=0.2, max_iter=5,
                      n_iter_no_change=1, tol=1e9, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X, y)
    assert list(model.feature_names_in_) == ["colname_a", "colname_b"]
    assert len(model.validation_scores_) == model.n_iter_ == 3   # 1 + n_iter_no_change + 1


def test_a_class_of_one_row_is_named_before_the_size_of_the_validation_set():
    """Four rows hold out one, too few to score; but the stratified split fails first, in
    scikit-learn's words, on the class that has one row."""
    X = [[1, 2], [2, 3], [3, 4], [4, 5]]
    with pytest.raises(ValueError, match=r"The least populated classes in y have only 1 "
                                         r"member.*Classes with too few members are: \[1\]"):
        MLPClassifier(early_stopping=True).fit(X, [0, 0, 0, 1])


def test_no_validation_rows_at_all_is_too_small():
    X = np.arange(40.0).reshape(20, 2)
    with pytest.raises(ValueError, match="The validation set is too small"):
        MLPRegressor(early_stopping=True, validation_fraction=0.0).fit(X, X[:, 0])
