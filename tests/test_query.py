"""The first-order query language (nesy.logic.query): parser, errors, semantics, LTNtorch."""

import math

import ltn
import ltn.fuzzy_ops as fo
import pytest
import torch

from nesy.logic.query import (
    AggregMax,
    And,
    Atom,
    BinOp,
    Compare,
    Iff,
    Implies,
    Not,
    Number,
    Or,
    Param,
    Apply,
    Query,
    QueryError,
    Semantics,
    evaluate,
    operators,
    parse,
)

PREDS = ["sce", "bce", "te", "oe", "sco", "bco", "to", "Crash"]
FUNCS = ["scd", "bcd", "td"]
ABC = ["a", "b", "c", "d"]
EPS = 1e-4


def body(text, preds=ABC, funcs=("f",)):
    return parse(text, preds, funcs).body


a, b, c, d = Atom("a"), Atom("b"), Atom("c"), Atom("d")


# ------------------------------------------------------------------ parser: precedence


@pytest.mark.parametrize("text, expected", [
    ("forall Im: a(Im) and b(Im) or c(Im)", Or(And(a, b), c)),
    ("forall Im: a(Im) or b(Im) and c(Im)", Or(a, And(b, c))),
    ("forall Im: a(Im) and b(Im) and c(Im)", And(And(a, b), c)),
    ("forall Im: a(Im) or b(Im) or c(Im)", Or(Or(a, b), c)),
    ("forall Im: a(Im) -> b(Im) -> c(Im)", Implies(a, Implies(b, c))),
    ("forall Im: (a(Im) -> b(Im)) -> c(Im)", Implies(Implies(a, b), c)),
    ("forall Im: a(Im) or b(Im) -> c(Im)", Implies(Or(a, b), c)),
    ("forall Im: a(Im) -> b(Im) or c(Im)", Implies(a, Or(b, c))),
    ("forall Im: a(Im) <-> b(Im) -> c(Im)", Iff(a, Implies(b, c))),
    ("forall Im: a(Im) -> b(Im) <-> c(Im)", Iff(Implies(a, b), c)),
    ("forall Im: a(Im) <-> b(Im) <-> c(Im)", Iff(Iff(a, b), c)),
    ("forall Im: not a(Im) and b(Im)", And(Not(a), b)),
    ("forall Im: not (a(Im) and b(Im))", Not(And(a, b))),
    ("forall Im: not not a(Im)", Not(Not(a))),
    ("forall Im: (a(Im) or b(Im)) and c(Im)", And(Or(a, b), c)),
    ("forall Im: not f(Im) < 0.3", Not(Compare("<", Apply("f", "function"), Number(0.3)))),
    ("forall Im: a(Im) and f(Im) < t or d(Im)",
     Or(And(a, Compare("<", Apply("f", "function"), Param("t"))), d)),
    ("forall Im: 0.2 <= f(Im)", Compare("<=", Number(0.2), Apply("f", "function"))),
    ("forall Im: a(Im) > 0.5", Compare(">", Apply("a", "predicate"), Number(0.5))),
    ("forall Im: f(Im) >= -1e-3", Compare(">=", Apply("f", "function"), Number(-0.001))),
])
def test_precedence_and_associativity(text, expected):
    assert body(text) == expected


@pytest.mark.parametrize("variants", [
    ["forall Im: not a(Im)", "∀ Im: ¬a(Im)", "forall Im: !a(Im)", "∀Im:¬a(Im)"],
    ["forall Im: a(Im) and b(Im)", "∀ Im: a(Im) ∧ b(Im)", "forall Im: a(Im) & b(Im)"],
    ["forall Im: a(Im) or b(Im)", "∀ Im: a(Im) ∨ b(Im)", "forall Im: a(Im) | b(Im)"],
    ["forall Im: a(Im) -> b(Im)", "forall Im: a(Im) => b(Im)", "∀ Im: a(Im) ⇒ b(Im)",
     "∀ Im: a(Im) → b(Im)"],
    ["forall Im: a(Im) <-> b(Im)", "forall Im: a(Im) <=> b(Im)", "∀ Im: a(Im) ⇔ b(Im)",
     "∀ Im: a(Im) ↔ b(Im)"],
    ["exists Im: f(Im) <= 0.5 and f(Im) >= 0.1", "∃ Im: f(Im) ≤ 0.5 ∧ f(Im) ≥ 0.1"],
    # argument forms: Im, e(Im) (the article's encoder) and () ; the colon is optional
    ["forall Im: not a(Im) -> b(Im)", "forall Im: not a(e(Im)) -> b()",
     "∀ Im ¬(a(e(Im))) ⇒ b()", "forall Im not a() -> b(e( Im ))"],
    ["forall Im where a(Im): b(Im)", "∀ Im where a(e(Im)) : b()"],
])
def test_unicode_and_ascii_forms_agree(variants):
    parsed = [parse(v, ABC, ["f"]) for v in variants]
    assert all(p == parsed[0] for p in parsed[1:])


