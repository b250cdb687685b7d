"""Tests of mllib.plots: the confusion matrix by hand, and what each figure draws and saves."""

import re
import subprocess
import sys

import numpy as np
import pytest

from mllib import plots
from mllib.datasets import make_flower
from mllib.tune import LearningCurve, loguniform, successive_halving

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert len(data) > len(PNG_SIGNATURE) and data.startswith(PNG_SIGNATURE)


# -- confusion_matrix --------------------------------------------------------

def test_confusion_matrix_by_hand_with_strings_and_a_never_predicted_class():
    y_true = ["cat", "dog", "dog", "bird", "cat", "dog", "bird"]
    y_pred = ["cat", "cat", "dog", "cat", "cat", "dog", "dog"]
    matrix, labels = plots.confusion_matrix(y_true, y_pred)
    assert labels.tolist() == ["bird", "cat", "dog"]  # "bird" is never predicted
    expected = [[0, 1, 1],   # true bird
                [0, 2, 0],   # true cat
                [0, 1, 2]]   # true dog
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.dtype == np.int64 and matrix.sum() == len(y_true)


def test_confusion_matrix_follows_given_label_order_and_ignores_others():
    matrix, labels = plots.confusion_matrix([2, 0, 1, 1, 3], [2, 1, 1, 0, 3], labels=[2, 1, 0])
    assert labels.tolist() == [2, 1, 0]
    np.testing.assert_array_equal(matrix, [[1, 0, 0], [0, 1, 1], [0, 1, 0]])


def test_confusion_matrix_includes_a_given_label_that_never_occurs():
    matrix, labels = plots.confusion_matrix([0, 1], [1, 1], labels=[0, 1, 2])
    np.testing.assert_array_equal(matrix, [[0, 1, 0], [0, 1, 0], [0, 0, 0]])


def test_confusion_matrix_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        plots.confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="unique"):
        plots.confusion_matrix([0, 1], [0, 1], labels=[0, 1, 0])


# -- plot_cost -----------------------------------------------------------------

HISTORY = {"cost": [0.9, 0.5, 0.3, 0.25], "val_cost": [1.0, 0.7, 0.6, 0.65],
           "accuracy": [0.5, 0.7, 0.8, 0.9], "val_accuracy": [0.4, 0.6, 0.7, 0.7]}


@pytest.mark.parametrize("metric", ["cost", "accuracy"])
def test_plot_cost_draws_train_and_dev_curves(tmp_path, metric):
    path = tmp_path / "cost.png"
    fig = plots.plot_cost(HISTORY, path, metric=metric)
    assert_png(path)
    (ax,) = fig.axes
    train, dev = ax.get_lines()
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(train.get_ydata(), HISTORY[metric])
    np.testing.assert_array_equal(dev.get_ydata(), HISTORY["val_" + metric])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "dev"]
    assert ax.get_ylabel() == metric and ax.get_xlabel() == "epoch"


def test_plot_cost_without_dev_curve_and_from_a_history_object():
    class History:
        history = {"cost": [3.0, 2.0]}

    fig = plots.plot_cost(History())
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_ydata(), [3.0, 2.0])


def test_plot_cost_unknown_metric_lists_the_keys():
    with pytest.raises(ValueError, match="'loss'.*'accuracy', 'cost'"):
        plots.plot_cost(HISTORY, metric="loss")


# -- plot_decision_boundary ----------------------------------------------------

