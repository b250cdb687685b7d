"""Ctrl-C held back until a safe point: between two steps of ``fit``, never inside one, and
after the ``mllib`` command's imports, never inside them.

A step reads a batch, runs the passes, folds the batch into the batch-norm
running statistics and updates the weights and the optimizer's moments. A
``KeyboardInterrupt`` raised half-way would leave some of those updated and
the rest not, and the model could not resume exactly. So while ``fit`` runs
in the main thread it holds SIGINT: the handler only notes the signal, and
the loop calls :meth:`HeldInterrupts.deliver` at every step boundary, which
hands it to the handler that was there before (Python's own raises
``KeyboardInterrupt``). A step takes milliseconds, so the delay is not felt.

The ``mllib`` command holds SIGINT while it imports its modules too: NumPy turns
a ``KeyboardInterrupt`` that lands inside the import of its C extensions into an
``ImportError``, which would be reported as an unexpected error instead of exit 130.

Outside the main thread (where no signal arrives anyway) and when SIGINT is
ignored, nothing is changed. Standard library only, so that the command can use
it before NumPy is imported.
"""

from __future__ import annotations

import signal
import threading


class HeldInterrupts:
    """``with HeldInterrupts() as held: ... held.deliver() ...``; see the module docstring."""

    def __init__(self):
        self._previous = None
        self._pending = None

    def __enter__(self) -> HeldInterrupts:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):
                self._previous = previous
                signal.signal(signal.SIGINT, self._hold)
        return self

    def _hold(self, signum, frame):
        self._pending = (signum, frame)

    def deliver(self) -> None:
        """Pass on a SIGINT that arrived since the last call (it usually raises)."""
        if self._pending is not None:
            signum, frame = self._pending
            self._pending = None
            self._previous(signum, frame)

    def __exit__(self, kind, error, traceback):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if kind is None:
            self.deliver()
        return False
