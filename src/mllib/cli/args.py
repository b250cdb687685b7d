"""The ``mllib`` argument parser, and the settings of a command's run.

Every setting is one :class:`mllib.settings.Setting`, declared in
:mod:`mllib.settings.declaration`: a command-line flag and a config-file key
of the same name (``--learning-rate`` is the key ``learning_rate``), with its
parser, default and help. A run's settings are, from weakest to strongest, the
command's defaults, the ``--config`` JSON file, then the flags given, stacked
and checked by :func:`mllib.settings.overlay`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..io.bounded import FileRefusedError, read_json
from ..settings import SETTING, SETTINGS, overlay, parse_mapping, values
from .errors import CLIError, one_line

# A --config, --settings or --space file: a few hundred bytes of settings; a space of
# choices of many values stays far below this.
MAX_JSON_BYTES = 2**20

# gradcheck's defaults: a small float64 network with batch norm, dropout and L2.
GRADCHECK_DEFAULTS = {"hidden": [5, 4], "output": "softmax", "keep_prob": 0.8,
                      "batch_norm": True, "lambda": 0.1}


def command_keys(command: str) -> tuple:
    """The settings of ``command``: all of them for "train", the network's for "gradcheck"."""
    return tuple(s.key for s in SETTINGS if command == "train" or s.group == "network")


def defaults(command: str) -> dict:
    """The settings of ``command`` ("train" or "gradcheck") before any file or flag."""
    result = overlay(keys=command_keys(command))
    if command == "gradcheck":
        result.update(GRADCHECK_DEFAULTS)
    return result


# -- config files and resolution -------------------------------------------------


def read_json_object(path, what: str) -> dict:
    """The JSON object in the file ``path`` (``what`` names it in errors), or CLIError.

    The file is read as :func:`mllib.io.bounded.read_json` reads: a regular file
    (a link is followed, as the user gave it) of at most :data:`MAX_JSON_BYTES`,
    nesting at most 32 deep.
    """
    path = Path(path)
    try:
        data = read_json(path, MAX_JSON_BYTES, what)
    except (FileNotFoundError, IsADirectoryError):
        raise CLIError(f"no such {what}: {str(path)!r}") from None
    except FileRefusedError as err:
        raise CLIError(str(err)) from None
    if not isinstance(data, dict):
        raise CLIError(f"{what} {str(path)!r} must hold a JSON object of settings, "
                       f"got {type(data).__name__}")
    return data


def read_config(path, command: str) -> dict:
    """The settings in the JSON object at ``path``, parsed; keys of other commands are skipped.

    A ``null`` value means the default, except for ``batch_size``, where it
    means full-batch, as None does in :meth:`mllib.NeuralNetwork.fit`.
    """
    data = read_json_object(path, "config file")
    try:
        return parse_mapping(data, command_keys(command), skip_others=True)
    except ValueError as err:
        raise CLIError(f"config file {str(path)!r}: {err}") from None


def resolve_settings(command: str, args) -> dict:
    """The settings of a run: defaults, then the ``--config`` file, then the flags.

    Parameters
    ----------
    command : {"train", "gradcheck"}
    args : argparse.Namespace
        Flags not given are None; given ones are parsed already.

    Returns
    -------
    dict
        One value per setting of ``command``, checked whole by
        :func:`mllib.settings.overlay` (``hidden`` and ``nodes``: the stronger
        source wins, and giving both in one source is a :class:`CLIError`).
    """
    keys = command_keys(command)
    config = read_config(args.config, command) if getattr(args, "config", None) else {}
    flags = {key: getattr(args, key) for key in keys if getattr(args, key, None) is not None}
    for layer, where in ((flags, "on the command line"), (config, "in the config file")):
        if all(layer.get(key) is not None for key in ("hidden", "nodes")):
            raise CLIError(f"give hidden or nodes {where}, not both")
    base = GRADCHECK_DEFAULTS if command == "gradcheck" else {}
    try:
        return overlay(base, config, flags, keys=keys)
    except ValueError as err:
        raise CLIError(str(err)) from None


