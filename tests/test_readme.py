"""Every ```python block of the README runs, in order, in one namespace."""

import pathlib
import re

import matplotlib

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_readme_starts_with_the_two_commands():
    lines = README.read_text().splitlines()
    assert lines[2] == "```bash"
    install_and_run, install_and_test = lines[3], lines[4]
    assert "pip install" in install_and_run and "mllib train" in install_and_run
    assert 'pip install -e ".[test]"' in install_and_test and "pytest" in install_and_test


def test_readme_python_snippets_run(capsys):
    matplotlib.use("Agg")
    blocks = BLOCK.findall(README.read_text())
    assert len(blocks) >= 10
    namespace = {}
    for number, code in enumerate(blocks, start=1):
        exec(compile(code, f"README.md block {number}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "['setosa' 'setosa' 'setosa']" in out
    assert "['W1', 'W2', 'W3', 'b3', 'beta1', 'beta2', 'gamma1', 'gamma2']" in out