def test_plot_decision_boundary_shades_the_predicted_regions(tmp_path):
    X = np.array([[-1.0, -1.0], [-0.5, 1.0], [1.0, 0.5], [0.7, -1.0], [0.2, 0.3]])
    y = np.array([0, 0, 1, 1, 1])
    calls = []

    def predict(G):
        calls.append(G.shape)
        return (G[:, 0] > 0).astype(int)

    path = tmp_path / "boundary.png"
    fig = plots.plot_decision_boundary(predict, X, y, path, resolution=30)
    assert_png(path)
    assert calls == [(900, 2)]
    ax = fig.axes[0]
    contours = [c for c in ax.collections if hasattr(c, "levels")]
    scatters = [c for c in ax.collections if not hasattr(c, "levels")]
    assert len(contours) == 1
    np.testing.assert_array_equal(contours[0].levels, [-0.5, 0.5, 1.5])
    assert len(scatters) == 2
    offsets = np.concatenate([s.get_offsets() for s in scatters])
    np.testing.assert_array_equal(offsets, np.concatenate([X[y == 0], X[y == 1]]))
    x_low, x_high = ax.get_xlim()
    assert x_low <= -1.0 and x_high >= 1.0


def test_plot_decision_boundary_with_string_labels():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    y = np.array(["a", "b", "c"])
    fig = plots.plot_decision_boundary(
        lambda G: np.where(G[:, 0] < 0.5, "a", np.where(G[:, 0] < 1.5, "b", "c")),
        X, y, resolution=10)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["a", "b", "c"]


@pytest.mark.parametrize("X", [np.zeros((5, 3)), np.zeros((5, 1)), np.zeros(5)])
def test_plot_decision_boundary_needs_exactly_two_features(X):
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        plots.plot_decision_boundary(lambda G: np.zeros(len(G)), X, np.zeros(5))


def test_plot_decision_boundary_checks_predict_output_and_y():
    X = np.random.default_rng(0).standard_normal((6, 2))
    with pytest.raises(ValueError, match="one label per row"):
        plots.plot_decision_boundary(lambda G: np.zeros(3), X, np.zeros(6), resolution=5)
    with pytest.raises(ValueError, match="y must have 6"):
        plots.plot_decision_boundary(lambda G: np.zeros(len(G)), X, np.zeros(5))
    with pytest.raises(ValueError, match="resolution.*1"):
        plots.plot_decision_boundary(lambda G: np.zeros(len(G)), X, np.zeros(6), resolution=1)


# -- plot_confusion_matrix -------------------------------------------------------

def test_plot_confusion_matrix_writes_counts_in_the_cells(tmp_path):
    y_true = ["cat", "dog", "dog", "bird", "cat", "dog", "bird"]
    y_pred = ["cat", "cat", "dog", "cat", "cat", "dog", "dog"]
    path = tmp_path / "cm.png"
    fig = plots.plot_confusion_matrix(y_true, y_pred, path=path)
    assert_png(path)
    ax = fig.axes[0]
    (image,) = ax.get_images()
    expected = np.array([[0, 1, 1], [0, 2, 0], [0, 1, 2]])
    np.testing.assert_array_equal(image.get_array(), expected)
    cells = {(t.get_position()[1], t.get_position()[0]): t.get_text() for t in ax.texts}
    assert cells == {(i, j): str(expected[i, j]) for i in range(3) for j in range(3)}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["bird", "cat", "dog"]


def test_plot_confusion_matrix_normalizes_rows_and_keeps_empty_rows_zero():
    fig = plots.plot_confusion_matrix([0, 0, 0, 1], [0, 1, 1, 1], labels=[0, 1, 2],
                                      normalize=True)
    ax = fig.axes[0]
    expected = [[1 / 3, 2 / 3, 0], [0, 1, 0], [0, 0, 0]]
    np.testing.assert_allclose(ax.get_images()[0].get_array(), expected)
    assert sorted(t.get_text() for t in ax.texts)[-3:] == ["0.33", "0.67", "1.00"]


# -- plot_learning_rate ----------------------------------------------------------

def test_plot_learning_rate_draws_the_schedule(tmp_path):
    def rational_decay(epoch, eta=1.0, alpha=0.2):
        return alpha / (1 + eta * epoch)

    path = tmp_path / "lr.png"
    fig = plots.plot_learning_rate(rational_decay, 10, path)
    assert_png(path)
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_xdata(), np.arange(10))
    np.testing.assert_allclose(line.get_ydata(), [0.2 / (1 + i) for i in range(10)],
                               rtol=0, atol=0)


