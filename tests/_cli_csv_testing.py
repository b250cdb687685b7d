"""``mllib`` in this process, for the CSV tests that need no fresh interpreter: a
subprocess costs a second or more to start, most of it importing pandas and matplotlib."""

import json
import os
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO

from mllib.cli import main


def run_here(*args, cwd):
    """``main(ARGS)`` in ``cwd`` -> CompletedProcess with its status, stdout and stderr."""
    out, err, before = StringIO(), StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            status = main([str(arg) for arg in args])
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


def notes(result) -> list:
    """The ``mllib: note:`` lines of stderr, without the prefix."""
    return [line.removeprefix("mllib: note: ") for line in result.stderr.splitlines()
            if line.startswith("mllib: note: ")]


def tune_once(csv, target, settings, *, cwd):
    """``mllib tune`` in ``cwd``: one trial on ``csv`` into ``search``, with ``settings``
    (a dict, written to few.json) and a learning rate of 0.01 as the whole space."""
    (cwd / "space.json").write_text('{"learning_rate": [0.01]}')
    (cwd / "few.json").write_text(json.dumps(settings))
    return run_here("tune", csv, "--target", target, "--space", "space.json",
                    "--settings", "few.json", "--trials", "1", "--out", "search", "-q",
                    "--scheduler", "serial", cwd=cwd)
