"""``mllib train``: load the data, split it, train a network and write the results.

Order of work: every check that can fail on bad usage (data, settings,
network, optimizer, split) runs before the output folder is created, so a
rejected command leaves nothing behind.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import DivergenceError, EarlyStopping
from .. import settings as run_settings
from .._interrupts import HeldInterrupts
from . import artifacts, fingerprint, runfolder, runstate, scoring
from .args import defaults, resolve_settings
from .build import make_plan
from .dataload import (DEFAULT_DATASET, PARTS, TrainingData, load_and_split,  # noqa: F401
                       load_csv, load_dataset, split_rows)
from .errors import CLIError, no_room, report_interruption, usage_errors
from .runfiles import damaged, write_json


@dataclass
class Job:
    """One ``mllib train`` at work: its folders, its record, its data and settings."""

    staging: Path
    out: Path
    record: dict               # resume.json, as in the file
    saver: runstate.RunCheckpoint
    data: TrainingData
    parts: dict
    settings: dict             # with the output activator chosen
    fresh: bool                # started by this command, not by --resume
    trained: Trained | None = None   # once training has ended and is recorded


@dataclass
class Trained:
    model: object
    seconds: float
    stopper: object            # None, or what the early stopper found (best_epoch...)


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
    record = runfolder.new_record(args.data, out, settings, output, args.checkpoint_every,
                                  fingerprints(data, parts, settings, output))
    try:
        staging = runfolder.start(out, record)
    except OSError as err:
        if no_room(err):
            raise CLIError(f"no room to start the run ({err.strerror}); nothing was "
                            "written") from None
        raise
    job = Job(staging, out, record, runstate.RunCheckpoint(staging, args.checkpoint_every),
              data, parts, {**settings, "output": output}, fresh=True)
    with run_kept(staging), runfolder.held(staging):
        return train_in(job, lambda callbacks: train_plan(plan, data, parts, callbacks,
                                                          args.verbose))


def fingerprints(data, parts, settings, output) -> tuple:
    """The fingerprints of a run that starts, of the settings as resume.json will hold them."""
    return (fingerprint.of_data(data, parts),
            fingerprint.of_settings(json.loads(json.dumps(settings)), output))


def resume_train(args) -> int:
    """``mllib train --resume FOLDER``: the rest of an interrupted run, to the same bits."""
    given = [key for key in defaults("train") if getattr(args, key, None) is not None]
    given += [flag for flag, value in (("DATA.csv", args.data), ("--dataset", args.dataset),
                                       ("--config", args.config), ("--out", args.out))
              if value is not None]
    if given:
        raise CLIError(f"--resume continues a run with its own data and settings; drop "
                       f"{', '.join(given)}")
    staging, out, record, settings = runfolder.read_record(args.resume)
    source = argparse.Namespace(data=record["data"], dataset=settings.get("dataset"))
    data, parts = load_and_split(source, settings)
    with run_kept(staging), runfolder.held(staging):
        check_same_run(staging, record, data, parts)
        output = choose_output(record["output"], data)
        plan = make_plan(settings, output)
        every = record.get("checkpoint_every") if args.checkpoint_every is None \
            else args.checkpoint_every
        job = Job(staging, out, record, runstate.RunCheckpoint(staging, every),
                  data, parts, {**settings, "output": output}, fresh=False)
        return resume_from_checkpoint(job, plan, args.verbose)


def resume_from_checkpoint(job, plan, verbose) -> int:
    """Go on from the checkpoint of ``job``'s folder: to the end of the run, or, when it
    had trained, only to its files; from the start of the run when there is none."""
    staging, data, parts = job.staging, job.data, job.parts
    if not os.path.lexists(staging / runfolder.CHECKPOINT):
        print(f"mllib: note: {str(staging)!r} stopped before its first checkpoint; "
              "training from the start", file=sys.stderr)
        return train_in(job, lambda callbacks: train_plan(plan, data, parts, callbacks, verbose))
    model, digest = runstate.load_checkpoint(staging, plan,
                                             widths(data, parts, job.settings["output"]))
    job.saver.earlier = runstate.read_history(
        staging, model.epoch_, plan.epochs, runstate.logged_keys(model, bool(parts["dev"].size)),
        digest)
    if job.record["trained"] is not None or finished(model):
        return finish_trained(job, model)
    return train_in(job, lambda callbacks: go_on(model, job, callbacks, verbose))


def check_same_run(staging, record, data, parts) -> None:
    """Refuse data or settings other than the run began with; a record of an earlier
    mllib, which has no fingerprints, gets them now, with a note."""
    where = staging / runfolder.RECORD
    now = fingerprint.of_data(data, parts)
    settings = fingerprint.of_settings(record["settings"], record["output"])
    found = record.get("fingerprint")
    if found is None:
        print(f"mllib: note: {str(where)!r} was written by an earlier mllib, which kept no "
              "fingerprint of the data and settings: going on without checking that they "
              "are the ones the run began with", file=sys.stderr)
        record.update(format=runfolder.FORMAT, version=runfolder.VERSION, trained=None,
                      fingerprint={"data": now, "settings": settings})
        write_json(where, record)
        return
    if settings != found["settings"]:
        raise damaged(where, "its settings are not those the run began with (they do not "
                             "match their fingerprint)")
    changes = fingerprint.data_changes(found["data"], now)
    if changes:
        raise CLIError(f"{data.source} is not the data the run began with: "
                       f"{'; '.join(changes)}; resume with that data, or start a new run")


def widths(data, parts, output) -> tuple:
    """``(n_in, n_out)``: the inputs, and the outputs the run's target needs."""
    train_y = data.y[parts["train"]]
    return data.X.shape[1], np.unique(train_y).size if output == "softmax" else 1


