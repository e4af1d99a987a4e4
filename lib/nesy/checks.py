"""Argument checks: each raises one ValueError naming the parameter, what it allows and what
it got, and returns the value in its canonical type.

>>> integer("n_steps", 3, low=1)
3
>>> number("dropout", 1.5, low=0.0, high=1.0, high_open=True)
Traceback (most recent call last):
...
ValueError: dropout must be a number in [0, 1), got 1.5
>>> one_of("backend", "gpu", ("kernel", "python"))
Traceback (most recent call last):
...
ValueError: backend must be one of 'kernel', 'python', got 'gpu'
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any

__all__ = ["one_of", "integer", "number", "boolean", "interval"]


def _fail(name: str, allowed: str, value: Any, extra: str = ""):
    raise ValueError(f"{name} must be {allowed}{extra}, got {value!r}")


def one_of(name: str, value: Any, allowed: Collection, *, where: str = "") -> Any:
    """``value`` if it is one of ``allowed`` (booleans never stand in for 0 and 1).

    ``where`` qualifies the list, e.g. ``" for dataset 'toy'"``.
    """
    try:
        ok = value in allowed
    except TypeError:  # an unhashable value asked of a set
        ok = False
    if isinstance(value, bool) and not any(isinstance(a, bool) for a in allowed):
        ok = False
    if not ok:
        shown = sorted(allowed, key=repr) if isinstance(allowed, (set, frozenset)) else allowed
        _fail(name, "one of " + ", ".join(map(repr, shown)), value, where)
    return value


def _bound(x) -> str:
    if isinstance(x, float) and float(f"{x:g}") == x:
        return f"{x:g}"
    return repr(x)


def interval(low=None, high=None, low_open: bool = False, high_open: bool = False) -> str:
    """``"in [low, high)"``, ``">= low"``, ``"<= high"`` or ``""``: the bounds as a message says them."""
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{_bound(low)}, {_bound(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {_bound(low)}"
    if high is not None:
        return f"{'<' if high_open else '<='} {_bound(high)}"
    return ""


def integer(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``int(value)`` for an integer (Python or numpy, not bool) in ``[low, high]``."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok:
        ok = (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        bounds = interval(low, high, False, False)
        _fail(name, "an integer" + (f" {bounds}" if bounds else ""), value)
    return int(value)


def number(name: str, value: Any, low: float | None = None, high: float | None = None, *,
           low_open: bool = False, high_open: bool = False) -> float:
    """``float(value)`` for a finite real number (not bool) within the bounds (closed unless
    ``low_open`` / ``high_open``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        v = float(value)
        ok = ((low is None or (v > low if low_open else v >= low))
              and (high is None or (v < high if high_open else v <= high)))
    if not ok:
        bounds = interval(low, high, low_open, high_open)
        _fail(name, "a finite number" if not bounds else f"a number {bounds}", value)
    return float(value)


def boolean(name: str, value: Any) -> bool:
    """``bool(value)`` for True/False (numpy booleans included)."""
    if not (isinstance(value, bool) or type(value).__name__ == "bool_"):
        _fail(name, "True or False", value)
    return bool(value)
