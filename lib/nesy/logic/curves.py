"""Queries as curves over a threshold parameter (the article's Q3 and Q4)."""
from __future__ import annotations

from typing import Mapping

import numpy as np

from nesy.logic import query as fol


def query_curve(
    text: str,
    outputs: Mapping[str, object],
    thresholds: np.ndarray,
    semantics: fol.Semantics | None = None,
    parameter: str = "t",
    **symbols,
) -> np.ndarray:
    """Truth value of ``text`` for each value of ``parameter`` in ``thresholds``.

    Returns an array of the same length (NaN where the guarded domain is empty).
    ``symbols`` is passed to :func:`nesy.logic.query.evaluate` (``predicates``, ``functions``).
    """
    parsed = fol.parse(text, symbols.get("predicates", ()), symbols.get("functions", ()))
    return np.array(
        [fol.evaluate(parsed, outputs, {parameter: float(t)}, semantics, **symbols).value for t in thresholds]
    )


def first_crossing(thresholds: np.ndarray, values: np.ndarray, level: float = 0.5) -> float:
    """The smallest threshold at which ``values`` passes ``level`` (linear interpolation).

    The curve may start above or below ``level``; NaN points are skipped. Returns NaN when
    the curve never crosses.
    """
    keep = ~np.isnan(values)
    x, y = np.asarray(thresholds, dtype=float)[keep], np.asarray(values, dtype=float)[keep] - level
    for i in range(len(y) - 1):
        if y[i] == 0:
            return float(x[i])
        if y[i] * y[i + 1] < 0:
            return float(x[i] + (x[i + 1] - x[i]) * y[i] / (y[i] - y[i + 1]))
    return float(x[-1]) if len(y) and y[-1] == 0 else float("nan")