def test_any_variable_name_and_quantifiers():
    q = parse("exists X_1: sco(X_1) and scd(X_1) < 0.1", PREDS, FUNCS)
    assert (q.quantifier, q.var, q.guard) == ("exists", "X_1", None)
    assert str(q) == "∃ X_1: sco(X_1) ∧ scd(X_1) < 0.1"
    q = parse("forall Im where sco(Im) or bco(Im) or to(Im): Crash(Im)", PREDS, FUNCS)
    assert q.quantifier == "forall" and q.guard == Or(Or(Atom("sco"), Atom("bco")), Atom("to"))
    assert q.symbols == ["sco", "bco", "to", "Crash"]
    assert parse("forall Im: td(Im) < t and scd(Im) > u or bcd(Im) < t", PREDS,
                 FUNCS).params == ["t", "u"]


@pytest.mark.parametrize("text", [
    "forall Im: not oe(Im) -> not Crash(Im)",
    "exists Im: sco(Im) and scd(Im) < 0.1",
    "forall Im where sco(Im) or bco(Im) or to(Im): Crash(Im)",
    "forall Im: (sco(Im) and scd(Im) < t) or (bco(Im) and bcd(Im) < t) or (to(Im) and td(Im) < t) -> Crash()",
    "forall Im: (a(Im) -> b(Im)) -> c(Im)",
    "forall Im: a(Im) and (b(Im) and c(Im))",
    "forall Im: a(Im) or (b(Im) or c(Im))",
    "forall Im: (a(Im) <-> b(Im)) <-> c(Im)",
    "forall Im: a(Im) <-> (b(Im) <-> c(Im))",
    "forall Im: not (a(Im) or b(Im)) and not not c(Im)",
    "exists Im: not (te(Im) >= 0.5) <-> 0.25 > td(Im)",
])
def test_str_is_canonical_and_reparses(text):
    preds = PREDS + ABC
    q = parse(text, preds, FUNCS)
    again = parse(str(q), preds, FUNCS)
    assert again == q and str(again) == str(q)


def test_str_examples():
    q = parse("forall Im: (sco(Im) and scd(Im) < t) or to(Im) -> Crash()", PREDS, FUNCS)
    assert str(q) == "∀ Im: (sco(Im) ∧ scd(Im) < t) ∨ to(Im) → Crash(Im)"
    assert str(parse("forall Im: not scd(Im) <= 0.3", PREDS, FUNCS)) == "∀ Im: ¬(scd(Im) ≤ 0.3)"
    assert isinstance(parse("forall Im: oe(Im)", PREDS), Query)


# ------------------------------------------------------------------ parser: errors


def error_of(text, preds=PREDS, funcs=FUNCS):
    with pytest.raises(QueryError) as info:
        parse(text, preds, funcs)
    return info.value


