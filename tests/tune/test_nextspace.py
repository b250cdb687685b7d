"""The next search by the notes' remedies (mllib.tune.nextspace, issue 21's ``--next``)."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mllib.training.diagnosis import diagnose
from mllib.tune import random_search
from mllib.tune.nextspace import next_space, narrowed
from mllib.tune.spaces import (choice, fixed, from_json, loguniform, one_minus_loguniform,
                               randint, uniform)

BIAS = diagnose(0.30, 0.32)                 # train far above Bayes (0)
VARIANCE = diagnose(0.01, 0.20)             # dev far above train
BOTH = diagnose(0.30, 0.50)
NEITHER = diagnose(0.02, 0.04)
SPACE = {"learning_rate": loguniform(1e-4, 1e-1), "beta1": one_minus_loguniform(0.9, 0.999)}


def best(**params):
    return {"params": {"learning_rate": 1e-3, "beta1": 0.99, **params}}


def test_high_bias_proposes_a_larger_network_longer_training_and_adam():
    proposal = next_space(SPACE, {"hidden": [32, 16], "epochs": 40, "optimizer": "momentum"},
                          best(), BIAS)
    assert proposal.space["hidden"] == choice([[32, 16], [64, 32], [32, 16, 16]])
    assert proposal.space["epochs"] == choice([40, 80])
    assert proposal.space["optimizer"] == choice(["momentum", "adam"])
    assert proposal.space["learning_rate"] == SPACE["learning_rate"]     # untouched
    assert proposal.settings == {} and proposal.moved == ["epochs", "hidden", "optimizer"]
    assert [reason.split(":")[0] for reason in proposal.reasons] == ["high bias"] * 3


def test_high_bias_takes_the_defaults_where_nothing_was_set_and_keeps_adam():
    proposal = next_space(SPACE, {"optimizer": "adam"}, best(), BIAS)
    assert proposal.space["hidden"] == choice([[16], [32], [16, 16]])    # the default [16]
    assert proposal.space["epochs"] == choice([500, 1000])
    assert "optimizer" not in proposal.space and proposal.settings == {"optimizer": "adam"}


def test_a_network_given_as_nodes_grows_as_hidden_widths():
    proposal = next_space(SPACE, {"nodes": [2, 8, 1], "optimizer": "adam"}, best(), BIAS)
    assert proposal.space["hidden"] == choice([[8], [16], [8, 8]])
    assert "nodes" not in proposal.settings and "nodes" not in proposal.space


def test_after_halving_longer_training_is_a_reason_not_a_space():
    proposal = next_space(SPACE, {}, best(hidden=[8]), BIAS, halving=True)
    assert "epochs" not in proposal.space
    assert "high bias: longer training (a larger max_epochs)" in proposal.reasons


def test_high_variance_proposes_more_regularization_and_says_more_data():
    proposal = next_space(SPACE, {"lambda": 0.05, "keep_prob": 0.9}, best(), VARIANCE)
    assert proposal.space["lambda"] == loguniform(0.05, 5.0)
    low, high = proposal.space["keep_prob"].low, proposal.space["keep_prob"].high
    assert (low, high) == (0.6, 0.9)
    assert proposal.moved == ["keep_prob", "lambda"]
    assert any("more training data" in reason for reason in proposal.reasons)


def test_high_variance_without_regularization_starts_lambda_at_a_thousandth():
    proposal = next_space(SPACE, {}, best(keep_prob=0.6), VARIANCE)
    assert proposal.space["lambda"] == loguniform(1e-3, 0.1)
    assert proposal.space["keep_prob"] == uniform(0.5, 0.6)      # not below 0.5
    floor = next_space(SPACE, {"keep_prob": 0.5}, best(), VARIANCE)
    assert "keep_prob" not in floor.space                          # nothing lower to try


def test_both_treats_the_bias_first():
    proposal = next_space(SPACE, {}, best(), BOTH)
    assert "hidden" in proposal.space and "lambda" not in proposal.space
    assert proposal.reasons[-1] == "high variance too: regularize once the bias is down"


def test_neither_narrows_every_searched_range_around_the_best():
    space = {**SPACE, "hidden": choice([[8], [16]]), "epochs": randint(10, 50),
             "keep_prob": uniform(0.5, 1.0), "activation": fixed("relu")}
    proposal = next_space(space, {}, best(hidden=[16], epochs=30, keep_prob=0.8), NEITHER)
    # log10 width 3 -> 0.75 decades, centred on 1e-3
    lr = proposal.space["learning_rate"]
    assert math.log10(lr.high / lr.low) == pytest.approx(0.75, abs=1e-5)
    assert math.sqrt(lr.low * lr.high) == pytest.approx(1e-3, rel=1e-5)
    beta = proposal.space["beta1"]           # on the scale of 1 - beta, centred on 0.01
    assert math.sqrt((1 - beta.low) * (1 - beta.high)) == pytest.approx(0.01, rel=1e-4)
    assert proposal.space["hidden"] == fixed([16])
    assert proposal.space["epochs"] == randint(25, 35)
    assert proposal.space["keep_prob"] == uniform(0.7375, 0.8625)
    assert proposal.space["activation"] == fixed("relu")
    assert proposal.reasons == ["neither high bias nor high variance: a finer search around "
                                "the best (learning_rate, beta1, hidden, epochs, keep_prob)"]


def test_a_best_value_at_an_edge_moves_the_search_past_it_but_not_out_of_range():
    edge = narrowed(loguniform(1e-4, 1e-1), 1e-1)      # 3 decades: 3/8 on each side
    assert edge.low == pytest.approx(1e-1 / 10 ** 0.375, rel=1e-5)
    assert edge.high == pytest.approx(1e-1 * 10 ** 0.375, rel=1e-5)
    keep = lambda v: 0 < v <= 1                                     # noqa: E731
    assert narrowed(uniform(0.5, 1.0), 1.0, keep) == uniform(0.9375, 1.0)
    epochs = lambda v: v >= 0                                       # noqa: E731
    assert narrowed(randint(0, 40), 0, epochs) == randint(0, 5)


@given(low=st.floats(1e-6, 1.0), decades=st.floats(0.1, 4.0), at=st.floats(0.0, 1.0))
def test_a_narrowed_log_range_is_a_quarter_as_wide_and_holds_the_best(low, decades, at):
    space = loguniform(low, low * 10 ** decades)
    best = low * 10 ** (decades * at)
    new = narrowed(space, best)
    assert new.low <= best * (1 + 1e-5) and best <= new.high * (1 + 1e-5)
    assert math.log10(new.high / new.low) == pytest.approx(decades / 4, rel=1e-4, abs=1e-5)


def test_a_search_takes_the_proposal_and_its_file_holds_it_with_the_reasons():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)                   # XOR: a linear model is biased
    train, dev = (X[:150], y[:150]), (X[150:], y[150:])
    result = random_search({"learning_rate": loguniform(1e-2, 1e-1)}, train, dev, trials=2,
                           seed=0, settings={"hidden": [], "epochs": 20, "batch_size": 50})
    assert result.diagnosis.high_bias
    proposal = result.next_space()
    assert proposal.space["hidden"] == choice([[16], [64]])
    assert proposal.settings == {"batch_size": 50} and proposal.moved == ["epochs", "hidden"]
    document = json.loads(json.dumps(proposal.to_json()))
    assert document.pop("$comment") == "; ".join(proposal.reasons)
    assert {key: from_json(key, value) for key, value in document.items()} == proposal.space
    again = random_search(proposal.space, train, dev, trials=4, seed=0,
                          settings=proposal.settings)
    assert {tuple(row["params"]["hidden"]) for row in again.trials} == {(16,), (64,)}


def test_hidden_given_as_a_number_or_text_is_read_as_the_trials_read_it():
    assert next_space(SPACE, {"optimizer": "adam"}, best(hidden=16), BIAS).space["hidden"] \
        == choice([[16], [32], [16, 16]])
    assert next_space(SPACE, {"hidden": "64,32", "optimizer": "adam"}, best(), BIAS) \
        .space["hidden"] == choice([[64, 32], [128, 64], [64, 32, 32]])


def test_an_integer_range_never_widens():
    assert narrowed(randint(2, 3), 2) == randint(2, 2)
    assert narrowed(randint(1, 2), 1, lambda v: v >= 1) == randint(1, 1)
    assert narrowed(randint(4, 6), 5) == randint(5, 5)


def test_a_range_too_narrow_to_round_stays_as_it_was():
    tiny = uniform(0.5, 0.5000001)
    assert narrowed(tiny, 0.50000005) == tiny


def test_one_minus_beta_narrows_on_its_own_scale():
    beta = narrowed(one_minus_loguniform(0.9999, 0.999999), 0.999999)   # 1 - beta: 1e-6..1e-4
    assert math.log10((1 - beta.low) / (1 - beta.high)) == pytest.approx(0.5, abs=1e-4)
    assert math.sqrt((1 - beta.low) * (1 - beta.high)) == pytest.approx(1e-6, rel=1e-4)


def test_longer_training_stops_at_the_most_epochs_a_run_may_take():
    proposal = next_space(SPACE, {"epochs": 900_000, "optimizer": "adam"}, best(), BIAS)
    assert "epochs" not in proposal.space and proposal.settings["epochs"] == 900_000