def finished(model) -> bool:
    """Whether ``model`` has trained to the end of its run."""
    return model.position_ is None and model.run_.end_epoch == model.epoch_


def go_on(model, job, callbacks, verbose):
    """Train ``model`` to the end of its run; (model, seconds)."""
    train, dev = data_parts(job.data, job.parts)
    started = time.perf_counter()
    with usage_errors("cannot resume"):
        model.fit(*train, epochs=model.run_.end_epoch - model.epoch_, validation_data=dev,
                  callbacks=callbacks, verbose=verbose)
    return model, time.perf_counter() - started


def finish_trained(job, model) -> int:
    """A run whose training had ended: write its results and publish it, training nothing."""
    trained, where = job.record["trained"], job.staging / runfolder.RECORD
    if trained is None:     # stopped between its last checkpoint and recording it
        stopper, seconds = None, 0.0
        runfolder.mark_trained(job.staging, job.record, seconds, stopper)
    else:
        if not finished(model):
            raise damaged(where, f"it says that training ended, but {runfolder.CHECKPOINT} "
                                 f"is in epoch {model.epoch_ + 1} of {model.run_.end_epoch}")
        stopper = runstate.stopped_from(trained, model.epoch_, where)
        seconds = trained["seconds"]
    job.trained = Trained(model, seconds, stopper)
    print(f"mllib: note: the run in {str(job.staging)!r} had trained; writing its files",
          file=sys.stderr)
    return write_results(job)


def train_in(job, train) -> int:
    """Train by ``train(callbacks) -> (model, seconds)``, record that it is done, then write
    and publish the run.

    Ctrl-C saves a checkpoint into the staging folder and prints how to go on (exit 130).
    The final checkpoint and the record that training ended are saved with Ctrl-C held,
    so from then on ``--resume`` only writes the results.
    """
    stopper = early_stopping(job.settings, job.parts)
    try:
        model, seconds = train([c for c in (stopper, job.saver) if c is not None])
        with HeldInterrupts():
            job.saver.model = model
            job.saver.save()
            runfolder.mark_trained(job.staging, job.record, seconds, stopper)
            job.trained = Trained(model, seconds, stopper)
    except KeyboardInterrupt:
        return interrupted(job)
    except BaseException as err:
        if job.fresh and not no_room(err) and \
                not os.path.lexists(job.staging / runfolder.CHECKPOINT):
            shutil.rmtree(job.staging, ignore_errors=True)    # nothing to go on from
        if isinstance(err, DivergenceError):
            raise CLIError(str(err)) from err
        raise
    return write_results(job)


def write_results(job) -> int:
    """Score the trained model, write the run's files and publish the folder."""
    model, seconds, stopper = job.trained.model, job.trained.seconds, job.trained.stopper
    data, parts = job.data, job.parts
    try:
        scores = {name: score(model, data.X, data.y, rows) for name, rows in parts.items()}
        if model.score_name == "r2" and scores["train"]["r2"] < 0:
            data.notes.append(scoring.r2_note(scores["train"]["r2"], model.standardize_target))
            print(f"mllib: note: {data.notes[-1]}", file=sys.stderr)
        run = artifacts.Run(model=model, data=data, parts=parts,
                            history=job.saver.merged_history(), scores=scores,
                            settings=job.settings, seconds=seconds, stopper=stopper)
        files = artifacts.write_all(job.staging, run)
        runfolder.publish(job.staging, job.out)
        print(artifacts.summary(run, job.out, files))
    except KeyboardInterrupt:
        if os.path.lexists(job.staging):
            return report_interruption("after training, while writing the run's files",
                                       runfolder.resume_command(job.staging))
        # The folder was renamed: the run is published.
        print(f"mllib: interrupted after the run was published; it is complete in "
              f"{str(job.out)!r}", file=sys.stderr)
        return 130
    return 0


def interrupted(job) -> int:
    """Save where training stands and say how to go on; exit status 130."""
    model = job.saver.model
    if job.trained is not None or (model is not None and model.fitted_ and finished(model)):
        where = "after training, before the run's files were written"
    elif model is None or not model.fitted_:     # stopped before training began
        if job.fresh:
            shutil.rmtree(job.staging, ignore_errors=True)
            raise KeyboardInterrupt
        where = "before training went on"
    else:
        where = f"in epoch {model.epoch_ + 1}"
        if model.position_ is not None:
            where += f", after batch {model.position_.done} of {model.position_.n_batches}"
    if job.trained is None and model is not None and model.fitted_:
        with HeldInterrupts():
            job.saver.save()
    return report_interruption(where, runfolder.resume_command(job.staging))


# -- a full disk ------------------------------------------------------------------------

@contextmanager
def run_kept(staging):
    """A full disk while the run is under way: one line saying that the run is kept and
    how to go on (exit status 2), instead of an unexpected OSError."""
    try:
        yield
    except OSError as err:
        if not no_room(err):
            raise
        raise CLIError(f"no room to write the run ({err.strerror}); it is kept in "
                        f"{str(staging)!r}: make room, then go on with: "
                        f"{runfolder.resume_command(staging)}") from None


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
