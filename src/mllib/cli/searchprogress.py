"""What ``mllib tune`` says on stderr while it searches, and how to go on after Ctrl-C.

Before the first trial, one line says where the trials run, or, on a resume,
how many trials were read back from ``--out`` and the best of them. Then one
line per finished trial (in a pruned search, as it is decided, in trial
order, with the epochs it ran if it was pruned), whose "best" is the best dev
error over every trial of the search, those read back included. A warning of the search (such as
more trials than a space of choices holds) is one ``mllib: warning:`` line.
After Ctrl-C, the line names the command that goes on: the same command line,
which resumes from ``--out``.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
import warnings

from ..tune.result import best_of


class SearchProgress:
    """``on_start`` and ``on_trial`` of a search, printing as the module notes say.

    Parameters
    ----------
    verbose : int
        0 prints nothing (but warnings and the Ctrl-C line).
    out : path
        The search's folder, named on a resume.
    where : str
        Where the trials run, e.g. "on 2 worker processes".
    halving : bool
        Whether rows are rungs of successive halving, counted as trial rungs.
    """

    def __init__(self, verbose, out, where, halving):
        self.verbose, self.out, self.where, self.halving = verbose, out, where, halving
        self.started, self.total, self.done, self.best = False, None, 0, None

    def start(self, rows, total):
        """Called by the search before any trial runs, with the rows read back."""
        self.started, self.total, self.done = True, total, len(rows)
        self.best = best_of(rows)
        if self.verbose:
            print(f"mllib: {self._start_line(rows)}", file=sys.stderr, flush=True)

    def _start_line(self, rows):
        if not rows:
            what = "candidate" if self.halving else "trial"
            return f"{_count(self.total, what)} to run {self.where}"
        if self.halving:
            read, rest = _count(len(rows), "trial rung"), f"whatever is left runs {self.where}"
        else:
            left = self.total - len(rows)
            read = f"{len(rows)} of {_count(self.total, 'trial')}"
            rest = f"{left} left to run {self.where}" if left else "none left to run"
        best = ("none of them ok" if self.best is None
                else f"best so far {_best(self.best)}")
        return f"resuming: {read} read back from {self.out}, {best}; {rest}"

    def __call__(self, row):
        """Called by the search with each trial's row as it finishes (a repeat's too, which
        is reported, but counted and ranked apart: its candidate is a trial already)."""
        if "repeat" in row:
            if self.verbose:
                score = (f"dev error {row['dev_error']:.4f}" if row["status"] == "ok"
                         else f"failed: {row['error']}")
                print(f"mllib: trial {row['trial']} repeat {row['repeat']} (seed "
                      f"{row['seed']}): {score}", file=sys.stderr, flush=True)
            return
        self.done += 1
        self.best = best_of([r for r in (self.best, row) if r is not None])
        if not self.verbose:
            return
        count = (f"{_count(self.done, 'trial rung')} done" if self.halving
                 else f"{self.done} of {self.total} done")
        score = (f"dev error {row['dev_error']:.4f}" if row["status"] == "ok"
                 else f"failed: {row['error']}")
        if row.get("pruned"):
            score += f", pruned after {_count(row['epochs'], 'epoch')}"
        best = "none yet" if self.best is None else _best(self.best)
        print(f"mllib: {_name(row)} ({count}): {score}; best {best}", file=sys.stderr,
              flush=True)

    def stopped_at(self) -> str:
        """Where the search stood, for the Ctrl-C line."""
        if not self.started:
            return "before the first trial"
        if self.halving:
            return f"after {_count(self.done, 'trial rung')}"
        return f"after {self.done} of {_count(self.total, 'trial')}"


def _count(n, what) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _best(row) -> str:
    return f"{row['dev_error']:.4f} ({_name(row)})"


def _name(row) -> str:
    return f"trial {row['trial']}" + (f" rung {row['rung']}" if "rung" in row else "")


def resume_command(argv, started) -> str:
    """The command line that goes on with the search: ``argv`` as given, without
    ``--restart`` once the search has started (it would clear what was done)."""
    if started and "--restart" in argv:
        cut = argv.index("--") if "--" in argv else len(argv)
        argv = [arg for arg in argv[:cut] if arg != "--restart"] + argv[cut:]
    return shlex.join(["mllib", *argv])


@contextlib.contextmanager
def warnings_as_lines():
    """The search's UserWarnings as ``mllib: warning: ...`` lines on stderr, as they come."""
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"mllib: warning: {message}", file=sys.stderr, flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = show
        yield
