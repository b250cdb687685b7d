"""The import layers of DESIGN.md, checked on the source of every module with ``ast``.

The math (``nn``, ``optim``) imports NumPy, the standard library, itself and
the shared argument checks, nothing more; ``data`` likewise; ``io`` may add
``nn`` and ``optim``; ``training`` may use all of these but never the
interfaces (``cli``, ``sklearn``, ``plots``, ``datasets``, ``tuning``). No
module of these layers imports a third-party package other than NumPy, not
even inside a function (``OPTIONAL`` lists the known exceptions). The shared
``mllib._validation`` and ``mllib._version`` import the standard library only.

Relative imports are resolved to absolute names first, and ``from .. import
name`` counts as importing the package itself (which loads every layer)
unless ``name`` is a submodule.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import mllib

PACKAGE = Path(mllib.__file__).parent
SHARED = ("mllib._validation", "mllib._version")
STDLIB_ONLY = SHARED      # not even NumPy: every layer may import these
# Known exceptions, each an optional extra imported inside a function and guarded
# by ``except ImportError``: (module, third-party package).
OPTIONAL = {("mllib.training.callbacks", "tqdm")}   # ProgressLogger's bar, if installed

# The mllib modules each layer may import (a prefix allows its submodules too);
# the most specific key that names a module or one of its packages applies.
RULES = {
    "mllib._validation": (),
    "mllib._version": (),
    "mllib.nn": ("mllib.nn", "mllib._validation"),
    "mllib.optim": ("mllib.optim", "mllib._validation"),
    "mllib.data": ("mllib.data", "mllib._validation"),
    "mllib.io": ("mllib.io", "mllib.nn", "mllib.optim", *SHARED),
    "mllib.gradcheck": ("mllib.nn", "mllib.optim", "mllib.data", "mllib.io", *SHARED),
    "mllib.training": ("mllib.training", "mllib.nn", "mllib.optim", "mllib.data", "mllib.io",
                       "mllib.gradcheck", *SHARED),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str, source: str, *, is_package: bool = False,
                     known=frozenset(SOURCES)) -> list[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in ``source``, module ``name``."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
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
    ("mllib.io.modelfile", False, "from ..training.fit import fit", "mllib.training.fit"),
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
    ("mllib.training.fit", "from tqdm import tqdm"),     # OPTIONAL names one module only
    ("mllib._validation", "import numpy"),
])
def test_forbidden_imports_are_reported(name, source):
    assert len(violations(name, imported_modules(name, source))) == 1


@pytest.mark.parametrize("name, source", [
    ("mllib.nn.fake", "import math\nimport numpy as np\nfrom .._validation import check_int"),
    ("mllib.io.fake", "from .._version import __version__\nfrom ..nn import init"),
    ("mllib.training.fake", "from ..data import one_hot\nfrom ..gradcheck import check"),
    ("mllib.cli.fake", "import pandas"),     # interfaces may use their extras
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
