"""Conformance to the query language's shared spec (lib/nesy/logic/query/spec.json).

Both parsers (Python directly, JavaScript through tests/js/run_queries.mjs) accept every
keyword, token alias and connective of the spec with the spec's precedence and
associativity, use its semantics choices, defaults and epsilon, and every message template
of the spec is what some error says, in both languages, byte for byte.
"""

import itertools
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import ltn.fuzzy_ops as fuzzy_ops
import pytest
import torch

from nesy.logic.query import SPEC, SPEC_PATH, BinOp, Compare, Not, Query, QueryError, Semantics, evaluate, parse
from nesy.logic.query.tokens import tokenize

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE = ROOT / "lib" / "nesy" / "logic" / "query"
DRIVER = Path(__file__).resolve().parent / "js" / "run_queries.mjs"
NODE = shutil.which("node")

PREDS, FUNCS = ["a", "b", "c"], ["f"]
BINARY = [op for op, c in SPEC["connectives"].items() if c["associativity"] != "prefix"]
#: word spellings of the connectives and quantifiers (the keywords that are one)
WORDS = {kind: [kind] for kind in SPEC["keywords"] if kind != "where"}


def aliases(kind):
    return SPEC["tokens"].get(kind, []) + WORDS.get(kind, [])


# ----------------------------------------------------------------------------- trees as s-expressions


def sexpr(node) -> str:
    """A Python tree as ``(op left right)``; atoms by name."""
    if isinstance(node, Query):
        guard = f" {sexpr(node.guard)}" if node.guard is not None else ""
        return f"({node.quantifier}{guard} {sexpr(node.body)})"
    if isinstance(node, BinOp):
        return f"({node.op} {sexpr(node.left)} {sexpr(node.right)})"
    if isinstance(node, Not):
        return f"(not {sexpr(node.operand)})"
    if isinstance(node, Compare):
        return f"({node.op} {sexpr(node.left)} {sexpr(node.right)})"
    return getattr(node, "name", None) or str(node.value)


def js_sexpr(node) -> str:
    """The same for the JavaScript twin's plain-object tree."""
    t = node["type"]
    if t == "query":
        guard = f" {js_sexpr(node['guard'])}" if node["guard"] else ""
        return f"({node['quantifier']}{guard} {js_sexpr(node['body'])})"
    if t in ("binop", "compare"):
        return f"({node['op']} {js_sexpr(node['left'])} {js_sexpr(node['right'])})"
    if t == "not":
        return f"(not {js_sexpr(node['operand'])})"
    return node.get("name") or str(float(node["value"]))


def expected_pair(op1, op2):
    """``a op1 b op2 c`` as the spec's precedence and associativity group it."""
    p1, p2 = (SPEC["connectives"][op]["precedence"] for op in (op1, op2))
    if p1 > p2 or (p1 == p2 and SPEC["connectives"][op1]["associativity"] == "left"):
        return f"(forall ({op2} ({op1} a b) c))"
    return f"(forall ({op1} a ({op2} b c)))"


def spelling(op, i):
    """The i-th spelling of ``op`` (cycling through its aliases), spaced."""
    names = aliases(op)
    return f" {names[i % len(names)]} "


PAIR_QUERIES = [(f"forall Im: a(Im){spelling(op1, i)}b(Im){spelling(op2, i + 1)}c(Im)", expected_pair(op1, op2))
                for i, (op1, op2) in enumerate(itertools.product(BINARY, BINARY))]
#: not binds tighter than every binary connective, a comparison tighter than not
NOT_QUERIES = [(f"forall Im: {n} a(Im){spelling(op, i)}b(Im)", f"(forall ({op} (not a) b))")
               for i, (n, op) in enumerate(itertools.product(aliases("not"), BINARY))]
NOT_QUERIES += [(f"forall Im: {n} f(Im) {cmp} 0.5", f"(forall (not ({SPEC['comparisons'][cmp]} f 0.5)))")
                for n, cmp in zip(itertools.cycle(aliases("not")), SPEC["tokens"]["cmp"])]
