"""What ``mllib train`` writes into its output folder, and the summary it prints.

=========================  ====================================================
``model.npz``              the trained network (:func:`mllib.load` reads it)
``preprocessing.json``     how CSV columns become inputs; evaluate and predict
                           read it from beside the model file
``metrics.json``           cost and accuracy (or r2, rmse and mae) on train/dev/
                           test, the settings, the network, the optimizer, the
                           data (rows left out, cells filled, notes), and
                           the diagnosis of bias and variance (notes §4)
``config.json``            the settings alone: ``mllib train --config`` takes it
``history.csv``            one row per epoch: cost, accuracy or r2, their dev
                           values, the learning rate and the seconds
``split.json``             the 0-based data-row numbers of each set in the file
``cost.png``               train and dev cost per epoch
``confusion_matrix.png``   classifiers: on the test set (else dev, else train)
``decision_boundary.png``  two numeric input columns: on the training rows
=========================  ====================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__, plots, preprocessing
from .._interrupts import HeldInterrupts
from ..io import write_atomically
from ..training.diagnosis import diagnose
from .build import describe
from .runfiles import write_json

MODEL_FILE = "model.npz"


@dataclass
class Run:
    """Everything a finished training run leaves to write and report."""

    model: object
    data: object
    parts: dict
    history: object
    scores: dict
    settings: dict
    seconds: float
    stopper: object = None

    @property
    def metric(self) -> str:
        """The score logged beside the cost: "accuracy" or "r2"."""
        return self.model.score_name

    @property
    def diagnosis(self):
        """Bias and variance from the train and dev errors (notes §4); None without a dev set."""
        if not self.scores["dev"]:
            return None
        return diagnose(*(max(0.0, 1.0 - self.scores[part][self.metric])
                          for part in ("train", "dev")), regression=self.metric == "r2")


def write_all(out_dir: Path, run: Run) -> list:
    """Write every file of the run into ``out_dir``; returns their names in order.

    Each file is written whole, as model files are (:func:`mllib.io.write_atomically`);
    ``preprocessing.json``, which :func:`mllib.preprocessing.save` writes, is synced after.
    pandas and matplotlib are imported first with Ctrl-C held: NumPy turns a
    ``KeyboardInterrupt`` inside the import of C extensions into an ``ImportError``.
    """
    with HeldInterrupts():
        import_writers()
    run.model.save(out_dir / MODEL_FILE)
    # preprocessing.save writes in place: a link left there would be written through.
    (out_dir / preprocessing.FILENAME).unlink(missing_ok=True)
    preprocessing.save(run.data.prep, out_dir / preprocessing.FILENAME)
    sync_file(out_dir / preprocessing.FILENAME)
    write_json(out_dir / "metrics.json", metrics(run))
    write_json(out_dir / "config.json", run.settings)
    write_history(out_dir / "history.csv", run.history)
    write_json(out_dir / "split.json", {
        "rows": "0-based positions of the data rows (header excluded) in the data",
        "seed": run.settings["seed"], "stratified": bool(run.data.classification),
        **{name: run.data.rows[rows].tolist() for name, rows in run.parts.items()}})
    files = [MODEL_FILE, preprocessing.FILENAME, "metrics.json", "config.json", "history.csv",
             "split.json"]
    return files + write_plots(out_dir, run)


def import_writers() -> None:
    """Import what writes history.csv and the plots (a no-op once they are imported)."""
    import pandas  # noqa: F401

    try:
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401
    except ImportError:     # plots.py says how to install it, when a plot is drawn
        pass


def sync_file(path: Path) -> None:
    """fsync a file that was written in place, so that its bytes are on disk before the
    folder that holds it is renamed into place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def metrics(run: Run) -> dict:
    """The contents of metrics.json."""
    model, stopper = run.model, run.stopper
    classes, scaling = model.targets_.classes, model.target_scaler_
    return {
        **{name: run.scores[name] for name in ("train", "dev", "test")},
        "metric": run.metric,
        "epochs_run": len(run.history.epoch),
        "best_epoch": None if stopper is None or stopper.best_epoch is None
        else stopper.best_epoch + 1,
        "seconds": round(run.seconds, 3),
        "data": {"source": run.data.source, "target": run.data.prep.target,
                 "rows": int(run.data.X.shape[0]), "inputs": run.data.prep.features,
                 "classes": None if classes is None else classes.classes_.tolist(),
                 **run.data.report, "notes": run.data.notes,
                 "target_scaling": None if scaling is None else
                 {"mean": float(scaling.mean_[0]), "std": float(scaling.scale_[0])}},
        "config": run.settings,
        "network": describe(model),
        "optimizer": model.optimizer_.get_config(),
        "diagnosis": None if run.diagnosis is None else run.diagnosis.to_dict(),
        "mllib_version": __version__,
    }


