"""A typed first-order-logic query language over per-image predicate outputs.

The article's LTN answers questions such as ``∀ Im ¬oe(e(Im)) ⇒ Crash()`` by evaluating
the trained predicates on every image and aggregating with fuzzy connectives and
quantifiers. This module parses such a query (one quantified image variable) and
evaluates it over *precomputed* per-image outputs with LTNtorch's fuzzy operators, so the
same question can be asked of any trained model, and of the outputs embedded in the static
book (``lib/nesy/widgets/logic_query.mjs`` is the JavaScript twin of this module; both give
the same values to 1e-6 and the same error messages).

Language
--------
``QUANT VAR [where GUARD] : BODY``

* quantifiers ``forall`` / ``∀`` and ``exists`` / ``∃``; exactly one image variable (any
  identifier, e.g. ``Im``). The ``:`` may be left out when there is no guard (so the
  article's ``∀ Im ¬oe(e(Im)) ⇒ Crash()`` parses as written).
* applications ``p(Im)``, ``p(e(Im))`` (the article's encoder ``e``) or ``p()`` (the article
  writes ``Crash()`` for the crash predicate applied to the image's outputs).
* connectives, highest precedence first: ``not`` ``¬`` ``!``; ``and`` ``∧`` ``&``;
  ``or`` ``∨`` ``|``; ``->`` ``=>`` ``⇒`` ``→`` (right-associative); ``<->`` ``<=>`` ``⇔``
  ``↔`` (left-associative); parentheses.
* typed symbols: *predicates* give truth values in [0, 1] and are formulas; *functions*
  give magnitudes and may only appear in a comparison ``f(Im) < c`` (also ``<=``, ``>``,
  ``>=``, ``≤``, ``≥``; either side), where ``c`` is a number literal or a named parameter
  (e.g. ``t``) given at evaluation. Predicates may be compared too. Comparisons bind
  tighter than ``not`` and are crisp (1.0 or 0.0).
* a guard ``where G`` is LTN's guarded quantifier: the domain is the images with
  ``G > 0.5`` (a crisp mask, as LTNtorch's ``cond_vars``/``cond_fn``) and BODY is aggregated
  over that domain only. An empty domain gives ``value = nan`` and ``domain_size = 0``
  (LTNtorch's ``Quantifier`` would instead replace the NaN by 1 for ∀ and 0 for ∃).

Limits: a query is at most ``MAX_QUERY_LENGTH`` code points long and nests at most
``MAX_DEPTH`` levels (each connective, ``not`` and pair of parentheses is a level), so
parsing, printing and evaluation never exhaust the stack.

Errors (syntax, unknown names, a function used as a formula, a wrong variable, an unbound
parameter, a limit) raise :class:`QueryError`, a ``ValueError`` whose message repeats the query with
a caret under the position and says what was expected.

Semantics
---------
Operators are LTNtorch 1.0.2's ``ltn.fuzzy_ops`` (``eps = 1e-4``,
``pi_0(x) = (1 - eps) x + eps``, ``pi_1(x) = (1 - eps) x``); with ``stable=True`` (the
default, as LTNtorch's own defaults) the operators that have a ``stable`` flag use it:

=================  ==========================  =====================================
choice             LTNtorch operator           formula (stable=True)
=================  ==========================  =====================================
and product        ``AndProd(stable)``         ``pi_0(x) * pi_0(y)``
and min            ``AndMin()``                ``min(x, y)``
and lukasiewicz    ``AndLuk()``                ``max(x + y - 1, 0)``
or probsum         ``OrProbSum(stable)``       ``a + b - a b``, a=pi_1(x), b=pi_1(y)
or max             ``OrMax()``                 ``max(x, y)``
or lukasiewicz     ``OrLuk()``                 ``min(x + y, 1)``
implies reichenb.  ``ImpliesReichenbach``      ``1 - a + a b``, a=pi_0(x), b=pi_1(y)
implies kleene_d.  ``ImpliesKleeneDienes()``   ``max(1 - x, y)``
implies goedel     ``ImpliesGodel()``          ``1 if x <= y else y``
implies goguen     ``ImpliesGoguen(stable)``   ``1 if a <= y else y / a``, a=pi_0(x)
implies lukas.     ``ImpliesLuk()``            ``min(1 - x + y, 1)``
not                ``NotStandard()``           ``1 - x``
iff                ``Equiv(and, implies)``     ``and(implies(x, y), implies(y, x))``
forall pmean_error ``AggregPMeanError(p)``     ``1 - mean((1 - pi_1(x))^p)^(1/p)``
forall pmean       ``AggregPMean(p)``          ``mean(pi_0(x)^p)^(1/p)``
forall min         ``AggregMin()``             ``min(x)``
forall mean        ``AggregMean()``            ``mean(x)``
exists pmean       ``AggregPMean(p)``          ``mean(pi_0(x)^p)^(1/p)``
exists max         :class:`AggregMax` (here)   ``max(x)``
=================  ==========================  =====================================

With ``stable=False`` the ``pi_0``/``pi_1`` are dropped. ltntorch 1.0.2 has no max
aggregator, so :class:`AggregMax` (an ``ltn.fuzzy_ops.AggregationOperator`` with the same
mask convention as ``AggregMin``) is defined here. The means run over the quantifier's
domain (the guard's mask). All computation is in float64 (the JavaScript twin computes in
doubles too).
"""

