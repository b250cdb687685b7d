"""Writing and reading back the small files of a run folder (``resume.json``, ``history.json``).

Written as model files are (:func:`mllib.io.write_atomically`): a temporary
file beside the target, synced, renamed over it, the folder synced; so a
kill leaves the old file or the new one, never half of one.

Read back as files that may have been damaged or replaced since, by
:mod:`mllib.io.bounded`: only a regular file (not a link, a FIFO or a device,
which could hang the read or never end), at most ``limit`` bytes, UTF-8 JSON
nested no deeper than any file of mllib's.
Every failure is a :class:`~.errors.CLIError` (exit status 2) that names the
file and what is wrong with it.
"""

from __future__ import annotations

import json
import math

from ..io import bounded, write_atomically
from .errors import CLIError


def write_json(path, document, *, indent=2) -> None:
    """``document`` as JSON with a final newline, replacing ``path`` whole."""
    separators = None if indent else (",", ":")
    text = json.dumps(document, indent=indent, separators=separators) + "\n"
    write_atomically(path, lambda handle: handle.write(text.encode("utf-8")))


def damaged(path, problem) -> CLIError:
    """The error for a file of the run folder that fails its checks."""
    return CLIError(f"{str(path)!r} is damaged: {problem}")


def read_json(path, limit: int):
    """The JSON document in the regular file ``path`` of at most ``limit`` bytes, read as
    :func:`mllib.io.bounded.read_json` reads a file of mllib's own folders: a link is
    refused, never followed."""
    try:
        return bounded.read_json(path, limit, "run file", follow_links=False)
    except FileNotFoundError:
        raise CLIError(f"{str(path)!r} is missing") from None
    except IsADirectoryError:
        raise damaged(path, "it is a folder, not a regular file") from None
    except bounded.FileRefusedError as err:
        raise damaged(path, f"it {err.reason}") from None
    except OSError as err:
        raise damaged(path, err.strerror or str(err)) from None


# -- checks of values read back ---------------------------------------------------------


def is_count(value, minimum=0) -> bool:
    """An int (not a bool) of at least ``minimum``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def is_number(value) -> bool:
    """A finite int or float (not a bool)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))
