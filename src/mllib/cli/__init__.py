"""The ``mllib`` command: train, evaluate, predict, gradcheck, tune and diagnose.

::

    mllib train [DATA.csv --target COLUMN | --dataset NAME] [--config FILE.json]
                [flags] [--out DIR]
    mllib evaluate MODEL DATA.csv [--target COLUMN]
    mllib predict MODEL DATA.csv [--proba] [--out FILE]
    mllib gradcheck [--config FILE.json] [flags] [--threshold 1e-7]
    mllib tune DATA.csv --target COLUMN --space SPACE.json [--settings FILE.json]
               (--trials N [--sampler tpe [--batch B]] [--pruner median] | --grid
               [--points K] | (--halving | --async) --trials N --min-epochs A
               --max-epochs B [--factor F] | --hyperband --min-epochs A --max-epochs B)
               [--cv K] [--repeats R [--top K]] [--metric NAME] [--next]
               [--scheduler processes|serial|tcp://...] [--workers K]
               [--data-dir DIR] [--wait-for-workers S] [--tls-ca-file PEM --tls-cert PEM
               [--tls-key PEM]] [--drop COL,...] [--missing MODE] [other data flags of
               train] [--seed S] --out DIR
    mllib diagnose DATA.csv --target COLUMN [--settings FILE.json] [--sizes S,S,...]
                   [--budget steps|epochs] --out DIR

Exit status: 0 on success; 1 when ``gradcheck`` finds a gradient above the
threshold, when ``tune`` loses its Dask cluster (one line, saying how to resume) or
on an unexpected error; 2 on bad usage or bad input (a damaged file of a run folder
included) and when a file cannot be written for want of room (the work so far is kept,
and the line says how to go on), with one
line on stderr that names the problem (``mllib: error: ...``); 130 on
Ctrl-C. Tracebacks are shown only with ``--debug``.

Settings: every hyperparameter is a flag and a key of the ``--config`` JSON
file (``--learning-rate`` is ``learning_rate``); flags override the file,
which overrides the defaults. ``train`` writes its settings as
``config.json``, which ``--config`` takes back.

Modules: :mod:`.parser` (the subcommands), :mod:`.args` (flags, config files,
settings; their values are parsed by :mod:`mllib.settings`), :mod:`.tuneargs` (the
flags of ``tune``),
:mod:`.dataload` (a CSV file, encoded by :mod:`mllib.preprocessing`, or a
dataset, and split), :mod:`.build` (network and optimizer from settings),
:mod:`.train` and :mod:`.artifacts` (the train command and what it writes),
:mod:`.runfolder`, :mod:`.runstate`, :mod:`.runfiles` and :mod:`.fingerprint` (the
folder a run works in: its record, checkpoint and history, how they are written and
read back, and the fingerprints of its data and settings),
:mod:`.scoring` (a model's scores on some rows),
:mod:`.commands` (evaluate, predict, gradcheck), :mod:`.tune` (tune and diagnose),
:mod:`.errors` (the bad-usage error, and how bad data,
:class:`mllib.preprocessing.DataError`, is reported the same way).
"""

from __future__ import annotations

import sys

__all__ = ["CLIError", "main"]

# Subcommand -> "module:function"; imported on use, so that --help stays fast.
HANDLERS = {
    "train": "train:run_train",
    "evaluate": "commands:run_evaluate",
    "predict": "commands:run_predict",
    "gradcheck": "commands:run_gradcheck",
    "tune": "tune:run_tune",
    "diagnose": "tune:run_diagnose",
}


def main(argv=None) -> int:
    """Run one ``mllib`` command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``mllib``; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 success, 1 gradcheck failure, lost Dask cluster or
        unexpected error, 2 bad usage, 130 interrupted, 141 closed output pipe.
        ``--help`` and ``--version`` raise ``SystemExit(0)`` as argparse does.
    """
    debug, reported = False, ()
    try:
        # Imported inside the try, and with Ctrl-C held until they are done (see
        # mllib._interrupts), so that Ctrl-C during the imports exits 130 too.
        import importlib

        from .._interrupts import HeldInterrupts

        with HeldInterrupts():
            from .errors import REPORTED as reported, exit_status, one_line
            from .parser import build_parser

            args = build_parser().parse_args(argv)
            # As typed, for a command that says how to go on after Ctrl-C (tune).
            args.command_line = list(sys.argv[1:] if argv is None else argv)
            debug = getattr(args, "debug", False)
            module, function = HANDLERS[args.handler].split(":")
            handler = getattr(importlib.import_module(f".{module}", __name__), function)
        return int(handler(args) or 0)
    except reported as err:
        _print_traceback(debug)
        return _fail(f"error: {one_line(err)}", exit_status(err))
    except KeyboardInterrupt:
        return _fail("interrupted", 130, fresh_line=True)
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError,
            PermissionError) as err:
        _print_traceback(debug)
        return _fail(f"error: {_os_message(err)}", 2)
    except Exception as err:  # noqa: BLE001 - the last resort: one line, not a traceback
        if debug:
            raise
        return _fail(f"error: unexpected {type(err).__name__}: {one_line(err)} "
                     "(run with --debug for the traceback)", 1)


def __getattr__(name):
    if name == "CLIError":        # imported on use, as everything else here
        from .errors import CLIError

        return CLIError
    raise AttributeError(f"module 'mllib.cli' has no attribute {name!r}")


def _print_traceback(debug):
    if debug:
        import traceback

        traceback.print_exc()


def _fail(message: str, status: int, fresh_line=False) -> int:
    """Print ``mllib: message`` as one line on stderr and return ``status``."""
    from .._streams import isatty

    stream = sys.stderr
    if fresh_line and isatty(stream):
        stream.write("\n")  # a progress bar may have left the cursor mid-line
    print(f"mllib: {message}", file=stream, flush=True)
    return status


def _os_message(err: OSError) -> str:
    """``Permission denied: 'runs/x'`` rather than ``[Errno 13] ...``."""
    if err.strerror and err.filename is not None:
        return f"{err.strerror}: {str(err.filename)!r}"
    from .errors import one_line

    return one_line(err)


def _silence_stdout():
    """After a closed pipe (``mllib predict ... | head``), drop what is left to flush."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
