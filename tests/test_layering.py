"""The import layers of DESIGN.md, checked on the source of every module with ``ast``.

The math (``nn``, ``optim``) imports NumPy, the standard library, itself and
the shared argument checks, nothing more; ``data`` likewise; ``io`` may add
``nn`` and ``optim``; ``training`` may use all of these but never ``tune`` or
the interfaces (``cli``, ``sklearn``, ``plots``, ``datasets``); ``settings`` (the
one vocabulary of a run's settings) may use ``training`` and below, and
``tune`` ``settings`` and below. ``preprocessing`` (CSV tables to arrays) may use ``data``,
``io`` (whose bounded reads read its JSON file) and the shared checks, nothing else of
mllib: not ``training``, ``tune`` or the interfaces, ``cli`` among them, which is built
on it. No module of these layers
imports a third-party package other than NumPy, not even inside a function
(``OPTIONAL`` lists the known exceptions; pandas reads the CSV files). The shared
``mllib._validation`` imports NumPy and the standard library (and so does ``mllib._jit``,
the switch of the compiled kernels, which the math may use too), ``mllib._version``
``mllib._streams`` and ``mllib._interrupts`` the standard library only.

Relative imports are resolved to absolute names first, and ``from .. import
name`` counts as importing the package itself (which loads every layer)
unless ``name`` is a submodule.

The same imports, at module granularity (inside packages too, a package being its
``__init__``) and without those under ``if TYPE_CHECKING:``, must form no cycle. And
no file is longer than 400 lines, no function longer than 50 lines of code (from its
``def`` to its end, without blank lines, comment-only lines and the docstring).
"""

from __future__ import annotations

import ast
import importlib.util
import io
import sys
import tokenize
from pathlib import Path

import pytest

# Found without importing it: the checks read the source only, and still run while a
# module of the package fails to import.
PACKAGE = Path(importlib.util.find_spec("mllib").origin).parent
SHARED = ("mllib._validation", "mllib._version", "mllib._streams", "mllib._interrupts",
          "mllib._jit")
STDLIB_ONLY = ("mllib._version", "mllib._streams", "mllib._interrupts")   # not even NumPy
# Known exceptions, each an optional extra imported inside a function and guarded
# by ``except ImportError``: (module, third-party package).
OPTIONAL = {("mllib.training.engine.callbacks", "tqdm"),   # ProgressLogger's bar, if installed
            ("mllib.optim.threads", "threadpoolctl"),  # BLAS's thread count, if installed
            ("mllib.tune.dask_backend", "distributed"),  # the Dask back-end, when asked for
            ("mllib.tune.result", "pandas"),       # SearchResult.table
            ("mllib.tune.metrics", "sklearn"),     # metrics other than accuracy and r2
            ("mllib.tune.asker", "optuna"),        # model-based samplers, when asked for
            ("mllib.preprocessing.read", "pandas"),    # CSV files, with the mllib[cli] extra
            # The compiled kernels of the mllib[fast] extra: mllib._jit imports the kernel
            # modules by name, guarded, only when the kernels are wanted.
            ("mllib._jit", "numba"), ("mllib.optim._kernels", "numba")}