@pytest.mark.parametrize("text, reason_part, caret_at", [
    # syntax
    ("", "expected a quantifier ('forall', 'exists', '∀' or '∃'), got end of query", ""),
    ("oe(Im)", "expected a quantifier", ""),
    ("forall", "expected the image variable after 'forall', got end of query", "forall"),
    ("∀ (Im)", "expected the image variable after '∀', got '('", "∀ "),
    ("forall Im", "expected a formula (a predicate application, a comparison, 'not' or '('),"
     " got end of query", "forall Im"),
    ("forall Im: oe(Im) and", "expected a formula", "forall Im: oe(Im) and"),
    ("forall Im: oe(Im) Crash(Im)", "expected a connective or end of query, got 'Crash'",
     "forall Im: oe(Im) "),
    ("forall Im: (oe(Im)", "expected ')', got end of query", "forall Im: (oe(Im)"),
    ("forall Im: oe(Im))", "expected a connective or end of query, got ')'", "forall Im: oe(Im)"),
    ("forall Im: oe(Im", "expected ')' to close 'oe(', got end of query", "forall Im: oe(Im"),
    ("forall Im: oe(e(Im)", "expected ')' to close 'oe(', got end of query", "forall Im: oe(e(Im)"),
    ("forall Im: oe(e(Im", "expected ')' to close 'e(', got end of query", "forall Im: oe(e(Im"),
    ("forall Im: oe(e())", "expected the variable 'Im' inside e(...), got ')'", "forall Im: oe(e("),
    ("forall Im where oe(Im) Crash(Im)", "expected ':' after the guard, got 'Crash'",
     "forall Im where oe(Im) "),
    ("forall Im: oe(Im) $ Crash(Im)", "unexpected character '$'", "forall Im: oe(Im) "),
    ("forall Im: oe(Im) - Crash(Im)", "unexpected character '-'", "forall Im: oe(Im) "),
    ("forall Im: scd(Im) < 0.1 < 0.2", "comparisons cannot be chained; join them with 'and'",
     "forall Im: scd(Im) < 0.1 "),
    ("forall Im: 0.1 < t", "a comparison needs a predicate or function application on one side",
     "forall Im: 0.1 "),
    ("forall Im: 0.5", "expected a comparison operator ('<', '<=', '>', '>=') after '0.5',"
     " got end of query", "forall Im: 0.5"),
    ("forall Im: scd(Im) < ", "expected a number, a parameter or a function application, got"
     " end of query", "forall Im: scd(Im) < "),
    ("forall Im: Crash(sce(e(Im)), bce(e(Im)))",
     "expected 'Im', 'e(Im)' or nothing as the argument of 'Crash', got 'sce'", "forall Im: Crash("),
    ("forall Im: oe(Im, Im)", "expected ')' to close 'oe(', got ','", "forall Im: oe(Im"),
    # typed symbols
    ("forall Im: scd(Im)", "'scd' is a function (a magnitude), not a predicate: compare it"
     " with a threshold, e.g. scd(Im) < 0.5", "forall Im: "),
    ("forall Im: not td(e(Im)) and oe(Im)", "'td' is a function", "forall Im: not "),
    ("forall Im: oe", "expected '(' after 'oe', got end of query", "forall Im: oe"),
    ("forall Im: scd < 0.3", "expected '(' after 'scd', got '<'", "forall Im: scd "),
    # unknown names (the message lists the allowed ones)
    ("forall Im: foo(Im)", "unknown symbol 'foo'; predicates: sce, bce, te, oe, sco, bco, to,"
     " Crash; functions: scd, bcd, td", "forall Im: "),
    ("forall Im: t", "unknown symbol 't'; predicates:", "forall Im: "),
    ("forall Im: e(Im)", "unknown symbol 'e'", "forall Im: "),
    ("forall Im: foo(Im) < 0.2", "unknown symbol 'foo'", "forall Im: "),
    # the variable
    ("forall Im: oe(X)", "unknown variable 'X' (the quantified variable is 'Im')", "forall Im: oe("),
    ("forall Im: oe(e(X))", "unknown variable 'X' (the quantified variable is 'Im')",
     "forall Im: oe(e("),
    ("forall Im: oe(f(Im))", "expected 'Im', 'e(Im)' or nothing as the argument of 'oe', got 'f'",
     "forall Im: oe("),
    ("forall Im: Im < 0.3", "the variable 'Im' is an image, not a value: apply a predicate or"
     " function to it, e.g. sce(Im)", "forall Im: "),
    ("forall Im: scd(Im) < Im", "the variable 'Im' is an image", "forall Im: scd(Im) < "),
    ("forall oe: oe(oe)", "the variable name 'oe' is already the predicate 'oe'", "forall "),
    ("forall e: oe(e)", "the variable name 'e' is already the encoder 'e'", "forall "),
])
def test_errors_show_reason_query_and_caret(text, reason_part, caret_at):
    err = error_of(text)
    assert isinstance(err, ValueError)
    assert reason_part in err.reason
    assert err.position == len(caret_at)
    lines = str(err).split("\n")
    assert lines[0] == err.reason
    assert lines[1] == "    " + text
    assert lines[2] == "    " + " " * len(caret_at) + "^"


