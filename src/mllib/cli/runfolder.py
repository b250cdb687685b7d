"""The folder of one ``mllib train`` run: built beside its place, then put there whole.

``mllib train --out runs/x`` works in ``runs/x.incomplete``, which holds

- ``resume.json``: the data, the settings and their fingerprints
  (:mod:`.fingerprint`), written first, and where the run began (``out``, for
  the reader: a resumed run publishes beside its staging folder, wherever that
  is now); and, once training has ended, what the results need beside the
  model (``"trained"``: the seconds, the early stopper's epochs);
- ``history.json`` and ``checkpoint.npz``, saved every ``--checkpoint-every K``
  epochs, on Ctrl-C and when training ends (:mod:`.runstate`);
- then the results (:mod:`.artifacts`).

``mllib train --resume runs/x.incomplete`` goes on from there: it trains from
the checkpoint to the end of the run, or from the start when the run stopped
before its first checkpoint, or, when the run had trained, only writes the
results. :func:`publish` then renames the folder to ``runs/x``: one rename,
with Ctrl-C held until it and the removal of the resume files are done. A
``runs/x`` that was there already is moved aside first and removed after, so
old and new results never mix. Only a folder that holds nothing but a run's
files is ever replaced; one with other files in it is refused.

While a command works in a staging folder it holds a lock on it (:func:`held`), so
that a second ``--resume`` of the same folder is refused instead of training beside it.
"""

from __future__ import annotations

import os
import shlex
import shutil
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:     # not POSIX: no locks, as the README says
    fcntl = None

from .._interrupts import HeldInterrupts
from ..settings import overlay, parse_mapping
from . import fingerprint
from .args import command_keys, defaults
from .errors import CLIError
from .runfiles import damaged, is_count, is_number, read_json, write_json

SUFFIX = ".incomplete"
RECORD, CHECKPOINT, HISTORY = "resume.json", "checkpoint.npz", "history.json"
RESUME_FILES = (RECORD, CHECKPOINT, HISTORY)
RUN_FILES = {"model.npz", "preprocessing.json", "metrics.json", "config.json", "history.csv",
             "split.json", "cost.png", "confusion_matrix.png", "decision_boundary.png"}
FORMAT, VERSION = "mllib-train-run", 2
RECORD_LIMIT = 4 * 2**20     # bytes; a record is a few KB, with long --drop lists some more
OUTPUTS = ("sigmoid", "softmax", "linear")


def staging_for(out: Path) -> Path:
    return out.with_name(out.name + SUFFIX)


def check_replaceable(out: Path) -> None:
    """CLIError unless ``out`` is absent, or a folder with only a run's files in it."""
    if not out.exists():
        return
    if not out.is_dir():
        raise CLIError(f"--out {str(out)!r} is a file, not a folder")
    # A kill between publishing and removing the resume files leaves them in the run.
    foreign = sorted(p.name for p in out.iterdir()
                     if p.name not in RUN_FILES and p.name not in RESUME_FILES)
    if foreign:
        raise CLIError(f"--out {str(out)!r} holds files that mllib train did not write "
                       f"({', '.join(map(repr, foreign[:3]))}); it would replace the whole "
                       "folder, so choose another")


def new_record(data_path, out: Path, settings, output, checkpoint_every, fingerprints) -> dict:
    """The ``resume.json`` of a run that starts: ``fingerprints`` is ``(data, settings)``."""
    return {"format": FORMAT, "version": VERSION,
            "data": None if data_path is None else str(Path(data_path).resolve()),
            "out": str(out.resolve()), "settings": settings, "output": output,
            "checkpoint_every": checkpoint_every,
            "fingerprint": {"data": fingerprints[0], "settings": fingerprints[1]},
            "trained": None}


def start(out: Path, record: dict) -> Path:
    """Create the staging folder of ``out`` with its resume record; returns the folder."""
    staging = staging_for(out)
    if staging.exists():
        if not os.path.lexists(staging / RECORD):
            raise CLIError(never_started(staging))
        raise CLIError(f"{str(staging)!r} holds an interrupted run; go on with "
                       f"'{resume_command(staging)}', or remove it to start again")
    staging.mkdir(parents=True)
    try:
        write_json(staging / RECORD, record)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


