"""Semantics: which LTNtorch fuzzy operators interpret the connectives and quantifiers.

The choices, their defaults and ``epsilon`` come from the shared spec; :func:`operators`
builds LTNtorch 1.0.2's ``ltn.fuzzy_ops`` objects (``eps = 1e-4`` there, as in the spec:
a test checks it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Mapping

import ltn.fuzzy_ops as fuzzy_ops
import torch

from nesy.logic.query.errors import show_value
from nesy.logic.query.spec import SPEC, message

__all__ = ["AggregMax", "Semantics", "operators"]

_CHOICES = SPEC["semantics"]["choices"]
_DEFAULTS = SPEC["semantics"]["defaults"]
AND_CHOICES = tuple(_CHOICES["and_op"])
OR_CHOICES = tuple(_CHOICES["or_op"])
IMPLIES_CHOICES = tuple(_CHOICES["implies_op"])
FORALL_CHOICES = tuple(_CHOICES["forall_op"])
EXISTS_CHOICES = tuple(_CHOICES["exists_op"])


@dataclass(frozen=True)
class Semantics:
    """Which fuzzy operators interpret the connectives and quantifiers.

    Parameters
    ----------
    and_op : {"product", "min", "lukasiewicz"}
    or_op : {"probsum", "max", "lukasiewicz"}
    implies_op : {"reichenbach", "kleene_dienes", "goedel", "goguen", "lukasiewicz"}
    forall_op : {"pmean_error", "pmean", "min", "mean"}
    forall_p : float
        ``p`` of the forall p-mean(-error) aggregator, >= 1.
    exists_op : {"pmean", "max"}
    exists_p : float
        ``p`` of the exists p-mean aggregator, >= 1.
    stable : bool
        Passed to the LTNtorch operators that have a ``stable`` flag (AndProd, OrProbSum,
        ImpliesReichenbach, ImpliesGoguen, AggregPMean, AggregPMeanError); LTNtorch's
        default, True, is the default here.

    ``not`` is always ``1 - x`` and ``iff`` is ``and_op`` of both implications. The defaults
    are LTN's usual choice (product, probabilistic sum, Reichenbach, p-mean-error p=2 for
    ∀, p-mean p=2 for ∃). A bad choice raises ``ValueError`` naming the field and the
    allowed values. :meth:`to_dict` / :meth:`from_dict` use the field names as keys (the
    JavaScript twin and the widget's ``semantics`` trait use the same keys).
    """

    and_op: str = _DEFAULTS["and_op"]
    or_op: str = _DEFAULTS["or_op"]
    implies_op: str = _DEFAULTS["implies_op"]
    forall_op: str = _DEFAULTS["forall_op"]
    forall_p: float = _DEFAULTS["forall_p"]
    exists_op: str = _DEFAULTS["exists_op"]
    exists_p: float = _DEFAULTS["exists_p"]
    stable: bool = _DEFAULTS["stable"]

    def __post_init__(self):
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(message("semantics_choice", name=name, allowed=", ".join(allowed),
                                         value=show_value(value)))
        for name in SPEC["semantics"]["exponents"]:
            value = getattr(self, name)
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or value < 1):
                raise ValueError(message("semantics_exponent", name=name, value=show_value(value)))
            object.__setattr__(self, name, float(value))
        if not isinstance(self.stable, bool):
            raise ValueError(message("semantics_stable", value=show_value(self.stable)))

    def to_dict(self) -> dict:
        """The choices as a plain dict (JSON-able; the widget's ``semantics`` trait)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping | None) -> "Semantics":
        """Build from a (possibly partial) dict; unknown keys raise ``ValueError``."""
        d = dict(d or {})
        names = [f.name for f in fields(cls)]
        unknown = [k for k in d if k not in names]
        if unknown:
            raise ValueError(message("semantics_unknown", keys=", ".join(map(str, unknown)),
                                     allowed=", ".join(names)))
        return cls(**d)


class AggregMax(fuzzy_ops.AggregationOperator):
    """Max aggregator (ltntorch 1.0.2 has none); masked-out values count as 0.

    Same call convention as ``ltn.fuzzy_ops.AggregMin``, so it can be passed to
    ``ltn.Quantifier(AggregMax(), "e")``.
    """

    def __repr__(self):
        return "AggregMax()"

    def __call__(self, xs, dim=None, keepdim=False, mask=None):
        if mask is not None:
            fuzzy_ops.check_mask(mask, xs)
            xs = torch.where(~mask, 0., xs.double())
        if dim is None:
            return torch.amax(xs)
        return torch.amax(xs, dim=dim, keepdim=keepdim)


def operators(semantics: Semantics | None = None) -> dict:
    """The LTNtorch operator objects for a :class:`Semantics`.

    Returns
    -------
    dict
        Keys ``and``, ``or``, ``implies``, ``not``, ``iff`` (``ltn.fuzzy_ops``
        connective operators) and ``forall``, ``exists`` (aggregation operators).
    """
    s = semantics or Semantics()
    and_op = {"product": lambda: fuzzy_ops.AndProd(stable=s.stable),
              "min": fuzzy_ops.AndMin,
              "lukasiewicz": fuzzy_ops.AndLuk}[s.and_op]()
    or_op = {"probsum": lambda: fuzzy_ops.OrProbSum(stable=s.stable),
             "max": fuzzy_ops.OrMax,
             "lukasiewicz": fuzzy_ops.OrLuk}[s.or_op]()
    implies_op = {"reichenbach": lambda: fuzzy_ops.ImpliesReichenbach(stable=s.stable),
                  "kleene_dienes": fuzzy_ops.ImpliesKleeneDienes,
                  "goedel": fuzzy_ops.ImpliesGodel,
                  "goguen": lambda: fuzzy_ops.ImpliesGoguen(stable=s.stable),
                  "lukasiewicz": fuzzy_ops.ImpliesLuk}[s.implies_op]()
    forall = {"pmean_error": lambda: fuzzy_ops.AggregPMeanError(p=s.forall_p, stable=s.stable),
              "pmean": lambda: fuzzy_ops.AggregPMean(p=s.forall_p, stable=s.stable),
              "min": fuzzy_ops.AggregMin,
              "mean": fuzzy_ops.AggregMean}[s.forall_op]()
    exists = {"pmean": lambda: fuzzy_ops.AggregPMean(p=s.exists_p, stable=s.stable),
              "max": AggregMax}[s.exists_op]()
    return {"and": and_op, "or": or_op, "implies": implies_op, "not": fuzzy_ops.NotStandard(),
            "iff": fuzzy_ops.Equiv(and_op, implies_op), "forall": forall, "exists": exists}
