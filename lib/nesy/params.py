"""Chapter parameters: profiles checked against the chapter's schema
(``chapters/params/<chapter>/schema.yaml``).

The ``default`` profile (the book's scale) is the chapter's own ``parameters`` cell
(``chapters/<chapter>.py``): one ``name = literal`` line per parameter, read here without
running the chapter, so the values a reader sees at the top of the page are the ones the book
runs with, written once. Every other profile is a YAML file beside the schema
(``smoke.yaml``, ``long.yaml``, ``paper.yaml``) that sets every parameter.

A schema entry names the type and the allowed values of one parameter::

    n_images: {type: int, min: 100, max: 1000000, doc: "images generated (article: 15,000)"}
    objective: {type: str, choices: [mse, ltn]}
    sweep_ks: {type: list, min: 1, max: 8, items: {type: int, min: 1, max: 100000}}

``needs`` maps a choice to what it needs from outside the machine (``{vgg19:
torchvision:VGG19_Weights}``, checked before a run by :mod:`nesy.preflight`), and ``_rules``
lists the rules between two parameters (``"optbox_min_cells <= optbox_cells"``).
The schema is itself checked when read: every number has a ``min`` and a ``max`` (or
``choices``), every list an ``items`` rule, and a list has at least one item unless its ``min``
says 0. Floats must be finite. YAML is read with YAML 1.2's numbers (``1e-3`` is a float, not
a string), and a YAML error names the file (or the ``--set`` value) and the line.

Every bad value fails at once with one message naming the chapter, the parameter, the allowed
values and the value given.
"""
from __future__ import annotations

import ast
import math
import operator
import re
from pathlib import Path
from typing import Any, Mapping

from nesy import yamlio
from nesy.checks import interval
from nesy.paths import PARAMS, shown

TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list}
COMMON = {"profile": {"type": "str", "doc": "name of the parameter profile"}}
SPEC_KEYS = {"type", "min", "max", "choices", "items", "doc", "needs"}
RULES_KEY = "_rules"
DEFAULT = "default"  # the profile held by the chapter's parameters cell
_RULE = re.compile(r"^\s*([A-Za-z_]\w*)\s*(<=|<|>=|>)\s*([A-Za-z_]\w*)\s*$")
_COMPARE = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}


class ParameterError(ValueError):
    """A chapter parameter is unknown, missing or outside its allowed values."""


def parse_value(name: str, text: str) -> Any:
    """The value of ``--set name=text`` (YAML, as a profile would write it)."""
    return yamlio.load(text, f"--set {name}={text}", ParameterError)


def profiles(chapter: str) -> list[str]:
    """Names of the profiles a chapter has (e.g. ``['default', 'paper', 'smoke']``): ``default``
    (its parameters cell) and one per YAML file beside its schema."""
    folder = PARAMS / chapter
    return sorted({DEFAULT} | {p.stem for p in folder.glob("*.yaml") if p.stem != "schema"})


def chapter_source(chapter: str) -> Path:
    """The chapter's Jupytext source, ``chapters/<chapter>.py`` (beside ``chapters/params/``)."""
    return PARAMS.parent / f"{chapter}.py"


