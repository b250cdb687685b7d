"""``mllib train``: load the data, split it, train a network and write the results.

Order of work: every check that can fail on bad usage (data, settings,
network, optimizer, split) runs before the output folder is created, so a
rejected command leaves nothing behind.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from .. import DivergenceError, EarlyStopping
from .. import settings as run_settings
from . import artifacts, runfolder, scoring
from .args import defaults, resolve_settings
from .build import make_plan
from .commands import load_model
from .dataload import (DEFAULT_DATASET, PARTS, TrainingData, load_and_split,  # noqa: F401
                       load_csv, load_dataset, split_rows)
from .errors import CLIError, report_interruption, usage_errors


def run_train(args) -> int:
    """The ``train`` subcommand; returns the exit status."""
    if args.resume is not None:
        return resume_train(args)
    settings = resolve_settings("train", args)
    data, parts = load_and_split(args, settings)
    output = choose_output(settings["output"], data)
    plan = make_plan(settings, output)     # before the output folder exists
    early_stopping(settings, parts)
    for note in data.notes:
        print(f"mllib: note: {note}", file=sys.stderr)
    check_widths(settings, data, output)
    out = choose_out_dir(args.out)
    runfolder.check_replaceable(out)
    record = {"data": None if args.data is None else str(Path(args.data).resolve()),
              "out": str(out.resolve()), "settings": settings, "output": output,
              "checkpoint_every": args.checkpoint_every}
    staging = runfolder.start(out, record)
    saver = runfolder.RunCheckpoint(staging, args.checkpoint_every)
    return train_in(staging, out, saver, data, parts, {**settings, "output": output},
                    lambda callbacks: train_plan(plan, data, parts, callbacks, args.verbose))


def resume_train(args) -> int:
    """``mllib train --resume FOLDER``: the rest of an interrupted run, to the same bits."""
    given = [key for key in defaults("train") if getattr(args, key, None) is not None]
    given += [flag for flag, value in (("DATA.csv", args.data), ("--dataset", args.dataset),
                                       ("--config", args.config), ("--out", args.out))
              if value is not None]
    if given:
        raise CLIError(f"--resume continues a run with its own data and settings; drop "
                       f"{', '.join(given)}")
    staging, record = runfolder.read_record(args.resume)
    # A record of an earlier version lacks the newer data settings: as that version did.
    settings = {**defaults("train"), "standardize_target": False, "missing": "error",
                **record["settings"]}
    source = argparse.Namespace(data=record["data"], dataset=settings.get("dataset"))
    data, parts = load_and_split(source, settings)
    every = record.get("checkpoint_every") if args.checkpoint_every is None \
        else args.checkpoint_every
    saver = runfolder.RunCheckpoint(staging, every, runfolder.read_history(staging))
    model = load_model(staging / runfolder.CHECKPOINT)

    def go_on(callbacks):
        train, dev = data_parts(data, parts)
        left = max(0, model.run_.end_epoch - model.epoch_) if model.run_ else 0
        started = time.perf_counter()
        with usage_errors("cannot resume"):
            model.fit(*train, epochs=left, validation_data=dev, callbacks=callbacks,
                      verbose=args.verbose)
        return model, time.perf_counter() - started

    return train_in(staging, Path(record["out"]), saver, data, parts,
                    {**settings, "output": record["output"]}, go_on)


def train_in(staging, out, saver, data, parts, settings, train):
    """Train by ``train(callbacks) -> (model, seconds)``, then write and publish the run.

    Ctrl-C saves a checkpoint into ``staging`` and prints how to go on (exit 130).
    """
    stopper = early_stopping(settings, parts)
    try:
        model, seconds = train([c for c in (stopper, saver) if c is not None])
    except KeyboardInterrupt:
        return interrupted(staging, saver)
    except BaseException as err:
        if not (staging / runfolder.CHECKPOINT).exists():   # nothing to go on from
            shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, DivergenceError):
            raise CLIError(str(err)) from err
        raise
    scores = {name: score(model, data.X, data.y, rows) for name, rows in parts.items()}
    if model.score_name == "r2" and scores["train"]["r2"] < 0:
        data.notes.append(scoring.r2_note(scores["train"]["r2"], model.standardize_target))
        print(f"mllib: note: {data.notes[-1]}", file=sys.stderr)
    run = artifacts.Run(model=model, data=data, parts=parts, history=saver.merged_history(),
                        scores=scores, settings=settings, seconds=seconds, stopper=stopper)
    files = artifacts.write_all(staging, run)
    runfolder.publish(staging, out)
    print(artifacts.summary(run, out, files))
    return 0


def interrupted(staging, saver) -> int:
    """Save where training stands and say how to go on; exit status 130."""
    model = saver.model
    if model is None or not model.fitted_:   # stopped before training began
        shutil.rmtree(staging, ignore_errors=True)
        raise KeyboardInterrupt
    saver.save()
    where = f"in epoch {model.epoch_ + 1}"
    if model.position_ is not None:
        where += f", after batch {model.position_.done} of {model.position_.n_batches}"
    return report_interruption(where, runfolder.resume_command(staging))


def data_parts(data, parts):
    """The training rows, and the dev rows (None when there are none)."""
    X, y = data.X, data.y
    dev = (X[parts["dev"]], y[parts["dev"]]) if parts["dev"].size else None
    return (X[parts["train"]], y[parts["train"]]), dev


def train_plan(plan, data, parts, callbacks, verbose):
    """Train the plan on the training rows, with the dev rows as validation data;
    (model, seconds).

    The plan is :func:`mllib.settings.plan`'s, as every trial of a search builds it.
    """
    train, dev = data_parts(data, parts)
    started = time.perf_counter()
    with usage_errors("cannot train"):
        model = plan.fit(train, validation=dev, callbacks=callbacks, verbose=verbose)
    return model, time.perf_counter() - started


def score(model, X, y, rows):
    """:func:`.scoring.score` of ``rows`` in inference mode, or None if there are none."""
    if rows.size == 0:
        return None
    return scoring.score(model, X[rows], y[rows])


# -- settings that need the data -------------------------------------------------------


def choose_output(requested, data) -> str:
    """The output activator: as requested, or from the target (see :mod:`mllib.preprocessing.target`)."""
    with usage_errors():
        return run_settings.choose_output(requested, data.y, classification=data.classification)


def check_widths(settings, data, output):
    """With ``--nodes``, n0 must be the number of inputs and nL what the target needs."""
    nodes = settings["nodes"]
    if nodes is None:
        return
    if nodes[0] != data.X.shape[1]:
        raise CLIError(f"--nodes starts with n0 = {nodes[0]}, but the data has "
                       f"{data.X.shape[1]} input column(s): {', '.join(data.prep.features)}")
    needed = np.unique(data.y).size if output == "softmax" else 1
    if nodes[-1] != needed:
        raise CLIError(f"--nodes ends with nL = {nodes[-1]}, but a {output} output for this "
                       f"target needs {needed}")


def early_stopping(settings, parts):
    """An EarlyStopping on the dev cost that restores the best weights, or None."""
    patience = settings["early_stopping"]
    if patience is None:
        return None
    if parts["dev"].size == 0:
        raise CLIError("--early-stopping needs a dev set: set --validation-split above 0")
    return EarlyStopping(monitor="val_cost", patience=patience, restore_best_weights=True)


def choose_out_dir(out) -> Path:
    """``--out``, or a new ``runs/<date>-<time>`` that neither exists nor is being written."""
    if out is not None:
        return Path(out)
    base = Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    path, attempt = base, 1
    while path.exists() or runfolder.staging_for(path).exists():
        path, attempt = Path(f"{base}-{attempt}"), attempt + 1
    return path
