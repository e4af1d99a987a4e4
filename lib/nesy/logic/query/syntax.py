"""The syntax tree: formula and term nodes, :class:`Query`, printing and walking.

``str(query)`` is the canonical form (unicode connectives from the spec, fewest
parentheses); it parses back to an equal tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nesy.logic.query.spec import SPEC

_PREC = {op: c["precedence"] for op, c in SPEC["connectives"].items()}
_SYM = {op: c["symbol"] for op, c in SPEC["connectives"].items()}
_RIGHT = {op for op, c in SPEC["connectives"].items() if c["associativity"] == "right"}


class Formula:
    """Base class of formula nodes (truth value per image)."""

    def to_str(self, var: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def __str__(self) -> str:
        return self.to_str("Im")


class Term:
    """Base class of comparison operands."""

    def to_str(self, var: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Apply(Term):
    """A symbol applied to the image: ``name(Im)``; ``kind`` is predicate or function."""

    name: str
    kind: str
    pos: int = field(default=0, compare=False)

    def to_str(self, var: str) -> str:
        return f"{self.name}({var})"


@dataclass(frozen=True)
class Number(Term):
    """A number literal (``text`` is kept as written, for printing)."""

    value: float
    text: str = field(default="", compare=False)

    def to_str(self, var: str) -> str:
        return self.text or repr(self.value)


@dataclass(frozen=True)
class Param(Term):
    """A named parameter, bound at evaluation (``params={"t": 0.3}``)."""

    name: str
    pos: int = field(default=0, compare=False)

    def to_str(self, var: str) -> str:
        return self.name


@dataclass(frozen=True)
class Atom(Formula):
    """A predicate applied to the image: its truth value."""

    name: str
    pos: int = field(default=0, compare=False)

    def to_str(self, var: str) -> str:
        return f"{self.name}({var})"


@dataclass(frozen=True)
class Compare(Formula):
    """A crisp comparison ``left op right`` (op in <, <=, >, >=): 1.0 or 0.0."""

    op: str
    left: Term
    right: Term
    pos: int = field(default=0, compare=False)

    def to_str(self, var: str) -> str:
        op = SPEC["comparison_symbols"][self.op]
        return f"{self.left.to_str(var)} {op} {self.right.to_str(var)}"


@dataclass(frozen=True)
class Not(Formula):
    """Negation."""

    operand: Formula

    def to_str(self, var: str) -> str:
        inner = self.operand.to_str(var)
        if isinstance(self.operand, (BinOp, Compare)):
            inner = f"({inner})"
        return _SYM["not"] + inner


@dataclass(frozen=True)
class BinOp(Formula):
    """A binary connective; ``op`` in and, or, implies, iff."""

    op: str
    left: Formula
    right: Formula

    def to_str(self, var: str) -> str:
        prec = _PREC[self.op]
        left, right = self.left.to_str(var), self.right.to_str(var)
        # fewest parentheses, plus (a ∧ b) inside ∨ for readability
        if isinstance(self.left, BinOp):
            lp = _PREC[self.left.op]
            if (lp < prec or (lp == prec and self.op in _RIGHT)
                    or (self.op == "or" and self.left.op == "and")):
                left = f"({left})"
        if isinstance(self.right, BinOp):
            rp = _PREC[self.right.op]
            if (rp < prec or (rp == prec and self.op not in _RIGHT)
                    or (self.op == "or" and self.right.op == "and")):
                right = f"({right})"
        return f"{left} {_SYM[self.op]} {right}"


def And(left: Formula, right: Formula) -> BinOp:
    """``left ∧ right``."""
    return BinOp("and", left, right)


def Or(left: Formula, right: Formula) -> BinOp:
    """``left ∨ right``."""
    return BinOp("or", left, right)


def Implies(left: Formula, right: Formula) -> BinOp:
    """``left → right``."""
    return BinOp("implies", left, right)


def Iff(left: Formula, right: Formula) -> BinOp:
    """``left ↔ right``."""
    return BinOp("iff", left, right)


@dataclass(frozen=True)
class Query:
    """A parsed query ``QUANT var [where guard]: body``.

    ``str(query)`` prints it with unicode connectives and the fewest parentheses; the
    printed form parses back to an equal ``Query``.
    """

    quantifier: str  # "forall" | "exists"
    var: str
    guard: Formula | None
    body: Formula
    predicates: tuple[str, ...] = field(default=(), compare=False)
    functions: tuple[str, ...] = field(default=(), compare=False)
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        q = SPEC["quantifiers"][self.quantifier]
        guard = f" where {self.guard.to_str(self.var)}" if self.guard is not None else ""
        return f"{q} {self.var}{guard}: {self.body.to_str(self.var)}"

    @property
    def params(self) -> list[str]:
        """Names of the parameters the query uses, in order of first use."""
        return list(dict.fromkeys(p.name for p in walk_params(self)))

    @property
    def symbols(self) -> list[str]:
        """Names of the predicates and functions the query uses, in order of first use."""
        return list(dict.fromkeys(a.name for a in walk_symbols(self)))


def children(node):
    if isinstance(node, Query):
        return ([node.guard] if node.guard is not None else []) + [node.body]
    if isinstance(node, Not):
        return [node.operand]
    if isinstance(node, (BinOp, Compare)):
        return [node.left, node.right]
    return []


def walk(node):
    yield node
    for child in children(node):
        yield from walk(child)


def walk_params(node):
    return [n for n in walk(node) if isinstance(n, Param)]


def walk_symbols(node):
    return [n for n in walk(node) if isinstance(n, (Atom, Apply))]