# -- the parser --------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (a :class:`CLIError`), not usage + exit.

    Abbreviated flags are off, so that a new flag never changes what an old
    command line means.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        """Raise :class:`CLIError`; ``main`` prints it as one line and exits with 2."""
        raise CLIError(f"{one_line(message)} (see '{self.prog} --help')")


def _show(value) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "''"
    if isinstance(value, bool):
        return str(value).lower()
    return "full" if value is None else str(value)


def argtype(parse):
    """``parse`` for argparse: its ValueError message becomes the error shown."""
    def convert(text):
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    return convert


def add_options(parser, command: str, only=None, also="") -> None:
    """Add one flag per option of ``command`` (of the group ``only``, if given), grouped,
    with that command's defaults; ``also`` names another source of the values in the help."""
    command_defaults = defaults(command)
    groups = {}
    for option in SETTINGS:
        if (option.key not in command_defaults or option.key in ("target", "dataset")
                or only not in (None, option.group)):
            continue
        if option.group not in groups:
            groups[option.group] = parser.add_argument_group(option.group)
        default = command_defaults[option.key]
        shown = "" if default is None else f" (default: {_show(default)}{also})"
        if option.boolean:
            groups[option.group].add_argument(
                option.flag, dest=option.key, default=None,
                action=argparse.BooleanOptionalAction, help=option.help + shown)
        else:
            groups[option.group].add_argument(
                option.flag, dest=option.key, default=None, type=argtype(option.parse),
                metavar=option.metavar, help=option.help + shown)


def _common(parser, config=False):
    if config:
        parser.add_argument("--config", metavar="FILE.json",
                            help="JSON object of settings keyed by the flag names "
                                 "(learning_rate, hidden, ...); flags override it")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of unexpected errors")


def add_train(sub):
    from ..datasets import DATASETS

    train = sub.add_parser(
        "train", help="train a network on a CSV file or a built-in dataset",
        description="Train a network and write the model, metrics, history and plots to "
                    "--out. Without data it trains on the 'flower' dataset.")
    _data_source(train, f"train on a built-in dataset: {', '.join(DATASETS)} "
                        "(default without DATA.csv: flower)")
    _common(train, config=True)
    add_options(train, "train")
    out = train.add_argument_group("output")
    out.add_argument("--out", metavar="DIR",
                     help="folder for the results (default: runs/<date>-<time>)")
    out.add_argument("-v", "--verbose", type=int, choices=(0, 1, 2), default=1,
                     help="0: silent, 1: progress bar or ~10 lines, 2: a line per epoch "
                          "(default: 1)")
    out.add_argument("-q", "--quiet", action="store_const", const=0, dest="verbose",
                     help="no progress output (as --verbose 0)")
    resume = train.add_argument_group("interruption and resumption")
    resume.add_argument("--checkpoint-every", type=argtype(lambda v: values.integer(v, 1)),
                        metavar="K",
                        help="save a checkpoint into DIR.incomplete every K epochs, so that "
                             "a crashed run can go on (Ctrl-C always saves one)")
    resume.add_argument("--resume", metavar="DIR_OR_FILE",
                        help="go on with an interrupted run: its DIR.incomplete folder or the "
                             "checkpoint.npz in it; the run's data and settings are reused")
    train.set_defaults(handler="train")


