"""Model-based sampling (Optuna's TPE) in random_search: the space mapping, a table that is a
function of the seed and the batch only (not of the back-end or the order trials finish),
tells that change what is asked, resume, and the refusals."""

import contextlib
import itertools
import json
import random
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("optuna")
from optuna.distributions import (CategoricalDistribution, FloatDistribution,  # noqa: E402
                                  IntDistribution)
from optuna.samplers import RandomSampler, TPESampler  # noqa: E402

from mllib.datasets import make_flower  # noqa: E402
from mllib.tune import (choice, fixed, loguniform, one_minus_loguniform, randint,  # noqa: E402
                        random_search, uniform)
from mllib.tune import sampling as sampling_module  # noqa: E402
from mllib.tune.candidates import normalize, trial_seed  # noqa: E402
from mllib.tune.asker import Asker, distributions, value_of  # noqa: E402
from mllib.tune.candidates import Candidate  # noqa: E402
from mllib.tune.pruning import MedianPruner  # noqa: E402
from mllib.tune.repeats import Repeats, repeat_seed  # noqa: E402
from mllib.tune.trial import Task, run_task  # noqa: E402

pytestmark = pytest.mark.same_bits   # CI runs these again under other BLAS kernels

X, Y = make_flower(240, seed=3)
TRAIN, DEV = (X[:180], Y[:180]), (X[180:], Y[180:])
SPACE = {"learning_rate": loguniform(1e-3, 3e-1), "beta1": one_minus_loguniform(0.5, 0.99),
         "hidden": choice([[4], [8, 4]])}
FIXED = {"epochs": 8, "batch_size": 32, "activation": "tanh"}


