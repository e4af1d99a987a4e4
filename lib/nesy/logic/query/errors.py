"""The language's error (:class:`QueryError`) and how values are written in messages."""

from __future__ import annotations

import json
import math

from nesy.jsnumber import js_number
from nesy.logic.query.spec import SPEC, message

__all__ = ["QueryError", "format_error", "show_value"]

_BLANKS = str.maketrans({c: " " for c in SPEC["whitespace"]})


class QueryError(ValueError):
    """A query that cannot be parsed or evaluated.

    Attributes
    ----------
    reason : str
        What went wrong / what was expected (one line).
    text : str
        The query text.
    position : int
        Index (in code points) into ``text`` where the problem is; ``len(text)`` for the
        end of the query.
    """

    def __init__(self, reason: str, text: str, position: int):
        self.reason = reason
        self.text = text
        self.position = position
        super().__init__(format_error(reason, text, position))


QueryError.__module__ = "nesy.logic.query"  # its public home (tracebacks, doctests)


def _number_text(v: float) -> str:
    """A number as JavaScript's ``String(v)`` writes it, nan/inf spelled out as the messages do."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return js_number(v)


def show_value(v) -> str:
    """A bad value in an error message, written as the JavaScript twin writes it (``show``):
    strings quoted, numbers as JavaScript prints them, ``true``/``false``, ``null``; others JSON."""
    if isinstance(v, str):
        return f"'{v}'"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return _number_text(float(v)) if isinstance(v, float) or abs(v) >= 2 ** 53 else str(v)
    try:
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return repr(v)


def format_error(reason: str, text: str, position: int) -> str:
    """The message of a :class:`QueryError`: the reason, the query and a caret."""
    return message("layout", reason=reason, query=text.translate(_BLANKS), pad=" " * position)
