"""Fidex's parameters, one validated object carried by the kernel, the twin and dimlpfidex.

Names and defaults are dimlpfidex 1.0.1's. Building a :class:`FidexSettings` checks every
field (ValueError names the bad one), so whoever holds one holds valid settings:

>>> FidexSettings(max_iterations=5).min_covering
2
>>> FidexSettings(min_fidelity=0.5, lowest_min_fidelity=0.7)
Traceback (most recent call last):
...
ValueError: lowest_min_fidelity (0.7) must be <= min_fidelity (0.5)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..checks import boolean, integer, number

__all__ = ["FidexSettings", "MAX_SEED", "MAX_ITERATIONS", "MAX_COUNT"]

#: Largest values the kernel takes (int64 arguments; per-sample arrays of max_iterations entries).
MAX_SEED = 2**63 - 1
MAX_ITERATIONS = 10_000
MAX_COUNT = 2**31 - 1


@dataclass(frozen=True)
class FidexSettings:
    """Fidex parameters: the search (``max_iterations``, ``min_covering``, ``min_fidelity``),
    the relaxation when the direct search misses (``covering_strategy``,
    ``lowest_min_fidelity``, ``max_failed_attempts``), the random dropouts of features and
    hyperplanes, and the seed of the per-sample random streams."""

    max_iterations: int = 10
    min_covering: int = 2
    covering_strategy: bool = True
    max_failed_attempts: int = 30
    min_fidelity: float = 1.0
    lowest_min_fidelity: float = 0.75
    dropout_dim: float = 0.0
    dropout_hyp: float = 0.0
    seed: int = 0

    def __post_init__(self):
        checked = {
            "max_iterations": integer("max_iterations", self.max_iterations, 1, MAX_ITERATIONS),
            "min_covering": integer("min_covering", self.min_covering, 1, MAX_COUNT),
            "covering_strategy": boolean("covering_strategy", self.covering_strategy),
            "max_failed_attempts": integer("max_failed_attempts", self.max_failed_attempts, 0, MAX_COUNT),
            "min_fidelity": number("min_fidelity", self.min_fidelity, 0.0, 1.0),
            "lowest_min_fidelity": number("lowest_min_fidelity", self.lowest_min_fidelity, 0.0, 1.0),
            "dropout_dim": number("dropout_dim", self.dropout_dim, 0.0, 1.0),
            "dropout_hyp": number("dropout_hyp", self.dropout_hyp, 0.0, 1.0),
            "seed": integer("seed", self.seed, 0, MAX_SEED),
        }
        if checked["lowest_min_fidelity"] > checked["min_fidelity"]:
            raise ValueError(f"lowest_min_fidelity ({checked['lowest_min_fidelity']}) must be <= "
                             f"min_fidelity ({checked['min_fidelity']})")
        for field, value in checked.items():  # canonical Python types (numpy scalars in, int/float out)
            object.__setattr__(self, field, value)

    @classmethod
    def from_options(cls, settings: FidexSettings | None = None, **options) -> FidexSettings:
        """``settings`` (default: the defaults) with ``options`` replacing some fields; an
        unknown option is a ValueError listing the fields."""
        base = settings if settings is not None else cls()
        if not isinstance(base, cls):
            raise ValueError(f"settings must be a FidexSettings or None, got {type(base).__name__}")
        unknown = sorted(set(options) - set(cls.fields()))
        if unknown:
            raise ValueError(f"unknown Fidex parameter {unknown[0]!r}; the parameters are {', '.join(cls.fields())}")
        return dataclasses.replace(base, **options) if options else base

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
