"""Files opened by their kind and read within a size: no FIFO, device or link is ever
read from, written to or waited on.

A path given by a user (``--config``, ``--space``, ``preprocessing.json``) may be
a link: the user chose it. A file in a folder that mllib made and keeps (a
search's ``manifest.json``, ``trials.jsonl`` and ``models/``) is opened with
``follow_links=False``: a link there was not made by mllib, so it is refused,
never followed, and nothing is written outside the folder through it. Either
way:

- the kind is checked before opening (``stat``, or ``lstat`` without links):
  only a regular file is opened, so a FIFO, socket or device is refused
  without blocking, and a folder raises ``IsADirectoryError``;
- the file is opened with ``O_NONBLOCK`` (should it become a FIFO after the
  check, opening it still returns) and ``O_NOFOLLOW`` without links, and its
  kind is checked again on the open descriptor;
- its size is checked against the cap before anything is read, and no more
  than the cap is ever read, should the file grow meanwhile.

What cannot be read so raises :class:`FileRefusedError` (a ``ValueError``)
naming the file, what it is, and what was expected; a missing file raises
``FileNotFoundError`` as ``open`` does, a folder ``IsADirectoryError``.
"""

from __future__ import annotations

import errno
import os
import stat

from .errors import size_text
from .jsontext import MAX_DEPTH, loads_bounded

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_MODES = {"rb": os.O_RDONLY, "r+b": os.O_RDWR, "ab": os.O_WRONLY | os.O_APPEND | os.O_CREAT}


class FileRefusedError(ValueError):
    """A file mllib does not open: not a regular file, a link where links are not
    followed, or larger than what its kind may take.

    Its message is ``f"{what} {filename!r} {reason}"``, such as ``config file 'c.json' is
    a FIFO, not a regular file``; callers that name the file their own way use ``reason``.
    """

    def __init__(self, what, filename, reason):
        super().__init__(f"{what} {filename!r} {reason}")
        self.what, self.filename, self.reason = what, filename, reason

    def __reduce__(self):   # from a worker process too
        return type(self), (self.what, self.filename, self.reason)


def kind_of(mode) -> str:
    """What a ``st_mode`` is, for a message: ``"a FIFO"``, ``"a symbolic link"``, ..."""
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISREG, "a regular file")):
        if test(mode):
            return name
    return "not a regular file"


def check_kind(mode, name, what) -> None:
    """Refuse anything but a regular file: ``IsADirectoryError`` for a folder,
    :class:`FileRefusedError` for the rest."""
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, f"a folder, not a {what}", name)
    kind = kind_of(mode)
    why = ("; mllib follows no links in its own folders" if stat.S_ISLNK(mode)
           else ", not a regular file")
    raise FileRefusedError(what, name, f"is {kind}{why}")


def open_checked(path, what, *, mode="rb", limit=None, follow_links=True):
    """``path`` open as a binary file object in ``mode`` ("rb", "r+b" or "ab", which
    creates the file), once it is known to be a regular file of at most ``limit`` bytes
    (None: any size); ``what`` names it in errors."""
    name = os.fspath(path)
    try:
        check_kind((os.stat if follow_links else os.lstat)(name).st_mode, name, what)
    except FileNotFoundError:
        if mode != "ab":
            raise FileNotFoundError(errno.ENOENT, f"no such {what}", name) from None
    flags = _MODES[mode] | _NONBLOCK | _CLOEXEC | _BINARY | (0 if follow_links else _NOFOLLOW)
    try:
        fd = os.open(name, flags, 0o666)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENXIO, errno.EMLINK):
            # A link (O_NOFOLLOW), or a FIFO without a reader, put there after the check.
            raise FileRefusedError(what, name, f"is not a regular file: {err.strerror}") \
                from None
        raise
    try:
        info = os.fstat(fd)
        check_kind(info.st_mode, name, what)
        if limit is not None and info.st_size > limit:
            raise FileRefusedError(what, name, f"has {size_text(info.st_size)}, more than "
                                               f"the {size_text(limit)} a {what} may take")
        return os.fdopen(fd, mode, buffering=0 if mode == "ab" else -1)
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path, limit, what, *, follow_links=True) -> bytes:
    """The bytes of the regular file ``path``, of at most ``limit`` bytes (see the module
    notes); ``what`` names the file in errors, e.g. ``"config file"``."""
    with open_checked(path, what, limit=limit, follow_links=follow_links) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:           # it grew after its size was checked
        raise FileRefusedError(what, os.fspath(path), f"has more than the "
                                                      f"{size_text(limit)} a {what} may take")
    return data


def read_json(path, limit, what, *, follow_links=True, max_depth=MAX_DEPTH):
    """The JSON value in the file ``path`` (:func:`read_bounded`, then
    :func:`~.jsontext.loads_bounded`); ``FileRefusedError`` says what is wrong with it."""
    data = read_bounded(path, limit, what, follow_links=follow_links)
    try:
        return loads_bounded(data, max_depth)
    except ValueError as err:       # JSONDecodeError and UnicodeDecodeError among them
        raise FileRefusedError(what, os.fspath(path), f"is not valid JSON: {err}") from None


def check_own_entry(path, what, *, folder=False) -> bool:
    """Whether ``path``, in a folder of mllib's own, exists: a regular file (or a real
    folder, with ``folder=True``); False if absent. A link, FIFO, socket or device is
    refused (:class:`FileRefusedError`) without being opened."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if folder and stat.S_ISDIR(mode):
        return True
    if folder and not stat.S_ISLNK(mode):
        raise FileRefusedError(what, os.fspath(path), f"is {kind_of(mode)}, not a folder")
    check_kind(mode, os.fspath(path), what)
    return True
