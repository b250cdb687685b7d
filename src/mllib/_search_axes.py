"""The parts of :func:`mllib.plots.plot_search`: which rows, one series per rung, log axes.

matplotlib is imported inside the functions, as in :mod:`mllib.plots`.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np


def search_rows(rows):
    """The rows to draw: every rung's of a halving's SearchResult, else the trials."""
    rungs = getattr(rows, "rungs", None)
    if rungs is not None:
        return [row for rung in rungs for row in rung]
    return getattr(rows, "trials", rows)


_RUNG_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def scatter_by_rung(ax, ok, x, *, dodge=0.0):
    """One scatter of x against dev error or, for rows with a rung, one per rung.

    The rungs' colours run along viridis, from the fewest epochs to the most.
    A ``dodge`` (a width in data units) sets the rungs side by side, so that on
    a categorical axis they do not hide each other.
    """
    errors = [row["dev_error"] for row in ok]
    if not ok or "rung" not in ok[0]:
        ax.scatter(x, errors)
        return
    from matplotlib import colormaps

    rungs = sorted({row["rung"] for row in ok})
    colours = colormaps["viridis"](np.linspace(0.0, 0.85, len(rungs)))
    for k, rung in enumerate(rungs):
        at = [i for i, row in enumerate(ok) if row["rung"] == rung]
        shift = dodge * (k / (len(rungs) - 1) - 0.5) if len(rungs) > 1 else 0.0
        epochs = sorted({ok[i]["epochs"] for i in at})
        ax.scatter([x[i] + shift for i in at], [errors[i] for i in at], color=colours[k],
                   marker=_RUNG_MARKERS[k % len(_RUNG_MARKERS)],
                   label=f"rung {rung}: {_epochs(epochs)}")
    # outside the Axes, on the right: inside, it would hide some of the points
    ax.legend(title="successive halving", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def interval_bars(ax, ok, x):
    """Error bars where rows measured their spread: a repeated candidate's mean dev error
    with its 95 % interval (``dev_error_low`` ... ``dev_error_high``), and a
    cross-validated trial's mean ± one standard deviation over its folds. A legend names
    them; without such rows, nothing is drawn."""
    repeated = [(at, row) for at, row in zip(x, ok) if row.get("dev_error_low") is not None]
    if repeated:
        means = [row["dev_error_mean"] for _, row in repeated]
        ax.errorbar([at for at, _ in repeated], means, fmt="D", color="tab:red", capsize=4,
                    yerr=[[m - row["dev_error_low"] for m, (_, row) in zip(means, repeated)],
                          [row["dev_error_high"] - m for m, (_, row) in zip(means, repeated)]],
                    label="mean of the repeats, 95 % interval")
    folded = [(at, row) for at, row in zip(x, ok) if row.get("fold_sd") is not None]
    if folded:
        ax.errorbar([at for at, _ in folded], [row["dev_error"] for _, row in folded],
                    yerr=[row["fold_sd"] for _, row in folded], fmt="none", ecolor="tab:gray",
                    capsize=2, label="mean ± sd over the folds")
    if repeated or folded:
        ax.legend()


def _epochs(epochs):
    """"1 epoch", "6 epochs", or "5–6 epochs" for a rung whose trials stopped apart."""
    if len(epochs) > 1:
        return f"{epochs[0]}–{epochs[-1]} epochs"
    return f"{epochs[0]} epoch{'s' if epochs[0] != 1 else ''}"


def log_axis(ax, *, one_minus):
    """Put x on a log scale whose labels can be read at any span; for 1 − β, labelled β.

    matplotlib labels the powers of ten, which leaves an axis spanning fewer
    than two of them with one label or none (a learning rate in [0.002,
    0.008]). There the labels are plain numbers at 1, 2 and 5 times the
    powers of ten or, on 0.8 of a decade or less, where two of those may not
    be in view, at up to four linear steps of 1, 2, 2.5 or 5 times a power of
    ten. Denser labels would overlap, in particular when a legend narrows the
    axis. The 1 − β axis is turned around, so that β grows to the right.
    """
    from matplotlib.ticker import (FuncFormatter, LogLocator, MaxNLocator, NullFormatter,
                                   StrMethodFormatter)

    first, last = ax.dataLim.intervalx
    if first == last:     # one value (one trial): a decade around it, not a singular axis
        ax.set_xlim(first / np.sqrt(10.0), first * np.sqrt(10.0))
    ax.set_xscale("log")
    low, high = np.log10(ax.get_xlim())
    if np.floor(high) - np.ceil(low) < 1:        # fewer than two powers of ten in view
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)) if high - low > 0.8
                                   else MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
    if one_minus:
        ax.xaxis.set_major_formatter(FuncFormatter(one_minus_label))
        ax.invert_xaxis()
    ax.xaxis.set_minor_formatter(NullFormatter())


def one_minus_label(x, pos=None):
    """The label of the tick at x = 1 − β: β, to the decimals x has (x = 0.0025: 0.9975)."""
    decimals = max(0, -Decimal(f"{x:.3g}").as_tuple().exponent)
    return f"{1.0 - x:.{decimals}f}"