def test_error_caret_with_newlines_and_unicode():
    err = error_of("∀ Im:\n  ¬oe(Im) ⇒\tbogus(Im)")
    assert err.position == len("∀ Im:\n  ¬oe(Im) ⇒\t")
    assert str(err).split("\n")[1:] == ["    ∀ Im:   ¬oe(Im) ⇒ bogus(Im)",
                                        "    " + " " * err.position + "^"]


def test_unknown_symbol_without_functions():
    err = error_of("forall Im: x(Im)", ["oe"], [])
    assert err.reason == "unknown symbol 'x'; predicates: oe; functions: (none)"


@pytest.mark.parametrize("preds, funcs, message", [
    (["oe", "x"], ["x"], "names declared both as predicate and as function: x"),
    (["not"], [], "reserved"),
    (["e"], [], "reserved"),
    (["o e"], [], "not an identifier"),
])
def test_bad_symbol_declarations(preds, funcs, message):
    with pytest.raises(ValueError, match=message):
        parse("forall Im: oe(Im)", preds, funcs)


def test_unbound_parameter_is_a_query_error():
    outputs = {"to": torch.tensor([1.0]), "td": torch.tensor([0.1]), "Crash": torch.tensor([1.0])}
    text = "forall Im: to(Im) and td(Im) < t -> Crash(Im)"
    with pytest.raises(QueryError) as info:
        evaluate(text, outputs, functions=["td"])
    err = info.value
    assert err.reason == "unbound parameter 't'; give its value in params (given: (none))"
    assert err.position == text.index("t ->")
    with pytest.raises(QueryError, match=r"given: u"):
        evaluate(text, outputs, params={"u": 0.2}, functions=["td"])
    with pytest.raises(ValueError, match="parameter 't' must be a finite number"):
        evaluate(text, outputs, params={"t": float("nan")}, functions=["td"])


def test_evaluate_input_errors():
    ok = {"oe": torch.tensor([0.0, 1.0]), "scd": torch.tensor([0.1, 0.2])}
    with pytest.raises(ValueError, match="outputs has no entry for 'Crash'"):
        evaluate("forall Im: Crash(Im)", ok, predicates=["oe", "Crash"], functions=["scd"])
    with pytest.raises(ValueError, match="has 3 values, other symbols 2"):
        evaluate("forall Im: oe(Im) and scd(Im) < 0.5",
                 {"oe": ok["oe"], "scd": torch.zeros(3)}, functions=["scd"])
    with pytest.raises(ValueError, match=r"outputs\['oe'\] \(a predicate\) has values outside"):
        evaluate("forall Im: oe(Im)", {"oe": torch.tensor([1.5])})
    with pytest.raises(ValueError, match="non-finite"):
        evaluate("forall Im: scd(Im) < 1", {"scd": torch.tensor([math.inf])}, functions=["scd"])
    with pytest.raises(ValueError, match="must be 1-D"):
        evaluate("forall Im: oe(Im)", {"oe": torch.zeros(2, 2)})
    # a function may exceed [0, 1]; (N, 1) columns are accepted
    r = evaluate("forall Im: scd(Im) > 1", {"scd": torch.tensor([[2.0], [3.0]])},
                 functions=["scd"], semantics=Semantics(forall_op="min"))
    assert r.value == 1.0 and r.per_image.shape == (2,)


# ------------------------------------------------------------------ semantics


@pytest.mark.parametrize("kwargs, field, allowed", [
    ({"and_op": "prod"}, "and_op", "product, min, lukasiewicz"),
    ({"or_op": "sum"}, "or_op", "probsum, max, lukasiewicz"),
    ({"implies_op": "godel"}, "implies_op", "reichenbach, kleene_dienes, goedel, goguen, lukasiewicz"),
    ({"forall_op": "max"}, "forall_op", "pmean_error, pmean, min, mean"),
    ({"exists_op": "min"}, "exists_op", "pmean, max"),
])
def test_semantics_validation(kwargs, field, allowed):
    with pytest.raises(ValueError) as info:
        Semantics(**kwargs)
    assert f"Semantics.{field} must be one of {allowed}" in str(info.value)


