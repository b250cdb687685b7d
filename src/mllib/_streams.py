"""Facts about output streams, with the standard library only: the ``mllib`` command reports
Ctrl-C through here even when it arrived while NumPy was half imported."""


def isatty(stream) -> bool:
    """Whether ``stream`` is a terminal; False for streams without ``isatty`` or closed ones."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