from __future__ import annotations

import decimal
import json
import math
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Iterable, Mapping

import ltn
import ltn.fuzzy_ops as fuzzy_ops
import torch

__all__ = [
    "ARTICLE_QUERIES",
    "MAX_DEPTH",
    "MAX_QUERY_LENGTH",
    "AggregMax",
    "And",
    "Apply",
    "Atom",
    "BinOp",
    "Compare",
    "Iff",
    "Implies",
    "Not",
    "Number",
    "Or",
    "Param",
    "Query",
    "QueryError",
    "QueryResult",
    "Semantics",
    "evaluate",
    "operators",
    "parse",
]

#: The encoder symbol of the article, allowed as ``p(e(Im))``.
ENCODER = "e"
KEYWORDS = ("forall", "exists", "where", "not", "and", "or")
#: Longest query text (code points) and deepest nesting the parser accepts (the JS twin's too).
MAX_QUERY_LENGTH = 10_000
MAX_DEPTH = 100

#: The article's four queries (written as in the article) and a few more, as prepared
#: queries for :class:`nesy.widgets.logic_query.LogicQueryExplorer`.
ARTICLE_QUERIES: list[dict[str, str]] = [
    {"label": "Q1: no obstruction ⇒ crash", "query": "∀ Im: ¬oe(e(Im)) ⇒ Crash()"},
    {
        "label": "Q2: a vehicle is obstructed ⇒ crash",
        "query": "∀ Im: sco(e(Im)) ∨ bco(e(Im)) ∨ to(e(Im)) ⇒ Crash()",
    },
    {
        "label": "Q3: obstructed and closer than t ⇒ crash",
        "query": "∀ Im: (sco(e(Im)) ∧ scd(e(Im)) < t) ∨ (bco(e(Im)) ∧ bcd(e(Im)) < t)"
        " ∨ (to(e(Im)) ∧ td(e(Im)) < t) ⇒ Crash()",
    },
    {
        "label": "Q4: truck obstructed and closer than t ⇒ crash",
        "query": "∀ Im: to(e(Im)) ∧ td(e(Im)) < t ⇒ Crash()",
    },
    {
        "label": "Q2 guarded: crash where a vehicle is obstructed",
        "query": "∀ Im where sco(Im) ∨ bco(Im) ∨ to(Im): Crash(Im)",
    },
    {"label": "a crash needs an obstruction", "query": "∀ Im: Crash(Im) → oe(Im)"},
    {"label": "no obstruction ⇒ no crash", "query": "∀ Im: ¬oe(Im) → ¬Crash(Im)"},
    {
        "label": "some small car is obstructed closer than t",
        "query": "∃ Im: sco(Im) ∧ scd(Im) < t",
    },
]


# ----------------------------------------------------------------------------- errors


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