def test_semantics_p_and_dict():
    with pytest.raises(ValueError, match="Semantics.forall_p must be a finite number >= 1"):
        Semantics(forall_p=0.5)
    with pytest.raises(ValueError, match="Semantics.exists_p"):
        Semantics(exists_p=math.inf)
    with pytest.raises(ValueError, match="Semantics.stable"):
        Semantics(stable="yes")
    with pytest.raises(ValueError, match="unknown semantics keys and; allowed: and_op"):
        Semantics.from_dict({"and": "min"})
    s = Semantics.from_dict({"and_op": "min", "forall_p": 3})
    assert s.forall_p == 3.0 and Semantics.from_dict(s.to_dict()) == s
    assert Semantics().to_dict() == {
        "and_op": "product", "or_op": "probsum", "implies_op": "reichenbach",
        "forall_op": "pmean_error", "forall_p": 2.0, "exists_op": "pmean", "exists_p": 2.0,
        "stable": True}


def test_operators_are_ltntorch_objects():
    ops = operators()
    assert isinstance(ops["and"], fo.AndProd) and ops["and"].stable
    assert isinstance(ops["or"], fo.OrProbSum) and isinstance(ops["implies"], fo.ImpliesReichenbach)
    assert isinstance(ops["not"], fo.NotStandard) and isinstance(ops["iff"], fo.Equiv)
    assert isinstance(ops["forall"], fo.AggregPMeanError) and ops["forall"].p == 2
    assert isinstance(ops["exists"], fo.AggregPMean)
    ops = operators(Semantics(and_op="lukasiewicz", or_op="max", implies_op="goguen",
                              forall_op="min", exists_op="max", stable=False))
    assert isinstance(ops["and"], fo.AndLuk) and isinstance(ops["or"], fo.OrMax)
    assert isinstance(ops["implies"], fo.ImpliesGoguen) and not ops["implies"].stable
    assert isinstance(ops["forall"], fo.AggregMin) and isinstance(ops["exists"], AggregMax)


# hand-computed connectives on x = [0, .25, .5, 1, .75], y = [1, .5, .25, 0, .75]
X = [0.0, 0.25, 0.5, 1.0, 0.75]
Y = [1.0, 0.5, 0.25, 0.0, 0.75]
XY = {"x": torch.tensor(X, dtype=torch.float64), "y": torch.tensor(Y, dtype=torch.float64)}


def p0(v):
    return (1 - EPS) * v + EPS


def p1(v):
    return (1 - EPS) * v


HAND = {
    ("and_op", "product", False): [0.0, 0.125, 0.125, 0.0, 0.5625],
    ("and_op", "product", True): [p0(x) * p0(y) for x, y in zip(X, Y)],
    ("and_op", "min", False): [0.0, 0.25, 0.25, 0.0, 0.75],
    ("and_op", "lukasiewicz", False): [0.0, 0.0, 0.0, 0.0, 0.5],
    ("or_op", "probsum", False): [1.0, 0.625, 0.625, 1.0, 0.9375],
    ("or_op", "probsum", True): [p1(x) + p1(y) - p1(x) * p1(y) for x, y in zip(X, Y)],
    ("or_op", "max", False): [1.0, 0.5, 0.5, 1.0, 0.75],
    ("or_op", "lukasiewicz", False): [1.0, 0.75, 0.75, 1.0, 1.0],
    ("implies_op", "reichenbach", False): [1.0, 0.875, 0.625, 0.0, 0.8125],
    ("implies_op", "reichenbach", True): [1 - p0(x) + p0(x) * p1(y) for x, y in zip(X, Y)],
    ("implies_op", "kleene_dienes", False): [1.0, 0.75, 0.5, 0.0, 0.75],
    ("implies_op", "goedel", False): [1.0, 1.0, 0.25, 0.0, 1.0],
    ("implies_op", "goguen", False): [1.0, 1.0, 0.5, 0.0, 1.0],
    ("implies_op", "goguen", True): [1.0 if p0(x) <= y else y / p0(x) for x, y in zip(X, Y)],
    ("implies_op", "lukasiewicz", False): [1.0, 1.0, 0.75, 0.0, 1.0],
}
QUERY_OF = {"and_op": "x(Im) and y(Im)", "or_op": "x(Im) or y(Im)",
            "implies_op": "x(Im) -> y(Im)"}


