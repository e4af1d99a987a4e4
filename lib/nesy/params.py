"""Chapter parameters: profiles (``chapters/params/<chapter>/<profile>.yaml``) checked against
the chapter's schema (``schema.yaml`` beside them).

A schema entry names the type and the allowed values of one parameter::

    n_images: {type: int, min: 100, max: 1000000, doc: "images generated (article: 15,000)"}
    objective: {type: str, choices: [mse, ltn]}

Every bad value fails at once with one message naming the chapter, the parameter, the allowed
values and the value given.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import yaml

from nesy.paths import PARAMS

TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list}
COMMON = {"profile": {"type": "str", "doc": "name of the parameter profile"}}


class ParameterError(ValueError):
    """A chapter parameter is unknown, missing or outside its allowed values."""


def profiles(chapter: str) -> list[str]:
    """Names of the profiles a chapter has (e.g. ``['default', 'paper', 'smoke']``)."""
    folder = PARAMS / chapter
    return sorted(p.stem for p in folder.glob("*.yaml") if p.stem != "schema")


def _read_yaml(path: Path) -> dict:
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def schema(chapter: str) -> dict[str, dict]:
    path = PARAMS / chapter / "schema.yaml"
    if not path.exists():
        raise ParameterError(f"chapter {chapter!r} has no parameter schema at {path}")
    return {**COMMON, **_read_yaml(path)}


def load_profile(chapter: str, profile: str) -> dict[str, Any]:
    """The parameters of ``profile`` (validated), with ``profile`` itself included."""
    path = PARAMS / chapter / f"{profile}.yaml"
    if not path.exists():
        raise ParameterError(
            f"chapter {chapter!r} has no profile {profile!r}; choose one of {profiles(chapter)}"
        )
    values = {**_read_yaml(path), "profile": profile}
    return validate(chapter, values, source=str(path))


def _describe(spec: dict) -> str:
    if "choices" in spec:
        return f"one of {spec['choices']}"
    kind = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false", "list": "a list"}[spec["type"]]
    low, high = spec.get("min"), spec.get("max")
    if spec["type"] == "list":  # min and max bound a list's length
        length = f" of {low or 0} to {high} items" if high is not None else f" of at least {low} items" if low else ""
        return kind + length + (f", each {_describe(spec['items'])}" if "items" in spec else "")
    if low is not None and high is not None:
        return f"{kind} in [{low}, {high}]"
    if low is not None:
        return f"{kind} >= {low}"
    if high is not None:
        return f"{kind} <= {high}"
    return kind


def _check_value(name: str, value: Any, spec: dict) -> Any:
    expected = TYPES[spec["type"]]
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if ok and "choices" in spec:
        ok = value in spec["choices"]
    size = len(value) if ok and expected is list else value  # min and max bound a list's length
    if ok and spec.get("min") is not None:
        ok = size >= spec["min"]
    if ok and spec.get("max") is not None:
        ok = size <= spec["max"]
    if ok and expected is list and "items" in spec:
        ok = all(_is_valid(item, spec["items"]) for item in value)
    if not ok:
        raise ParameterError(f"parameter {name!r} must be {_describe(spec)}, got {value!r}")
    return value


def _is_valid(value: Any, spec: dict) -> bool:
    try:
        _check_value("item", value, spec)
    except ParameterError:
        return False
    return True


def validate(chapter: str, values: Mapping[str, Any], source: str = "the parameters given") -> dict[str, Any]:
    """Check every value against the chapter's schema; returns the (type-normalised) values.

    Raises
    ------
    ParameterError
        Naming the parameter, its allowed values and where the value came from.
    """
    spec = schema(chapter)
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
    return checked
