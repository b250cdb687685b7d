"""The errors the ``mllib`` command reports in one line: bad usage (exit status 2), and a run
that something outside its input stopped (exit status 1)."""

from __future__ import annotations

from contextlib import contextmanager


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


@contextmanager
def usage_errors(context=None):
    """Turn ``ValueError`` (how mllib rejects bad arguments) into :class:`CLIError`.

    Parameters
    ----------
    context : str, optional
        Prefixed to the message, as in ``"invalid hyperparameters: ..."``.
    """
    try:
        yield
    except CLIError:
        raise
    except ValueError as err:
        message = f"{context}: {err}" if context else str(err)
        raise CLIError(message) from err


def one_line(message) -> str:
    """``message`` with its lines joined by "; ", so it prints as one line."""
    lines = [line.strip() for line in str(message).splitlines()]
    return "; ".join(line for line in lines if line) or "unknown error"
