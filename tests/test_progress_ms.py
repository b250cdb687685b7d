"""ProgressLogger's figures mean something: short epochs in milliseconds, and on a terminal
a bar over the epochs, with a second one over the batches once epochs are slow."""

import io
import re

import numpy as np
import pytest

from mllib import NeuralNetwork, ProgressLogger
from mllib.training.engine.callbacks import format_logs, format_seconds


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("seconds, text", [(0.000213, "0.213ms"), (0.0123, "12.3ms"),
                                           (0.84, "840ms"), (0.9996, "1e+03ms"),
                                           (2.3051, "2.31s"), (75.0, "75.00s")])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_format_logs_shows_a_fast_epoch_in_ms():
    assert format_logs({"cost": 0.5, "lr": 0.01, "time": 0.0004}) == "cost 0.5000  lr 0.01  0.4ms"


def small_fit(logger, epochs=3):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    model = NeuralNetwork([2, 3, 1], ["tanh", "sigmoid"], seed=0)
    model.fit(X, y, epochs=epochs, batch_size=8, callbacks=[logger])
    return model


def test_every_epoch_line_has_a_nonzero_time_in_ms():
    stream = io.StringIO()
    small_fit(ProgressLogger(verbose=2, stream=stream))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    for line in lines:
        match = re.search(r"  (\d+(?:\.\d+)?)ms$", line)
        assert match and float(match.group(1)) > 0, line


def test_a_terminal_gets_an_epoch_bar_and_batch_bars_when_epochs_are_slow():
    fast = Terminal()
    small_fit(ProgressLogger(verbose=1, stream=fast, slow_epoch=float("inf")))
    assert "3/3" in fast.getvalue() and "epoch" in fast.getvalue()
    assert "batch" not in fast.getvalue()

    slow = Terminal()   # every epoch counts as slow: the second and third show their 5 batches
    small_fit(ProgressLogger(verbose=1, stream=slow, slow_epoch=0.0))
    assert re.search(r" \d/5 \[.*batch/s\]", slow.getvalue())
    assert "3/3" in slow.getvalue()


def test_verbose_0_writes_nothing_even_on_a_terminal():
    stream = Terminal()
    small_fit(ProgressLogger(verbose=0, stream=stream))
    assert stream.getvalue() == ""