# The mllib modules each layer may import (a prefix allows its submodules too);
# the most specific key that names a module or one of its packages applies.
RULES = {
    "mllib._validation": (),
    "mllib._version": (),
    "mllib._streams": (),
    "mllib._interrupts": (),
    "mllib._jit": (),
    "mllib.nn": ("mllib.nn", "mllib._validation", "mllib._jit"),
    "mllib.optim": ("mllib.optim", "mllib._validation", "mllib._jit"),
    "mllib.data": ("mllib.data", "mllib._validation"),
    "mllib.io": ("mllib.io", "mllib.nn", "mllib.optim", *SHARED),
    "mllib.gradcheck": ("mllib.nn", "mllib.optim", "mllib.data", "mllib.io", *SHARED),
    "mllib.training": ("mllib.training", "mllib.nn", "mllib.optim", "mllib.data", "mllib.io",
                       "mllib.gradcheck", *SHARED),
    "mllib.settings": ("mllib.settings", "mllib.training", "mllib.nn", "mllib.optim",
                       "mllib.data", "mllib.io", "mllib.gradcheck", *SHARED),
    "mllib.tune": ("mllib.tune", "mllib.settings", "mllib.training", "mllib.nn", "mllib.optim",
                   "mllib.data", "mllib.io", "mllib.gradcheck", *SHARED),
    "mllib.preprocessing": ("mllib.preprocessing", "mllib.data", "mllib.io", *SHARED),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _relative(path: Path) -> Path:
    return path.relative_to(PACKAGE.parent.parent)     # src/mllib/...


def _is_type_checking(test: ast.expr) -> bool:
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imported_modules(name: str, source: str, *, is_package: bool = False,
                     known=frozenset(SOURCES),
                     type_checking: bool = True) -> list[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in ``source``, module ``name``;
    with ``type_checking=False``, not those in the body of an ``if TYPE_CHECKING:``."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    tree = ast.parse(source)
    skipped = set()
    if not type_checking:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                skipped.update(id(inner) for statement in node.body
                               for inner in ast.walk(statement))
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module
            if node.level:
                if node.level > len(package):
                    raise ValueError(f"{name}, line {node.lineno}: relative import beyond "
                                     f"the top-level package")
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if sub in known else base))
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(name: str, imports) -> list[str]:
    """The imports that break the rules of the layer ``name`` belongs to."""
    layers = [key for key in RULES if _under(name, key)]
    if not layers:
        return []
    allowed = RULES[max(layers, key=len)]
    bad = []
    for line, target in imports:
        top = target.partition(".")[0]
        if top == "mllib":
            ok = any(_under(target, prefix) for prefix in allowed)
        else:
            ok = (top in sys.stdlib_module_names or (name, top) in OPTIONAL
                  or (top == "numpy" and name not in STDLIB_ONLY))
        if not ok:
            bad.append(f"{name}, line {line}: imports {target}")
    return bad


# -- the checker itself ----------------------------------------------------------------


@pytest.mark.parametrize("name, is_package, source, expected", [
    ("mllib.io.modelfile", False, "from .._version import __version__", "mllib._version"),
    ("mllib.io.modelfile", False, "from .. import __version__", "mllib"),
    ("mllib.io.modelfile", False, "from ..training.engine.fit import fit",
     "mllib.training.engine.fit"),
    ("mllib.io.modelfile", False, "from . import modelfile", "mllib.io.modelfile"),
    ("mllib.nn.layers.dense", False, "from ...data import one_hot", "mllib.data"),
    ("mllib.nn.layers.dense", False, "from ..init import he", "mllib.nn.init"),
    ("mllib.nn", True, "from . import activations", "mllib.nn.activations"),
    ("mllib.nn", True, "from .layers import Dense", "mllib.nn.layers"),
    ("mllib.nn", True, "from .. import training", "mllib.training"),
    ("mllib.nn.init", False, "import numpy.linalg as la", "numpy.linalg"),
    ("mllib.nn.init", False, "from numpy import random", "numpy"),
])
def test_relative_imports_resolve_to_absolute_names(name, is_package, source, expected):
    assert imported_modules(name, source, is_package=is_package) == [(1, expected)]


def test_a_relative_import_above_the_package_is_an_error():
    with pytest.raises(ValueError, match="beyond the top-level package"):
        imported_modules("mllib.nn.init", "from ... import x")


@pytest.mark.parametrize("name, source", [
    ("mllib.nn.fake", "from ..data import one_hot"),
    ("mllib.nn.layers.fake", "from ...io import read_model_file"),
    ("mllib.optim.fake", "from ..nn import init"),
    ("mllib.optim.fake", "import pandas"),
    ("mllib.data.fake", "import mllib.training"),
    ("mllib.io.fake", "from .. import __version__"),
    ("mllib.io.fake", "from ..data import Standardizer"),
    ("mllib.gradcheck", "from .training import NeuralNetwork"),
    ("mllib.training.fake", "from ..cli import main"),
    ("mllib.training.fake", "from .. import plots"),
    ("mllib.training.fake", "def f():\n    import matplotlib.pyplot"),
    ("mllib.training.engine.fit", "from tqdm import tqdm"),     # OPTIONAL names one module only
    ("mllib._version", "import numpy"),
    ("mllib._validation", "import pandas"),
    ("mllib.preprocessing.fake", "from ..cli.errors import CLIError"),
    ("mllib.preprocessing.fake", "from ..training import NeuralNetwork"),
    ("mllib.preprocessing.fake", "from ..settings import SETTING"),
    ("mllib.preprocessing.fake", "import sklearn"),
    ("mllib.preprocessing.columns", "import pandas"),   # only read imports pandas
])
def test_forbidden_imports_are_reported(name, source):
    assert len(violations(name, imported_modules(name, source))) == 1


