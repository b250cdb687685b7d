"""What the benchmark ran on: CPU model, BLAS library and kernel, PyTorch's backend.

Figures from different machines must never be compared as if they were one:
the same code ran 0.74× PyTorch on an AMD EPYC with AVX2 and 0.96× on an Intel
Xeon with AVX-512, whose OpenBLAS runs other kernels (SkylakeX) and whose
PyTorch uses oneDNN. So every result file names them.
"""

from __future__ import annotations

import os
import platform

import numpy as np


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The SIMD extensions NumPy found and uses (AVX2, AVX512F, ...)."""
    from numpy._core._multiarray_umath import __cpu_features__

    wanted = ("AVX2", "AVX512F", "AVX512_SKX", "AVX512_SPR", "FMA3")
    return [name for name in wanted if __cpu_features__.get(name)]


def blas() -> list[dict]:
    """NumPy's BLAS libraries as threadpoolctl sees them: API, version, kernel, threads."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"unknown": "threadpoolctl is not installed"}]
    keys = ("internal_api", "version", "architecture", "threading_layer", "num_threads")
    return [{k: lib.get(k) for k in keys} for lib in threadpool_info()
            if lib.get("user_api") == "blas"]


def torch_backend() -> dict:
    """PyTorch's version, threads and CPU backends (oneDNN, MKL) and its SIMD level."""
    import torch

    return {"version": torch.__version__, "threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "onednn": torch.backends.mkldnn.is_available(),
            "mkl": torch.backends.mkl.is_available(),
            "blas": torch.__config__.show().split("BLAS_INFO=")[-1].split(",")[0]}


def describe() -> dict:
    """Everything above, with Python's and NumPy's versions, mllib's thread count and
    which path its kernels take (NumPy, or numba's compiled kernels: mllib._jit)."""
    import mllib
    from mllib._jit import describe as kernels
    from mllib.optim import num_threads

    return {"cpu": cpu_model(), "cpu_flags": cpu_flags(), "cpus": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "blas": blas(), "torch": torch_backend(),
            "mllib": mllib.__version__, "mllib_threads": num_threads(),
            "mllib_kernels": kernels()}