def _literal_assignment(node: ast.stmt) -> tuple[str, Any] | None:
    """``(name, value)`` of a ``name = literal`` statement, else None."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
        return None
    try:
        return node.targets[0].id, ast.literal_eval(node.value)
    except (ValueError, TypeError):  # not a literal, or e.g. an unhashable dict key
        return None


def parameters_cell(chapter: str) -> dict[str, Any]:
    """The values the chapter's ``parameters`` cell assigns, in its order, read without running it.

    The cell may hold only comments and ``name = literal`` lines (numbers, strings, booleans,
    lists): it is the default profile, so a computed value there would make the book's scale
    depend on code. ``profile = "default"`` is left out (the runner sets it).
    """
    import jupytext  # the book's extra: only the runner and the tests read the default profile

    path = chapter_source(chapter)
    at = lambda line: f"{shown(path)}, line {line} of the parameters cell"  # noqa: E731
    if not path.exists():
        raise ParameterError(f"chapter {chapter!r} has no source at {shown(path)}")
    cells = [c for c in jupytext.read(path).cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ParameterError(f"{shown(path)} must have one code cell tagged 'parameters', found {len(cells)}")
    try:
        statements = ast.parse(cells[0].source).body
    except SyntaxError as error:
        raise ParameterError(f"{at(error.lineno)}: {error.msg}") from None
    values = {}
    for node in statements:
        assignment = _literal_assignment(node)
        if assignment is None:
            raise ParameterError(f"{at(node.lineno)}: only 'name = literal' lines are allowed "
                                 f"(the cell is the default profile), got {ast.unparse(node)!r}")
        values[assignment[0]] = assignment[1]
    if values.pop("profile", DEFAULT) != DEFAULT:
        raise ParameterError(f"{shown(path)}, parameters cell: 'profile' must be {DEFAULT!r} there (the cell is the default profile)")
    return values


def _read_yaml(path: Path) -> dict:
    values = yamlio.read(path, shown(path), ParameterError)
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ParameterError(f"{shown(path)} must hold a mapping of names to values, got {type(values).__name__}")
    return values


def _check_spec(name: str, spec: Any, where: str) -> None:
    """Refuse a schema entry that does not say what it allows."""
    bad = lambda why: ParameterError(f"{where}: parameter {name!r} {why}")  # noqa: E731
    if not isinstance(spec, dict) or spec.get("type") not in TYPES:
        raise bad(f"needs a type, one of {sorted(TYPES)}; got {spec!r}")
    unknown = sorted(set(spec) - SPEC_KEYS)
    if unknown:
        raise bad(f"has unknown schema keys {unknown}; allowed: {sorted(SPEC_KEYS)}")
    kind = spec["type"]
    needs = spec.get("needs", {})
    if not isinstance(needs, dict) or any(v not in spec.get("choices", []) or not isinstance(r, str) or ":" not in r
                                          for v, r in needs.items()):
        raise bad(f"needs: must map some of its choices to resources 'kind:name' (nesy.preflight); got {needs!r}")
    if kind in ("int", "float") and "choices" not in spec and (spec.get("min") is None or spec.get("max") is None):
        raise bad("needs both min and max (or choices)")
    if kind == "list":
        if "items" not in spec:
            raise bad("needs an items rule")
        _check_spec(f"{name} items", spec["items"], where)
        if spec.get("max") is None:
            raise bad("needs a max (the longest list)")


def schema(chapter: str) -> dict[str, dict]:
    """The chapter's parameter specs (checked), ``profile`` included; the rules under ``_rules``."""
    path = PARAMS / chapter / "schema.yaml"
    if not path.exists():
        raise ParameterError(f"chapter {chapter!r} has no parameter schema at {shown(path)}")
    entries = _read_yaml(path)
    where = shown(path)
    rules = entries.pop(RULES_KEY, [])
    for name, spec in entries.items():
        if name in COMMON:
            raise ParameterError(f"{where}: {name!r} is reserved (set by the runner), not a chapter parameter")
        _check_spec(name, spec, where)
    for rule in rules:
        match = _RULE.match(rule) if isinstance(rule, str) else None
        if match is None or match[1] not in entries or match[3] not in entries:
            raise ParameterError(f"{where}: rule {rule!r} must read 'a <= b' (or <, >=, >) between two parameters")
    return {**COMMON, **entries, RULES_KEY: list(rules)}