QUANTIFIER_QUERIES = [(f"{q} Im where a(Im): b(Im)", f"({kind} a b)")
                      for kind in SPEC["quantifiers"] for q in aliases(kind)]
TREE_QUERIES = PAIR_QUERIES + NOT_QUERIES + QUANTIFIER_QUERIES


# ----------------------------------------------------------------------------- Python


def test_spec_is_the_file_both_languages_read():
    assert json.loads(SPEC_PATH.read_text(encoding="utf-8")) == SPEC
    assert 'import SPEC from "./spec.json" with { type: "json" };' in (LANGUAGE / "spec.mjs").read_text(encoding="utf-8")
    for path in LANGUAGE.glob("*.mjs"):  # no JS module re-declares what the spec says
        code = "".join(line.split("//")[0] for line in path.read_text(encoding="utf-8").splitlines())
        assert not re.search(r"1e-4|0\.0001|\b100\b|10000|\"product\"|\"reichenbach\"", code), path.name


def test_each_python_module_has_its_javascript_twin():
    python = {p.stem for p in LANGUAGE.glob("*.py")} - {"__init__"}
    assert python == {p.stem for p in LANGUAGE.glob("*.mjs")} - {"index"}
    assert python == {"spec", "errors", "tokens", "syntax", "parser", "semantics", "evaluation"}
    index = (LANGUAGE / "index.mjs").read_text(encoding="utf-8")
    assert all(f'export * from "./{name}.mjs";' in index for name in python)


def test_every_token_alias_and_keyword_tokenizes_as_the_spec_says():
    for kind, texts in SPEC["tokens"].items():
        for text in texts:
            tokens = tokenize(f" {text} ")
            assert [(t.kind, t.text, t.pos) for t in tokens] == [(kind, text, 1), ("eof", "", len(text) + 2)]
    for word in SPEC["keywords"]:
        assert tokenize(word)[0].kind == word
    assert {t.kind for t in tokenize(SPEC["whitespace"] + "x")} == {"ident", "eof"}
    with pytest.raises(QueryError, match=re.escape(SPEC["messages"]["unexpected_character"].format(char="$"))):
        tokenize("$")


@pytest.mark.parametrize("text, tree", TREE_QUERIES)
def test_python_groups_as_the_spec_says(text, tree):
    assert sexpr(parse(text, PREDS, FUNCS)) == tree


def test_every_spelling_is_covered():
    used = " ".join(text for text, _ in TREE_QUERIES)
    for kind in [*BINARY, "not", *SPEC["quantifiers"], "cmp"]:
        for alias in aliases(kind):
            assert f"{alias} " in used, (kind, alias)


def test_canonical_form_uses_the_spec_symbols():
    c = SPEC["connectives"]
    q = parse("exists Im where a(Im): not (a(Im) and b(Im) or c(Im) -> a(Im) <-> f(Im) <= 1)", PREDS, FUNCS)
    sym = {op: c[op]["symbol"] for op in c}
    assert str(q) == (f"{SPEC['quantifiers']['exists']} Im where a(Im): {sym['not']}((a(Im) {sym['and']} b(Im))"
                      f" {sym['or']} c(Im) {sym['implies']} a(Im) {sym['iff']} f(Im)"
                      f" {SPEC['comparison_symbols']['<=']} 1)")
    for text, canonical in SPEC["comparisons"].items():
        assert parse(f"forall Im: f(Im) {text} 1", PREDS, FUNCS).body.op == canonical


def test_semantics_choices_defaults_and_epsilon_are_the_spec():
    sem = SPEC["semantics"]
    assert Semantics().to_dict() == sem["defaults"]
    for name, choices in sem["choices"].items():
        for choice in choices:
            assert getattr(Semantics(**{name: choice}), name) == choice
        with pytest.raises(ValueError, match=f"Semantics.{name} must be one of {', '.join(choices)};"):
            Semantics(**{name: "nope"})
    for name in sem["exponents"]:
        assert isinstance(sem["defaults"][name], float)
        with pytest.raises(ValueError, match=f"Semantics.{name} must be a finite number >= 1"):
            Semantics(**{name: 0.5})
    # LTNtorch's own eps is the spec's epsilon (the JavaScript twin computes with the spec's)
    eps = SPEC["epsilon"]
    assert fuzzy_ops.eps == eps
    zero, one = torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
    assert float(fuzzy_ops.pi_0(zero)) == pytest.approx(eps, rel=1e-12)
    assert float(fuzzy_ops.pi_1(one)) == pytest.approx(1 - eps, rel=1e-12)


