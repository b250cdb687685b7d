"""``mllib tune`` and ``mllib diagnose``: searches and learning curves on a CSV file.

Both load, split and encode the data exactly as ``train`` does, with the same
data flags (declared once, in :mod:`.args`) and settings (``--settings
FILE.json`` takes the keys of ``train --config``). ``tune`` searches the
settings of SPACE.json on the training rows, by default in one worker process
per usable core, chooses by dev error (``--metric``: the error of another
metric, :mod:`mllib.tune.metrics`), evaluates the chosen model on the test
rows once, and writes into DIR:

- ``trials.csv``, ``best.json`` (settings, errors, diagnosis, test metrics),
  ``best_model.npz`` and ``preprocessing.json``;
- ``dev_error_<key>.png`` per searched setting (log axes for log spaces, a
  log(1 − β) axis labelled in β for ``one_minus_loguniform``; for halving,
  every rung in its own colour), ``rungs.png`` for halving, and ``curves.png``
  (every trial's dev error per epoch, the pruned ones marked) for ``--pruner``;
- the search's own record (``manifest.json``, with the data flags;
  ``trials.jsonl``, ``models/``), from which the same command resumes after an
  interruption, as the line printed after Ctrl-C says (:mod:`.searchprogress`).
  A damaged or foreign record, or a link or FIFO in its place, exits with status 2
  and one line naming the file (:mod:`mllib.tune.journal`); so does a full disk,
  which keeps the trials finished so far.

``diagnose`` trains the settings on growing shares of the training rows, each
for as many optimizer steps as the whole training set takes in the settings'
epochs (``--budget epochs``: the same epochs instead; see
:mod:`mllib.tune.curves`), and writes ``learning_curve.png`` and
``diagnosis.json``, both with the epochs and steps of each size.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

from .. import plots, preprocessing
from ..tune import (MedianPruner, Repeats, async_halving, grid_search, hyperband,
                    learning_curve, random_search, spaces, successive_halving)
from ..tune.repeats import TOP
from ..tune.backends import DASK_SCHEMES, usable_cores
from ..tune.metrics import get_metric
from ..settings import RUN_KEYS, SETTINGS, canonical_key
from .args import defaults, read_config, read_json_object
from .cluster import cluster_failures, dask_backend, refuse_dask_flags
from .errors import CLIError, no_room, report_interruption, usage_errors
from .runfiles import write_json
from .searchprogress import SearchProgress, resume_command, warnings_as_lines
from .train import choose_output, load_and_split

# The options of how the data is read and split, as train takes them (and --target, --dataset).
DATA_KEYS = tuple(setting.key for setting in SETTINGS if setting.group == "data")
# --next's proposal of the next search (mllib.tune.nextspace), a SPACE.json file.
NEXT_SPACE = "space.next.json"
# The flags of --pruner median, by MedianPruner's keyword.
PRUNER_KEYS = ("warmup", "every", "min_trials")


def run_tune(args) -> int:
    """The ``tune`` subcommand; returns the exit status (130 after Ctrl-C, with the
    command that goes on)."""
    _check_mode(args)
    settings, given = _settings(args)
    space = read_space(args.space)
    backend, workers = where_trials_run(args)
    data, parts, output, train, dev = _train_and_dev(args, settings, "a search chooses by "
                                                     "dev error")
    for note in data.notes:
        print(f"mllib: note: {note}", file=sys.stderr)
    rungs = _rungs_flag(args)
    fixed = _fixed_settings(given, space, output, rungs=rungs)
    out = Path(args.out)
    progress = SearchProgress(args.verbose, out, _where(args.scheduler, workers),
                              rungs is not None)
    common = dict(settings=fixed, seed=args.seed, backend=backend, workers=workers, out=out,
                  restart=args.restart, on_trial=progress, on_start=progress.start,
                  data_options={key: settings[key] for key in DATA_KEYS})
    try:
        with usage_errors("cannot search"), cluster_failures(), warnings_as_lines(), \
                room_kept(out):
            result = _search(args, space, train, dev, common)
        with room_kept(out):
            return _write(result, data, parts, space, out, proposing=args.next)
    except KeyboardInterrupt:
        return report_interruption(progress.stopped_at(),
                                   resume_command(args.command_line, progress.started))


@contextmanager
def room_kept(out):
    """A full disk, a quota or a file-size limit (``ulimit -f``) as one line, exit status 2:
    the trials recorded so far stay in ``out``, and the same command goes on."""
    try:
        yield
    except OSError as err:
        if not no_room(err):
            raise
        raise CLIError(f"cannot write into {str(out)!r}: {err.strerror}; the trials finished "
                       "so far are kept there: make room and run the same command again") \
            from None


def _write(result, data, parts, space, out, *, proposing=False) -> int:
    """Test the best model once and write the results into ``out`` (with ``proposing``, the
    next search's space too, :data:`NEXT_SPACE`); the exit status."""
    _remove_outputs(out)   # of an earlier search in this folder: they describe another one
    if result.best is None:
        which = "the last rung's trials" if result.rungs is not None else "the trials"
        print(f"mllib: every one of {which} failed; see {out / 'trials.csv'}", file=sys.stderr)
        result.table().to_csv(out / "trials.csv", index=False)
        return 1
    if parts["test"].size:
        result.test(data.X[parts["test"]], data.y[parts["test"]])
    result.save(out)
    preprocessing.save(data.prep, out / preprocessing.FILENAME)
    pictures = _plots(result, space, out)
    proposal = result.next_space() if proposing else None
    if proposal is not None:
        write_json(out / NEXT_SPACE, proposal.to_json())
    print(_summary(result, out, pictures, proposal))
    return 0


def _search(args, space, train, dev, common):
    """The search the flags ask for, with the ``common`` arguments."""
    common = {**common, "metric": args.metric}
    if args.hyperband:
        return hyperband(space, train, dev, min_epochs=args.min_epochs,
                         max_epochs=args.max_epochs, factor=args.factor or 3.0, **common)
    if args.halving or args.asynchronous:
        search = async_halving if args.asynchronous else successive_halving
        return search(space, train, dev, trials=args.trials, min_epochs=args.min_epochs,
                      max_epochs=args.max_epochs, factor=args.factor or 3.0, **common)
    if args.pruner is not None:
        common["pruner"] = MedianPruner(**{key: getattr(args, key) for key in PRUNER_KEYS
                                           if getattr(args, key) is not None})
    if args.repeats is not None:
        common["repeats"] = Repeats(args.repeats, top=args.top or TOP)
    common["cv"] = args.cv
    if args.grid:
        return grid_search(space, train, dev, points=args.points or 3, **common)
    if args.sampler != "random":
        common.update(sampler=args.sampler, batch=args.batch or 4)
    return random_search(space, train, dev, trials=args.trials, **common)


def _remove_outputs(out):
    for name in ("trials.csv", "best.json", "best_model.npz", "rungs.png", "curves.png",
                 NEXT_SPACE, preprocessing.FILENAME):
        (out / name).unlink(missing_ok=True)
    for picture in out.glob("dev_error_*.png"):
        picture.unlink()


def _rungs_flag(args):
    """The flag of a search by rungs, or None."""
    return next((flag for flag, given in (("--halving", args.halving), ("--async",
                 args.asynchronous), ("--hyperband", args.hyperband)) if given), None)


def _check_mode(args):
    """One way of searching, with what it needs, and nothing another way needs."""
    modes = [flag for flag, given in (("--grid", args.grid), ("--halving", args.halving),
                                      ("--async", args.asynchronous),
                                      ("--hyperband", args.hyperband)) if given]
    if len(modes) > 1:
        raise CLIError(f"give one of --grid, --halving, --async and --hyperband, not "
                       f"{' and '.join(modes)}")
    rungs = _rungs_flag(args)
    if (args.grid or args.hyperband) and args.trials is not None:
        raise CLIError(f"{modes[0]} sets its trials itself; --trials is for random search, "
                       "--halving and --async")
    if not (args.grid or args.hyperband) and args.trials is None:
        raise CLIError("give --trials N (random search, --halving or --async), --grid or "
                       "--hyperband")
    if rungs and (args.min_epochs is None or args.max_epochs is None):
        raise CLIError(f"{modes[0]} needs --min-epochs A and --max-epochs B")
    if not rungs and (args.min_epochs is not None or args.max_epochs is not None
                      or args.factor is not None):
        raise CLIError("--min-epochs, --max-epochs and --factor are for --halving, --async "
                       "and --hyperband")
    if not args.grid and args.points is not None:
        raise CLIError("--points is for --grid")
    for flag, given in (("--pruner", args.pruner is not None), ("--cv", args.cv is not None),
                        ("--repeats", args.repeats is not None)):
        if rungs and given:
            raise CLIError(f"{flag} is for random and grid search, not {modes[0]}")
    if args.sampler != "random" and modes:
        raise CLIError(f"--sampler {args.sampler} is for random search (--trials N), not "
                       f"{modes[0]}")
    if args.top is not None and args.repeats is None:
        raise CLIError("--top is for --repeats R")
    if args.batch is not None and args.sampler == "random":
        raise CLIError("--batch is for --sampler tpe")
    if args.cv is not None and args.pruner is not None:
        raise CLIError("--cv cannot be combined with --pruner, which judges one dev curve "
                       "per trial")
    given = [f"--{key.replace('_', '-')}" for key in PRUNER_KEYS if getattr(args, key) is not None]
    if given and args.pruner is None:
        raise CLIError(f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for "
                       "--pruner median")
    try:
        get_metric(args.metric)
    except ImportError as err:
        raise CLIError(f"--metric {args.metric}: {err}") from None


def read_space(path) -> dict:
    """SPACE.json: ``{setting: {kind: arguments} | [options] | value}``, each space built;
    a ``"$comment"`` (as ``--next`` writes the reasons) is left out."""
    path = Path(path)
    document = read_json_object(path, "space file")
    document.pop(spaces.COMMENT, None)
    if not document:
        raise CLIError(f"space file {str(path)!r} names no setting to search")
    space = {}
    with usage_errors(f"space file {str(path)!r}"):
        for key, value in document.items():
            name = canonical_key(key)
            if name in space:
                raise ValueError(f"{name} is given twice")
            space[name] = spaces.from_json(name, value)
    return space


def _settings(args):
    """The run's settings (defaults, then the file) and the keys the file gave."""
    given = read_config(args.settings, "train") if args.settings else {}
    if "seed" in given:
        raise CLIError(f"--settings {args.settings!r} sets seed: give --seed instead, which "
                       "seeds the split and the search")
    for key in DATA_KEYS:
        if getattr(args, key, None) is not None:
            given[key] = getattr(args, key)
    settings = {**defaults("train"), **given, "seed": args.seed}
    return settings, given


def _train_and_dev(args, settings, why_dev):
    """The data split as ``train`` splits it, its output activator, and the training and
    dev rows as ``(X, y)`` pairs; CLIError without dev rows, saying ``why_dev``."""
    data, parts = load_and_split(args, settings)
    output = choose_output(settings["output"], data)
    y = data.y          # in its units: a network standardizes a regression target itself
    train = (data.X[parts["train"]], y[parts["train"]])
    dev = (data.X[parts["dev"]], y[parts["dev"]])
    if dev[0].shape[0] == 0:
        raise CLIError(f"{why_dev}: set --validation-split above 0")
    return data, parts, output, train, dev


def _fixed_settings(given, space, output, *, rungs=None):
    """What every run shares: the file's network and training settings, and the output.

    (``_settings`` has refused a ``seed`` in the file already.)
    """
    fixed = {k: v for k, v in given.items() if k in RUN_KEYS and k not in space}
    if "nodes" in space:
        fixed.pop("hidden", None)
    if "hidden" in space:
        fixed.pop("nodes", None)
    if rungs:       # the flag of a search by rungs, which sets every trial's epochs
        for key in ("epochs", "early_stopping"):
            if key in fixed:
                raise CLIError(f"{rungs} sets every trial's epochs: remove {key} from "
                               "--settings and use --min-epochs and --max-epochs")
    return {**fixed, "output": output}


def where_trials_run(args):
    """``(backend, workers)`` of ``--scheduler``, ``--workers`` and the Dask flags: local
    worker processes, one per usable core unless ``--workers`` says; ``serial`` (or its
    older name ``local``) in this process; or a Dask scheduler (:mod:`.cluster`)."""
    scheduler, workers = args.scheduler, args.workers
    if scheduler in ("serial", "local", "processes"):
        refuse_dask_flags(args)
    if scheduler in ("serial", "local"):
        if workers is not None:
            raise CLIError(f"--workers is for --scheduler processes; --scheduler {scheduler} "
                           "runs one trial at a time in this process")
        return "serial", None
    if scheduler == "processes":
        return "processes", usable_cores() if workers is None else workers
    if scheduler.startswith(DASK_SCHEMES):
        if workers is not None:
            raise CLIError("--workers is for --scheduler processes; a Dask cluster has its own")
        return dask_backend(args), None
    raise CLIError(f"--scheduler must be processes, serial or a Dask scheduler address such "
                   f"as tcp://host:8786, got {scheduler!r}")


def _where(scheduler, workers) -> str:
    if scheduler in ("serial", "local"):
        return "in this process"
    if scheduler == "processes":
        return f"on {workers} worker process{'es' if workers > 1 else ''}"
    return f"on the Dask cluster at {scheduler}"


def _plots(result, space, out) -> list:
    written = []
    for key, space_of_key in sorted(space.items()):
        if isinstance(space_of_key, spaces.fixed):
            continue
        name = f"dev_error_{key}.png"
        plots.plot_search(result, key, out / name, scale=space_of_key.scale)
        written.append(name)
    if result.rungs is not None:
        plots.plot_rungs(result.rungs, out / "rungs.png")
        written.append("rungs.png")
    if any("curve" in row for row in result.trials):
        plots.plot_curves(result, out / "curves.png")
        written.append("curves.png")
    return written


def _summary(result, out, pictures, proposal=None) -> str:
    best, diagnosis = result.best, result.diagnosis
    ok = sum(row["status"] == "ok" for row in result.trials)
    pruned = sum(bool(row.get("pruned")) for row in result.trials)
    error = ("" if result.metric in (None, "accuracy", "r2")
             else f"  ({get_metric(result.metric).error_name})")
    lines = [f"trials   {ok} of {len(result.trials)} ok" + (f", {pruned} pruned" if pruned
                                                           else ""),
             f"best     trial {best['trial']}: {json.dumps(best['params'])}",
             f"errors   train {best['train_error']:.4f}  dev {best['dev_error']:.4f}{error}"]
    if best.get("fold_sd") is not None:
        lines.append(f"folds    {len(best['fold_errors'])}: dev error "
                     f"{best['dev_error']:.4f} ± {best['fold_sd']:.4f} (sd)")
    if best.get("dev_error_low") is not None:
        lines.append(f"repeats  {best['repeats']} seeds: mean dev error "
                     f"{best['dev_error_mean']:.4f}, 95 % interval "
                     f"[{best['dev_error_low']:.4f}, {best['dev_error_high']:.4f}]")
    lines.append(f"diagnosis {diagnosis.verdict}")
    lines += [f"  advice: {advice}" for advice in diagnosis.advice]
    if result.test_result is not None:
        lines.append(f"test     error {result.test_result['error']:.4f} on "
                     f"{result.test_result['n']} rows (measured once)")
    files = ["trials.csv", "best.json", "best_model.npz", preprocessing.FILENAME, *pictures]
    if proposal is not None:
        files.append(NEXT_SPACE)
        lines += [f"next     {out / NEXT_SPACE}: {reason}" for reason in proposal.reasons]
    return "\n".join(lines + [f"wrote    {out}/: {', '.join(files)}"])


def run_diagnose(args) -> int:
    """The ``diagnose`` subcommand: a learning curve and its verdict."""
    settings, given = _settings(args)
    data, _, output, train, dev = _train_and_dev(args, settings, "a diagnosis needs a dev set")
    for note in data.notes:
        print(f"mllib: note: {note}", file=sys.stderr)
    fixed = _fixed_settings(given, {}, output)
    with usage_errors("cannot diagnose"):
        curve = learning_curve(fixed, train, dev, sizes=args.sizes, seed=args.seed,
                               budget=args.budget)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plots.plot_learning_curve(curve, out / "learning_curve.png")
    (out / "diagnosis.json").write_text(json.dumps(curve.to_dict(), indent=2) + "\n",
                                        encoding="utf-8")
    diagnosis = curve.diagnosis
    for n, epochs, steps, train_error, dev_error in zip(
            curve.sizes, curve.epochs, curve.steps, curve.train_error, curve.dev_error):
        print(f"rows {n:>6}  epochs {epochs:>5}  steps {steps:>6}  train error "
              f"{train_error:.4f}  dev error {dev_error:.4f}")
    print(f"diagnosis {diagnosis.verdict}")
    for advice in diagnosis.advice:
        print(f"  advice: {advice}")
    print(f"wrote    {out}/: learning_curve.png, diagnosis.json")
    return 0
