"""The language's shared spec (``spec.json``, read by the JavaScript modules too).

Everything both twins must agree on: tokens and their unicode aliases, keywords,
connective precedence and associativity, operator choices and defaults, ``epsilon``, the
limits and the error-message templates (:func:`message`).
"""

from __future__ import annotations

import json
import re
from importlib import resources

SPEC_PATH = resources.files("nesy.logic.query").joinpath("spec.json")
#: The parsed spec (a plain dict; do not modify).
SPEC: dict = json.loads(SPEC_PATH.read_text(encoding="utf-8"))

#: The encoder symbol of the article, allowed as ``p(e(Im))``.
ENCODER: str = SPEC["encoder"]
KEYWORDS: tuple[str, ...] = tuple(SPEC["keywords"])
#: Longest query text (code points) and deepest nesting the parser accepts (the JS twin's too).
MAX_QUERY_LENGTH: int = SPEC["limits"]["max_query_length"]
MAX_DEPTH: int = SPEC["limits"]["max_depth"]
#: LTNtorch's ``eps`` of ``pi_0``/``pi_1`` (the stable operators).
EPSILON: float = SPEC["epsilon"]
MESSAGES: dict[str, str] = SPEC["messages"]

_FIELD = re.compile(r"\{(\w+)\}")


def message(key: str, **values) -> str:
    """The spec's message template ``key`` with each ``{name}`` replaced by ``str(values[name])``.

    >>> message("expected", what="')'", got="end of query")
    "expected ')', got end of query"
    """
    return _FIELD.sub(lambda m: str(values[m.group(1)]), MESSAGES[key])