def test_limits_are_the_spec():
    limits = SPEC["limits"]
    assert limits == {"max_query_length": 10_000, "max_depth": 100}
    parse("forall Im: " + "not " * (limits["max_depth"] - 1) + "a(Im)", PREDS)
    with pytest.raises(QueryError, match=f"nests more than {limits['max_depth']} levels"):
        parse("forall Im: " + "not " * (limits["max_depth"] + 1) + "a(Im)", PREDS)
    text = "forall Im: " + "a(Im) and " * 1000
    with pytest.raises(QueryError, match=f"longer than {limits['max_query_length']} characters") as info:
        parse(text[: limits["max_query_length"] + 1], PREDS)
    assert info.value.position == limits["max_query_length"]


def test_the_depth_limit_is_reached_well_inside_the_recursion_limit():
    """One level too deep is a QueryError even 250 frames down (a parser helper per level would eat that)."""
    text = "forall Im: " + "(" * (SPEC["limits"]["max_depth"] + 1) + "a(Im)" + ")" * (SPEC["limits"]["max_depth"] + 1)

    def down(frames):
        return down(frames - 1) if frames else parse(text, PREDS)

    with pytest.raises(QueryError, match="nests more than"):
        down(250)


# ----------------------------------------------------------------------------- every message template

OUT = {"a": [0.2, 0.9], "b": [0.5, 0.4], "c": [1.0, 0.0], "f": [0.1, 0.7]}


def P(text, preds=PREDS, funcs=FUNCS):  # noqa: N802 - a call of parseQuery / parse
    return {"fn": "parseQuery", "args": [text, preds, funcs]}


def E(text, outputs=OUT, params=None, semantics=None, preds=PREDS, funcs=FUNCS):  # noqa: N802
    return {"fn": "evaluateQuery", "args": [text, outputs, params or {}, semantics or {}, preds, funcs]}


def S(semantics):  # noqa: N802
    return {"fn": "normalizeSemantics", "args": [semantics]}


#: one call per message template whose error message contains it
TRIGGERS = {
    "layout": P("forall Im: a(Im) $"),
    "unexpected_character": P("forall Im: a(Im) $"),
    "too_long": P("forall Im: " + "a(Im) and " * 1000),
    "too_deep": P("forall Im: " + "(" * 101 + "a(Im)" + ")" * 101),
    "expected": P("forall Im: a(Im) and"),
    "end_of_query": P("forall Im: a(Im) and"),
    "quoted": P("forall Im: a(Im) b(Im)"),
    "none": P("forall Im: g(Im)", PREDS, []),
    "nothing": E("forall Im: a(Im)", {}),
    "unknown_symbol": P("forall Im: g(Im)"),
    "want_quantifier": P("a(Im)"),
    "want_variable": P("forall"),
    "variable_taken": P("forall a: a(a)"),
    "want_colon": P("forall Im where a(Im) b(Im)"),
    "want_connective": P("forall Im: a(Im) b(Im)"),
    "want_rparen": P("forall Im: (a(Im)"),
    "want_formula": P("forall Im: )"),
    "function_as_formula": P("forall Im: f(Im)"),
    "want_comparison": P("forall Im: 0.5"),
    "comparison_without_application": P("forall Im: 0.1 < t"),
    "chained_comparison": P("forall Im: f(Im) < 0.1 < 0.2"),
    "want_term": P("forall Im: f(Im) < )"),
    "variable_as_value": P("forall Im: Im < 0.3"),
    "want_lparen": P("forall Im: f < 0.3"),
    "want_close": P("forall Im: a(Im"),
    "unknown_variable": P("forall Im: a(X)"),
    "want_encoder_variable": P("forall Im: a(e())"),
    "want_argument": P("forall Im: a(g(Im))"),
    "names_not_iterable": P("forall Im: a(Im)", "a"),
    "name_not_identifier": P("forall Im: a(Im)", ["1a"]),
    "name_reserved": P("forall Im: a(Im)", ["and"]),
    "name_twice": P("forall Im: a(Im)", ["a"], ["a"]),
    "unbound_parameter": E("forall Im: f(Im) < u"),
    "parameter_not_finite": E("forall Im: f(Im) < t", params={"t": "0.3"}),
    "semantics_choice": S({"and_op": "prod"}),
    "semantics_exponent": S({"forall_p": 0.5}),
    "semantics_stable": S({"stable": "yes"}),
    "semantics_unknown": S({"and": "min"}),
    "outputs_missing": E("forall Im: a(Im)", {"b": [0.5]}),
    "outputs_length": E("forall Im: a(Im) and b(Im)", {"a": [0.5], "b": [0.1, 0.2]}),
    "outputs_not_finite": E("forall Im: a(Im)", {"a": [{"$number": "nan"}]}),
    "outputs_out_of_range": E("forall Im: a(Im)", {"a": [1.5]}),
}