@pytest.mark.parametrize("field, choice, stable", sorted(HAND))
def test_connective_choices_by_hand(field, choice, stable):
    sem = Semantics(**{field: choice}, stable=stable, forall_op="mean")
    r = evaluate("forall Im: " + QUERY_OF[field], XY, semantics=sem)
    assert r.per_image.tolist() == pytest.approx(HAND[(field, choice, stable)], abs=1e-12)
    assert r.value == pytest.approx(sum(HAND[(field, choice, stable)]) / 5, abs=1e-12)
    assert r.domain_size == 5 and r.per_image.dtype == torch.float64


def test_not_and_iff_by_hand():
    r = evaluate("forall Im: not x(Im)", XY, semantics=Semantics(forall_op="mean"))
    assert r.per_image.tolist() == [1.0, 0.75, 0.5, 0.0, 0.25]
    # iff = and of both implications: product of Lukasiewicz implications
    r = evaluate("forall Im: x(Im) <-> y(Im)", XY,
                 semantics=Semantics(implies_op="lukasiewicz", stable=False, forall_op="mean"))
    assert r.per_image.tolist() == pytest.approx([0.0, 0.75, 0.75, 0.0, 1.0])
    r = evaluate("forall Im: x(Im) <-> y(Im)", XY,
                 semantics=Semantics(and_op="min", implies_op="goedel", forall_op="mean"))
    assert r.per_image.tolist() == pytest.approx([0.0, 0.25, 0.25, 0.0, 1.0])


V = [0.2, 0.5, 0.9, 1.0]
VS = {"v": torch.tensor(V, dtype=torch.float64)}


@pytest.mark.parametrize("quant, sem, expected", [
    ("forall", dict(stable=False), 1 - math.sqrt((0.64 + 0.25 + 0.01 + 0) / 4)),
    ("forall", dict(), 1 - math.sqrt(sum((1 - p1(v)) ** 2 for v in V) / 4)),
    ("forall", dict(forall_p=3, stable=False), 1 - ((0.512 + 0.125 + 0.001) / 4) ** (1 / 3)),
    ("forall", dict(forall_op="pmean", forall_p=3, stable=False),
     ((0.008 + 0.125 + 0.729 + 1) / 4) ** (1 / 3)),
    ("forall", dict(forall_op="pmean"), math.sqrt(sum(p0(v) ** 2 for v in V) / 4)),
    ("forall", dict(forall_op="min"), 0.2),
    ("forall", dict(forall_op="mean"), 0.65),
    ("exists", dict(stable=False), math.sqrt((0.04 + 0.25 + 0.81 + 1) / 4)),
    ("exists", dict(exists_p=1, stable=False), 0.65),
    ("exists", dict(), math.sqrt(sum(p0(v) ** 2 for v in V) / 4)),
    ("exists", dict(exists_op="max"), 1.0),
])
def test_aggregator_choices_by_hand(quant, sem, expected):
    r = evaluate(f"{quant} Im: v(Im)", VS, semantics=Semantics(**sem))
    assert r.value == pytest.approx(expected, abs=1e-12)


def test_comparisons_are_crisp_with_boundaries():
    out = {"f": torch.tensor([0.1, 0.3, 0.5], dtype=torch.float64),
           "p": torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64)}
    sem = Semantics(forall_op="mean")

    def per(text, **params):
        return evaluate(text, out, params=params, semantics=sem, functions=["f"]).per_image.tolist()

    assert per("forall Im: f(Im) < 0.3") == [1.0, 0.0, 0.0]
    assert per("forall Im: f(Im) <= 0.3") == [1.0, 1.0, 0.0]
    assert per("forall Im: f(Im) > t", t=0.3) == [0.0, 0.0, 1.0]
    assert per("forall Im: f(Im) >= t", t=0.3) == [0.0, 1.0, 1.0]
    assert per("forall Im: t > f(Im)", t=0.3) == [1.0, 0.0, 0.0]
    assert per("forall Im: p(Im) > 0.5") == [0.0, 0.0, 1.0]
    assert per("forall Im: f(Im) < p(Im)") == [1.0, 1.0, 1.0]
    assert per("forall Im: not f(Im) < 0.3") == [0.0, 1.0, 1.0]


