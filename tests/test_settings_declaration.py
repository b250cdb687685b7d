"""The declaration of the settings, held against what uses it: optimizers and scikit-learn."""

import math

import pytest
from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints

from mllib.optim import get_optimizer
from mllib.settings import SETTING, SETTINGS, defaults, parse
from mllib.settings.declaration import GROUPS, RUN_KEYS
from mllib.sklearn import MLPClassifier, MLPRegressor

OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")


def test_every_setting_is_declared_whole_and_once():
    keys = [s.key for s in SETTINGS]
    aliases = [a for s in SETTINGS for a in s.aliases]
    assert len(set(keys)) == len(keys) and not set(aliases) & set(keys)
    assert len(set(aliases)) == len(aliases)
    for setting in SETTINGS:
        assert setting.group in GROUPS and setting.help.strip(), setting.key
        assert set(setting.optimizers) <= set(OPTIMIZERS), setting.key
        if setting.default is not None:      # the default is a value the parser accepts
            assert parse(setting.key, setting.default) == setting.default, setting.key
    assert list(defaults()) == list(RUN_KEYS)


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.optimizers], ids=lambda s: s.key)
def test_an_optimizer_setting_is_a_hyperparameter_of_exactly_the_optimizers_it_names(setting):
    for name in OPTIMIZERS:
        config = get_optimizer(name).get_config()
        assert (setting.key in config) == (name in setting.optimizers), (setting.key, name)
        if name in setting.optimizers:      # and the optimizer takes it as a keyword
            assert get_optimizer(name, **{setting.key: config[setting.key]}).get_config() \
                == config


SKLEARN_SETTINGS = [s for s in SETTINGS if s.sklearn]
# Values probed on both sides of each range: the declaration's parser and the estimators'
# parameter constraints must accept and refuse the same ones. Not None, which means "the
# default" to the declaration, nor booleans, which scikit-learn's Interval takes as numbers.
PROBES = (-1.0, 0.0, 1e-12, 0.5, 0.999, 1.0, 2.0, math.inf, math.nan, -1, 0, 1, 2, 3,
          "float32", "float64", "float16")
# Settings whose domains differ on purpose: the estimators take scikit-learn's words and
# types (a tuple of widths, "logistic", Python booleans only, a schedule object).
OWN_DOMAIN = {"hidden", "activation", "init", "batch_norm", "nesterov", "lr_decay"}


def _accepted(check, value) -> bool:
    try:
        check(value)
    except (ValueError, InvalidParameterError):
        return False
    return True


@pytest.mark.parametrize("setting", SKLEARN_SETTINGS, ids=lambda s: s.key)
@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_a_scikit_learn_parameter_takes_what_its_setting_takes(setting, estimator):
    name = setting.sklearn
    assert name in estimator().get_params()
    if setting.key in OWN_DOMAIN:
        return
    constraints = {name: estimator._parameter_constraints[name]}
    for value in PROBES:
        ours = _accepted(lambda v: parse(setting.key, v), value)
        theirs = _accepted(lambda v: validate_parameter_constraints(
            constraints, {name: v}, estimator.__name__), value)
        assert ours == theirs, (setting.key, name, value, ours, theirs)


def test_every_hyperparameter_that_means_the_same_in_scikit_learn_is_mapped():
    mapped = {s.sklearn for s in SETTINGS if s.sklearn}
    same_meaning = {"hidden_layer_sizes", "activation", "alpha", "lp_reg", "learning_rate_init",
                    "beta_1", "beta_2", "epsilon", "nesterovs_momentum", "keep_prob",
                    "batch_norm", "init", "dtype", "lr_decay"}
    assert mapped == same_meaning
    assert SETTING["learning_rate"].sklearn == "learning_rate_init"


def test_a_setting_taken_as_is_by_the_network_names_one_of_its_keywords():
    import inspect

    from mllib import NeuralNetwork

    keywords = set(inspect.signature(NeuralNetwork).parameters)
    taken = {s.key: s.network for s in SETTINGS if s.network}
    assert set(taken.values()) <= keywords
    assert taken["lambda"] == "lambda_" and taken["keep_prob"] == "keep_probs"
