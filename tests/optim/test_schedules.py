"""Learning-rate schedules (notes §7.5–7.6): values by hand, parsing, validation, properties."""

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mllib.optim import (Constant, Exponential, FunctionSchedule, Piecewise, Rational, Root,
                         Schedule, make_schedule)


@pytest.mark.parametrize("schedule, expected", [
    (Constant(0.3), {0: 0.3, 1: 0.3, 1000: 0.3}),
    (Rational(0.2), {0: 0.2, 1: 0.1, 3: 0.05, 9: 0.02}),                 # 0.2 / (1 + i)
    (Rational(0.1, eta=0.5), {0: 0.1, 2: 0.05, 6: 0.025}),               # 0.1 / (1 + i/2)
    (Exponential(0.2, eta=0.5), {0: 0.2, 1: 0.1, 3: 0.025}),             # 0.2 · 0.5^i
    (Exponential(0.2), {0: 0.2, 1: 0.19, 2: 0.1805}),                    # η = 0.95
    (Root(0.2), {0: 0.2, 3: 0.1, 8: 0.2 / 3}),                           # 0.2 / √(i + 1)
    (Root(0.1, eta=2.0), {0: 0.2, 15: 0.05}),                            # 0.1·2 / √(i + 1)
    (Piecewise(0.1, {10: 0.5, 20: 0.1}), {0: 0.1, 9: 0.1, 10: 0.05, 19: 0.05, 20: 0.01,
                                           10**6: 0.01}),
    (Piecewise(0.1, [(20, 0.1), (0, 2.0)]), {0: 0.2, 19: 0.2, 20: 0.01}),  # unsorted pairs
])
def test_values_worked_by_hand(schedule, expected):
    for epoch, rate in expected.items():
        value = schedule(epoch)
        assert type(value) is float
        assert value == pytest.approx(rate, rel=1e-14), (schedule, epoch)


def test_rates_above_one_are_allowed():
    # The notes' learning_rate_decay_* assert α ≤ 1; that is not a rule.
    assert Constant(5.0)(0) == 5.0
    assert Rational(3.0)(1) == 1.5
    assert Root(1.0, eta=4.0)(0) == 4.0


def test_exponential_with_eta_one_is_constant_and_large_epochs_are_fine():
    assert Exponential(0.1, eta=1.0)(10**9) == 0.1
    assert Exponential(0.1, eta=0.5)(10**9) == 0.0          # underflows, no error
    assert Rational(0.1)(10**12) == pytest.approx(1e-13)


@pytest.mark.parametrize("spec, expected", [
    (None, Constant(0.2)),
    ("constant", Constant(0.2)),
    ("rational", Rational(0.2, 1.0)),
    ("rational:0.5", Rational(0.2, 0.5)),
    (" Exponential : 0.9 ", Exponential(0.2, 0.9)),
    ("exponential", Exponential(0.2, 0.95)),
    ("root:2", Root(0.2, 2.0)),
    ("step:10=0.5,20=0.1", Piecewise(0.2, {10: 0.5, 20: 0.1})),
    ("piecewise: 20 = 0.1 , 10=0.5", Piecewise(0.2, {10: 0.5, 20: 0.1})),
    (("rational", 1.5), Rational(0.2, 1.5)),
    (("exponential",), Exponential(0.2)),
    (("step", {5: 0.5}), Piecewise(0.2, {5: 0.5})),
    ({"name": "root", "eta": 3.0}, Root(0.2, 3.0)),
    ({"name": "rational", "alpha0": 0.7, "eta": 2.0}, Rational(0.7, 2.0)),  # config's α0 wins
])
def test_make_schedule_parses_specs(spec, expected):
    schedule = make_schedule(spec, 0.2)
    assert type(schedule) is type(expected)
    assert schedule.get_config() == expected.get_config()


def test_make_schedule_returns_schedules_as_is_and_wraps_callables():
    s = Rational(0.3)
    assert make_schedule(s, 0.1) is s
    wrapped = make_schedule(lambda epoch: 0.5 / (epoch + 1), 0.1)
    assert isinstance(wrapped, FunctionSchedule) and isinstance(wrapped, Schedule)
    assert wrapped(1) == 0.25 and type(wrapped(1)) is float
    assert wrapped.get_config()["name"] == "function"
    with pytest.raises(ValueError, match=r"cannot be rebuilt"):
        make_schedule(wrapped.get_config(), 0.1)


