"""Figures of training runs and classifiers, as PNG files or matplotlib Figures.

Each ``plot_*`` function returns a :class:`matplotlib.figure.Figure` and, when
``path`` is given, also saves it there as a PNG. The figures are drawn on the
non-interactive Agg canvas and never touch pyplot's global state, so nothing
opens a window and nothing leaks between calls; this works on servers and in
the command line as well as in notebooks.

matplotlib is an optional extra (``pip install "mllib[plot]"``) imported only
inside the functions; :func:`confusion_matrix` needs NumPy only.
"""

from __future__ import annotations

import numpy as np

from ._search_axes import interval_bars, log_axis, scatter_by_rung, search_rows
from ._validation import check_int

__all__ = ["confusion_matrix", "plot_cost", "plot_curves", "plot_decision_boundary",
           "plot_confusion_matrix", "plot_learning_curve", "plot_learning_rate", "plot_rungs",
           "plot_search"]


def _new_figure(figsize=(6.4, 4.8)):
    """A Figure with one Axes on an Agg canvas, without pyplot."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError('plotting needs matplotlib: pip install "mllib[plot]"') from err
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, format="png", dpi=100)
    return fig


def confusion_matrix(y_true, y_pred, labels=None):
    """Count the pairs (true class, predicted class).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Class labels of any kind that NumPy can compare (ints, strings, ...).
    labels : array-like of shape (n_classes,), optional
        The classes and their order. Default: the sorted union of the labels
        in ``y_true`` and ``y_pred``. Pairs with a label outside ``labels``
        are not counted (as in scikit-learn).

    Returns
    -------
    matrix : ndarray of shape (n_classes, n_classes), int64
        ``matrix[i, j]`` is the number of examples of true class
        ``labels[i]`` predicted as ``labels[j]``: rows true, columns predicted.
    labels : ndarray of shape (n_classes,)

    Examples
    --------
    >>> m, labels = confusion_matrix(["a", "b", "b"], ["a", "a", "b"])
    >>> m.tolist(), labels.tolist()
    ([[1, 0], [1, 1]], ['a', 'b'])
    """
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length, "
                         f"got {y_true.size} and {y_pred.size}")
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    else:
        labels = np.asarray(labels).ravel()
        if labels.size == 0 or np.unique(labels).size != labels.size:
            raise ValueError(f"labels must be non-empty and unique, got {labels.tolist()!r}")
    # a dict, not searchsorted: it matches labels across dtypes (1 == 1.0) and never
    # compares a string with a number
    index = {label: i for i, label in enumerate(labels.tolist())}
    rows = np.array([index.get(t, -1) for t in y_true.tolist()], dtype=np.intp)
    cols = np.array([index.get(p, -1) for p in y_pred.tolist()], dtype=np.intp)
    counted = (rows >= 0) & (cols >= 0)
    matrix = np.zeros((labels.size, labels.size), dtype=np.int64)
    np.add.at(matrix, (rows[counted], cols[counted]), 1)
    return matrix, labels


def plot_cost(history, path=None, *, metric="cost"):
    """Plot a metric per epoch for the training set and, if present, the dev set.

    Parameters
    ----------
    history : dict of str to list of float, or an object with a ``history`` dict
        Keras's ``History.history`` convention: ``history[metric]`` holds one
        value per epoch on the training set and ``history["val_" + metric]``
        the same on the dev set, e.g. ``{"cost": [...], "val_cost": [...],
        "accuracy": [...], "val_accuracy": [...]}``.
    path : str or path-like, optional
        Where to save the figure as PNG.
    metric : str, default "cost"
        Which metric to plot.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes; its first line is the training curve, the second (if any)
        the dev curve, both against epochs 1, 2, ...
    """
    history = getattr(history, "history", history)
    if metric not in history:
        raise ValueError(f"metric {metric!r} is not in the history; "
                         f"its keys are {sorted(history)!r}")
    fig, ax = _new_figure()
    for key, label in ((metric, "train"), ("val_" + metric, "dev")):
        if key in history:
            values = np.asarray(history[key], dtype=float)
            ax.plot(np.arange(1, values.size + 1), values, marker=".", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} per epoch")
    ax.legend()
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def plot_decision_boundary(predict, X, y, path=None, *, resolution=200):
    """Shade the regions a classifier assigns to each class; scatter the data on top.

    Parameters
    ----------
    predict : callable
        Maps an array of shape (M, 2) to M class labels, e.g. ``model.predict``.
    X : array-like of shape (n_samples, 2)
    y : array-like of shape (n_samples,)
        The true labels; they colour the points.
    path : str or path-like, optional
        Where to save the figure as PNG.
    resolution : int, default 200
        The grid has ``resolution × resolution`` points over the data's range
        plus a margin of 5 % on each side.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes with a filled contour of the predictions and one scatter
        collection per class of ``y``.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).ravel()
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}")
    if y.size != X.shape[0]:
        raise ValueError(f"y must have {X.shape[0]} labels like X's rows, got {y.size}")
    resolution = check_int("resolution", resolution, 2)
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.05 * np.where(high > low, high - low, 1.0)
    xx, yy = np.meshgrid(np.linspace(low[0] - margin[0], high[0] + margin[0], resolution),
                         np.linspace(low[1] - margin[1], high[1] + margin[1], resolution))
    grid_pred = np.asarray(predict(np.column_stack([xx.ravel(), yy.ravel()]))).ravel()
    if grid_pred.size != xx.size:
        raise ValueError(f"predict must return one label per row: {xx.size} expected, "
                         f"got {grid_pred.size}")
    classes = np.unique(np.concatenate([y, grid_pred]))
    codes = np.searchsorted(classes, grid_pred).reshape(xx.shape)

    fig, ax = _new_figure()
    cmap = _class_colormap(len(classes))
    ax.contourf(xx, yy, codes, levels=np.arange(len(classes) + 1) - 0.5, cmap=cmap,
                alpha=0.3)
    for k, label in enumerate(classes):
        mask = y == label
        if mask.any():
            ax.scatter(X[mask, 0], X[mask, 1], color=cmap(k), edgecolors="k",
                       linewidths=0.5, s=20, label=str(label))
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title("decision boundary")
    ax.legend(title="class", loc="best")
    return _finish(fig, path)


