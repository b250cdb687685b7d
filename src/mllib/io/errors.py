"""The one error of a model file that cannot be read; here so every module of ``io`` can raise it."""

from __future__ import annotations

import struct
import zipfile
import zlib
from contextlib import contextmanager


class ModelFileError(ValueError):
    """The file is not an mllib model, is damaged, is of a newer version, or is larger
    than the model its header declares allows."""


def size_text(n: int) -> str:
    """``n`` bytes for a message: ``'512 bytes'``, ``'1.2 MiB'``, ``'3.0 GiB'``."""
    if n < 1024:
        return f"{n} bytes"
    value, units = n / 1024, ["KiB", "MiB", "GiB"]
    while value >= 1024 and units[1:]:
        value, units = value / 1024, units[1:]
    return f"{value:.1f} {units[0]}"


# What reading damaged or hostile bytes may raise, besides ModelFileError: zipfile's
# BadZipFile, zlib.error, struct.error, NotImplementedError (an unknown compression),
# RecursionError, MemoryError, OverflowError, UnicodeDecodeError, EOFError and others.
_DAMAGE = (OSError, EOFError, ValueError, LookupError, TypeError, ArithmeticError,
           RuntimeError, MemoryError, zipfile.BadZipFile, zlib.error, struct.error)


@contextmanager
def reported(name, problem="is damaged"):
    """Inside the block, any error that damaged bytes can cause becomes a
    :class:`ModelFileError` naming the file ``name``; a ModelFileError passes as it is."""
    try:
        yield
    except ModelFileError:
        raise
    except _DAMAGE as err:
        kind = "" if type(err) is ValueError else f"{type(err).__name__}: "
        raise ModelFileError(f"{name!r} {problem}: {kind}{err}") from None