@pytest.mark.parametrize("schedule", [
    Constant(0.3), Rational(0.2, 0.5), Exponential(0.1, 0.9), Root(0.05, 2.0),
    Piecewise(0.1, {10: 0.5, 20: 0.1}),
])
def test_configs_round_trip_through_json(schedule):
    config = json.loads(json.dumps(schedule.get_config()))
    assert config["name"] == schedule.name
    rebuilt = make_schedule(config, 99.0)
    assert rebuilt.get_config() == schedule.get_config()
    assert [rebuilt(i) for i in range(30)] == [schedule(i) for i in range(30)]


@pytest.mark.parametrize("spec, match", [
    ("cosine", r"'cosine'"),
    ("rational:abc", r"'rational:abc'.*'abc'"),
    ("rational:-1", r"eta .*-1\.0"),
    ("rational:0", r"eta .*0\.0"),
    ("root:nan", r"eta .*nan"),
    ("exponential:1.5", r"eta .*\(0, 1\].*1\.5"),
    ("constant:3", r"'constant:3'.*'3'"),
    ("step", r"'step'.*milestones"),
    ("step:10", r"'10'.*epoch=factor"),
    ("step:a=0.5", r"'a=0\.5'"),
    ("step:10=0", r"factor for epoch 10 .*0\.0"),
    ("step:-1=0.5", r"milestone epoch .*-1"),
    ("step:10=0.5,10=0.1", r"distinct.*\[10, 10\]"),
    (("rational", 1.0, 2.0), r"\('rational', 1\.0, 2\.0\)"),
    (("cosine", 1.0), r"'cosine'"),
    ({"name": "rational", "gamma": 0.5}, r"\['gamma'\]"),
    ({"eta": 0.5}, r"None"),
    (42, r"spec 42"),
])
def test_make_schedule_rejects_bad_specs(spec, match):
    with pytest.raises(ValueError, match=match):
        make_schedule(spec, 0.1)


@pytest.mark.parametrize("alpha0", [0.0, -0.1, float("nan"), float("inf"), "0.1", True])
def test_alpha0_must_be_positive_and_finite(alpha0):
    with pytest.raises(ValueError, match=r"alpha0 must be .*got " + re.escape(repr(alpha0))):
        Rational(alpha0)
    with pytest.raises(ValueError, match=r"alpha0"):
        make_schedule("constant", alpha0)


@pytest.mark.parametrize("epoch", [-1, 1.5, 2.0, "3", True, None])
def test_epoch_must_be_a_non_negative_integer(epoch):
    for schedule in [Constant(0.1), Exponential(0.1), make_schedule(lambda e: 0.1, 0.1)]:
        with pytest.raises(ValueError, match=r"epoch must be a non-negative integer, got "
                                             + re.escape(repr(epoch))):
            schedule(epoch)


@pytest.mark.parametrize("rate", [-0.1, float("nan"), float("inf"), "0.1", None])
def test_function_schedule_rejects_bad_rates(rate):
    with pytest.raises(ValueError, match=r"returned .* for epoch 4"):
        make_schedule(lambda epoch: rate, 0.1)(4)


def test_numpy_integers_are_epochs():
    assert Rational(0.2)(np.int64(3)) == 0.05
    assert type(Exponential(0.2, 0.5)(np.int32(1))) is float


alphas = st.floats(1e-4, 10.0)
epochs = st.integers(0, 500)


@given(alpha0=alphas, eta=st.floats(1e-3, 100.0), epoch=epochs,
       kind=st.sampled_from([Rational, Root]))
def test_rational_and_root_are_positive_and_non_increasing(alpha0, eta, epoch, kind):
    s = kind(alpha0, eta)
    assert 0.0 < s(epoch + 1) <= s(epoch) <= s(0) == pytest.approx(
        alpha0 if kind is Rational else alpha0 * eta, rel=1e-15)


@given(alpha0=alphas, eta=st.floats(0.5, 0.999), epoch=epochs)
def test_exponential_is_positive_and_decreasing(alpha0, eta, epoch):
    s = Exponential(alpha0, eta)
    assert 0.0 < s(epoch + 1) < s(epoch) <= alpha0
    assert s(epoch + 1) / s(epoch) == pytest.approx(eta, rel=1e-9)


@given(alpha0=alphas, bounds=st.sets(st.integers(0, 100), min_size=1, max_size=5),
       factors=st.lists(st.floats(1e-3, 1.0), min_size=5, max_size=5), epoch=epochs)
def test_piecewise_with_decreasing_factors_is_non_increasing(alpha0, bounds, factors, epoch):
    milestones = dict(zip(sorted(bounds), sorted(factors, reverse=True)))
    s = Piecewise(alpha0, milestones)
    assert 0.0 < s(epoch + 1) <= s(epoch) <= alpha0
    passed = [b for b in milestones if b <= epoch]
    expected = alpha0 * milestones[max(passed)] if passed else alpha0
    assert s(epoch) == expected
    assert math.isfinite(s(epoch))
