"""pytest's settings for the whole checkout (the tests' own are in tests/conftest.py).

The modules of the compiled kernels, and the tests' mutants of them, import numba, the
``mllib[fast]`` extra. Without it they are not collected for their doctests, so that the suite runs on the NumPy path
alone; tests that need numba skip themselves.
"""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("numba") is None:
    collect_ignore += ["src/mllib/optim/_kernels.py", "src/mllib/nn/_kernels.py",
                       "tests/optim/_optim_mutants.py"]
