"""Where a run of ``fit`` stands, so that it can stop at any step and go on to the same bits.

Two records live on the model beside its weights, optimizer state (``t``
included), epoch count and Generator, and go into its model file:

- :class:`RunSettings` (``model.run_``): how the last ``fit`` trained, that
  is its schedule α(epoch) (so its learning rate), its batch size, and the
  epoch it was to reach. A later ``fit`` called without those arguments
  continues with them: ``mllib.load(path).fit(X, y)`` trains on as before,
  to the end of the run that was interrupted.
- :class:`Position` (``model.position_``): set only while an epoch is under
  way, that is the epoch's batches (the shuffled row order, cut by batch
  size), how many of them have stepped, and the sums of the epoch's logged
  cost and metric so far. A model saved mid-epoch, by :class:`~.checkpoint.ModelCheckpoint`
  or after Ctrl-C, resumes at the next batch of the same order.

Steps are whole: Ctrl-C is held until the step under way is done (see
:mod:`.interrupts`), so a model interrupted anywhere is at a step boundary.
Resuming therefore repeats nothing and skips nothing, which is more than
Keras's ``BackupAndRestore`` promises: it redoes the unfinished epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..optim import make_schedule
from ..optim.schedules import FunctionSchedule, Schedule
from .metrics import EpochMetrics


@dataclass
class RunSettings:
    schedule: Schedule | None     # None: a function schedule that a model file could not hold
    batch_size: int | None        # None: full batch
    end_epoch: int                # the epoch count the run was to reach
    lost_schedule: str = ""       # the name of that function, to say what to pass again

    def to_json(self) -> dict:
        function = isinstance(self.schedule, FunctionSchedule)
        return {"schedule": None if function else self.schedule.get_config(),
                "lost_schedule": self.schedule.get_config()["function"] if function
                else self.lost_schedule,
                "batch_size": self.batch_size, "end_epoch": self.end_epoch}

    @classmethod
    def from_json(cls, data: dict) -> RunSettings:
        config = data["schedule"]
        batch_size = data["batch_size"]
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size {batch_size!r} is not a positive integer")
        end_epoch = data["end_epoch"]
        if not isinstance(end_epoch, int) or end_epoch < 0:
            raise ValueError(f"end_epoch {end_epoch!r} is not an integer >= 0")
        schedule = None if config is None else make_schedule(config, config.get("alpha0"))
        return cls(schedule, batch_size, end_epoch, str(data.get("lost_schedule", "")))

    def continued_schedule(self) -> Schedule:
        """The schedule to go on with; ValueError when it was a function lost in a file."""
        if self.schedule is None:
            raise ValueError(f"the model was trained with the schedule function "
                             f"{self.lost_schedule}, which a model file cannot hold; pass "
                             "learning_rate and lr_decay to fit")
        return self.schedule


@dataclass
class Position:
    epoch: int                    # the epoch under way (== model.epoch_)
    batches: list | None          # its batches' row indices; None: one full batch
    done: int                     # batches stepped so far
    sums: EpochMetrics            # the epoch's logged cost and metric, so far

    @property
    def n_batches(self) -> int:
        return 1 if self.batches is None else len(self.batches)

    def check_rows(self, n_rows: int) -> None:
        """ValueError unless the interrupted epoch was over ``n_rows`` rows."""
        expected = self.sums.n if self.batches is None else sum(map(len, self.batches))
        if self.batches is not None and n_rows != expected:
            raise ValueError(f"the model stopped in the middle of epoch {self.epoch + 1} of "
                             f"{expected} training rows, and X has {n_rows}; resume with the "
                             "same training data")

    def get_state(self) -> tuple[dict, dict]:
        header = {"epoch": self.epoch, "done": self.done, "full": self.batches is None}
        arrays = {f"sums.{k}": v for k, v in self.sums.get_state().items()}
        if self.batches is not None:
            arrays["order"] = np.concatenate(self.batches).astype(np.int64)
            arrays["sizes"] = np.array([len(b) for b in self.batches], dtype=np.int64)
        return header, arrays

    @classmethod
    def from_state(cls, header: dict, arrays: dict, kind: str) -> Position:
        sums = EpochMetrics.from_state(kind, {k[5:]: v for k, v in arrays.items()
                                              if k.startswith("sums.")})
        batches = None
        if not header["full"]:
            order, sizes = arrays["order"], arrays["sizes"]
            if order.ndim != 1 or sizes.ndim != 1 or int(sizes.sum()) != order.size \
                    or (sizes < 1).any():
                raise ValueError("the saved batch order does not add up")
            if not np.array_equal(np.sort(order), np.arange(order.size)):
                raise ValueError("the saved batch order is not a permutation of the rows")
            batches = np.split(order.astype(np.int64), np.cumsum(sizes)[:-1])
        done = header["done"]
        n_batches = 1 if batches is None else len(batches)
        if not isinstance(done, int) or not 0 <= done <= n_batches:
            raise ValueError(f"the saved position {done!r} is not a batch of the epoch")
        return cls(int(header["epoch"]), batches, done, sums)