def _class_colormap(n_classes):
    from matplotlib.colors import ListedColormap
    palette = ["tab:blue", "tab:red", "tab:green", "tab:orange", "tab:purple",
               "tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan"]
    return ListedColormap([palette[k % len(palette)] for k in range(n_classes)])


def plot_confusion_matrix(y_true, y_pred, labels=None, path=None, *, normalize=False):
    """Draw the confusion matrix as a heatmap with the value written in each cell.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like of shape (n_classes,), optional
        See :func:`confusion_matrix`.
    path : str or path-like, optional
        Where to save the figure as PNG.
    normalize : bool, default False
        If True, divide each row by its total, so that a cell is the fraction
        of the true class predicted as that column (rows of zeros stay 0).

    Returns
    -------
    matplotlib.figure.Figure
        One Axes whose image holds the (normalized) matrix, rows true and
        columns predicted, with one text per cell.
    """
    matrix, labels = confusion_matrix(y_true, y_pred, labels)
    if labels.size == 0:
        raise ValueError("y_true and y_pred are empty: there is no class to plot")
    values = matrix.astype(float)
    if normalize:
        totals = values.sum(axis=1, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    k = labels.size
    fig, ax = _new_figure(figsize=(1.0 + 0.6 * max(k, 4), 0.6 + 0.6 * max(k, 4)))
    image = ax.imshow(values, cmap="Blues", vmin=0.0,
                      vmax=1.0 if normalize else max(values.max(), 1.0))
    colorbar = fig.colorbar(image, ax=ax)
    if not normalize:
        from matplotlib.ticker import MaxNLocator
        colorbar.locator = MaxNLocator(integer=True)
    threshold = image.norm.vmax / 2.0
    for i in range(k):
        for j in range(k):
            text = f"{values[i, j]:.2f}" if normalize else str(matrix[i, j])
            ax.text(j, i, text, ha="center", va="center",
                    color="white" if values[i, j] > threshold else "black")
    names = [str(label) for label in labels.tolist()]
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix" + (" (row-normalized)" if normalize else ""))
    return _finish(fig, path)


def plot_learning_rate(schedule, epochs, path=None):
    """Plot a learning-rate schedule α(epoch) for epochs 0, 1, ..., epochs − 1.

    Parameters
    ----------
    schedule : callable
        Maps an epoch (int, from 0) to a learning rate, e.g. the notes'
        rational decay ``lambda i: 0.2 / (1 + i)``.
    epochs : int
        Number of epochs, at least 1.
    path : str or path-like, optional
        Where to save the figure as PNG.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes with one line: x the epochs, y the learning rates.
    """
    epochs = check_int("epochs", epochs, 1)
    rates = np.array([float(schedule(epoch)) for epoch in range(epochs)])
    fig, ax = _new_figure()
    ax.plot(np.arange(epochs), rates, marker="." if epochs <= 50 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate α")
    ax.set_title("learning-rate schedule")
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def plot_search(rows, key, path=None, *, scale="linear"):
    """Dev error of each successful trial against the value it had for ``key``.

    Parameters
    ----------
    rows : list of dict, or a :class:`mllib.tune.SearchResult`
        A search's ``trials``, or the result itself. Given successive
        halving's result, the rows of every rung are drawn: rung 0 holds every
        trial at the same small budget, the one comparison of all of them on
        equal terms.
    key : str
        A searched setting.
    scale : {"linear", "log", "log1m"}
        The space's scale: "log" puts the values on a log axis, "log1m" puts
        1 − value on one (for β searched by ``one_minus_loguniform``), labelled
        with the values themselves. Values that are not numbers (lists, names)
        are placed as categories.

    A candidate trained again with other seeds (``repeats``) has an error bar of its
    mean with its 95 % interval, and a cross-validated trial (``cv``) one of ± the
    standard deviation over its folds.

    Rows with a ``"rung"`` (successive halving) are drawn one series per rung,
    each with its colour, marker and legend entry naming its epochs: a dev
    error after 2 epochs and one after 54 are not comparable, and in a single
    cloud they make trends that are not there.
    """
    ok = [row for row in search_rows(rows) if row["status"] == "ok" and key in row["params"]]
    values = [row["params"][key] for row in ok]
    fig, ax = _new_figure()
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        x = [1.0 - v for v in values] if scale == "log1m" else values
        scatter_by_rung(ax, ok, x)
        interval_bars(ax, ok, x)
        if scale in ("log", "log1m"):
            log_axis(ax, one_minus=scale == "log1m")
        ax.set_xlabel(f"{key} (log scale of 1 − {key})" if scale == "log1m"
                      else f"{key}{' (log scale)' if scale == 'log' else ''}")
    else:
        names = sorted({str(v) for v in values})
        x = [names.index(str(v)) for v in values]
        scatter_by_rung(ax, ok, x, dodge=0.3)
        interval_bars(ax, ok, x)
        ax.set_xticks(range(len(names)), names)
        ax.set_xlabel(key)
    ax.set_ylabel("dev error")
    ax.set_title(f"dev error against {key} ({len({row['trial'] for row in ok})} trials)")
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def plot_rungs(rungs, path=None):
    """Successive halving: each trial's dev error per rung, a line through the rungs it reached."""
    fig, ax = _new_figure()
    trials = sorted({row["trial"] for rung in rungs for row in rung})
    for trial in trials:
        points = [(k, row["dev_error"]) for k, rung in enumerate(rungs) for row in rung
                  if row["trial"] == trial and row["status"] == "ok"]
        if points:
            ax.plot(*zip(*points), marker="o", alpha=0.6)
    budgets = [max((row["epochs"] for row in rung if row["epochs"]), default=None)
               for rung in rungs]
    ax.set_xticks(range(len(rungs)), [f"{k}: {b} epochs" if b else str(k)
                                      for k, b in enumerate(budgets)])
    ax.set_xlabel("rung")
    ax.set_ylabel("dev error")
    ax.set_title(f"successive halving: {len(trials)} trials")
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def plot_curves(rows, path=None):
    """A pruned search: every trial's dev error against the epochs it ran.

    Parameters
    ----------
    rows : list of dict, or a :class:`mllib.tune.SearchResult`
        A pruned search's trials: each ok row has its ``curve``, ``[[epoch,
        error], ...]``, and ``pruned``.
    path : str or path-like, optional
        Where to save the figure as PNG.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes: a line per trial. Those that ran their whole budget are
        coloured, the best one thicker; the pruned ones are grey, each ending in
        a cross at the epoch it was stopped at.
    """
    rows = [row for row in getattr(rows, "trials", rows)
            if row["status"] == "ok" and row.get("curve")]
    if not rows:
        raise ValueError("there is no curve to plot: give the rows of a pruned search "
                         "(pruner=...) with at least one trial that succeeded")
    full = [row for row in rows if not row["pruned"]]
    best = min(full, key=lambda row: (row["dev_error"], row["trial"]), default=None)
    fig, ax = _new_figure()
    for row in rows:
        epochs, errors = zip(*row["curve"])
        if row["pruned"]:
            ax.plot(epochs, errors, color="tab:gray", alpha=0.5, linewidth=1)
            ax.plot(epochs[-1], errors[-1], marker="x", color="tab:gray", linestyle="none")
        else:
            ax.plot(epochs, errors, linewidth=2.5 if row is best else 1.2, alpha=0.9,
                    label=f"best: trial {row['trial']}" if row is best else None)
    ax.plot([], [], marker="x", color="tab:gray", label="pruned (× where it stopped)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("dev error")
    ax.set_title(f"dev error per epoch: {len(rows)} trials, "
                 f"{len(rows) - len(full)} pruned")
    ax.legend()
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def plot_learning_curve(curve, path=None):
    """Train and dev error against the number of training rows (notes §4); each dev point
    is labelled with the epochs its size trained, and the axis says what was held equal."""
    fig, ax = _new_figure()
    ax.plot(curve.sizes, curve.train_error, marker="o", label="train")
    ax.plot(curve.sizes, curve.dev_error, marker="o", label="dev")
    for n, error, epochs in zip(curve.sizes, curve.dev_error, curve.epochs):
        ax.annotate(f"{epochs} ep", (n, error), textcoords="offset points", xytext=(0, 6),
                    ha="center", fontsize="small")
    held = (f"{min(curve.steps)} to {max(curve.steps)} optimizer steps each"
            if curve.budget == "steps" else f"{curve.epochs[0]} epochs each")
    ax.set_xlabel(f"training rows ({held})")
    ax.set_ylabel("error")
    ax.set_title(f"learning curve: {curve.diagnosis.verdict}")
    ax.legend()
    ax.grid(alpha=0.3)
    return _finish(fig, path)