@pytest.mark.parametrize("name, source", [
    ("mllib.nn.fake", "import math\nimport numpy as np\nfrom .._validation import check_int"),
    ("mllib.io.fake", "from .._version import __version__\nfrom ..nn import init"),
    ("mllib.training.fake", "from ..data import one_hot\nfrom ..gradcheck import check"),
    ("mllib.cli.fake", "import pandas"),     # interfaces may use their extras
    ("mllib.cli.fake", "from ..preprocessing import read_csv"),
    ("mllib.preprocessing.fake", "from ..data import one_hot\nfrom .errors import DataError"),
    ("mllib.preprocessing.read", "def f():\n    import pandas"),
])
def test_allowed_imports_pass(name, source):
    assert violations(name, imported_modules(name, source)) == []


# -- the package ----------------------------------------------------------------------


def test_every_layer_is_found():
    # Guards against a wrong path making the check below pass on nothing.
    for layer in RULES:
        assert any(_under(name, layer) for name in SOURCES), layer


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_module_keeps_to_its_layer(name):
    path = SOURCES[name]
    imports = imported_modules(name, path.read_text(encoding="utf-8"),
                               is_package=path.name == "__init__.py")
    assert violations(name, imports) == []


# -- no import cycles -----------------------------------------------------------------


def import_graph(sources=None) -> dict[str, dict[str, int]]:
    """``{module: {imported mllib module: line}}``, at module granularity: a name
    imported from a module is an edge to that module, a package is its ``__init__``."""
    sources = SOURCES if sources is None else sources
    graph = {}
    for name, path in sources.items():
        edges = graph.setdefault(name, {})
        text = path.read_text(encoding="utf-8")
        for line, target in imported_modules(name, text, is_package=path.name == "__init__.py",
                                             known=frozenset(sources), type_checking=False):
            while target and target not in sources:     # mllib.pkg.mod.attr -> mllib.pkg.mod
                target = target.rpartition(".")[0]
            if target:
                edges.setdefault(target, line)
    return graph


def find_cycle(graph) -> list[str] | None:
    """One cycle of ``graph`` (``{node: iterable of nodes}``) as ``[a, b, ..., a]``, or None."""
    done, path, on_path = set(), [], {}
    for start in sorted(graph):
        if start in done:
            continue
        stack = [(start, iter(sorted(graph.get(start, ()))))]
        path.append(start)
        on_path[start] = 0
        while stack:
            node, successors = stack[-1]
            for nxt in successors:
                if nxt in on_path:
                    return path[on_path[nxt]:] + [nxt]
                if nxt not in done:
                    on_path[nxt] = len(path)
                    path.append(nxt)
                    stack.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
            else:
                stack.pop()
                done.add(path.pop())
                del on_path[node]
    return None