def test_guard_domain_and_empty_domain():
    out = {"g": torch.tensor([0.9, 0.5, 0.51, 0.0]), "b": torch.tensor([0.2, 1.0, 0.6, 0.0])}
    r = evaluate("forall Im where g(Im): b(Im)", out, semantics=Semantics(forall_op="mean"))
    assert r.domain_size == 2  # 0.5 is not > 0.5
    assert r.value == pytest.approx(0.4)
    assert torch.isnan(r.per_image).tolist() == [False, True, False, True]
    assert r.per_image[[0, 2]].tolist() == pytest.approx([0.2, 0.6])
    r = evaluate("exists Im where g(Im) and b(Im) > 2: b(Im)", out)
    assert r.domain_size == 0 and math.isnan(r.value) and torch.isnan(r.per_image).all()
    assert "domain 0/4" in str(r)
    for sem in (Semantics(forall_op="min"), Semantics(forall_op="mean"), Semantics()):
        r = evaluate("forall Im where b(Im) > 2: b(Im)", out, semantics=sem)
        assert r.domain_size == 0 and math.isnan(r.value)
    r = evaluate("forall Im: b(Im)", {"b": torch.zeros(0)})
    assert r.domain_size == 0 and math.isnan(r.value)


def test_evaluate_accepts_parsed_queries_and_dict_semantics():
    q = parse("forall Im: x(Im) -> y(Im)", ["x", "y"])
    r1 = evaluate(q, XY, semantics={"implies_op": "goedel", "forall_op": "mean"})
    r2 = evaluate("forall Im: x(Im) -> y(Im)", XY,
                  semantics=Semantics(implies_op="goedel", forall_op="mean"))
    assert r1.value == r2.value == pytest.approx(0.65)
    assert r1.parsed == q and r2.query == "forall Im: x(Im) -> y(Im)"


# ------------------------------------------------------------------ against hand-built LTN

N = 60


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(7)
    out = {}
    for name in PREDS:
        v = torch.rand(N, generator=g)
        v[torch.rand(N, generator=g) < 0.1] = 0.0  # exact 0s and 1s too
        v[torch.rand(N, generator=g) < 0.1] = 1.0
        out[name] = v  # float32: exact in float64 as well
    for name in FUNCS:
        out[name] = torch.rand(N, generator=g)
    return out


def ltn_world(data, ops, t=None):
    """LTNtorch objects over the images: Im indexes them; predicates look the outputs up."""
    im = ltn.Variable("Im", torch.arange(N, dtype=torch.float32))

    def lookup(name):
        return ltn.Predicate(func=lambda idx, name=name: data[name][idx.long().view(-1)])

    def below(name, thr):  # crisp comparison f(Im) < thr as an LTN predicate
        return ltn.Predicate(func=lambda idx: (data[name][idx.long().view(-1)].double() < thr).float())

    P = {name: lookup(name) for name in PREDS}
    W = {
        "And": ltn.Connective(ops["and"]), "Or": ltn.Connective(ops["or"]),
        "Implies": ltn.Connective(ops["implies"]), "Not": ltn.Connective(ops["not"]),
        "Iff": ltn.Connective(ops["iff"]),
        "Forall": ltn.Quantifier(ops["forall"], quantifier="f"),
        "Exists": ltn.Quantifier(ops["exists"], quantifier="e"),
        "below": below,
    }
    return im, P, W


def q1(im, P, W, t):
    return W["Forall"](im, W["Implies"](W["Not"](P["oe"](im)), P["Crash"](im)))


def q2(im, P, W, t):
    return W["Forall"](im, W["Implies"](W["Or"](W["Or"](P["sco"](im), P["bco"](im)), P["to"](im)),
                                        P["Crash"](im)))


def q3(im, P, W, t):
    And, Or, below = W["And"], W["Or"], W["below"]
    lhs = Or(Or(And(P["sco"](im), below("scd", t)(im)), And(P["bco"](im), below("bcd", t)(im))),
             And(P["to"](im), below("td", t)(im)))
    return W["Forall"](im, W["Implies"](lhs, P["Crash"](im)))


