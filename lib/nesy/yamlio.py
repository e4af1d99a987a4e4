"""YAML the project reads (profiles, schemas, the data registry): YAML 1.2 numbers, and errors
that name the file (or the text's origin) and the line instead of a parser traceback."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

__all__ = ["load", "read"]


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's floats (``1e-3``, ``2E5``; YAML 1.1 needs a dot)."""


_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load(text: str, where: str, error: type[Exception] = ValueError) -> Any:
    """YAML ``text`` -> Python values; a syntax error raises ``error`` naming ``where`` and the line."""
    try:
        return yaml.load(text, Loader=_Yaml12Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"YAML error in {where}{line}: {problem}") from None


def read(path: Path, where: str | None = None, error: type[Exception] = ValueError) -> Any:
    """The YAML file at ``path`` (UTF-8); ``where`` names it in messages (default: the path)."""
    where = str(path) if where is None else where
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return load(text, where, error)