def load_profile(chapter: str, profile: str) -> dict[str, Any]:
    """The parameters of ``profile`` (validated), with ``profile`` itself included."""
    path = PARAMS / chapter / f"{profile}.yaml"
    if profile == DEFAULT:
        if path.exists():
            raise ParameterError(f"{shown(path)}: the default profile is the parameters cell of "
                                 f"{shown(chapter_source(chapter))}; remove the YAML file (one place for the values)")
        source = f"{shown(chapter_source(chapter))}'s parameters cell"
        return validate(chapter, {**parameters_cell(chapter), "profile": DEFAULT}, source=source)
    if not path.exists():
        raise ParameterError(
            f"chapter {chapter!r} has no profile {profile!r}; choose one of {profiles(chapter)}"
        )
    values = _read_yaml(path)
    if "profile" in values:
        raise ParameterError(f"{shown(path)}: 'profile' is the file's own name, not a parameter to set")
    return validate(chapter, {**values, "profile": profile}, source=shown(path))


def _low(spec: dict):
    return spec.get("min", 1) if spec["type"] == "list" else spec.get("min")


def _describe(spec: dict) -> str:
    if "choices" in spec:
        return f"one of {spec['choices']}"
    kind = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false", "list": "a list"}[spec["type"]]
    low, high = _low(spec), spec.get("max")
    if spec["type"] == "list":  # min and max bound a list's length
        length = f" of {low} to {high} items" if high is not None else f" of at least {low} items" if low else ""
        return kind + length + (f", each {_describe(spec['items'])}" if "items" in spec else "")
    bounds = interval(low, high)
    return f"{kind} {bounds}" if bounds else kind


def _check_value(name: str, value: Any, spec: dict) -> Any:
    expected = TYPES[spec["type"]]
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if ok and expected is float:
        ok = math.isfinite(value)
    if ok and "choices" in spec:
        ok = value in spec["choices"]
    size = len(value) if ok and expected is list else value  # min and max bound a list's length
    if ok and _low(spec) is not None:
        ok = size >= _low(spec)
    if ok and spec.get("max") is not None:
        ok = size <= spec["max"]
    if not ok:
        raise ParameterError(f"parameter {name!r} must be {_describe(spec)}, got {value!r}")
    if expected is list and "items" in spec:
        checked = []
        for position, item in enumerate(value):
            try:
                checked.append(_check_value("item", item, spec["items"]))
            except ParameterError:
                raise ParameterError(f"parameter {name!r} item {position} must be {_describe(spec['items'])}, "
                                     f"got {item!r} (the list: {value!r})") from None
        value = checked
    return value


def validate(chapter: str, values: Mapping[str, Any], source: str = "the parameters given") -> dict[str, Any]:
    """Check every value against the chapter's schema and rules; returns the (type-normalised) values.

    Raises
    ------
    ParameterError
        Naming the parameter, its allowed values and where the value came from.
    """
    spec = schema(chapter)
    rules = spec.pop(RULES_KEY)
    unknown = sorted(set(values) - set(spec))
    if unknown:
        raise ParameterError(
            f"{chapter}: unknown parameter {unknown[0]!r} in {source}; allowed: {sorted(set(spec) - set(COMMON))}"
        )
    missing = sorted(set(spec) - set(values) - set(COMMON))
    if missing:
        raise ParameterError(f"{chapter}: parameter {missing[0]!r} is missing from {source}")
    checked = {}
    for name, value in values.items():
        try:
            checked[name] = _check_value(name, value, spec[name])
        except ParameterError as error:
            raise ParameterError(f"{chapter}: {error} (in {source})") from None
    for rule in rules:
        left, op, right = _RULE.match(rule).groups()
        if not _COMPARE[op](checked[left], checked[right]):
            raise ParameterError(f"{chapter}: parameter {left!r} must be {op} {right} ({checked[right]!r}), "
                                 f"got {checked[left]!r} (in {source})")
    return checked


def from_namespace(chapter: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`validate` of the chapter's parameters as they stand in ``namespace`` (the chapter's
    ``globals()`` after its parameters cell), in the order they were defined there.

    The schema says which names are parameters, so a chapter does not list them again; a
    parameter the schema has and the namespace lacks is reported as missing.
    """
    names = set(schema(chapter)) - {RULES_KEY}
    return validate(chapter, {name: value for name, value in namespace.items() if name in names},
                    source="the chapter's parameters cell")
