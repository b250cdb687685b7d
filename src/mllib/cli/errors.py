"""The one kind of error the ``mllib`` command reports as bad usage (exit status 2)."""

from __future__ import annotations

from contextlib import contextmanager


class CLIError(Exception):
    """Bad usage or bad input: ``mllib`` prints one line and exits with status 2.

    The message names the problem, e.g. ``column 'label' not found in
    data.csv; the columns are: x1, x2, colour``.
    """


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