def q4(im, P, W, t):
    return W["Forall"](im, W["Implies"](W["And"](P["to"](im), W["below"]("td", t)(im)),
                                        P["Crash"](im)))


def guarded(im, P, W, t):
    Or = W["Or"]
    return W["Forall"](im, P["Crash"](im), cond_vars=[im],
                       cond_fn=lambda x: Or(Or(P["sco"](x), P["bco"](x)), P["to"](x)).value > 0.5)


def exists_close(im, P, W, t):
    return W["Exists"](im, W["And"](P["sco"](im), W["below"]("scd", t)(im)))


def exists_guarded(im, P, W, t):
    return W["Exists"](im, W["Not"](P["Crash"](im)), cond_vars=[im],
                       cond_fn=lambda x: W["below"]("td", t)(x).value > 0.5)


def iff_q(im, P, W, t):
    return W["Forall"](im, W["Iff"](P["Crash"](im), W["Or"](P["sco"](im), P["oe"](im))))


CASES = [
    ("forall Im: not oe(e(Im)) -> Crash()", q1),
    ("∀ Im: sco(Im) ∨ bco(Im) ∨ to(Im) ⇒ Crash(Im)", q2),
    ("forall Im: (sco(Im) and scd(Im) < t) or (bco(Im) and bcd(Im) < t) or (to(Im) and td(Im) < t)"
     " -> Crash()", q3),
    ("forall Im: to(Im) & td(Im) < t => Crash(Im)", q4),
    ("forall Im where sco(Im) or bco(Im) or to(Im): Crash(Im)", guarded),
    ("exists Im: sco(Im) and scd(Im) < t", exists_close),
    ("exists Im where td(Im) < t: not Crash(Im)", exists_guarded),
    ("forall Im: Crash(Im) <-> sco(Im) or oe(Im)", iff_q),
]
SEMANTICS = [
    Semantics(),
    Semantics(stable=False),
    Semantics(and_op="min", or_op="max", implies_op="goedel", forall_op="mean", exists_op="max"),
    Semantics(and_op="min", or_op="max", implies_op="goedel", forall_op="min", exists_op="max"),
    Semantics(and_op="lukasiewicz", or_op="lukasiewicz", implies_op="lukasiewicz",
              forall_op="mean", exists_p=1),
    Semantics(implies_op="goguen", forall_op="pmean", forall_p=3, exists_p=4),
    Semantics(implies_op="kleene_dienes", forall_p=1.5, stable=False),
]


@pytest.mark.parametrize("sem", SEMANTICS, ids=lambda s: f"{s.and_op}-{s.implies_op}-{s.forall_op}"
                         f"-{s.stable}")
@pytest.mark.parametrize("text, build", CASES, ids=[f.__name__ for _, f in CASES])
@pytest.mark.parametrize("t", [0.3, 0.6])
def test_matches_hand_built_ltn(data, text, build, sem, t):
    ops = operators(sem)
    im, P, W = ltn_world(data, ops, t)
    expected = build(im, P, W, t)
    ours = evaluate(text, data, params={"t": t}, semantics=sem, predicates=PREDS, functions=FUNCS)
    assert ours.value == pytest.approx(float(expected.value), abs=1e-6)
    assert 0 < ours.domain_size <= N


def test_per_image_matches_ltn_connectives(data):
    ops = operators()
    im, P, W = ltn_world(data, ops)
    formula = W["Implies"](W["Not"](P["oe"](im)), W["Not"](P["Crash"](im)))
    ours = evaluate("forall Im: not oe(Im) -> not Crash(Im)", data, predicates=PREDS)
    assert torch.allclose(ours.per_image, formula.value.double(), atol=1e-6)


def test_empty_guard_differs_from_ltn_only_in_the_nan(data):
    # LTNtorch replaces the NaN of an empty guarded domain by 1 (forall); we report NaN + size 0.
    ops = operators()
    im, P, W = ltn_world(data, ops)
    ltn_value = W["Forall"](im, P["Crash"](im), cond_vars=[im],
                            cond_fn=lambda x: W["below"]("td", -1.0)(x).value > 0.5)
    assert float(ltn_value.value) == 1.0
    ours = evaluate("forall Im where td(Im) < -1: Crash(Im)", data, functions=FUNCS)
    assert ours.domain_size == 0 and math.isnan(ours.value)
