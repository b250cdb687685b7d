import importlib.util
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [0, 1])
def test_digits_example_reaches_97_percent(seed):
    scores = load_example("train_digits").main(seed=seed, verbose=0)
    assert scores["accuracy"] >= 0.97


def test_gradcheck_demo_passes(capsys):
    assert load_example("gradcheck_demo").main() == 0
    assert "OK" in capsys.readouterr().out
