"""A pytest plugin that makes scikit-learn's own MLP tests test mllib.sklearn's estimators.

tests/test_sklearn_own_mlp_tests.py runs the installed
``sklearn/neural_network/tests/test_mlp.py`` in a pytest process of its own,
with ``-p _sklearn_own_tests_plugin``. Before anything is collected, this
plugin puts mllib's ``MLPClassifier`` and ``MLPRegressor`` where that file
imports them from (``sklearn.neural_network``, and the private module that
defines scikit-learn's, in case a test reaches them there), so that the file's
own ``from sklearn.neural_network import MLPClassifier, MLPRegressor`` binds
ours. After collection it checks that every collected test module holds ours:
if a later scikit-learn imported its estimators some other way, the run stops
with an error instead of quietly testing scikit-learn against itself.

Importing this module changes nothing (the suite's ``--doctest-modules`` imports
it); only pytest's hooks below do, in the process that loads it as a plugin.
"""

import pytest

# Where scikit-learn's MLP tests get the estimators from.
MODULES = ("sklearn.neural_network", "sklearn.neural_network._multilayer_perceptron")
NAMES = ("MLPClassifier", "MLPRegressor")


def pytest_configure(config):
    """Replace scikit-learn's MLPs by mllib's in the modules the tests import from."""
    import importlib

    import mllib.sklearn
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in NAMES:
            setattr(module, name, getattr(mllib.sklearn, name))


def pytest_collection_modifyitems(session, config, items):
    """Refuse to run a test module that still holds scikit-learn's own estimators."""
    import mllib.sklearn
    for module in {item.module for item in items if getattr(item, "module", None)}:
        for name in NAMES:
            found = getattr(module, name, None)
            if found is not None and found is not getattr(mllib.sklearn, name):
                raise pytest.UsageError(f"{module.__name__}.{name} is {found!r}, not "
                                        f"mllib's: the estimators were not replaced")