def revive(value):
    if isinstance(value, dict):
        if set(value) == {"$number"}:
            return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[value["$number"]]
        return {k: revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [revive(v) for v in value]
    return value


def python_call(call):
    """``(kind, message, position)`` of the error the call raises in Python."""
    fn = {"parseQuery": parse, "evaluateQuery": evaluate, "normalizeSemantics": Semantics.from_dict}[call["fn"]]
    try:
        fn(*revive(call["args"]))
    except QueryError as exc:
        return "QueryError", str(exc), exc.position
    except (ValueError, TypeError) as exc:
        return "Error", str(exc), None
    raise AssertionError(f"{call} raised nothing")


def template_pattern(key):
    parts = re.split(r"\{\w+\}", SPEC["messages"][key])
    return re.compile("(?s)" + ".+?".join(map(re.escape, parts)))


def test_every_message_template_has_a_trigger():
    assert set(TRIGGERS) == set(SPEC["messages"])


@pytest.mark.parametrize("key", sorted(TRIGGERS))
def test_python_says_each_template(key):
    kind, text, _ = python_call(TRIGGERS[key])
    pattern = template_pattern(key)
    assert (pattern.fullmatch(text) if key == "layout" else pattern.search(text)), (key, text)


@pytest.mark.parametrize("key", sorted(SPEC["messages"]))
def test_both_sources_use_each_template(key):
    """No message is spelled out in code: each template is looked up by its key in both languages."""
    python = "".join(p.read_text(encoding="utf-8") for p in LANGUAGE.glob("*.py"))
    js = "".join(p.read_text(encoding="utf-8") for p in LANGUAGE.glob("*.mjs"))
    assert f'"{key}"' in python and f'"{key}"' in js, key


# ----------------------------------------------------------------------------- the JavaScript twin


@pytest.fixture(scope="module")
def js(tmp_path_factory):
    if NODE is None:
        pytest.skip("node is not on PATH: the JavaScript twin cannot be run")
    cases = {"predicates": PREDS, "functions": FUNCS, "trees": [t for t, _ in TREE_QUERIES],
             "calls": [TRIGGERS[k] for k in sorted(TRIGGERS)]}
    path = tmp_path_factory.mktemp("spec") / "cases.json"
    path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([NODE, str(DRIVER), str(LANGUAGE / "index.mjs"), str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.integration
def test_javascript_reads_the_same_spec(js):
    assert js["spec"] == SPEC


@pytest.mark.integration
def test_javascript_groups_as_the_spec_says(js):
    for (text, tree), got in zip(TREE_QUERIES, js["trees"], strict=True):
        assert "error" not in got, (text, got)
        assert js_sexpr(got["tree"]) == tree, text


@pytest.mark.integration
def test_javascript_says_each_template_as_python(js):
    for key, got in zip(sorted(TRIGGERS), js["calls"], strict=True):
        kind, text, position = python_call(TRIGGERS[key])
        assert (got.get("error"), got.get("message")) == (kind, text), key
        if kind == "QueryError":
            assert got["position"] == position, key