@pytest.mark.parametrize("epochs", [0, -3, 2.5, True])
def test_plot_learning_rate_rejects_bad_epochs(epochs):
    with pytest.raises(ValueError, match=f"epochs.*{epochs!r}"):
        plots.plot_learning_rate(lambda e: 0.1, epochs)


# -- plot_learning_curve ----------------------------------------------------------

@pytest.mark.parametrize("budget, epochs, steps, xlabel", [
    ("steps", [40, 14, 4], [40, 42, 40], "training rows (40 to 42 optimizer steps each)"),
    ("epochs", [4, 4, 4], [4, 12, 40], "training rows (4 epochs each)"),
])
def test_plot_learning_curve_shows_the_epochs_and_steps_of_each_size(tmp_path, budget, epochs,
                                                                     steps, xlabel):
    curve = LearningCurve([20, 70, 300], [0.0, 0.1, 0.2], [0.5, 0.4, 0.3], epochs, steps,
                          budget)
    fig = plots.plot_learning_curve(curve, tmp_path / "curve.png")
    ax = fig.axes[0]
    assert [line.get_ydata().tolist() for line in ax.get_lines()] == [[0.0, 0.1, 0.2],
                                                                     [0.5, 0.4, 0.3]]
    assert [text.get_text() for text in ax.texts] == [f"{e} ep" for e in epochs]
    assert ax.get_xlabel() == xlabel
    assert_png(tmp_path / "curve.png")
# -- plot_search -------------------------------------------------------------------

def search_rows(key, values):
    return [{"trial": i, "status": "ok", "params": {key: float(v)}, "dev_error": 0.1 + 0.01 * i}
            for i, v in enumerate(values)]


def drawn_tick_labels(ax):
    """The x tick labels as drawn: with text, inside the view, from left to right."""
    ax.figure.canvas.draw()
    low, high = sorted(ax.get_xlim())
    labels = [label for label in ax.get_xticklabels() + ax.get_xticklabels(minor=True)
              if label.get_text() and low <= label.get_position()[0] <= high]
    return sorted(labels, key=lambda label: label.get_window_extent().x0)


def assert_apart(labels):
    boxes = [label.get_window_extent() for label in labels]
    for left, right in zip(boxes, boxes[1:]):
        assert left.x1 < right.x0, "tick labels overlap"


def number_shown(text):
    r"""The number a label shows: "0.005", or matplotlib's "$\mathdefault{10^{-2}}$"."""
    match = re.fullmatch(r"\$\\mathdefault\{(?:([\d.]+)\\times)?10\^\{(-?\d+)\}\}\$", text)
    if match:
        return float(match[1] or 1) * 10.0 ** int(match[2])
    return float(text)


@pytest.mark.parametrize("low, high", [(0.002, 0.008), (0.003, 0.05), (0.002, 0.0025),
                                       (1e-4, 0.3)])
def test_a_log_axis_has_labels_that_can_be_read_at_any_span(low, high):
    # [0.002, 0.008] used to have no label at all, [0.003, 0.05] only 10^-2.
    fig = plots.plot_search(search_rows("lr", np.geomspace(low, high, 5)), "lr", scale="log")
    labels = drawn_tick_labels(fig.axes[0])
    assert len(labels) >= 2
    assert_apart(labels)
    positions = [label.get_position()[0] for label in labels]
    assert [number_shown(label.get_text()) for label in labels] == pytest.approx(
        positions, rel=1e-12)
    assert positions == sorted(positions)


