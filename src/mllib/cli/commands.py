"""``mllib evaluate``, ``mllib predict`` and ``mllib gradcheck``.

evaluate and predict encode a CSV as training did, with the
``preprocessing.json`` found beside the model file (or ``--preprocessing``).
A model without one (saved from Python, say) reads every column but the
target as a number, in file order.

Missing feature cells are filled with the training statistics of
``preprocessing.json`` (or as ``--missing`` says). A regression model that
standardized its target maps its outputs back itself: predictions, rmse and
mae are in the target's units (:mod:`.scoring`).

A model whose output or cost is not finite on the CSV's rows (a value
overflowed its dtype: :class:`mllib.training.NonFiniteOutputError`) is an
error, exit status 2, rather than a NaN in the JSON or an empty CSV row.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from .. import ModelFileError, load, preprocessing
from ..gradcheck import check_gradients
from ..preprocessing.missing import drop_note
from ..preprocessing.read import quote, require_column
from .args import resolve_settings
from .build import build_network, describe
from .errors import CLIError, usage_errors
from .scoring import score


def load_model(path):
    """:func:`mllib.load`, with a missing or foreign file as :class:`CLIError`."""
    try:
        return load(path)
    except FileNotFoundError:
        raise CLIError(f"no such model file: {str(path)!r}") from None
    except ModelFileError as err:
        raise CLIError(str(err)) from None


def encoded_inputs(model, args, target=None):
    """The model's preprocessing, the CSV frame and its encoded inputs
    (:class:`mllib.preprocessing.Encoded`)."""
    # The model's width, so that a file encoding another number of inputs is refused
    # before any row is encoded.
    prep = preprocessing.find(args.model, args.preprocessing, inputs=model.n_features)
    frame = preprocessing.read_csv(args.data, prep.text_columns if prep else ())
    found = prep is not None
    if not found:
        names = [c for c in frame.columns if c != target]
        prep = preprocessing.Preprocessing.numeric(names, target=target)
    encoded = prep.transform(frame, args.data, missing=args.missing)
    if encoded.X.shape[1] != model.n_features:
        where = "" if found else (" (no preprocessing.json beside the model, so every column "
                                  "but the target is read as a number)")
        raise CLIError(f"{str(args.data)!r} gives {encoded.X.shape[1]} input column(s), but "
                       f"the model takes {model.n_features}{where}")
    return prep, frame, encoded


def _note(text):
    print(f"mllib: note: {text}", file=sys.stderr)


def run_evaluate(args) -> int:
    """Print ``{"cost", "accuracy" or "r2" (and "rmse", "mae"), "n"}`` on the CSV's rows as JSON.

    Rows whose target is missing are left out, and so are rows with a missing
    feature cell under ``--missing drop``; a note says how many.
    """
    model = load_model(args.model)
    prep, frame, encoded = encoded_inputs(model, args, target=args.target)
    name = args.target or prep.target
    series = require_column(frame, name, args.data) if name is not None else None
    keep = ~encoded.incomplete
    if series is not None and series.isna().any():
        _note(drop_note(int(series.isna().sum()), f"whose target {quote(name)} is missing"))
        keep &= series.notna().to_numpy()
    if encoded.incomplete.any():
        _note(drop_note(int(encoded.incomplete.sum()), "with missing cells (--missing drop)"))
    for note in encoded.notes:
        _note(note)
    if not keep.any():
        raise CLIError(f"{str(args.data)!r} has no rows left to evaluate")
    y = prep.labels(frame[keep], args.data, target=args.target)
    with usage_errors(f"cannot evaluate on {str(args.data)!r}"):
        result = score(model, encoded.X[keep], y)
    print(json.dumps(result, indent=2))
    return 0


def run_predict(args) -> int:
    """Write one prediction (or one probability per class) per row, as CSV.

    Every row gets one, whatever its target; a row left out by ``--missing
    drop`` gets an empty one.
    """
    model = load_model(args.model)
    prep, _, encoded = encoded_inputs(model, args)
    for note in encoded.notes:
        _note(note)
    if args.proba and not model.targets_.is_classifier:
        raise CLIError("--proba needs a classifier; this model predicts numbers")
    complete = ~encoded.incomplete
    predicted = None
    if complete.any():
        with usage_errors(f"cannot predict on {str(args.data)!r}"):
            X = encoded.X[complete]
            predicted = (probabilities(model, X) if args.proba
                         else np.asarray(model.predict(X)))
    if not complete.all():
        _note(f"{int(np.count_nonzero(~complete))} row(s) with missing cells have no "
              "prediction (--missing drop)")
        width = (len(class_names(model)),) if args.proba else ()
        predicted = _spread(predicted, complete, width)
    write_predictions(predicted, args, model, prep)
    return 0


def _spread(predicted, complete, width):
    """The predictions of the complete rows (None: no rows), among empty ones for the rest."""
    out = np.full((complete.size, *width), None, dtype=object)
    if predicted is not None:
        out[complete] = predicted
    return out


def write_predictions(predicted, args, model, prep):
    """The predictions as CSV, to stdout or ``args.out``."""
    import pandas as pd

    if args.proba:
        table = pd.DataFrame(predicted, columns=class_names(model))
    else:
        name = prep.target or "prediction"
        if predicted.ndim == 1:
            table = pd.DataFrame({name: predicted})
        else:
            table = pd.DataFrame(predicted, columns=[f"{name}{j + 1}"
                                                     for j in range(predicted.shape[1])])
    float_format = "%.7g" if model.dtype == np.float32 else None
    if args.out is None:
        table.to_csv(sys.stdout, index=False, float_format=float_format)
    else:
        table.to_csv(args.out, index=False, float_format=float_format)
        print(f"wrote {len(table)} predictions to {args.out}")


def probabilities(model, X) -> np.ndarray:
    """P(class) per row and class; a one-unit sigmoid gives P(first class) = 1 − a."""
    P = model.predict_proba(X)
    if model.loss.activation.name == "sigmoid" and P.shape[1] == 1:
        P = np.hstack([1 - P, P])
    return P


def class_names(model) -> list:
    """Column names for :func:`probabilities`: the labels, as text."""
    classes = model.targets_.classes
    if classes is None:
        width = max(2, model.config["nodes"][-1])
        return [str(code) for code in range(width)]
    return [str(label) for label in classes.classes_.tolist()]


# -- gradcheck ------------------------------------------------------------------------


def random_problem(n_samples, n_features, output, n_out, seed):
    """Standard-normal inputs and targets that fit the output: labels or numbers."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    if output == "softmax":
        y = rng.permutation(np.arange(n_samples) % n_out)
    elif output == "sigmoid" and n_out == 1:
        y = rng.permutation(np.arange(n_samples) % 2)
    elif output == "sigmoid":
        y = rng.integers(0, 2, size=(n_samples, n_out))
    else:
        y = rng.standard_normal((n_samples, n_out) if n_out > 1 else n_samples)
    return X, y


