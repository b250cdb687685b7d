"""The next search, by the notes' remedies for the best trial's bias and variance (§6, §8).

The notes tune in rounds: search coarsely, read the best model's diagnosis,
then search again where the remedy points (remark 8.2, coarse to fine). From
the search's space, its fixed settings, the best trial and its diagnosis,
:func:`next_space` proposes that next space:

- **high bias** (the training error is far above the Bayes error): a larger
  network (the best hidden widths, twice as wide, or one layer deeper), longer
  training (twice the epochs, beside the best's) and Adam beside another optimizer;
- **high variance** (the dev error is far above the training error): more
  regularization: λ from the best value (or 10⁻³ if there was none) up by two
  decades, and keep probabilities from the best one down by 0.3 (not below 0.5);
  and more data, which no space can give, said in the reasons;
- both: the bias first, as the notes do (a larger network, then regularize it);
- **neither**: a finer search around the best. Each searched range shrinks to a
  quarter of its width on its own scale, centred on the best value, so a best
  value at an edge of the range moves the search past that edge; a choice becomes
  the best option.

Settings that no remedy touches keep their spaces. The proposal says why, a
line per change, and is written as a SPACE.json file (``"$comment"`` holds the
reasons; reading a space ignores it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..settings import SETTING
from .spaces import (COMMENT, Space, choice, fixed, loguniform, one_minus_loguniform, randint,
                     uniform)

NARROW = 4                    # a fine search spans a quarter of the coarse one's width
LAMBDA_START = 1e-3           # where more regularization starts when there was none
KEEP_STEP, KEEP_FLOOR = 0.3, 0.5
# The settings whose values the remedies read.
REMEDIED = ("hidden", "nodes", "epochs", "optimizer", "lambda", "keep_prob")


@dataclass
class Proposal:
    """The next search and why: ``space`` maps each setting to a Space; ``settings`` are
    the fixed settings less ``moved``, those that the space now searches."""

    space: dict
    settings: dict
    reasons: list = field(default_factory=list)
    moved: list = field(default_factory=list)

    def to_json(self) -> dict:
        """The SPACE.json document: the reasons under ``"$comment"``, then the space."""
        return {COMMENT: "; ".join(self.reasons),
                **{key: value.to_json() for key, value in self.space.items()}}


def next_space(space: dict, settings: dict, best: dict, diagnosis, *,
               halving=False) -> Proposal:
    """The proposal for the search after one whose ``space`` (setting → Space) and fixed
    ``settings`` found the row ``best`` (its ``params``), read as ``diagnosis``
    (:class:`mllib.training.diagnosis.Diagnosis`); see the module docstring. After
    successive ``halving``, whose rungs set the epochs, longer training is a reason,
    not a space: a larger ``max_epochs``."""
    current = {**{key: SETTING[key].default for key in REMEDIED if key != "nodes"},
               **settings, **best["params"]}
    # As the trials took them: hidden 16 or "64,32" is [16] or [64, 32].
    current = {key: SETTING[key].parse(value) if key in REMEDIED else value
               for key, value in current.items()}
    proposal = Proposal(dict(space), dict(settings))
    if diagnosis.high_bias:
        _larger_network(proposal, current, halving)
        if diagnosis.high_variance:
            proposal.reasons.append("high variance too: regularize once the bias is down")
    elif diagnosis.high_variance:
        _more_regularization(proposal, current)
    else:
        _narrow(proposal, best["params"])
    proposal.moved = sorted(set(proposal.space) & set(settings))
    for key in proposal.moved:          # now searched, so no longer fixed
        del proposal.settings[key]
    return proposal


def _larger_network(proposal, current, halving) -> None:
    widths, epochs = list(current["hidden"]), current["epochs"]
    if "nodes" in current:     # the notes' full list n0, ..., nL: its hidden part
        widths = list(current["nodes"][1:-1])
        proposal.space.pop("nodes", None)
        proposal.settings.pop("nodes", None)
    if widths:
        wider, deeper = [2 * w for w in widths], widths + [widths[-1]]
        proposal.space["hidden"] = choice([widths, wider, deeper])
        proposal.reasons.append(f"high bias: a larger network (hidden {widths}, twice as "
                                f"wide, or one layer deeper)")
    else:
        proposal.space["hidden"] = choice([[16], [64]])
        proposal.reasons.append("high bias: a network with a hidden layer, not a linear model")
    if halving:
        proposal.reasons.append("high bias: longer training (a larger max_epochs)")
    elif epochs and _valid("epochs")(2 * epochs):
        proposal.space["epochs"] = choice([epochs, 2 * epochs])
        proposal.reasons.append(f"high bias: longer training ({epochs} or {2 * epochs} epochs)")
    if current["optimizer"] != "adam":
        proposal.space["optimizer"] = choice([current["optimizer"], "adam"])
        proposal.reasons.append(f"high bias: another optimizer (adam beside "
                                f"{current['optimizer']})")


def _more_regularization(proposal, current) -> None:
    strength = current["lambda"] or LAMBDA_START
    proposal.space["lambda"] = loguniform(strength, 100 * strength)
    proposal.reasons.append(f"high variance: more L2 regularization (lambda from {strength:g} "
                            f"to {100 * strength:g})")
    keep = current["keep_prob"]
    if not isinstance(keep, list):       # a list per layer is the user's own design
        low = max(KEEP_FLOOR, round(keep - KEEP_STEP, 6))
        if low < keep:
            proposal.space["keep_prob"] = uniform(low, keep)
            proposal.reasons.append(f"high variance: more dropout (keep probability from "
                                    f"{low:g} to {keep:g})")
    proposal.reasons.append("high variance: more training data would help too (or "
                            "augmented data), which no space can give")


def _narrow(proposal, params) -> None:
    changed = [key for key, value in proposal.space.items()
               if key in params and not isinstance(value, fixed)]
    for key in changed:
        proposal.space[key] = narrowed(proposal.space[key], params[key], _valid(key))
    if changed:
        proposal.reasons.append(f"neither high bias nor high variance: a finer search around "
                                f"the best ({', '.join(changed)})")
    else:
        proposal.reasons.append("neither high bias nor high variance, and nothing was "
                                "searched: the same space")


def narrowed(space: Space, best, valid=lambda value: True) -> Space:
    """``space`` a quarter as wide on its own scale, centred on ``best`` (so it may reach
    past the old range, but not to a value that ``valid`` refuses: there it stops at the
    old end); a choice, ``best``. An integer range is never wider than it was."""
    if isinstance(space, choice):
        return fixed(best)
    if isinstance(space, loguniform):
        low, high = _around(math.log(space.low), math.log(space.high), math.log(best))
        return _kept(space, loguniform, math.exp(low), math.exp(high), valid)
    if isinstance(space, one_minus_loguniform):   # on the scale of 1 − value
        low, high = _around(math.log(1 - space.high), math.log(1 - space.low),
                            math.log(1 - best))
        low, high = _rounded(math.exp(low)), _rounded(math.exp(high))
        return _kept(space, one_minus_loguniform, 1 - high, 1 - low,
                     lambda v: 0 < v < 1 and valid(v), digits=None)
    if isinstance(space, uniform):
        return _kept(space, uniform, *_around(space.low, space.high, best), valid)
    if isinstance(space, randint):
        low, high = _around(space.low, space.high, best)
        low, high = min(round(low), best), max(round(high), best)
        return _kept(space, randint, low, high, valid, digits=None, strict=False)
    return space


def _around(low, high, best) -> tuple:
    half = (high - low) / NARROW / 2
    return best - half, best + half


def _kept(space, kind, low, high, valid, digits=6, strict=True):
    """``kind(low, high)``, its ends rounded to ``digits`` and each replaced by the old
    range's end where ``valid`` refuses it; ``space`` itself where rounding leaves no
    range (``strict``: low must stay below high)."""
    if digits is not None:
        low, high = _rounded(low, digits), _rounded(high, digits)
    low, high = (low if valid(low) else space.low), (high if valid(high) else space.high)
    return kind(low, high) if low < high or (not strict and low == high) else space


def _rounded(value, digits=6) -> float:
    return float(f"{value:.{digits}g}")


def _valid(key):
    """Whether the setting ``key`` takes a value (by its declaration's parser)."""
    parse = SETTING[key].parse if key in SETTING else None

    def valid(value) -> bool:
        if parse is None:
            return True
        try:
            parse(value)
        except (ValueError, TypeError):
            return False
        return True
    return valid
