"""The hand-written recursive-descent parser (its errors and carets match the JavaScript twin's).

Precedence, lowest first (the spec's ``connectives``): ``<->`` (left-associative), ``->``
(right-associative), ``or``, ``and``, ``not``; comparisons bind tighter than ``not``.
"""

from __future__ import annotations

from typing import Iterable

from nesy.logic.query.errors import QueryError
from nesy.logic.query.spec import ENCODER, KEYWORDS, MAX_DEPTH, MAX_QUERY_LENGTH, message
from nesy.logic.query.syntax import Apply, Atom, BinOp, Compare, Formula, Not, Number, Param, Query, Term
from nesy.logic.query.tokens import CMP_CANON, IDENT, Token, describe, tokenize

__all__ = ["parse"]


def _check_names(predicates: Iterable[str], functions: Iterable[str]):
    if isinstance(predicates, str) or isinstance(functions, str):
        raise TypeError(message("names_not_iterable"))
    preds, funcs = tuple(predicates), tuple(functions)
    for name in preds + funcs:
        if not isinstance(name, str) or not IDENT.fullmatch(name):
            raise ValueError(message("name_not_identifier", name=repr(name)))
        if name in KEYWORDS or name == ENCODER:
            raise ValueError(message("name_reserved", name=repr(name), keywords=", ".join(KEYWORDS),
                                     encoder=ENCODER))
    both = sorted(set(preds) & set(funcs))
    if both:
        raise ValueError(message("name_twice", names=", ".join(both)))
    return preds, funcs


class _Parser:
    def __init__(self, text: str, predicates: tuple[str, ...], functions: tuple[str, ...]):
        self.text = text
        self.preds = predicates
        self.funcs = functions
        if len(text) > MAX_QUERY_LENGTH:
            raise QueryError(message("too_long", max_length=MAX_QUERY_LENGTH), text, MAX_QUERY_LENGTH)
        self.tokens = tokenize(text)
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
        self.error(message("too_deep", max_depth=MAX_DEPTH), pos)

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def error(self, reason: str, pos: int | None = None):
        raise QueryError(reason, self.text, self.tok.pos if pos is None else pos)

    def expected(self, key: str, **values):
        self.error(message("expected", what=message(key, **values), got=describe(self.tok)))

    def unknown_symbol(self, tok: Token):
        none = message("none")
        self.error(message("unknown_symbol", name=tok.text, predicates=", ".join(self.preds) or none,
                           functions=", ".join(self.funcs) or none), tok.pos)

    # grammar
    def query(self) -> Query:
        if self.tok.kind not in ("forall", "exists"):
            self.expected("want_quantifier")
        quant = self.advance()
        if self.tok.kind != "ident":
            self.expected("want_variable", quantifier=quant.text)
        var = self.advance()
        if var.text in self.preds or var.text in self.funcs or var.text == ENCODER:
            kind = ("predicate" if var.text in self.preds
                    else "function" if var.text in self.funcs else "encoder")
            self.error(message("variable_taken", name=var.text, kind=kind), var.pos)
        self.var = var.text
        guard = None
        if self.tok.kind == "where":
            self.advance()
            guard = self.formula()
            if self.tok.kind != "colon":
                self.expected("want_colon")
            self.advance()
        elif self.tok.kind == "colon":
            self.advance()
        body = self.formula()
        if self.tok.kind != "eof":
            self.expected("want_connective")
        return Query(quant.kind, var.text, guard, body, self.preds, self.funcs, self.text)

    def formula(self) -> Formula:
        # the left-associative loops stay inline (no shared helper): each parenthesis level
        # costs six Python frames, so MAX_DEPTH is reached well inside the recursion limit
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
                self.expected("want_rparen")
            self.advance()
            self.open -= 1
            return inner
        if tok.kind not in ("ident", "number"):
            self.expected("want_formula")
        left = self.term()
        if self.tok.kind != "cmp":
            if isinstance(left, Apply) and left.kind == "predicate":
                return Atom(left.name, left.pos)
            if isinstance(left, Apply):
                self.error(message("function_as_formula", name=left.name, var=self.var), left.pos)
            if isinstance(left, Param):
                self.unknown_symbol(tok)
            self.expected("want_comparison", text=tok.text)
        op = self.advance()
        right = self.term()
        if not isinstance(left, Apply) and not isinstance(right, Apply):
            self.error(message("comparison_without_application"), op.pos)
        if self.tok.kind == "cmp":
            self.error(message("chained_comparison"))
        return Compare(CMP_CANON[op.text], left, right, op.pos)

    def term(self) -> Term:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            return Number(float(tok.text), tok.text)
        if tok.kind != "ident":
            self.expected("want_term")
        name = tok
        if name.text == self.var:
            example = (self.preds + self.funcs + ("p",))[0]
            self.error(message("variable_as_value", var=self.var, example=example), name.pos)
        self.advance()
        is_symbol = name.text in self.preds or name.text in self.funcs
        if self.tok.kind != "lparen":
            if is_symbol:
                self.expected("want_lparen", name=name.text)
            return Param(name.text, name.pos)
        if not is_symbol:
            self.unknown_symbol(name)
        self.advance()  # (
        self.argument(name.text)
        if self.tok.kind != "rparen":
            self.expected("want_close", name=name.text)
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
                self.error(message("unknown_variable", name=inner.text, var=self.var))
            else:
                self.expected("want_encoder_variable", var=self.var, encoder=ENCODER)
            if self.tok.kind != "rparen":
                self.expected("want_close", name=ENCODER)
            self.advance()
            return
        if tok.kind == "ident" and self.peek().kind != "lparen":
            self.error(message("unknown_variable", name=tok.text, var=self.var))
        self.expected("want_argument", var=self.var, encoder=ENCODER, name=fname)


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
