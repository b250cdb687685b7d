"""Run ``mllib`` and send this process a real signal at a chosen point: a fault injected
deterministically, for the tests of interrupted and killed runs.

    python _fault_at.py SIGNAL START WHAT N COUNT_FILE -- MLLIB ARGS...

SIGNAL is INT (Ctrl-C) or KILL (kill -9). Counting starts when the function START
(``mllib.cli.train.train_in``, ``mllib.cli.runfolder.mark_trained``, ...) is called,
and the signal is sent at the N-th

- line that runs in mllib's command, file and plotting code (``mllib/cli``,
  ``mllib/io``, ``mllib/plots.py``, ``mllib/preprocessing``, ``mllib/_interrupts.py``),
  for WHAT ``line``;
- call of a function whose qualified name is WHAT (``write_checkpoint``), or, for
  a WHAT with a ``/``, of any code in a file whose path holds it (``matplotlib/``:
  inside the first import of matplotlib after START).

The signal is sent with ``os.kill`` to this process, so it arrives as a user's would:
held where mllib holds Ctrl-C, fatal at once for SIGKILL. With an N that is never
reached nothing is sent. At exit, COUNT_FILE gets the count reached and, for
``line``, the count at the first call of each function of that code (JSON), so that a test can
choose its points within a run and its parts. Nothing is traced before START,
which keeps the imports at their speed.
"""

import atexit
import functools
import importlib
import json
import os
import signal
import sys

WATCHED = tuple(os.path.join("mllib", part) for part in
                ("cli" + os.sep, "io" + os.sep, "plots.py", "preprocessing" + os.sep,
                 "_interrupts.py"))


class Fault:
    def __init__(self, signum, what, n, count_file):
        self.signum, self.what, self.count_file = signum, what, count_file
        self.n, self.count, self.sent = int(n), 0, False
        self.watched = {}       # file name -> whether its lines count
        self.first_calls = {}   # function name -> the count when it was first called

    def hit(self):
        self.count += 1
        if self.count == self.n and not self.sent:
            self.sent = True
            os.kill(os.getpid(), self.signum)

    def on_call(self, frame, event, arg):
        code = frame.f_code
        if self.what != "line":
            if code.co_qualname == self.what or ("/" in self.what
                                                 and self.what in code.co_filename):
                self.hit()
            return None
        watched = self.watched.get(code.co_filename)
        if watched is None:
            watched = self.watched[code.co_filename] = any(part in code.co_filename
                                                           for part in WATCHED)
        if not watched:
            return None
        self.first_calls.setdefault(code.co_name, self.count)
        return self.on_line

    def on_line(self, frame, event, arg):
        if event == "line":
            self.hit()
        return self.on_line

    def write_count(self):
        with open(self.count_file, "w") as handle:
            json.dump({"count": self.count, "first_calls": self.first_calls}, handle)


def trace_from(start, fault):
    """Wrap the function at the dotted path ``start`` so that tracing begins when it is called."""
    module_name, name = start.rsplit(".", 1)
    module = importlib.import_module(module_name)
    function = getattr(module, name)

    @functools.wraps(function)
    def traced(*args, **kwargs):
        sys.settrace(fault.on_call)
        return function(*args, **kwargs)

    setattr(module, name, traced)


def main():
    name, start, what, n, count_file, dashes, *args = sys.argv[1:]
    assert dashes == "--", sys.argv
    fault = Fault(getattr(signal, f"SIG{name}"), what, n, count_file)
    atexit.register(fault.write_count)
    trace_from(start, fault)
    from mllib.cli import main as mllib

    return mllib(args)


if __name__ == "__main__":
    sys.exit(main())