def write_history(path: Path, history) -> None:
    """history.csv: an ``epoch`` column (from 1), then one column per logged key."""
    import pandas as pd

    frame = pd.DataFrame(history.history)
    frame.insert(0, "epoch", np.asarray(history.epoch, dtype=np.int64) + 1)
    text = frame.to_csv(index=False)
    write_atomically(path, lambda handle: handle.write(text.encode("utf-8")))


def write_plots(out_dir: Path, run: Run) -> list:
    """cost.png, and for classifiers confusion_matrix.png and decision_boundary.png."""
    written = []
    if run.history.epoch:
        save_png(plots.plot_cost(run.history), out_dir / "cost.png")
        written.append("cost.png")
    if not run.model.targets_.is_classifier:
        return written
    X, y, model = run.data.X, run.data.y, run.model
    name = next(part for part in ("test", "dev", "train") if run.parts[part].size)
    rows = run.parts[name]
    figure = plots.plot_confusion_matrix(y[rows], model.predict(X[rows]))
    _retitle(figure, f"confusion matrix, {name} set ({rows.size} rows)",
             out_dir / "confusion_matrix.png")
    written.append("confusion_matrix.png")
    columns = run.data.prep.columns
    if len(columns) == 2 and all(c["kind"] == "numeric" for c in columns):
        rows = run.parts["train"]
        figure = plots.plot_decision_boundary(model.predict, X[rows], y[rows])
        axes = figure.axes[0]
        axes.set_xlabel(columns[0]["name"])
        axes.set_ylabel(columns[1]["name"])
        _retitle(figure, f"decision boundary, training set ({rows.size} rows)",
                 out_dir / "decision_boundary.png")
        written.append("decision_boundary.png")
    return written


def _retitle(figure, title, path):
    figure.axes[0].set_title(title)
    save_png(figure, path)


def save_png(figure, path) -> None:
    """``figure`` as a PNG of 100 dpi, written whole."""
    write_atomically(path, lambda handle: figure.savefig(handle, format="png", dpi=100))


def summary(run: Run, out_dir: Path, files) -> str:
    """A few lines for the terminal: data, network, scores and where the files are."""
    sizes = " / ".join(f"{run.parts[p].size} {p}" for p in ("train", "dev", "test"))
    net = describe(run.model)
    activators = " -> ".join(net["activators"])
    epochs = len(run.history.epoch)
    stopped = "" if run.stopper is None or run.stopper.stopped_epoch is None \
        else f" (stopped early; best epoch {run.stopper.best_epoch + 1})"
    scores = "  ".join(f"{part} {run.scores[part][run.metric]:.4f}"
                       for part in ("train", "dev", "test") if run.scores[part])
    lines = [
        f"data     {run.data.source}: {sizes} rows, {run.data.X.shape[1]} input(s)",
        f"network  nodes {net['nodes']}, {activators}; {run.model.optimizer_.name}, "
        f"{epochs} epochs in {run.seconds:.1f} s{stopped}",
        f"{run.metric:<8} {scores}",
    ]
    if run.metric == "r2":
        lines.append("rmse     " + "  ".join(f"{part} {run.scores[part]['rmse']:.4g}"
                                             for part in ("train", "dev", "test")
                                             if run.scores[part]))
    diagnosis = run.diagnosis
    if diagnosis is not None:
        lines.append(f"diagnosis {diagnosis.verdict} (train error {diagnosis.train_error:.3f}, "
                     f"dev error {diagnosis.dev_error:.3f})")
        lines += [f"  advice: {advice}" for advice in diagnosis.advice]
    return "\n".join(lines + [f"wrote    {out_dir}/: {', '.join(files)}"])