@contextmanager
def held(staging: Path):
    """An exclusive lock on the folder ``staging`` (``flock``) while the block runs;
    CLIError, before anything is changed, if another process holds it. The lock goes
    with the folder when it is published (renamed), and ends with the process, however
    it ends."""
    if fcntl is None:
        yield
        return
    fd = os.open(staging, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CLIError(f"{str(staging)!r} is in use: another mllib train is working in "
                           "it; wait for it to end") from None
        yield
    finally:
        os.close(fd)


def never_started(staging: Path) -> str:
    return (f"{str(staging)!r} is left from a run that stopped before it wrote its {RECORD}: "
            "nothing in it can be resumed; remove it and start again")


def mark_trained(staging: Path, record: dict, seconds: float, stopper) -> None:
    """Record in ``resume.json`` that training has ended, and what the results need of it."""
    record["trained"] = {
        "seconds": float(seconds),
        "best_epoch": None if stopper is None else stopper.best_epoch,
        "stopped_epoch": None if stopper is None else stopper.stopped_epoch}
    write_json(staging / RECORD, record)


def resume_command(staging: Path) -> str:
    return f"mllib train --resume {shlex.quote(str(staging))}"


# -- reading a record back --------------------------------------------------------------


def read_record(path) -> tuple[Path, Path, dict, dict]:
    """``--resume PATH`` (the staging folder or a file in it): the staging folder, the
    folder it publishes to, its checked record as in the file, and the record's
    settings parsed and complete.

    The run publishes beside its staging folder, where it is now: the ``out`` of the
    record, where it began, is not trusted with where to write.
    """
    path = Path(path)
    folder = path.parent if path.is_file() else path
    where, name = folder / RECORD, folder.resolve().name
    if not os.path.lexists(where):
        if folder.is_dir() and name.endswith(SUFFIX):
            raise CLIError(never_started(folder))
        raise CLIError(f"{str(path)!r} is not the folder of an interrupted run (it has no "
                       f"{RECORD}); give the '{SUFFIX}' folder that the interrupted run named")
    if not name.endswith(SUFFIX) or name == SUFFIX:
        raise CLIError(f"{str(folder)!r} is not the folder of an interrupted run: its name "
                       f"does not end with '{SUFFIX}' (a finished run may hold the "
                       f"{', '.join(RESUME_FILES)} of a publication that was killed; they "
                       "can be removed)")
    record = read_json(where, RECORD_LIMIT)
    problem = record_problem(record)
    if problem:
        raise damaged(where, problem)
    out = folder.resolve().with_name(name[:-len(SUFFIX)])
    return folder, out, record, complete_settings(record["settings"], where)


def record_problem(record) -> str:
    """What is wrong with the form of a record read back, or ""."""
    if not isinstance(record, dict):
        return f"it holds a JSON {type(record).__name__}, not an object"
    version = record.get("version", 1)     # the first records had no version
    kinds = {"settings": dict, "out": str, "data": (str, type(None)), "output": str}
    for key, kind in kinds.items():
        if key not in record:
            return f"it has no {key!r}"
        if not isinstance(record[key], kind):
            return f"its {key!r} is {record[key]!r:.80}"
    if record["output"] not in OUTPUTS:
        return f"its output {record['output']!r:.40} is not one of {', '.join(OUTPUTS)}"
    every = record.get("checkpoint_every")
    if every is not None and not is_count(every, 1):
        return f"its checkpoint_every {every!r:.40} is not a whole number of epochs"
    if version == 1:
        return ""
    if record.get("format") != FORMAT or version != VERSION:
        return f"it is not a run record of this mllib ({FORMAT} version {VERSION})"
    if "trained" not in record:
        return "it has no 'trained'"
    found = record.get("fingerprint")
    if not (isinstance(found, dict) and fingerprint.is_data_fingerprint(found.get("data"))
            and isinstance(found.get("settings"), str)):
        return "its fingerprint is missing or malformed"
    return trained_problem(record.get("trained"))


def trained_problem(trained) -> str:
    if trained is None:
        return ""
    if not isinstance(trained, dict) or set(trained) != {"seconds", "best_epoch",
                                                         "stopped_epoch"}:
        return f"its 'trained' entry {trained!r:.80} is malformed"
    if not (is_number(trained["seconds"]) and trained["seconds"] >= 0):
        return f"its training time {trained['seconds']!r:.40} is not a number of seconds"
    for key in ("best_epoch", "stopped_epoch"):
        if trained[key] is not None and not is_count(trained[key]):
            return f"its {key} {trained[key]!r:.40} is not an epoch"
    return ""


def complete_settings(settings: dict, where) -> dict:
    """The settings of a record, parsed as a config file is, with the defaults of settings
    newer than the record: as the version that wrote it ran them."""
    keys = command_keys("train")
    older = {**defaults("train"), "standardize_target": False, "missing": "error"}
    try:
        return overlay(parse_mapping({**older, **settings}, keys), keys=keys)
    except (ValueError, TypeError) as err:
        raise damaged(where, f"its settings: {err}") from None


# -- publishing --------------------------------------------------------------------------


def publish(staging: Path, out: Path) -> None:
    """Put the finished ``staging`` folder in the place of ``out``, as a whole.

    The rename is the one step that publishes; Ctrl-C is held from before it until the
    resume files are gone from the run, so it leaves the run published or not at all.
    """
    _sync(staging)
    with HeldInterrupts():
        old = None
        if out.exists():
            check_replaceable(out)
            old = out.with_name(f".{out.name}.mllib-old-{os.getpid()}")
            os.replace(out, old)
        os.replace(staging, out)
        _sync(out.parent)
        for name in RESUME_FILES:
            (out / name).unlink(missing_ok=True)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    remove_abandoned(out)


def remove_abandoned(out: Path) -> None:
    """Remove the old runs that a killed :func:`publish` moved aside beside ``out``."""
    prefix = f".{out.name}.mllib-old-"
    for path in out.parent.iterdir():
        pid = path.name[len(prefix):] if path.name.startswith(prefix) else ""
        if pid.isdigit() and not _alive(int(pid)) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)         # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:             # it exists, and is another user's
        return True
    return True


def _sync(folder: Path) -> None:
    """fsync ``folder``, so that the names in it survive a power loss; a no-op where a
    folder cannot be opened or synced."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