def add_apply(sub):
    evaluate = sub.add_parser(
        "evaluate", help="print a model's cost and accuracy (or R²) on a CSV as JSON",
        description="Print {cost, accuracy or r2, n} on the rows of DATA.csv as JSON, "
                    "the numbers metrics.json holds for the same rows.")
    predict = sub.add_parser(
        "predict", help="write predictions for the rows of a CSV",
        description="Write one prediction per row of DATA.csv as CSV, in the original "
                    "label names, to stdout or --out.")
    for parser in (evaluate, predict):
        parser.add_argument("model", metavar="MODEL", help="model file written by train")
        parser.add_argument("data", metavar="DATA.csv", help="CSV file with a header row")
        parser.add_argument("--preprocessing", metavar="FILE.json",
                            help="column encoding (default: preprocessing.json next to MODEL)")
        parser.add_argument("--missing", type=argtype(SETTING["missing"].parse),
                            metavar="impute|drop|error", help="missing feature cells: fill "
                            "them with the training statistics, leave their rows out (predict "
                            "writes an empty prediction), or stop (default: as in training)")
        _common(parser)
    evaluate.add_argument("--target", type=argtype(values.text), metavar="COLUMN",
                          help="the column of true values (default: the training target)")
    predict.add_argument("--proba", action="store_true",
                         help="write one probability column per class instead of labels")
    predict.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    evaluate.set_defaults(handler="evaluate")
    predict.set_defaults(handler="predict")


def add_gradcheck(sub):
    check = sub.add_parser(
        "gradcheck", help="check a network's backprop against central differences",
        description="Build the network of the config (in float64) on small random data, "
                    "print the relative error of every parameter's gradient, and exit with "
                    "status 0 if all are below --threshold, 1 otherwise.")
    _common(check, config=True)
    add_options(check, "gradcheck")
    run = check.add_argument_group("check")
    run.add_argument("--threshold", type=argtype(values.non_negative_real), default=1e-7,
                     metavar="T", help="largest relative error that passes (default: 1e-7)")
    run.add_argument("--eps", type=argtype(values.positive_real), default=1e-6,
                     metavar="EPS", help="step of the central differences (default: 1e-6)")
    run.add_argument("--samples", type=argtype(lambda v: values.integer(v, 2)), default=16,
                     metavar="N", help="rows of random data (default: 16)")
    run.add_argument("--features", type=argtype(lambda v: values.integer(v, 1)), default=3,
                     metavar="N", help="input columns, unless --nodes gives n0 (default: 3)")
    run.add_argument("--classes", type=argtype(lambda v: values.integer(v, 2)), default=3,
                     metavar="K", help="classes of a softmax output, unless --nodes gives "
                                       "nL (default: 3)")
    check.set_defaults(handler="gradcheck")


def _data_source(parser, dataset_help):
    """DATA.csv, --target and --dataset, as train, tune and diagnose take them."""
    parser.add_argument("data", nargs="?", metavar="DATA.csv", help="CSV file with a header row")
    parser.add_argument("--target", type=argtype(values.text), metavar="COLUMN",
                        help="the column to predict (needed with a CSV)")
    parser.add_argument("--dataset", type=argtype(values.text), metavar="NAME",
                        help=dataset_help)


def data_arguments(parser, what):
    from ..datasets import DATASETS

    _data_source(parser, f"{what} on a built-in dataset instead: {', '.join(DATASETS)}")
    parser.add_argument("--settings", metavar="FILE.json",
                        help="settings shared by every run, with the keys of train --config "
                             "(network, training and data keys)")
    parser.add_argument("--seed", type=argtype(lambda v: values.integer(v, 0)), default=0,
                        metavar="S", help="seed of the data split and of every run (default: 0)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the results")
    _common(parser)
    add_options(parser, "train", only="data", also=", or the --settings file's")


def add_diagnose(sub):
    diagnose = sub.add_parser(
        "diagnose", help="draw a learning curve and read bias and variance (notes §4)",
        description="Train the settings on growing shares of the training rows, each for as "
                    "many optimizer steps as all of them take in the settings' epochs, plot "
                    "train and dev error against the rows, and print the verdict with its "
                    "advice.")
    data_arguments(diagnose, "diagnose")
    diagnose.add_argument("--sizes", type=argtype(values.sizes), default=[0.1, 0.25, 0.5, 0.75, 1.0],
                          metavar="S,S,...", help="shares of the training rows "
                          "(default: 0.1,0.25,0.5,0.75,1)")
    diagnose.add_argument("--budget", choices=("steps", "epochs"), default="steps",
                          help="what every size gets equally: the optimizer steps of the full "
                          "training set's epochs (default), or the same epochs")
    diagnose.set_defaults(handler="diagnose")