@pytest.mark.parametrize("graph, expected", [
    ({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}, ["a", "b", "c", "a"]),
    ({"a": ["b", "c"], "b": ["c"], "c": ["d"], "d": ["b"]}, ["b", "c", "d", "b"]),
    ({"a": ["a"]}, ["a", "a"]),
    ({"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}, None),     # a diamond is no cycle
    ({"a": ["b"], "b": ["x"]}, None),                                 # x is not a key
    ({}, None),
])
def test_the_cycle_finder_finds_one_cycle_or_none(graph, expected):
    assert find_cycle(graph) == expected


def test_imports_under_type_checking_do_not_count():
    source = ("from typing import TYPE_CHECKING\nimport typing\n"
              "if TYPE_CHECKING:\n    from ..model.network import NeuralNetwork\n"
              "if typing.TYPE_CHECKING:\n    from . import fit\nelse:\n    from ..rows import metrics\n"
              "def f():\n    from ..model.config import Config\n")
    found = imported_modules("mllib.training.engine.checkpoint", source, type_checking=False)
    assert found == [(1, "typing"), (2, "typing"), (8, "mllib.training.rows.metrics"),
                     (10, "mllib.training.model.config")]
    assert len(imported_modules("mllib.training.engine.checkpoint", source)) == 6


def test_a_cycle_inside_a_package_is_found(tmp_path):
    files = {"mllib.pkg": "from .a import f\n", "mllib.pkg.a": "def f():\n    from . import b\n",
             "mllib.pkg.b": "from .a import f\n", "mllib.pkg.c": "import mllib.pkg\n"}
    sources = {}
    for name, text in files.items():
        path = tmp_path / (name + ("/__init__.py" if name == "mllib.pkg" else ".py"))
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        sources[name] = path
    graph = import_graph(sources)
    assert graph["mllib.pkg.c"] == {"mllib.pkg": 1}
    assert find_cycle(graph) == ["mllib.pkg.a", "mllib.pkg.b", "mllib.pkg.a"]


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert graph["mllib.training"], "no import found: the graph is empty"
    cycle = find_cycle(graph)
    if cycle:
        lines = "\n".join(f"  {_relative(SOURCES[a])}:{graph[a][b]} imports {b}"
                          for a, b in zip(cycle, cycle[1:]))
        pytest.fail(f"import cycle: {' -> '.join(cycle)}\n{lines}", pytrace=False)


# -- file and function size -----------------------------------------------------------


MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 50


def code_lines(source: str) -> set[int]:
    """The numbers of the lines that hold code: not blank, not only a comment. Every line
    of a multi-line string or bracketed expression counts."""
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                              tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines


def function_lengths(source: str) -> list[tuple[int, str, int]]:
    """``(def line, qualified name, lines of code)`` of every function and method, from
    its ``def`` line (not its decorators) to its end, without blank lines, comment-only
    lines and the docstring. A nested function counts in its parent too."""
    code = code_lines(source)
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = prefix + child.name
                lines = {n for n in code if child.lineno <= n <= child.end_lineno}
                first = child.body[0]
                if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                        and isinstance(first.value.value, str)):
                    lines -= set(range(first.lineno, first.end_lineno + 1)) - {child.lineno}
                found.append((child.lineno, qualname, len(lines)))
                visit(child, qualname + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def test_the_function_length_counter():
    source = '''\
import functools


@functools.cache
def f(x):
    """A docstring

    of several lines.
    """
    # a comment

    y = (x +
         1)       # a comment after code
    text = """a string

# not a comment
"""
    def g():
        return y
    return text, g


class C:
    async def m(self): "one line"; return 1

    def n(self):
        """Only a docstring."""
'''
    # f: lines 5 and 12-20; the blank and "#" lines inside the string are code
    assert function_lengths(source) == [(5, "f", 10), (18, "f.<locals>.g", 2),
                                        (24, "C.m", 1), (26, "C.n", 1)]


def test_no_file_is_longer_than_400_lines():
    too_long = [f"{_relative(path)}:1: {count} lines"
                for path in SOURCES.values()
                if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES]
    if too_long:
        pytest.fail(f"files over {MAX_FILE_LINES} lines:\n  " + "\n  ".join(too_long),
                    pytrace=False)


def test_no_function_is_longer_than_50_lines_of_code():
    functions = [(path, *found) for path in SOURCES.values()
                 for found in function_lengths(path.read_text(encoding="utf-8"))]
    assert len(functions) > 100, "the functions of the package were not found"
    too_long = [f"{_relative(path)}:{line}: {name} has {count} lines of code"
                for path, line, name, count in functions if count > MAX_FUNCTION_LINES]
    if too_long:
        pytest.fail(f"functions over {MAX_FUNCTION_LINES} lines of code:\n  "
                    + "\n  ".join(too_long), pytrace=False)
