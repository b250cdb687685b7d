"""Parsers of setting values, shared by command-line flags, config files and the API.

Each parser takes either the text of a flag (``"64,32"``) or the JSON value
of a config-file key (``[64, 32]``) and returns the Python value, or raises
``ValueError`` with a message that says what was expected. Lists may be
written as comma-separated text or as JSON lists.
"""

from __future__ import annotations

import math
import numbers

# Upper bounds of counts, so that a typo (or 1e30 in a config file) is refused at once
# rather than running until killed or asking for all the memory there is.
MAX_EPOCHS = 10**6          # passes over the data: over 11 days at a second an epoch
MAX_BATCH_ROWS = 2**24      # rows of a mini-batch: 64 GiB of float32 at 1,024 columns
MAX_WIDTH = 2**20           # units of a layer, or categories of a column: ~1M inputs

TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0"}


def _items(value) -> list:
    """The entries of a comma-separated string or a JSON list (a scalar is one entry)."""
    if isinstance(value, str):
        text = value.strip()
        return [] if not text else [item.strip() for item in text.split(",")]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def integer(value, minimum=None, maximum=None) -> int:
    """An int (``"5"`` or ``5``), at least ``minimum`` and at most ``maximum``."""
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"expected an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"expected an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        span = f"at most {maximum:,}" if minimum is None else f"from {minimum} to {maximum:,}"
        raise ValueError(f"expected an integer {span}, got {value!r}")
    return int(value)


def real(value) -> float:
    """A finite float (``"1e-3"`` or ``0.001``)."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def positive_real(value) -> float:
    """A finite float > 0."""
    x = real(value)
    if x <= 0:
        raise ValueError(f"expected a number > 0, got {value!r}")
    return x


def non_negative_real(value) -> float:
    """A finite float >= 0."""
    x = real(value)
    if x < 0:
        raise ValueError(f"expected a number >= 0, got {value!r}")
    return x


def fraction(value) -> float:
    """A share of the rows, in [0, 1)."""
    x = real(value)
    if not 0.0 <= x < 1.0:
        raise ValueError(f"expected a fraction in [0, 1), got {value!r}")
    return x


def boolean(value) -> bool:
    """``true``/``false`` (also yes/no, on/off, 1/0)."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def optional_int(value, minimum=0, maximum=None):
    """An int from ``minimum`` to ``maximum``, or None from ``null``/``"none"``/``"off"``."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "off")):
        return None
    return integer(value, minimum, maximum)


def epochs(value) -> int:
    """Passes over the training set: 0 to :data:`MAX_EPOCHS`."""
    return integer(value, 0, MAX_EPOCHS)


def patience(value):
    """Epochs without improvement before early stopping (at most :data:`MAX_EPOCHS`), or
    None for none."""
    return optional_int(value, 0, MAX_EPOCHS)


def hidden(value) -> list:
    """Hidden-layer widths: ``"64,32"``, ``[64, 32]`` or ``16``; ``""`` means none."""
    try:
        return [integer(item, 1, MAX_WIDTH) for item in _items(value)]
    except ValueError:
        raise ValueError(f"expected integers from 1 to {MAX_WIDTH:,} separated by commas, got "
                         f"{_preview(value)}") from None


def nodes(value) -> list:
    """The notes' full ``nodes`` list ``[n0, n1, ..., nL]``, at least two entries."""
    widths = hidden(value)
    if len(widths) < 2:
        raise ValueError(f"expected at least 2 widths (input and output), got {value!r}")
    return widths


def _preview(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def names(value):
    """One name (``"relu"``) or a list of names (``"relu,tanh"``), lower-cased."""
    items = _items(value)
    if not items or not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"expected a name or names separated by commas, got {value!r}")
    items = [item.lower() for item in items]
    return items[0] if len(items) == 1 else items


def choice(*options):
    """A parser that accepts one of ``options`` (case-insensitive)."""
    def parse(value):
        word = str(value).strip().lower() if isinstance(value, str) else value
        if word not in options:
            raise ValueError(f"expected one of {', '.join(map(str, options))}; got {value!r}")
        return word
    parse.__name__ = "choice"
    return parse


def keep_prob(value):
    """One keep probability for every hidden layer, or the notes' list of L + 1."""
    items = _items(value)
    probability = interval(0.0, 1.0, low_open=True)
    if len(items) == 1 and not isinstance(value, (list, tuple)):
        return probability(items[0])
    return [probability(item) for item in items]


def batch_norm(value):
    """True/False for every hidden layer, or the notes' list of L + 1 flags."""
    if isinstance(value, (list, tuple)) or (isinstance(value, str) and "," in value):
        return [boolean(item) for item in _items(value)]
    return boolean(value)


def batch_size(value):
    """Rows per mini-batch, or None (``"full"``) for full-batch gradient descent."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("full", "none")):
        return None
    return integer(value, 1, MAX_BATCH_ROWS)


def text(value) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value.strip()


def optional_text(value):
    """A string, or None from ``null``/``"none"``."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    return text(value)


def columns(value) -> list:
    """Column names: ``"id,name"`` or ``["id", "name"]``."""
    items = _items(value)
    if not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"expected column names separated by commas, got {value!r}")
    return items


def sizes(value) -> list:
    """Training-set sizes: shares up to 1, or row counts above it (``"0.25,0.5,1"``, ``"50,100"``)."""
    out = []
    for item in _items(value):
        number = real(item)
        if number <= 0 or (number > 1 and number != int(number)):
            raise ValueError(f"expected shares in (0, 1] or whole row counts, got {item!r}")
        out.append(int(number) if number > 1 else number)
    if not out:
        raise ValueError("expected at least one size")
    return out


def interval(low, high, *, high_open=False, low_open=False):
    """A parser of a finite float in the interval from ``low`` to ``high``."""
    left, right = "(" if low_open else "[", ")" if high_open else "]"

    def parse(value):
        x = real(value)
        if x < low or x > high or (low_open and x == low) or (high_open and x == high):
            raise ValueError(f"expected a number in {left}{low:g}, {high:g}{right}, got {value!r}")
        return x
    parse.__name__ = "interval"
    return parse


def schedule(value):
    """A learning-rate schedule's text (``"exponential:0.95"``), checked, or None."""
    from ..optim import make_schedule

    spec = optional_text(value)
    if spec is not None:
        make_schedule(spec, 1.0)
    return spec


def init(value):
    """"auto", or a weight initializer's name or spec as :func:`mllib.nn.init.init_config`
    takes it ("he", "xavier", "small", "zeros", "normal:10" or ``{"name": "normal",
    "scale": 10}``), in its JSON form: the name, or the dict."""
    from ..nn.init import init_config

    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    if not isinstance(value, (str, dict)):
        raise ValueError(f"expected auto, he, xavier, small, zeros or normal:SCALE, got {value!r}")
    return init_config(value.strip().lower() if isinstance(value, str) else value)