@pytest.mark.parametrize("low, high", [(0.9, 0.999), (0.95, 0.97), (0.5, 0.99)])
def test_the_one_minus_beta_axis_is_labelled_in_beta(low, high):
    betas = 1.0 - np.geomspace(1.0 - high, 1.0 - low, 5)
    fig = plots.plot_search(search_rows("beta1", betas), "beta1", scale="log1m")
    ax = fig.axes[0]
    labels = drawn_tick_labels(ax)
    assert len(labels) >= 2
    assert_apart(labels)
    shown = [float(label.get_text()) for label in labels]
    assert shown == pytest.approx([1.0 - label.get_position()[0] for label in labels],
                                  rel=0, abs=1e-12)
    assert all(0.0 < beta < 1.0 for beta in shown) and shown == sorted(shown)  # β grows →
    if (low, high) == (0.9, 0.999):
        assert [label.get_text() for label in labels] == ["0.9", "0.99", "0.999"]
    (points,) = ax.collections
    np.testing.assert_array_equal(points.get_offsets()[:, 0], 1.0 - betas)   # still 1 − β
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "beta1 (log scale of 1 − beta1)"


@pytest.fixture(scope="module")
def halving():
    X, y = make_flower(160, seed=1)
    space = {"learning_rate": loguniform(1e-3, 3e-1), "hidden": [[4], [8]]}
    return successive_halving(space, (X[:120], y[:120]), (X[120:], y[120:]), trials=6,
                              min_epochs=1, max_epochs=4, factor=2,
                              settings={"batch_size": 32}, seed=2)


def test_halving_plots_every_rung_apart_with_its_epochs(halving):
    assert [len(rung) for rung in halving.rungs] == [6, 3, 2]
    fig = plots.plot_search(halving, "learning_rate", scale="log")
    ax = fig.axes[0]
    labels = drawn_tick_labels(ax)                # the legend takes room from the axis
    assert len(labels) >= 2
    assert_apart(labels)
    assert len(ax.collections) == 3
    for points, rung in zip(ax.collections, halving.rungs):
        expected = [(row["params"]["learning_rate"], row["dev_error"]) for row in rung]
        np.testing.assert_array_equal(points.get_offsets(), expected)
    colours = {tuple(points.get_facecolor()[0]) for points in ax.collections}
    markers = {points.get_paths()[0].vertices.tobytes() for points in ax.collections}
    assert len(colours) == 3 and len(markers) == 3
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["rung 0: 1 epoch", "rung 1: 2 epochs", "rung 2: 4 epochs"]
    assert ax.get_title() == "dev error against learning_rate (6 trials)"


def test_halving_trials_alone_are_told_apart_by_their_last_rung(halving):
    # result.trials holds each trial's row from the last rung it reached
    fig = plots.plot_search(halving.trials, "hidden")
    ax = fig.axes[0]
    rungs = sorted({row["rung"] for row in halving.trials})
    assert len(ax.collections) == len(rungs) == 3
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["rung 0: 1 epoch", "rung 1: 2 epochs", "rung 2: 4 epochs"]
    for points, rung in zip(ax.collections, rungs):
        assert len(points.get_offsets()) == sum(row["rung"] == rung for row in halving.trials)


def test_random_search_rows_make_one_series_without_a_legend():
    rows = search_rows("lr", [0.01, 0.02, 0.04])
    ax = plots.plot_search(rows, "lr", scale="log").axes[0]
    assert len(ax.collections) == 1 and ax.get_legend() is None
    np.testing.assert_array_equal(ax.collections[0].get_offsets(),
                                  [(row["params"]["lr"], row["dev_error"]) for row in rows])


def curve_row(trial, curve, pruned):
    return {"trial": trial, "status": "ok", "pruned": pruned, "curve": curve,
            "dev_error": curve[-1][1], "epochs": curve[-1][0]}