def run_gradcheck(args) -> int:
    """Check every parameter's gradient; exit status 0 if all pass, 1 otherwise."""
    settings = resolve_settings("gradcheck", args)
    output = "softmax" if settings["output"] == "auto" else settings["output"]
    nodes = settings["nodes"]
    n_features = nodes[0] if nodes else args.features
    n_out = nodes[-1] if nodes else (args.classes if output == "softmax" else 1)
    # Built now (n0 given), not at the first pass: check_gradients can only hold
    # the dropout masks of layers that already exist.
    model = build_network(settings, output, dtype="float64", n_in=n_features, n_out=n_out)
    X, y = random_problem(args.samples, n_features, output, n_out, settings["seed"])
    with usage_errors("cannot check this network"):
        errors = check_gradients(model, X, y, eps=args.eps)
    print(gradcheck_header(model, args.samples))
    print(f"{'parameter':<10} relative error")
    failed = [name for name, error in errors.items() if not error < args.threshold]
    for name, error in errors.items():
        print(f"{name:<10} {error:.3e}  {'FAIL' if name in failed else 'ok'}")
    if failed:
        print(f"FAILED: {len(failed)} of {len(errors)} relative errors are not below "
              f"{args.threshold:g}: {', '.join(failed)}")
        return 1
    print(f"passed: all {len(errors)} relative errors are below {args.threshold:g}")
    return 0


def gradcheck_header(model, n_samples) -> str:
    """One line that says which network was checked, on what."""
    net = describe(model)
    layers = [l for l, on in enumerate(net["batch_norm"]) if on]
    parts = [f"nodes {net['nodes']}", " -> ".join(net["activators"]),
             f"batch norm on layers {layers}" if layers else "no batch norm",
             f"keep_probs {net['keep_probs']}",
             f"L{net['lp_reg']} lambda {net['lambda']:g}" if net["lambda"] else "no penalty"]
    return f"gradient check, float64, {n_samples} random rows: {'; '.join(parts)}"
