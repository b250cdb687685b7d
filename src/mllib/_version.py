"""The version of mllib, in a module of its own so that any layer may import it.

This is the package's release: ``mllib --version`` prints it, ``pyproject.toml``
reads it, and the files that mllib writes record it as ``mllib_version``. Each
file format has a number of its own, which changes only when the format does:
the model file's ``version`` (``mllib.io.modelfile.VERSION``) and the CSV
preprocessing's (``mllib.cli.csvdata.VERSION``). mllib 0.1.0 wrote format 1
of the model file, and format 2 came while the version still read 0.1.0, so
files of both formats may record it: a file's format ``version``, not its
``mllib_version``, says how to read it.
"""

__version__ = "0.2.0"