def test_the_curves_of_a_pruned_search_mark_the_pruned_trials(tmp_path):
    rows = [curve_row(0, [[1, 0.5], [2, 0.3], [3, 0.2]], False),
            curve_row(1, [[1, 0.6], [2, 0.5]], True),
            curve_row(2, [[1, 0.4], [2, 0.25], [3, 0.1]], False),
            {"trial": 3, "status": "failed", "pruned": False, "dev_error": None}]
    fig = plots.plot_curves(rows, tmp_path / "curves.png")
    assert_png(tmp_path / "curves.png")
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if len(line.get_xdata())]
    drawn = [(list(line.get_xdata()), list(line.get_ydata())) for line in lines]
    assert drawn == [([1, 2, 3], [0.5, 0.3, 0.2]), ([1, 2], [0.6, 0.5]), ([2], [0.5]),
                     ([1, 2, 3], [0.4, 0.25, 0.1])]
    grey = [line for line in lines if line.get_color() == "tab:gray"]
    assert len(grey) == 2 and grey[1].get_marker() == "x"      # the pruned trial and its end
    widths = [lines[0].get_linewidth(), lines[3].get_linewidth()]
    assert widths[1] > widths[0]                                # trial 2 is the best
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["best: trial 2", "pruned (× where it stopped)"]
    assert ax.get_title() == "dev error per epoch: 3 trials, 1 pruned"
    with pytest.raises(ValueError, match="there is no curve to plot"):
        plots.plot_curves(rows[3:])


# -- matplotlib is optional ------------------------------------------------------

def test_plots_never_import_pyplot():
    # pyplot would pick an interactive backend and keep every figure alive
    code = ("import sys, numpy as np; from mllib import plots; "
            "plots.plot_cost({'cost': [1.0]}); plots.plot_learning_rate(lambda e: 1.0, 2); "
            "plots.plot_confusion_matrix([0, 1], [1, 1]); "
            "plots.plot_decision_boundary(lambda G: G[:, 0] > 0, np.eye(2), [0, 1]); "
            "assert 'matplotlib' in sys.modules; "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("call", [
    lambda: plots.plot_cost(HISTORY),
    lambda: plots.plot_learning_rate(lambda e: 0.1, 3),
    lambda: plots.plot_confusion_matrix([0, 1], [1, 1]),
    lambda: plots.plot_decision_boundary(lambda G: np.zeros(len(G)), np.eye(2), [0, 1]),
])
def test_without_matplotlib_the_error_says_how_to_install(monkeypatch, call):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "mllib\[plot\]"'):
        call()


def test_confusion_matrix_needs_no_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    matrix, _ = plots.confusion_matrix([1, 2], [2, 2])
    np.testing.assert_array_equal(matrix, [[0, 1], [0, 1]])


@pytest.mark.parametrize("scale, value", [("log1m", 0.9), ("log", 0.01)])
def test_a_search_of_one_trial_draws_a_decade_around_it_without_a_warning(scale, value):
    rows = [{"trial": 0, "status": "ok", "params": {"beta": value}, "dev_error": 0.1}]
    fig = plots.plot_search(rows, "beta", scale=scale)   # filterwarnings=error: no warning
    low, high = sorted(fig.axes[0].get_xlim())
    x = 1.0 - value if scale == "log1m" else value
    assert low == pytest.approx(x / np.sqrt(10.0), rel=1e-12)
    assert high == pytest.approx(x * np.sqrt(10.0), rel=1e-12)


def test_repeats_and_folds_are_drawn_as_intervals():
    rows = search_rows("lr", [0.001, 0.01, 0.1])
    rows[0].update(dev_error_mean=0.2, dev_error_low=0.15, dev_error_high=0.3)
    rows[1].update(fold_sd=0.05)
    ax = plots.plot_search(rows, "lr", scale="log").axes[0]
    (repeats, folds) = ax.containers
    (bars,) = repeats.lines[2]
    np.testing.assert_allclose(bars.get_segments(), [[[0.001, 0.15], [0.001, 0.3]]])
    np.testing.assert_array_equal(repeats.lines[0].get_xydata(), [[0.001, 0.2]])
    (bars,) = folds.lines[2]
    np.testing.assert_allclose(bars.get_segments(), [[[0.01, 0.06], [0.01, 0.16]]])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "mean of the repeats, 95 % interval", "mean ± sd over the folds"]
    assert plots.plot_search(search_rows("lr", [0.1, 0.2]), "lr").axes[0].containers == []