def table(result):
    """The trial table without the times, which are the only thing allowed to differ."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.trials]


def tpe(trials=12, **kwargs):
    """A TPE search of SPACE: Optuna's default 10 random start-up trials, then TPE's own."""
    kwargs = {"seed": 0, "sampler": "tpe", "batch": 4, "settings": FIXED, **kwargs}
    return random_search(SPACE, TRAIN, DEV, trials=trials, **kwargs)


# -- the space, as Optuna asks it ----------------------------------------------------------

MIXED = {"a": uniform(-1.0, 2.0), "b": loguniform(1e-4, 1e-1), "c": one_minus_loguniform(0.1, 0.3),
         "d": randint(2, 5), "e": choice([[64, 32], [16], "x"]), "f": fixed([3])}


def test_each_space_maps_to_its_optuna_distribution():
    found = distributions(MIXED)
    assert found == {"a": FloatDistribution(-1.0, 2.0),
                     "b": FloatDistribution(1e-4, 1e-1, log=True),
                     "c": FloatDistribution(1.0 - 0.3, 1.0 - 0.1, log=True),
                     "d": IntDistribution(2, 5),
                     "e": CategoricalDistribution((0, 1, 2))}
    assert list(found) == ["a", "b", "c", "d", "e"]          # asked in sorted order
    assert found["b"].log and not found["a"].log and found["b"].low == 1e-4
    assert value_of(MIXED["e"], 0) == [64, 32] and value_of(MIXED["e"], 2) == "x"
    assert value_of(MIXED["d"], np.int64(5)) == 5 and type(value_of(MIXED["d"], 5)) is int
    # 1 − (1 − 0.3) is 0.30000000000000004 and 1 − (1 − 0.1) 0.09999999999999998: kept inside.
    assert value_of(MIXED["c"], found["c"].low) == 0.3
    assert value_of(MIXED["c"], found["c"].high) == 0.1
    assert value_of(MIXED["c"], 0.8) == 1.0 - 0.8


def test_values_asked_through_optuna_are_candidates_of_the_space():
    asker = Asker(RandomSampler(seed=0), MIXED, {"epochs": 1}, seed=7)
    candidates = [asker.ask(t) for t in range(300)]
    values = {key: [c.params[key] for c in candidates] for key in "abcde"}
    assert all(-1.0 <= v <= 2.0 for v in values["a"])
    assert all(1e-4 <= v <= 1e-1 for v in values["b"])
    assert all(0.1 <= v <= 0.3 for v in values["c"])
    assert min(values["c"]) < 0.11 and max(values["c"]) > 0.29
    # On a log scale of 1 − β: about half the draws of [0.1, 0.3] have 1 − β below √(0.7·0.9).
    assert 0.4 < np.mean([1 - v < np.sqrt(0.7 * 0.9) for v in values["c"]]) < 0.6
    assert set(values["d"]) == {2, 3, 4, 5} and all(type(v) is int for v in values["d"])
    assert {json.dumps(v) for v in values["e"]} == {'[64, 32]', '[16]', '"x"'}
    first = candidates[0]
    assert "f" not in first.params and first.settings["f"] == [3] and first.settings["epochs"] == 1
    assert [c.seed for c in candidates[:3]] == [trial_seed(7, t) for t in range(3)]
    assert [c.trial for c in candidates[:3]] == [0, 1, 2]


# -- the table: a function of the seed and the batch ----------------------------------------

def test_the_same_seed_gives_the_same_table_and_another_seed_another():
    first, again = tpe(), tpe()
    assert table(first) == table(again)
    assert [row["trial"] for row in first.trials] == list(range(12))
    assert all(row["status"] == "ok" for row in first.trials)
    assert [row["seed"] for row in first.trials] == [trial_seed(0, t) for t in range(12)]
    other = tpe(seed=1)
    assert all(a["params"] != b["params"] for a, b in zip(first.trials, other.trials))
    assert first.kind == "random" and first.best == min(
        first.trials, key=lambda r: (r["dev_error"], r["trial"]))
    np.testing.assert_array_equal(first.best_model.get_weights()["W1"],
                                  again.best_model.get_weights()["W1"])


class Shuffled:
    """A back-end that runs up to ``width`` tasks at a time, for real, and calls ``done`` for
    them in a seeded random order; ``order`` keeps the trials in the order they were done."""

    def __init__(self, width, seed):
        self.width, self.rng, self.order = width, random.Random(seed), []

    @contextlib.contextmanager
    def session(self, train, dev):
        def run(tasks, done):
            tasks = iter(tasks)
            while chunk := list(itertools.islice(tasks, self.width)):
                finished = [(task[0], run_task(task, train, dev)) for task in chunk]
                self.rng.shuffle(finished)
                for candidate, outcome in finished:
                    self.order.append(candidate.trial)
                    done(candidate, outcome)

        yield run


def test_the_table_is_the_same_on_every_backend_and_in_any_order(monkeypatch):
    serial = tpe(trials=14)
    parallel = tpe(trials=14, backend="processes", workers=2)
    assert table(parallel) == table(serial)
    shuffled = Shuffled(width=3, seed=1)
    monkeypatch.setattr(sampling_module, "get_backend", lambda backend, workers: shuffled)
    assert table(tpe(trials=14)) == table(serial)
    assert sorted(shuffled.order) == list(range(14)) and shuffled.order != sorted(shuffled.order)


LOG = []     # module level: the search copies its sampler, and the copy writes here too


class Recording(RandomSampler):
    """A RandomSampler that logs each ask and each tell, with the state and value told (and
    the intermediate values reported, when there are)."""

    def before_trial(self, study, trial):
        LOG.append(("ask", trial.number))
        super().before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        reported = dict(trial.intermediate_values)
        LOG.append(("tell", trial.number, state.name, values) + ((reported,) if reported else ()))
        super().after_trial(study, trial, state, values)


def test_each_batch_is_told_in_trial_order_before_the_next_is_asked(monkeypatch):
    shuffled = Shuffled(width=3, seed=2)
    monkeypatch.setattr(sampling_module, "get_backend", lambda backend, workers: shuffled)
    LOG.clear()
    space = {**SPACE, "activation": ["tanh", "swish"]}     # swish: refused, a failed trial
    result = random_search(space, TRAIN, DEV, trials=7, settings={"epochs": 2}, batch=3,
                           sampler=Recording(seed=2))
    assert shuffled.order != sorted(shuffled.order)
    rows = result.trials
    told = [("tell", r["trial"], "COMPLETE", [r["dev_error"]]) if r["status"] == "ok"
            else ("tell", r["trial"], "FAIL", None) for r in rows]
    asks = [("ask", t) for t in range(7)]
    assert LOG == asks[:3] + told[:3] + asks[3:6] + told[3:6] + asks[6:] + told[6:]
    assert {r["status"] for r in rows} == {"ok", "failed"}


def test_tpe_asks_from_the_results_it_is_told():
    sampler = TPESampler(seed=5, n_startup_trials=4)
    result = tpe(trials=10, batch=2, sampler=sampler)
    # The same sampler told nothing: its first 4 (random) trials are the search's, and
    # TPE's own are not, since they depend on the results.
    untold = Asker(sampler, *normalize(SPACE, FIXED), seed=0)
    asked = [untold.ask(t).params for t in range(10)]
    assert [row["params"] == p for row, p in zip(result.trials, asked)] == [True] * 4 + [False] * 6
    # The instance is copied, so it gives the same table again.
    assert table(tpe(trials=10, batch=2, sampler=sampler)) == table(result)


def test_the_batch_is_part_of_the_search():
    by_four, by_two = tpe(trials=12), tpe(trials=12, batch=2)
    assert table(by_two)[:10] == table(by_four)[:10]       # the random start-up trials
    assert [r["params"] for r in by_two.trials[10:]] != [r["params"] for r in by_four.trials[10:]]


def test_the_default_is_random_search_as_before(tmp_path):
    default = random_search(SPACE, TRAIN, DEV, trials=3, settings=FIXED, seed=2, out=tmp_path)
    explicit = random_search(SPACE, TRAIN, DEV, trials=3, settings=FIXED, seed=2,
                             sampler="random", batch=1)
    assert table(explicit) == table(default)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "sampler" not in manifest and "batch" not in manifest


# -- failures and resume ------------------------------------------------------------------

def test_a_candidate_whose_settings_fail_is_a_failed_row_and_the_search_goes_on(tmp_path):
    space = {"activation": ["tanh", "swish"], "learning_rate": loguniform(1e-2, 1e-1)}
    kwargs = dict(trials=8, settings={"epochs": 3}, sampler="tpe", batch=2, seed=3)
    result = random_search(space, TRAIN, DEV, out=tmp_path, **kwargs)
    failed = [r for r in result.trials if r["params"]["activation"] == "swish"]
    ok = [r for r in result.trials if r["params"]["activation"] == "tanh"]
    assert failed and ok and len(result.trials) == 8
    for row in failed:
        assert row["status"] == "failed" and row["dev_error"] is None and row["seconds"] == 0.0
        assert row["error"].startswith(f"settings refused: trial {row['trial']} "
                                       f"{{'activation': 'swish', 'learning_rate': ")
    assert all(row["status"] == "ok" for row in ok)
    seen = []
    again = random_search(space, TRAIN, DEV, out=tmp_path, on_trial=seen.append, **kwargs)
    assert seen == [] and again.trials == result.trials      # failed rows are read back too


def test_a_search_resumes_to_the_uninterrupted_table_running_only_the_missing_trials(tmp_path):
    whole = tpe(trials=14)
    first = tpe(trials=6, out=tmp_path)             # batches 0-3 and 4-5
    assert table(first) == table(whole)[:6]         # more trials extend the same search
    seen, started = [], []
    again = tpe(trials=14, out=tmp_path, on_trial=seen.append,
                on_start=lambda *args: started.append(args))
    assert table(again) == table(whole)
    assert [row["trial"] for row in seen] == list(range(6, 14))
    assert started == [(first.trials, 14)]
    lines = (tmp_path / "trials.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["trial"] for line in lines) == list(range(14))
    np.testing.assert_array_equal(again.best_model.get_weights()["W1"],
                                  whole.best_model.get_weights()["W1"])
    seen.clear()
    assert table(tpe(trials=14, out=tmp_path, on_trial=seen.append)) == table(whole)
    assert seen == []


def test_a_lost_row_and_a_row_of_other_values_run_again(tmp_path):
    whole = tpe(trials=8, out=tmp_path)
    journal = tmp_path / "trials.jsonl"
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    rows = [row for row in rows if row["trial"] != 2]           # killed before it was written
    (changed,) = [row for row in rows if row["trial"] == 5]
    changed["params"] = {**changed["params"], "learning_rate": 0.5}
    journal.write_text("".join(json.dumps(row) + "\n" for row in rows))
    seen, started = [], []
    again = tpe(trials=8, out=tmp_path, on_trial=seen.append,
                on_start=lambda rows, total: started.append(([r["trial"] for r in rows], total)))
    # Batch 0-3 is read back but for trial 2, which runs; batch 4-7 is matched only after
    # trial 2 is told: its rows read back are reported then, and trial 5 runs again.
    assert started == [([0, 1, 3], 8)]
    assert [row["trial"] for row in seen] == [2, 4, 6, 7, 5]
    assert table(again) == table(whole)


def test_a_best_model_that_cannot_be_read_back_is_trained_again(tmp_path):
    whole = tpe(trials=8, out=tmp_path)
    best = whole.best["trial"]
    (tmp_path / "models" / f"trial-{best}.npz").write_bytes(b"")
    seen = []
    with pytest.warns(UserWarning, match=rf"trial {best} is trained again"):
        again = tpe(trials=8, out=tmp_path, on_trial=seen.append)
    assert [row["trial"] for row in seen] == [best]
    assert table(again) == table(whole)
    np.testing.assert_array_equal(again.best_model.get_weights()["W1"],
                                  whole.best_model.get_weights()["W1"])


def test_a_resume_with_another_sampler_or_batch_is_refused(tmp_path):
    tpe(trials=2, out=tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["sampler"] == "tpe" and manifest["batch"] == 4
    assert manifest["kind"] == "random"
    with pytest.raises(ValueError, match=r"holds another search: batch: 4 in the folder, 2 now; "
                                         r"use another folder"):
        tpe(trials=2, out=tmp_path, batch=2)
    with pytest.raises(ValueError, match=r"holds another search: sampler: \"tpe\" in the folder, "
                                         r"\"RandomSampler\" now; use another folder"):
        tpe(trials=2, out=tmp_path, sampler=RandomSampler(seed=0))
    with pytest.raises(ValueError, match=r"holds another search: batch: 4 in the folder, absent "
                                         r"now; sampler: \"tpe\" in the folder, absent now"):
        tpe(trials=2, out=tmp_path, sampler="random")


# -- refusals -----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, match", [
    ({"sampler": "bogus"}, ValueError,
     r"sampler must be 'random', 'tpe' or an Optuna sampler \(an instance of "
     r"optuna\.samplers\.BaseSampler\), got 'bogus'"),
    ({"sampler": TPESampler}, ValueError, r"sampler must be .*, got <class 'optuna\.samplers"),
    ({"batch": 0}, ValueError, r"batch must be a positive integer, got 0"),
    ({"batch": 2.5}, ValueError, r"batch must be a positive integer, got 2\.5"),
    ({"batch": 0, "sampler": "random"}, ValueError, r"batch must be a positive integer, got 0"),
    ({"repeats": 1}, ValueError, r"repeats must be an integer >= 2, got 1"),
    ({"pruner": "median", "settings": {**FIXED, "early_stopping": 2}}, ValueError,
     r"sets early_stopping, which cannot be combined with a pruner"),
    ({"metric": "r2"}, ValueError, r"metric='r2' scores regressors, but trial 0 \{.*\} is a "
                                   r"classifier"),
])
def test_bad_arguments_are_refused_before_anything_is_written(kwargs, error, match, tmp_path):
    with pytest.raises(error, match=match):
        tpe(trials=2, out=tmp_path / "s", **kwargs)
    assert not (tmp_path / "s").exists()


# -- with a pruner, with repeats -------------------------------------------------------------

PRUNED = dict(settings={"epochs": 20, "batch_size": 16}, trials=14, batch=3,
              pruner=MedianPruner(warmup=2, min_trials=2), seed=1)


@pytest.fixture(scope="module")
def pruned():
    LOG.clear()
    result = random_search(SPACE, TRAIN, DEV, sampler=Recording(seed=4), **PRUNED)
    return result, list(LOG)


def test_a_pruned_tpe_search_is_told_its_curves_and_which_trials_were_pruned(pruned):
    result, log = pruned
    told = [entry for entry in log if entry[0] == "tell"]
    assert [entry[1] for entry in told] == list(range(14))
    rows = {row["trial"]: row for row in result.trials}
    assert [entry[2] for entry in told] == [
        "PRUNED" if rows[t]["pruned"] else "COMPLETE" for t in range(14)]
    assert any(rows[t]["pruned"] for t in rows) and not all(rows[t]["pruned"] for t in rows)
    for entry in told:
        row = rows[entry[1]]
        # Optuna takes a pruned trial's last intermediate value as its value.
        assert entry[3] == [row["curve"][-1][1] if row["pruned"] else row["dev_error"]]
        assert entry[4] == {epoch: error for epoch, error in row["curve"]}
    assert result.best["pruned"] is False


def test_a_pruned_tpe_search_gives_its_table_in_any_order_and_resumes(pruned, monkeypatch,
                                                                       tmp_path):
    result, _ = pruned
    shuffled = Shuffled(width=3, seed=5)
    monkeypatch.setattr(sampling_module, "get_backend", lambda backend, workers: shuffled)
    again = random_search(SPACE, TRAIN, DEV, sampler=Recording(seed=4), out=tmp_path, **PRUNED)
    assert shuffled.order != sorted(shuffled.order) and table(again) == table(result)
    journal = tmp_path / "trials.jsonl"
    journal.write_text("".join(journal.read_text().splitlines(keepends=True)[:5]))
    ran = []
    resumed = random_search(SPACE, TRAIN, DEV, sampler=Recording(seed=4), out=tmp_path,
                            on_trial=ran.append, **PRUNED)
    assert table(resumed) == table(result) and len(ran) == 14 - 5


def test_tpe_with_repeats_chooses_by_the_mean_of_the_seeds(tmp_path):
    args = dict(trials=6, settings=FIXED, seed=2, sampler="tpe", batch=2,
                repeats=Repeats(3, top=2))
    result = random_search(SPACE, TRAIN, DEV, out=tmp_path, **args)
    top = sorted((r for r in result.trials if r["dev_error_mean"] is not None),
                 key=lambda r: r["dev_error_mean"])
    assert len(top) == 2 and result.best == top[0] and len(result.repeats) == 2 * 2
    for again in result.repeats:
        (row,) = [r for r in result.trials if r["trial"] == again["trial"]]
        candidate = Candidate(row["trial"], row["params"], {**FIXED, **row["params"]},
                              repeat_seed(2, row["trial"], again["repeat"]))
        alone = run_task(Task(candidate, metric="accuracy"), TRAIN, DEV).row
        assert {k: v for k, v in again.items() if k not in ("seconds", "repeat")} == {
            k: v for k, v in alone.items() if k != "seconds"}
    parallel = random_search(SPACE, TRAIN, DEV, backend="processes", workers=2, **args)
    assert table(parallel) == table(result)
    ran = []
    assert table(random_search(SPACE, TRAIN, DEV, out=tmp_path, on_trial=ran.append,
                               **args)) == table(result) and ran == []


def test_a_searched_output_is_resolved_up_front():
    space = {"output": ["sigmoid", "linear"], "learning_rate": loguniform(1e-2, 1e-1)}
    with pytest.raises(ValueError, match=r"metric='accuracy' scores classifiers, but trial 0 "
                                         r"\{'output': 'linear'.*\} is a regressor"):
        random_search(space, TRAIN, DEV, trials=2, metric="accuracy", sampler="tpe")
    mixed = random_search(space, TRAIN, DEV, trials=4, sampler="tpe", settings={"epochs": 2})
    assert mixed.metric is None     # each trial its own model's error, as for random search


def test_without_optuna_a_model_based_sampler_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)      # as if it were not installed
    with pytest.raises(ImportError, match=r"needs Optuna: pip install \"mllib\[tune\]\""):
        tpe(trials=1)
    assert len(random_search(SPACE, TRAIN, DEV, trials=1, settings=FIXED).trials) == 1


def test_random_search_does_not_import_optuna():
    code = ("import sys\nfrom mllib.datasets import make_flower\n"
            "from mllib.tune import random_search\nX, y = make_flower(40, seed=0)\n"
            "random_search({'learning_rate': [0.1]}, (X, y), (X, y), trials=1,\n"
            "              settings={'epochs': 1})\nprint('optuna' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout == "False\n"
