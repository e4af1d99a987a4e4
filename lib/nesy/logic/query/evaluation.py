"""Evaluation: a query's truth over precomputed per-image outputs (:func:`evaluate`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import torch

from nesy.logic.query.errors import QueryError, show_value
from nesy.logic.query.parser import parse
from nesy.logic.query.semantics import Semantics, operators
from nesy.logic.query.spec import message
from nesy.logic.query.syntax import Apply, Atom, BinOp, Compare, Formula, Not, Number, Query, Term, walk_params, walk_symbols

__all__ = ["QueryResult", "evaluate"]


@dataclass
class QueryResult:
    """The answer to a query.

    Attributes
    ----------
    value : float
        Truth value of the closed query in [0, 1]; ``nan`` if the domain is empty.
    per_image : torch.Tensor, shape (N,), float64
        Truth of the body on each image; ``nan`` outside the guard's domain.
    domain_size : int
        Number of images the quantifier ranges over (N without a guard).
    query : str
        The query text as given.
    parsed : Query
        The parsed query (``str(parsed)`` is its canonical form).
    """

    value: float
    per_image: torch.Tensor
    domain_size: int
    query: str
    parsed: Query | None = None

    def __str__(self) -> str:
        n = int(self.per_image.shape[0])
        return f"{self.query} = {self.value:.3f}  (domain {self.domain_size}/{n} images)"


def _as_vector(name: str, values) -> torch.Tensor:
    t = torch.as_tensor(values).detach().to("cpu", torch.float64)
    if t.dim() == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.dim() != 1:
        raise ValueError(f"outputs[{name!r}] must be 1-D (one value per image); got shape"
                         f" {tuple(t.shape)}")
    return t


def _leaf_value(term: Term, vectors: Mapping[str, torch.Tensor], params: Mapping[str, float]):
    if isinstance(term, Apply):
        return vectors[term.name]
    if isinstance(term, Number):
        return term.value
    return float(params[term.name])


_CMP_FN = {"<": torch.lt, "<=": torch.le, ">": torch.gt, ">=": torch.ge}


def _eval(node: Formula, vectors, params, ops, n: int) -> torch.Tensor:
    if isinstance(node, Atom):
        return vectors[node.name]
    if isinstance(node, Compare):
        left = _leaf_value(node.left, vectors, params)
        right = _leaf_value(node.right, vectors, params)
        if not isinstance(left, torch.Tensor):
            left = torch.full((n,), left, dtype=torch.float64)
        return _CMP_FN[node.op](left, right).to(torch.float64)
    if isinstance(node, Not):
        return ops["not"](_eval(node.operand, vectors, params, ops, n))
    if isinstance(node, BinOp):
        x = _eval(node.left, vectors, params, ops, n)
        y = _eval(node.right, vectors, params, ops, n)
        return ops[node.op](x, y)
    raise TypeError(f"not a formula node: {node!r}")


def evaluate(query: str | Query, outputs: Mapping[str, object],
             params: Mapping[str, float] | None = None,
             semantics: Semantics | Mapping | None = None,
             predicates: Iterable[str] | None = None,
             functions: Iterable[str] | None = None) -> QueryResult:
    """Evaluate a query over per-image outputs with LTNtorch's fuzzy operators.

    Parameters
    ----------
    query : str or Query
        The query text (parsed with ``predicates``/``functions``) or a parsed :class:`Query`
        (whose own symbol types are used).
    outputs : mapping of str to tensor of shape (N,)
        Per-image values of every symbol the query uses, over the same N images
        (e.g. ``outputs["sce"]``, ``outputs["scd"]``, ``outputs["Crash"]``); tensors, arrays
        or lists; shape (N, 1) is accepted. Predicate values must be in [0, 1]; all values
        finite.
    params : mapping of str to float, optional
        Values of the named parameters (e.g. ``{"t": 0.3}``).
    semantics : Semantics or dict, optional
        Operator choices; default ``Semantics()``.
    predicates : iterable of str, optional
        Predicate names; default every key of ``outputs`` that is not a function.
    functions : iterable of str, optional
        Function names; default none.

    Returns
    -------
    QueryResult
        ``value`` (float; nan for an empty domain), ``per_image`` (float64 tensor of shape
        (N,), the body's truth per image, nan outside the guard's domain),
        ``domain_size``, ``query``.

    Raises
    ------
    QueryError
        Bad query, or a parameter without a value.
    ValueError
        Missing or malformed outputs, predicate values outside [0, 1].

    Examples
    --------
    >>> import torch
    >>> outputs = {"oe": torch.tensor([1.0, 0.0, 1.0]), "Crash": torch.tensor([0.9, 0.0, 0.2]),
    ...            "scd": torch.tensor([0.1, 0.5, 0.7])}
    >>> r = evaluate("forall Im: not oe(Im) -> not Crash(Im)", outputs, functions=["scd"])
    >>> round(r.value, 3), r.domain_size
    (1.0, 3)
    >>> r = evaluate("forall Im where oe(Im): scd(Im) < t", outputs, params={"t": 0.3},
    ...              semantics=Semantics(forall_op="mean"), functions=["scd"])
    >>> r.value, r.domain_size, r.per_image.tolist()
    (0.5, 2, [1.0, nan, 0.0])
    """
    if isinstance(query, Query):
        q = query
    else:
        funcs = tuple(functions or ())
        preds = (tuple(predicates) if predicates is not None
                 else tuple(k for k in outputs if k not in funcs))
        q = parse(query, preds, funcs)
    if semantics is None:
        semantics = Semantics()
    elif not isinstance(semantics, Semantics):
        semantics = Semantics.from_dict(semantics)
    params = dict(params or {})

    for p in walk_params(q):
        if p.name not in params:
            given = ", ".join(params) or message("none")
            raise QueryError(message("unbound_parameter", name=p.name, given=given), q.text, p.pos)
        v = params[p.name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(message("parameter_not_finite", name=repr(p.name), value=show_value(v)))

    vectors: dict[str, torch.Tensor] = {}
    n = None
    predicates_used = {a.name for a in walk_symbols(q)
                       if isinstance(a, Atom) or a.kind == "predicate"}
    for name in q.symbols:
        if name not in outputs:
            raise ValueError(message("outputs_missing", name=repr(name),
                                     names=", ".join(outputs) or message("nothing")))
        v = _as_vector(name, outputs[name])
        if n is None:
            n = int(v.shape[0])
        elif v.shape[0] != n:
            raise ValueError(message("outputs_length", name=repr(name), count=v.shape[0], n=n))
        if not bool(torch.isfinite(v).all()):
            raise ValueError(message("outputs_not_finite", name=repr(name)))
        if name in predicates_used and not bool(((v >= 0) & (v <= 1)).all()):
            raise ValueError(message("outputs_out_of_range", name=repr(name)))
        vectors[name] = v
    n = n or 0

    ops = operators(semantics)
    body = _eval(q.body, vectors, params, ops, n)
    agg = ops[q.quantifier]
    if q.guard is None:
        domain_size = n
        per_image = body
        value = float(agg(body, dim=0)) if n > 0 else math.nan
    else:
        mask = _eval(q.guard, vectors, params, ops, n) > 0.5
        domain_size = int(mask.sum())
        per_image = torch.where(mask, body, torch.full_like(body, math.nan))
        value = float(agg(body, dim=0, mask=mask)) if domain_size > 0 else math.nan
    text = q.text if q.text else str(q)
    return QueryResult(value=value, per_image=per_image, domain_size=domain_size, query=text,
                       parsed=q)
