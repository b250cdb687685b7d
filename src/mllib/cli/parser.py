"""The ``mllib`` command's parser: its subcommands, from :mod:`.args` and :mod:`.tuneargs`."""

from __future__ import annotations

from .args import Parser, add_apply, add_diagnose, add_gradcheck, add_train
from .tuneargs import add_tune


def build_parser() -> Parser:
    """The ``mllib`` parser with its subcommands train, evaluate, predict, gradcheck, tune
    and diagnose."""
    from .. import __version__
    from .._jit import describe

    parser = Parser(prog="mllib",
                    description="Train, evaluate and check the networks of the notes.")
    parser.add_argument("--version", action="version",
                        version=f"mllib {__version__} ({describe()})")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="show the traceback of unexpected errors")
    sub = parser.add_subparsers(metavar="COMMAND", dest="command", required=True)
    add_train(sub)
    add_apply(sub)
    add_gradcheck(sub)
    add_tune(sub)
    add_diagnose(sub)
    return parser
