"""The one error of :mod:`mllib.preprocessing`: a file, a column or a value it cannot use."""

from __future__ import annotations


class DataError(ValueError):
    """A CSV file, one of its columns or values, or a ``preprocessing.json`` that cannot
    be used; also raised when pandas, which reads the files, is not installed.

    The message names the file, the column and the value, and is one line, e.g.
    ``column 'label' not found in 'data.csv'; its columns are: x1, x2, colour``. Where
    it names what to change, it uses the flags of the ``mllib`` command (``--drop``,
    ``--missing``, ...), which are the keyword arguments of the same names. The
    ``mllib`` command reports it as bad usage: that line, and exit status 2.
    """