def _number_text(v: float) -> str:
    """A number as JavaScript's ``String(v)`` writes it (shortest round-trip digits), nan/inf spelled out."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    sign, digits, exponent = decimal.Decimal(repr(float(v))).normalize().as_tuple()
    d = "".join(map(str, digits))
    k, n = len(d), exponent + len(d)          # v = 0.d * 10**n
    if k <= n <= 21:
        body = d + "0" * (n - k)
    elif 0 < n <= 21:
        body = d[:n] + "." + d[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + d
    else:
        e = f"{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
        body = (d if k == 1 else d[0] + "." + d[1:]) + "e" + e
    return ("-" if sign else "") + body


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
    shown = re.sub(r"[\t\n\r\f\v]", " ", text)
    return f"{reason}\n    {shown}\n    {' ' * position}^"


# ----------------------------------------------------------------------------- tokens

_WS = " \t\n\r\f\v"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# longest first
_SYMBOLS = [
    ("<->", "iff"), ("<=>", "iff"), ("->", "implies"), ("=>", "implies"),
    ("<=", "cmp"), (">=", "cmp"), ("<", "cmp"), (">", "cmp"),
    ("≤", "cmp"), ("≥", "cmp"),
    ("⇔", "iff"), ("↔", "iff"), ("⇒", "implies"), ("→", "implies"),
    ("¬", "not"), ("!", "not"), ("∧", "and"), ("&", "and"), ("∨", "or"), ("|", "or"),
    ("∀", "forall"), ("∃", "exists"),
    ("(", "lparen"), (")", "rparen"), (",", "comma"), (":", "colon"),
]
_CMP_CANON = {"<": "<", "<=": "<=", "≤": "<=", ">": ">", ">=": ">=", "≥": ">="}


@dataclass(frozen=True)
class _Token:
    kind: str  # ident number cmp not and or implies iff forall exists where ( ) , : eof
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _WS:
            i += 1
            continue
        m = _NUMBER.match(text, i)
        if m and (c != "-" or not text.startswith("->", i)):
            tokens.append(_Token("number", m.group(0), i))
            i = m.end()
            continue
        m = _IDENT.match(text, i)
        if m:
            word = m.group(0)
            tokens.append(_Token(word if word in KEYWORDS else "ident", word, i))
            i = m.end()
            continue
        for sym, kind in _SYMBOLS:
            if text.startswith(sym, i):
                tokens.append(_Token(kind, sym, i))
                i += len(sym)
                break
        else:
            raise QueryError(f"unexpected character '{c}'", text, i)
    tokens.append(_Token("eof", "", n))
    return tokens


def _describe(tok: _Token) -> str:
    return "end of query" if tok.kind == "eof" else f"'{tok.text}'"


# ----------------------------------------------------------------------------- AST

_PREC = {"iff": 1, "implies": 2, "or": 3, "and": 4}
_SYM = {"iff": "↔", "implies": "→", "or": "∨", "and": "∧"}


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
        op = {"<=": "≤", ">=": "≥"}.get(self.op, self.op)
        return f"{self.left.to_str(var)} {op} {self.right.to_str(var)}"


@dataclass(frozen=True)
class Not(Formula):
    """Negation."""

    operand: Formula

    def to_str(self, var: str) -> str:
        inner = self.operand.to_str(var)
        if isinstance(self.operand, (BinOp, Compare)):
            inner = f"({inner})"
        return "¬" + inner


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
            if (lp < prec or (lp == prec and self.op == "implies")
                    or (self.op == "or" and self.left.op == "and")):
                left = f"({left})"
        if isinstance(self.right, BinOp):
            rp = _PREC[self.right.op]
            if (rp < prec or (rp == prec and self.op != "implies")
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
        q = "∀" if self.quantifier == "forall" else "∃"
        guard = f" where {self.guard.to_str(self.var)}" if self.guard is not None else ""
        return f"{q} {self.var}{guard}: {self.body.to_str(self.var)}"

    @property
    def params(self) -> list[str]:
        """Names of the parameters the query uses, in order of first use."""
        return list(dict.fromkeys(p.name for p in _walk_params(self)))

    @property
    def symbols(self) -> list[str]:
        """Names of the predicates and functions the query uses, in order of first use."""
        return list(dict.fromkeys(a.name for a in _walk_symbols(self)))


def _children(node):
    if isinstance(node, Query):
        return ([node.guard] if node.guard is not None else []) + [node.body]
    if isinstance(node, Not):
        return [node.operand]
    if isinstance(node, (BinOp, Compare)):
        return [node.left, node.right]
    return []


def _walk(node):
    yield node
    for child in _children(node):
        yield from _walk(child)


def _walk_params(node):
    return [n for n in _walk(node) if isinstance(n, Param)]


def _walk_symbols(node):
    return [n for n in _walk(node) if isinstance(n, (Atom, Apply))]


# ----------------------------------------------------------------------------- parser


def _check_names(predicates: Iterable[str], functions: Iterable[str]):
    if isinstance(predicates, str) or isinstance(functions, str):
        raise TypeError("predicates and functions must be iterables of names, not a string")
    preds, funcs = tuple(predicates), tuple(functions)
    for name in preds + funcs:
        if not isinstance(name, str) or not _IDENT.fullmatch(name):
            raise ValueError(f"symbol name {name!r} is not an identifier ([A-Za-z_][A-Za-z0-9_]*)")
        if name in KEYWORDS or name == ENCODER:
            raise ValueError(f"symbol name {name!r} is reserved (keywords: {', '.join(KEYWORDS)};"
                             f" encoder: {ENCODER})")
    both = sorted(set(preds) & set(funcs))
    if both:
        raise ValueError(f"names declared both as predicate and as function: {', '.join(both)}")
    return preds, funcs


class _Parser:
    def __init__(self, text: str, predicates: tuple[str, ...], functions: tuple[str, ...]):
        self.text = text
        self.preds = predicates
        self.funcs = functions
        if len(text) > MAX_QUERY_LENGTH:
            raise QueryError(f"the query is longer than {MAX_QUERY_LENGTH} characters", text, MAX_QUERY_LENGTH)
        self.tokens = _tokenize(text)
        self.i = 0
        self.var = ""
        self.open = 0        # levels entered and not yet left: parentheses, 'not', right-nested '->'
        self.depths = {}     # id(node) -> depth of the subtree (leaves 1)

    def nest(self, node, *children, pos: int):
        """Record ``node``'s depth (1 + its deepest child) or refuse it beyond ``MAX_DEPTH``."""
        depth = 1 + max((self.depths.get(id(c), 1) for c in children), default=0)
        if depth > MAX_DEPTH:
            self.too_deep(pos)
        self.depths[id(node)] = depth
        return node

    def enter(self, pos: int):
        self.open += 1
        if self.open > MAX_DEPTH:
            self.too_deep(pos)

    def too_deep(self, pos: int):
        self.error(f"the formula nests more than {MAX_DEPTH} levels deep (connectives, 'not' and parentheses)",
                   pos)

    # helpers
    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> _Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def error(self, reason: str, pos: int | None = None):
        raise QueryError(reason, self.text, self.tok.pos if pos is None else pos)

    def expected(self, what: str):
        self.error(f"expected {what}, got {_describe(self.tok)}")

    def unknown_symbol(self, tok: _Token):
        preds = ", ".join(self.preds) or "(none)"
        funcs = ", ".join(self.funcs) or "(none)"
        self.error(f"unknown symbol '{tok.text}'; predicates: {preds}; functions: {funcs}",
                   tok.pos)

    # grammar
    def query(self) -> Query:
        if self.tok.kind not in ("forall", "exists"):
            self.expected("a quantifier ('forall', 'exists', '∀' or '∃')")
        quant = self.advance()
        if self.tok.kind != "ident":
            self.expected(f"the image variable after '{quant.text}'")
        var = self.advance()
        if var.text in self.preds or var.text in self.funcs or var.text == ENCODER:
            kind = ("predicate" if var.text in self.preds
                    else "function" if var.text in self.funcs else "encoder")
            self.error(f"the variable name '{var.text}' is already the {kind} '{var.text}'",
                       var.pos)
        self.var = var.text
        guard = None
        if self.tok.kind == "where":
            self.advance()
            guard = self.formula()
            if self.tok.kind != "colon":
                self.expected("':' after the guard")
            self.advance()
        elif self.tok.kind == "colon":
            self.advance()
        body = self.formula()
        if self.tok.kind != "eof":
            self.expected("a connective or end of query")
        return Query(quant.kind, var.text, guard, body, self.preds, self.funcs, self.text)

    def formula(self) -> Formula:
        left = self.implication()
        while self.tok.kind == "iff":
            op = self.advance()
            right = self.implication()
            left = self.nest(BinOp("iff", left, right), left, right, pos=op.pos)
        return left

    def implication(self) -> Formula:
        left = self.disjunction()
        if self.tok.kind == "implies":
            op = self.advance()
            self.enter(op.pos)
            right = self.implication()
            self.open -= 1
            return self.nest(BinOp("implies", left, right), left, right, pos=op.pos)
        return left

    def disjunction(self) -> Formula:
        left = self.conjunction()
        while self.tok.kind == "or":
            op = self.advance()
            right = self.conjunction()
            left = self.nest(BinOp("or", left, right), left, right, pos=op.pos)
        return left

    def conjunction(self) -> Formula:
        left = self.negation()
        while self.tok.kind == "and":
            op = self.advance()
            right = self.negation()
            left = self.nest(BinOp("and", left, right), left, right, pos=op.pos)
        return left

    def negation(self) -> Formula:
        if self.tok.kind == "not":
            op = self.advance()
            self.enter(op.pos)
            operand = self.negation()
            self.open -= 1
            return self.nest(Not(operand), operand, pos=op.pos)
        return self.primary()

    def primary(self) -> Formula:
        tok = self.tok
        if tok.kind == "lparen":
            self.advance()
            self.enter(tok.pos)
            inner = self.formula()
            if self.tok.kind != "rparen":
                self.expected("')'")
            self.advance()
            self.open -= 1
            return inner
        if tok.kind not in ("ident", "number"):
            self.expected("a formula (a predicate application, a comparison, 'not' or '(')")
        left = self.term()
        if self.tok.kind != "cmp":
            if isinstance(left, Apply) and left.kind == "predicate":
                return Atom(left.name, left.pos)
            if isinstance(left, Apply):
                self.error(f"'{left.name}' is a function (a magnitude), not a predicate: compare"
                           f" it with a threshold, e.g. {left.name}({self.var}) < 0.5", left.pos)
            if isinstance(left, Param):
                self.unknown_symbol(tok)
            self.expected(f"a comparison operator ('<', '<=', '>', '>=') after '{tok.text}'")
        op = self.advance()
        right = self.term()
        if not isinstance(left, Apply) and not isinstance(right, Apply):
            self.error("a comparison needs a predicate or function application on one side",
                       op.pos)
        if self.tok.kind == "cmp":
            self.error("comparisons cannot be chained; join them with 'and'")
        return Compare(_CMP_CANON[op.text], left, right, op.pos)

    def term(self) -> Term:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            return Number(float(tok.text), tok.text)
        if tok.kind != "ident":
            self.expected("a number, a parameter or a function application")
        name = tok
        if name.text == self.var:
            self.error(f"the variable '{self.var}' is an image, not a value: apply a predicate"
                       f" or function to it, e.g. {(self.preds + self.funcs + ('p',))[0]}"
                       f"({self.var})", name.pos)
        self.advance()
        is_symbol = name.text in self.preds or name.text in self.funcs
        if self.tok.kind != "lparen":
            if is_symbol:
                self.expected(f"'(' after '{name.text}'")
            return Param(name.text, name.pos)
        if not is_symbol:
            self.unknown_symbol(name)
        self.advance()  # (
        self.argument(name.text)
        if self.tok.kind != "rparen":
            self.expected(f"')' to close '{name.text}('")
        self.advance()
        kind = "predicate" if name.text in self.preds else "function"
        return Apply(name.text, kind, name.pos)

    def argument(self, fname: str) -> None:
        """Consume ``Im``, ``e(Im)`` or nothing."""
        tok = self.tok
        if tok.kind == "rparen":
            return
        if tok.kind == "ident" and tok.text == self.var:
            self.advance()
            return
        if tok.kind == "ident" and tok.text == ENCODER and self.peek().kind == "lparen":
            self.advance()
            self.advance()
            inner = self.tok
            if inner.kind == "ident" and inner.text == self.var:
                self.advance()
            elif inner.kind == "ident" and self.peek().kind != "lparen":
                self.error(f"unknown variable '{inner.text}' (the quantified variable is"
                           f" '{self.var}')")
            else:
                self.expected(f"the variable '{self.var}' inside {ENCODER}(...)")
            if self.tok.kind != "rparen":
                self.expected(f"')' to close '{ENCODER}('")
            self.advance()
            return
        if tok.kind == "ident" and self.peek().kind != "lparen":
            self.error(f"unknown variable '{tok.text}' (the quantified variable is '{self.var}')")
        self.expected(f"'{self.var}', '{ENCODER}({self.var})' or nothing as the argument of"
                      f" '{fname}'")


