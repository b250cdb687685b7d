"""Files that are replaced whole: a reader finds the old file or the new one, never half.

:func:`write_atomically` writes into a temporary file ``.mllib-*.tmp`` in the
target's own folder (a rename across file systems would not be atomic), then

1. flushes and fsyncs the file, so its bytes are on disk before its name is;
2. renames it over the target with :func:`os.replace`, atomic on POSIX and Windows;
3. fsyncs the folder, so the rename itself survives a power loss.

Any error, ``KeyboardInterrupt`` included, removes the temporary file. A
writer that is killed (``SIGKILL``, power loss) cannot, so every save first
clears the temporary files that no live writer owns: a writer holds an
exclusive ``flock`` on its file while it writes, and the kernel releases it
when the writer dies. A file whose lock can be taken is an orphan if it has
bytes in it. An empty one may belong to a writer that has not locked it yet
(the microseconds between creating and locking it), so it is removed only
when the writer whose process id is in its name is gone. Where ``flock`` does not exist
or does not reach (Windows, some network file systems), temporary files
older than :data:`STALE_AFTER` seconds are removed instead.

The clean-up never opens a file it did not make: only a name of the exact
form ``.mllib-PID-XXXXXXXX.tmp`` that :func:`tempfile.mkstemp` gives (or
``.mllib-XXXXXXXX.tmp``, of an earlier mllib) is looked at, and only if
``lstat`` finds a regular file; it is then opened without following links and
without blocking. A FIFO, link or folder of that name is left alone, so it
cannot hang a save.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time

try:
    import fcntl
except ImportError:         # Windows: no flock; stale files go by age alone
    fcntl = None

PREFIX, SUFFIX = ".mllib-", ".tmp"
STALE_AFTER = 3600.0        # seconds: any temporary file this old is an orphan
# What mkstemp makes of PREFIX + "PID-" and SUFFIX: 8 characters of its alphabet between.
TEMPORARY = re.compile(r"\.mllib-(?:(\d+)-)?[a-z0-9_]{8}\.tmp")
_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
               | getattr(os, "O_CLOEXEC", 0))


def write_atomically(path, write) -> None:
    """Call ``write(handle)`` on a new file beside ``path``, then put it in place of ``path``.

    ``handle`` is a binary file open for writing. See the module docstring for
    what is guaranteed; the file gets the usual permissions (0666 less the umask).
    """
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    remove_orphans(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{PREFIX}{os.getpid()}-", suffix=SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
            os.chmod(tmp, 0o666 & ~_umask())   # mkstemp made it private (0600)
            os.replace(tmp, path)              # still locked: no cleaner can take it
        _sync_folder(folder)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove_orphans(folder) -> list:
    """Remove the temporary files in ``folder`` that no live writer owns; returns their names."""
    try:
        names = [n for n in os.listdir(folder) if TEMPORARY.fullmatch(n)]
    except OSError:
        return []
    removed = []
    for name in names:
        path = os.path.join(folder, name)
        try:
            if _is_orphan(path):
                os.unlink(path)
                removed.append(name)
        except OSError:     # gone already, or not ours to remove: leave it
            continue
    return removed


def _is_orphan(path) -> bool:
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        return False        # not a file a writer made: a FIFO could block the open below
    if time.time() - info.st_mtime > STALE_AFTER:
        return True
    if fcntl is None:
        return False
    fd = os.open(path, _READ_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:     # a live writer holds it
            return False
        # Locked by us now, so no writer is writing it; empty may mean "just created".
        return info.st_size > 0 or not _alive(_writer_pid(path))
    finally:
        os.close(fd)


def _writer_pid(path) -> int | None:
    """The process id in ``.mllib-PID-XXXXXXXX.tmp``, or None in a name without one."""
    pid = TEMPORARY.fullmatch(os.path.basename(path))[1]
    return None if pid is None else int(pid)


def _alive(pid) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)     # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:         # it exists but is not ours (EPERM)
        return True
    return True


def _sync_folder(folder) -> None:
    """fsync a folder so that a rename in it is durable; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:         # some file systems refuse fsync on a folder; the rename stands
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
