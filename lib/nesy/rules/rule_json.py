"""Rules as JSON in dimlpfidex's format (``--global_rules_outfile rules.json``).

::

    {"positive index class": -1,
     "rules": [{"accuracy": 0.97, "antecedents": [{"attribute": 0, "inequality": true,
                "value": -0.0043}], "confidence": 0.80, "coveredSamples": [0, 6],
                "coveringSize": 2, "fidelity": 0.80, "outputClass": 1}],
     "threshold": -1.0}

``inequality`` true means ``x[attribute] >= value``, false ``x[attribute] < value``; keys are
sorted and indented by 4 as dimlpfidex writes them. Files written by fidexGloStats, whose
rules hold ``{"train": rule, "test": rule}``, load too (the train part is read).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..data.atomic import atomic_write

from .ruleset import Antecedent, Rule

__all__ = ["to_dict", "dumps", "save", "loads", "load"]


def _rule_dict(r: Rule) -> dict:
    return {
        "accuracy": None if r.accuracy is None else float(r.accuracy),
        "antecedents": [{"attribute": int(a.attribute), "inequality": bool(a.ge), "value": float(a.value)} for a in r.antecedents],
        "confidence": float(r.confidence),
        "coveredSamples": [int(i) for i in r.covered],
        "coveringSize": int(r.covering_size),
        "fidelity": float(r.fidelity),
        "outputClass": int(r.output_class),
    }


def to_dict(rules: list[Rule], threshold: float = -1.0, positive_index: int = -1) -> dict:
    """The JSON document (a dict) for ``rules``; ``threshold``/``positive_index`` -1 mean none."""
    return {"positive index class": int(positive_index), "rules": [_rule_dict(r) for r in rules], "threshold": float(threshold)}


def dumps(rules: list[Rule], threshold: float = -1.0, positive_index: int = -1) -> str:
    """JSON text in dimlpfidex's layout."""
    return json.dumps(to_dict(rules, threshold, positive_index), indent=4, sort_keys=True) + "\n"


def save(rules: list[Rule], path, threshold: float = -1.0, positive_index: int = -1) -> Path:
    """Write ``rules`` to ``path`` atomically (:func:`nesy.data.atomic.atomic_write`)."""
    return atomic_write(path, dumps(rules, threshold, positive_index).encode("utf-8"))


def _rule(d: dict) -> Rule:
    if "train" in d and "antecedents" not in d:
        d = d["train"]
    try:
        ants = [Antecedent(int(a["attribute"]), bool(a["inequality"]), float(a["value"])) for a in d["antecedents"]]
        covered = np.asarray(d.get("coveredSamples", []), dtype=np.int64)
        acc = d.get("accuracy")
        return Rule(
            antecedents=ants,
            output_class=int(d["outputClass"]),
            covered=covered,
            fidelity=float(d["fidelity"]),
            accuracy=None if acc is None else float(acc),
            confidence=float(d.get("confidence", float("nan"))),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a dimlpfidex rule: missing or malformed field {exc}") from None


def loads(text: str) -> list[Rule]:
    """Rules from JSON text in dimlpfidex's format."""
    doc = json.loads(text)
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise ValueError("not a dimlpfidex rules document: expected an object with a 'rules' list")
    return [_rule(d) for d in doc["rules"]]


def load(path) -> list[Rule]:
    """Rules from a dimlpfidex (or :func:`save`) JSON file."""
    return loads(Path(path).read_text())