def parse(text: str, predicates: Iterable[str], functions: Iterable[str] = ()) -> Query:
    """Parse a query over typed symbols.

    Parameters
    ----------
    text : str
        The query, ``QUANT VAR [where GUARD] : BODY`` (see the module docstring).
    predicates : iterable of str
        Names of the predicates (truth values in [0, 1]; usable as formulas).
    functions : iterable of str, optional
        Names of the functions (magnitudes; usable only inside comparisons).

    Returns
    -------
    Query
        The abstract syntax tree; ``str(query)`` is a canonical, re-parsable form.

    Raises
    ------
    QueryError
        On a syntax error, an unknown name, a wrong variable or a function used as a
        formula; the message shows the query with a caret at the position.
    ValueError
        If a symbol name is not an identifier, is reserved, or is declared twice.

    Examples
    --------
    >>> q = parse("forall Im: not oe(e(Im)) -> Crash()", ["oe", "Crash"])
    >>> print(q)
    ∀ Im: ¬oe(Im) → Crash(Im)
    >>> print(parse("exists X: sco(X) and scd(X) < t", ["sco"], ["scd"]))
    ∃ X: sco(X) ∧ scd(X) < t
    >>> parse("forall Im: scd(Im)", ["sco"], ["scd"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nesy.logic.query.QueryError: 'scd' is a function (a magnitude), not a predicate: ...
    """
    if not isinstance(text, str):
        raise TypeError(f"query must be a str, got {type(text).__name__}")
    preds, funcs = _check_names(predicates, functions)
    return _Parser(text, preds, funcs).query()


