"""Helpers shared by the tests of the ``mllib`` command: run it as a user does, check results."""

import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_cli(*args, cwd=None, timeout=120):
    """``python -m mllib.cli ARGS`` -> CompletedProcess with text stdout and stderr."""
    return subprocess.run([sys.executable, "-m", "mllib.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def assert_ok(result):
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def assert_png(path):
    data = Path(path).read_bytes()
    assert len(data) > 100 and data.startswith(PNG_SIGNATURE), path


def subcommands() -> dict:
    """``{name: parser}`` of every subcommand of ``mllib``."""
    import argparse

    from mllib.cli.parser import build_parser

    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def options_of(command) -> dict:
    """``{flag: argparse action}`` of the subcommand ``command``, such as ``--drop``."""
    return dict(subcommands()[command]._option_string_actions)


@contextmanager
def deadline(seconds):
    """TimeoutError if the block takes longer: a read that blocks (a FIFO) is interrupted."""
    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
