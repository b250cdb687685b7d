"""JSON text parsed within bounds: how deep it nests, how long its integers are, and
finite numbers only.

:func:`json.loads` recurses once per level of nesting, so ``[[[[...`` raises
``RecursionError``, and reads an integer of a million digits slowly. Every JSON
file or line that mllib reads (a model file's header, a search's manifest and
journal, settings, spaces and ``preprocessing.json``) goes through
:func:`loads_bounded`, which raises ``ValueError`` for all of these, with a
message that says what is wrong.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np

MAX_DEPTH = 32                  # mllib's own JSON nests at most 5 deep
MAX_INT_DIGITS = 40             # the Generator's 128-bit state has 39

# An escape (a backslash and the character after it), then a string without escapes:
# removing the first, then the second, leaves the JSON outside its strings. Single
# characters repeated cost sre no state, so even 1 MiB of escapes is cheap.
_ESCAPE = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')
_BRACKETS = np.frombuffer(b"[]{}", dtype=np.uint8)


def loads_bounded(text, max_depth=MAX_DEPTH):
    """The JSON value of ``text`` (str, or UTF-8 bytes), or ``ValueError`` if it is not
    JSON, is not UTF-8, nests deeper than ``max_depth``, holds an integer of more than
    :data:`MAX_INT_DIGITS` digits, or a number that is not finite (``NaN``, ``1e999``)."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")      # UnicodeDecodeError is a ValueError
    found = depth(text, max_depth)
    if found > max_depth:
        raise ValueError(f"it nests {found} deep, more than {max_depth}")
    return json.loads(text, parse_int=_integer, parse_float=_real, parse_constant=_constant)


def depth(text, max_depth=MAX_DEPTH) -> int:
    """How deep the JSON ``text`` nests (0 if it cannot nest deeper than ``max_depth``),
    found without recursion."""
    skeleton = _STRING.sub("", _ESCAPE.sub("", text))
    codes = np.frombuffer(skeleton.encode("utf-8"), dtype=np.uint8)
    brackets = codes[np.isin(codes, _BRACKETS)]
    if brackets.size <= max_depth:
        return 0
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1).astype(np.int32)
    return int(np.cumsum(steps).max())


def _integer(text):
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"the number {text[:12]}... has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _real(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:24]} is out of range")
    return value


def _constant(text):
    raise ValueError(f"it holds {text}, which is not a finite number")