# ----------------------------------------------------------------------------- semantics

AND_CHOICES = ("product", "min", "lukasiewicz")
OR_CHOICES = ("probsum", "max", "lukasiewicz")
IMPLIES_CHOICES = ("reichenbach", "kleene_dienes", "goedel", "goguen", "lukasiewicz")
FORALL_CHOICES = ("pmean_error", "pmean", "min", "mean")
EXISTS_CHOICES = ("pmean", "max")


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

    and_op: str = "product"
    or_op: str = "probsum"
    implies_op: str = "reichenbach"
    forall_op: str = "pmean_error"
    forall_p: float = 2.0
    exists_op: str = "pmean"
    exists_p: float = 2.0
    stable: bool = True

    def __post_init__(self):
        for name, allowed in (("and_op", AND_CHOICES), ("or_op", OR_CHOICES),
                              ("implies_op", IMPLIES_CHOICES), ("forall_op", FORALL_CHOICES),
                              ("exists_op", EXISTS_CHOICES)):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"Semantics.{name} must be one of {', '.join(allowed)};"
                                 f" got {show_value(value)}")
        for name in ("forall_p", "exists_p"):
            value = getattr(self, name)
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or value < 1):
                raise ValueError(f"Semantics.{name} must be a finite number >= 1; got {show_value(value)}")
            object.__setattr__(self, name, float(value))
        if not isinstance(self.stable, bool):
            raise ValueError(f"Semantics.stable must be true or false; got {show_value(self.stable)}")

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
            raise ValueError(f"unknown semantics keys {', '.join(map(str, unknown))};"
                             f" allowed: {', '.join(names)}")
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


