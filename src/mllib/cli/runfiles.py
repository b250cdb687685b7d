"""Writing and reading back the small files of a run folder (``resume.json``, ``history.json``).

Written as model files are (:func:`mllib.io.write_atomically`): a temporary
file beside the target, synced, renamed over it, the folder synced; so a
kill leaves the old file or the new one, never half of one.

Read back as files that may have been damaged or replaced since: only a
regular file (not a link, a FIFO or a device, which could hang the read or
never end), at most ``limit`` bytes, UTF-8 JSON however deeply nested.
Every failure is a :class:`~.errors.CLIError` (exit status 2) that names the
file and what is wrong with it.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat

from ..io import write_atomically
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
    """The JSON document in the regular file ``path`` of at most ``limit`` bytes."""
    try:
        text = _read_bounded(path, limit).decode("utf-8")
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise damaged(path, f"not JSON ({err})") from None
    except RecursionError:
        raise damaged(path, "its JSON nests too deeply") from None


def _read_bounded(path, limit: int) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise CLIError(f"{str(path)!r} is missing") from None
    except OSError as err:
        if err.errno == errno.ELOOP:    # O_NOFOLLOW met a link
            raise damaged(path, "it is a symbolic link, which mllib never writes") from None
        raise damaged(path, err.strerror or str(err)) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise damaged(path, "it is not a regular file")
        if info.st_size > limit:
            raise damaged(path, f"it has {info.st_size:,} bytes, more than the {limit:,} "
                                "such a file can need")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise damaged(path, f"it has more than the {limit:,} bytes such a file can need")
    return data


# -- checks of values read back ---------------------------------------------------------


def is_count(value, minimum=0) -> bool:
    """An int (not a bool) of at least ``minimum``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def is_number(value) -> bool:
    """A finite int or float (not a bool)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))
