"""The errors the ``mllib`` command reports in one line: bad usage (exit status 2), bad data
(:class:`mllib.preprocessing.DataError`, exit status 2 too), and a run that something
outside its input stopped (exit status 1); and the line it ends with after Ctrl-C."""

from __future__ import annotations

import errno
import sys
from contextlib import contextmanager

from .._streams import isatty
from ..preprocessing.errors import DataError


class CLIError(Exception):
    """Bad usage or bad input: ``mllib`` prints one line and exits with status 2.

    The message names the problem, e.g. ``column 'label' not found in
    data.csv; the columns are: x1, x2, colour``.
    """

    status = 2


class RunFailed(CLIError):
    """Not bad usage: something outside the input stopped the run (a lost Dask
    scheduler, say); ``mllib`` prints one line, saying what was kept, and exits with 1."""

    status = 1


# A write refused for want of room: a full disk or quota, or a file larger than
# ``ulimit -f`` allows (Python ignores SIGXFSZ, so that is EFBIG). Both train and tune
# report it as a problem with a file: one line, exit status 2, the work so far kept.
NO_ROOM = frozenset(getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG")
                    if hasattr(errno, name))


def no_room(err) -> bool:
    """Whether ``err`` is a write refused for want of room (:data:`NO_ROOM`)."""
    return isinstance(err, OSError) and err.errno in NO_ROOM


# What main reports as one line with an exit status, rather than as an unexpected error.
REPORTED = (CLIError, DataError)


def exit_status(err) -> int:
    """The exit status of a :data:`REPORTED` error: its own, or 2 (bad data is bad input)."""
    return err.status if isinstance(err, CLIError) else CLIError.status


@contextmanager
def usage_errors(context=None):
    """Turn ``ValueError`` (how mllib rejects bad arguments) into :class:`CLIError`; a
    ``DataError`` goes through as it is, since it names its problem already.

    Parameters
    ----------
    context : str, optional
        Prefixed to the message, as in ``"invalid hyperparameters: ..."``.
    """
    try:
        yield
    except REPORTED:
        raise
    except ValueError as err:
        message = f"{context}: {err}" if context else str(err)
        raise CLIError(message) from err


def one_line(message) -> str:
    """``message`` with its lines joined by "; ", so it prints as one line."""
    lines = [line.strip() for line in str(message).splitlines()]
    return "; ".join(line for line in lines if line) or "unknown error"


def report_interruption(where: str, command: str) -> int:
    """Say where Ctrl-C stopped the work and the command that goes on from there, as one
    line on stderr (``train`` and ``tune`` both end so); returns the exit status, 130."""
    if isatty(sys.stderr):
        print(file=sys.stderr)   # a progress bar may have left the cursor mid-line
    print(f"mllib: interrupted {where}; go on with: {command}", file=sys.stderr, flush=True)
    return 130