# ----------------------------------------------------------------------------- evaluation


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

    for p in _walk_params(q):
        if p.name not in params:
            given = ", ".join(params) or "(none)"
            raise QueryError(f"unbound parameter '{p.name}'; give its value in params"
                             f" (given: {given})", q.text, p.pos)
        v = params[p.name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"parameter {p.name!r} must be a finite number; got {show_value(v)}")

    vectors: dict[str, torch.Tensor] = {}
    n = None
    predicates_used = {a.name for a in _walk_symbols(q)
                       if isinstance(a, Atom) or a.kind == "predicate"}
    for name in q.symbols:
        if name not in outputs:
            raise ValueError(f"outputs has no entry for {name!r} (the query uses it); it has:"
                             f" {', '.join(outputs) or '(nothing)'}")
        v = _as_vector(name, outputs[name])
        if n is None:
            n = int(v.shape[0])
        elif v.shape[0] != n:
            raise ValueError(f"outputs[{name!r}] has {v.shape[0]} values, other symbols {n}")
        if not bool(torch.isfinite(v).all()):
            raise ValueError(f"outputs[{name!r}] has non-finite values")
        if name in predicates_used and not bool(((v >= 0) & (v <= 1)).all()):
            raise ValueError(f"outputs[{name!r}] (a predicate) has values outside [0, 1]")
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
