"""Every flag of every ``mllib`` subcommand says in ``--help`` what it does."""

import argparse

from _cli_testing import subcommands
from mllib.cli.parser import build_parser


def undocumented(name, parser) -> list:
    """The options and arguments of ``parser`` without help text (``-h`` aside), and the
    subcommands without a line in the list of commands."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            found += [f"{name} {choice.dest}" for choice in action._choices_actions
                      if not (choice.help or "").strip()]
        elif not (action.help or "").strip() or action.help == argparse.SUPPRESS:
            found.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    return found


def test_every_option_of_every_subcommand_has_help():
    parsers = {"mllib": build_parser(), **subcommands()}
    assert set(parsers) == {"mllib", "train", "evaluate", "predict", "gradcheck", "tune",
                            "diagnose"}
    assert sum(len(p._actions) for p in parsers.values()) > 100    # every flag is walked
    assert [item for name, p in parsers.items() for item in undocumented(name, p)] == []
