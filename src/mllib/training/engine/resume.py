"""Where a run of ``fit`` stands, so that it can stop at any step and go on to the same bits.

Two records live on the model beside its weights, optimizer state (``t``
included), epoch count and Generator, and go into its model file:

- :class:`RunSettings` (``model.run_``): how the last ``fit`` trained, that
  is its schedule α(epoch) (so its learning rate), its batch size, and the
  epoch it was to reach. A later ``fit`` called without those arguments
  continues with them: ``mllib.load(path).fit(X, y)`` trains on as before,
  to the end of the run that was interrupted.
- :class:`Position` (``model.position_``): set only while an epoch is under
  way, that is the Generator's state before the epoch drew its row order (so
  the order is drawn again, not stored), how many batches have stepped, and
  the sums of the epoch's logged cost and metric so far. A model saved mid-epoch, by :class:`~mllib.training.engine.checkpoint.ModelCheckpoint`
  or after Ctrl-C, resumes at the next batch of the same order.

Steps are whole: Ctrl-C is held until the step under way is done (see
:mod:`mllib._interrupts`), so a model interrupted anywhere is at a step boundary.
Resuming therefore repeats nothing and skips nothing, which is more than
Keras's ``BackupAndRestore`` promises: it redoes the unfinished epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...data import minibatch_indices
from ...optim import make_schedule
from ...optim.schedules import FunctionSchedule, Schedule
from ..rows.metrics import EpochMetrics


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
    n_rows: int                   # the training rows it is over
    shuffle: dict | None          # the Generator's state before the epoch drew its order
    n_batches: int                # in the epoch
    done: int                     # batches stepped so far
    sums: EpochMetrics            # the epoch's logged cost and metric, so far
    batches: list | None = None   # the epoch's batches (drawn again from ``shuffle`` after a load)

    def check_rows(self, n_rows: int) -> None:
        """ValueError unless the interrupted epoch was over ``n_rows`` rows."""
        if n_rows != self.n_rows:
            raise ValueError(f"the model stopped in the middle of epoch {self.epoch + 1} of "
                             f"{self.n_rows} training rows, and X has {n_rows}; resume with "
                             "the same training data")

    def get_state(self) -> tuple[dict, dict]:
        """The position as JSON and the epoch's sums as small arrays: the batch order is
        not stored, but drawn again from the Generator's state before it was drawn."""
        header = {"epoch": self.epoch, "n_rows": self.n_rows, "shuffle": self.shuffle,
                  "n_batches": self.n_batches, "done": self.done}
        return header, {f"sums.{k}": v for k, v in self.sums.get_state().items()}

    @classmethod
    def from_state(cls, header: dict, arrays: dict, kind: str) -> Position:
        """The :meth:`get_state` pair back; ValueError where it is inconsistent. The
        batches are drawn again by the fit loop, which knows the batch size."""
        for key in ("epoch", "n_rows", "n_batches", "done"):
            value = header[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"position field {key!r} must be an integer >= 0, got {value!r}")
        shuffle = header["shuffle"]
        if shuffle is not None:
            try:
                np.random.default_rng().bit_generator.state = shuffle
            except (TypeError, ValueError, KeyError, OverflowError) as err:
                raise ValueError(f"position field 'shuffle' is not a Generator's state: "
                                 f"{err}") from None
        elif header["n_batches"] != 1:
            raise ValueError(f"a full-batch epoch has one batch, not {header['n_batches']}")
        if header["done"] > header["n_batches"]:
            raise ValueError(f"the saved position is after batch {header['done']} of "
                             f"{header['n_batches']}")
        sums = EpochMetrics.from_state(kind, {k[len("sums."):]: v for k, v in arrays.items()
                                              if k.startswith("sums.")})
        return cls(header["epoch"], header["n_rows"], shuffle, header["n_batches"],
                   header["done"], sums)

    def draw_batches(self, batch_size, needs_two_rows) -> None:
        """The epoch's batches, drawn as they were from the saved Generator state."""
        if self.shuffle is None or self.batches is not None:
            return
        rng = np.random.default_rng()
        rng.bit_generator.state = self.shuffle
        batches = epoch_batches(rng, self.n_rows, batch_size, needs_two_rows)
        if len(batches) != self.n_batches:
            raise ValueError(f"the interrupted epoch had {self.n_batches} batches, but "
                             f"batch_size={batch_size} makes {len(batches)} of its rows")
        self.batches = batches


def epoch_batches(rng, n_rows, batch_size, needs_two_rows, shuffle=True) -> list:
    """The row indices of each batch of an epoch, in a new order drawn from ``rng``
    (in row order, drawing nothing, with ``shuffle=False``).

    With batch norm (``needs_two_rows``), a trailing batch of one row joins the one before.
    """
    batches = minibatch_indices(n_rows, batch_size, rng, shuffle)
    if len(batches) > 1 and batches[-1].shape[0] == 1 and needs_two_rows:
        batches[-2:] = [np.concatenate(batches[-2:])]
    return batches


def batches_per_epoch(n_rows, batch_size, needs_two_rows) -> int:
    """How many batches, so optimizer steps, one epoch of ``n_rows`` rows takes:
    ``len(epoch_batches(...))`` without drawing them.

    B(n) = ⌈n/b⌉ (1 for a full batch, ``batch_size`` None); with batch norm one
    fewer when the last batch, of n − (B − 1)b rows, has 1 row and joins the one
    before it (B > 1).

    >>> batches_per_epoch(65, 32, False), batches_per_epoch(65, 32, True)
    (3, 2)
    """
    if batch_size is None or batch_size >= n_rows:
        return 1 if n_rows else 0
    n_batches = -(-n_rows // batch_size)
    last = n_rows - (n_batches - 1) * batch_size
    return n_batches - 1 if needs_two_rows and last == 1 else n_batches
