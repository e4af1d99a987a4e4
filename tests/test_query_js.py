"""The JavaScript twin (lib/nesy/logic/query/*.mjs) agrees with nesy.logic.query, and the
logic-query widget works (Python side; and, if Chromium is available, its view in a browser).

One node process evaluates every case (seeded random outputs, N=200, ~30 queries x 5
semantics x 3 values of t); the values, per-image truths, domain sizes, canonical forms and
error messages must agree with Python's.
"""

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from nesy.logic.crash_world import ARTICLE_QUERIES
from nesy.logic.query import QueryError, Semantics, evaluate, parse
from nesy.widgets.logic_query import ESM_PATH, LogicQueryExplorer, esm_source

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "lib" / "nesy" / "logic" / "query" / "index.mjs"  # the language's modules
DRIVER = Path(__file__).resolve().parent / "js" / "run_queries.mjs"
NODE = shutil.which("node")

PREDS = ["sce", "bce", "te", "oe", "sco", "bco", "to", "Crash"]
FUNCS = ["scd", "bcd", "td"]
N = 200

QUERIES = [q["query"] for q in ARTICLE_QUERIES] + [
    "forall Im: not oe(Im) -> not Crash(Im)",
    "exists Im: sco(Im) and scd(Im) < 0.1",
    "forall Im where sco(Im) or bco(Im) or to(Im): Crash(Im)",
    "exists Im where oe(Im): Crash(Im) and not te(Im)",
    "forall Im: Crash(Im) <-> (sco(Im) and scd(Im) < t) or (bco(Im) and bcd(Im) < t)",
    "forall Im: sce(Im) -> bce(Im) -> te(Im)",
    "forall Im: (sce(Im) -> bce(Im)) -> te(Im)",
    "∀ Im: ¬(sce(Im) ∧ bce(Im)) ∨ te(Im) ⇔ oe(Im)",
    "forall Im: scd(Im) <= t or bcd(Im) >= t",
    "forall Im: t > td(Im) -> to(Im)",
    "forall Im: oe(Im) > 0.5 -> Crash(Im) >= 0.25",
    "exists Im: scd(Im) < bcd(Im) and td(Im) > 1",
    "forall Im where Crash(Im) > t: oe(Im)",
    "forall Im where scd(Im) < -1: Crash(Im)",
    "exists Im where te(Im) and to(Im): td(Im) < t and Crash(Im)",
    "forall Im: sco(Im) -> oe(Im)",
    "forall Im: bco(Im) and bce(Im) | to(Im) & te(Im) -> oe(Im)",
    "forall Im: Crash()",
    "exists Im: not Crash(e(Im))",
    "forall Im: (Crash(Im) -> oe(Im)) and (oe(Im) -> Crash(Im)) <-> (Crash(Im) <-> oe(Im))",
    "forall Im where not oe(Im): not Crash(Im)",
    "∀ Im ¬(oe(e(Im))) ⇒ Crash()",
    "forall Im: td(Im) >= 0.3 and td(Im) <= 0.7 -> to(Im)",
]
SEMANTICS = [
    {},
    {"and_op": "min", "or_op": "max", "implies_op": "goedel", "forall_op": "min",
     "exists_op": "max", "stable": False},
    {"and_op": "lukasiewicz", "or_op": "lukasiewicz", "implies_op": "lukasiewicz",
     "forall_op": "mean", "exists_p": 1},
    {"implies_op": "goguen", "forall_op": "pmean", "forall_p": 3, "exists_p": 3},
    {"implies_op": "kleene_dienes", "forall_p": 1.5, "stable": False},
]
TS = [0.1, 0.3, 0.75]

BAD_QUERIES = [
    "", "oe(Im)", "forall", "∀ (Im)", "forall Im", "forall Im: oe(Im) and",
    "forall Im: oe(Im) Crash(Im)", "forall Im: (oe(Im)", "forall Im: oe(Im))",
    "forall Im: oe(Im", "forall Im: oe(e(Im", "forall Im: oe(e())",
    "forall Im where oe(Im) Crash(Im)", "forall Im: oe(Im) $ Crash(Im)",
    "forall Im: oe(Im) 😀 Crash(Im)", "∀ Im:\n ¬oe(Im) ⇒\t😀",
    "forall Im: scd(Im) < 0.1 < 0.2", "forall Im: 0.1 < t", "forall Im: 0.5",
    "forall Im: scd(Im) < ", "forall Im: Crash(sce(e(Im)), bce(e(Im)))",
    "forall Im: scd(Im)", "forall Im: not td(e(Im)) and oe(Im)", "forall Im: oe",
    "forall Im: scd < 0.3", "forall Im: foo(Im)", "forall Im: t", "forall Im: e(Im)",
    "forall Im: oe(X)", "forall Im: oe(e(X))", "forall Im: oe(f(Im))", "forall Im: Im < 0.3",
    "forall oe: oe(oe)", "forall e: oe(e)", "forall Im: scd(Im) < 1e", "exists Im: 1.2.3 < scd(Im)",
    # evaluation-time: unbound parameter
    "forall Im: td(Im) < u -> Crash(Im)", "exists Im where scd(Im) < s: oe(Im)",
    # limits (MAX_DEPTH, MAX_QUERY_LENGTH): one level too deep by each kind of nesting, one character too long
    "forall Im: " + "(" * 101 + "oe(Im)" + ")" * 101, "forall Im: " + "not " * 101 + "oe(Im)",
    "forall Im: " + " -> ".join(["oe(Im)"] * 102), "∀ Im: " + " ∧ ".join(["oe(Im)"] * 102),
    "forall Im: " + " or ".join(["oe(Im)"] * 102), "forall Im: " + " <-> ".join(["oe(Im)"] * 102),
    "forall Im where " + "¬" * 120 + "oe(Im): Crash(Im)", "∀ Im: " + "(oe(Im) ∧ " * 101 + "oe(Im)" + ")" * 101,
    "∀ Im: " + "oe(Im) ∧ " * 1110 + "😀" * 4,
]
#: queries at the limits, which both languages accept (the long one tokenizes in linear time)
LIMIT_QUERIES = ["forall Im: " + "(" * 100 + "oe(Im)" + ")" * 100, "∀ Im: " + " ∧ ".join(["oe(Im)"] * 100),
                 "forall Im: " + "not " * 99 + "oe(Im)", "∀ Im: " + ("(oe(Im) ∧ " * 10 + "oe(Im)" + ")" * 10 + " ∨ ") * 80
                 + "Crash(Im)"]
BAD_SEMANTICS = [
    {"and_op": "prod"}, {"or_op": "sum"}, {"implies_op": "godel"}, {"forall_op": "max"},
    {"exists_op": "min"}, {"forall_p": 0.5}, {"and": "min"}, {"stable": "yes"},
    # values each language prints in its own way unless told (nan/NaN, inf/Infinity, True/true, 1.0/1)
    {"forall_p": math.nan}, {"exists_p": math.inf}, {"forall_p": -math.inf}, {"forall_p": 0.5}, {"forall_p": 1e-7},
    {"exists_p": 0.0}, {"forall_p": True}, {"stable": 1}, {"stable": "yes"}, {"stable": None}, {"and_op": 3},
    {"or_op": None}, {"implies_op": ["goedel"]}, {"exists_op": 2.5e-5},
]
#: parameter values the evaluation refuses, with the same message in both languages
BAD_PARAMS = [math.nan, math.inf, -math.inf, True, False, None, "0.3", [0.3], {"v": 1}]


def make_outputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name in PREDS:
        v = torch.rand(N, generator=g, dtype=torch.float64)
        v[torch.rand(N, generator=g) < 0.08] = 0.0
        v[torch.rand(N, generator=g) < 0.08] = 1.0
        out[name] = v
    for name in FUNCS:
        v = 1.2 * torch.rand(N, generator=g, dtype=torch.float64)
        v[[5, 50, 150]] = torch.tensor(TS, dtype=torch.float64)  # ties with t: crisp boundaries
        out[name] = v
    return out


@pytest.fixture(scope="module")
def widget():
    return LogicQueryExplorer(make_outputs(), PREDS, FUNCS, decimals=3)


@pytest.fixture(scope="module")
def run(widget, tmp_path_factory):
    """Run node once over every case; return (spec, JS results)."""
    if NODE is None:
        pytest.skip("node is not on PATH: the JavaScript twin cannot be run")
    cases = [{"query": q, "params": {"t": t}, "semantics": s}
             for q in QUERIES for s in SEMANTICS for t in TS]
    cases += [{"query": q, "params": {"t": 0.5}, "semantics": {}} for q in BAD_QUERIES + LIMIT_QUERIES]
    cases += [{"query": "exists Im: scd(Im) < t and sco(Im)", "params": {"t": v}, "semantics": {}} for v in BAD_PARAMS]
    spec = {"outputs": widget.outputs, "predicates": PREDS, "functions": FUNCS, "cases": cases,
            "parse": QUERIES, "semantics": SEMANTICS + BAD_SEMANTICS}
    path = tmp_path_factory.mktemp("lq") / "cases.json"
    path.write_text(json.dumps(tagged(spec), ensure_ascii=False, allow_nan=False), encoding="utf-8")
    proc = subprocess.run([NODE, str(DRIVER), str(MODULE), str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return spec, json.loads(proc.stdout)


def tagged(value):
    """``value`` for JSON with nan and infinities as {"$number": "nan" | "inf" | "-inf"} (the driver revives them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$number": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, dict):
        return {k: tagged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [tagged(v) for v in value]
    return value


def python_case(widget, case):
    return evaluate(case["query"], widget.tensors(), params=case["params"],
                    semantics=Semantics.from_dict(case["semantics"]), predicates=PREDS,
                    functions=FUNCS)


@pytest.mark.integration
@pytest.mark.parametrize("qi", range(len(QUERIES)), ids=[f"q{i:02d}" for i in range(len(QUERIES))])
def test_js_values_match_python(run, widget, qi):
    spec, res = run
    n_checked = 0
    for case, js in zip(spec["cases"], res["cases"]):
        if case["query"] != QUERIES[qi]:
            continue
        assert "error" not in js, js
        py = python_case(widget, case)
        where = f"{case['query']!r} {case['semantics']} t={case['params']['t']}"
        assert js["domainSize"] == py.domain_size, where
        if math.isnan(py.value):
            assert js["value"] is None, where
        else:
            assert js["value"] == pytest.approx(py.value, abs=1e-6), where
        per_js = torch.tensor([math.nan if v is None else v for v in js["perImage"]],
                              dtype=torch.float64)
        assert torch.equal(torch.isnan(per_js), torch.isnan(py.per_image)), where
        assert torch.allclose(per_js, py.per_image, atol=1e-6, equal_nan=True), where
        assert js["canonical"] == str(py.parsed), where
        n_checked += 1
    assert n_checked == len(SEMANTICS) * len(TS)


@pytest.mark.integration
def test_cases_are_not_degenerate(run, widget):
    """The data exercises the interesting paths: guards, empty domains, ties at t."""
    spec, res = run
    values = [js["value"] for js in res["cases"][: len(QUERIES) * len(SEMANTICS) * len(TS)]]
    finite = [v for v in values if v is not None]
    assert len(set(round(v, 6) for v in finite)) > 120
    assert any(v is None for v in values)  # the empty guard
    assert any(0.0 < v < 1.0 for v in finite)
    assert all(sum(1 for v in widget.outputs[f] if v in TS) >= 3 for f in FUNCS)  # ties with t


@pytest.mark.integration
@pytest.mark.parametrize("bi", range(len(BAD_QUERIES)), ids=[f"bad{i:02d}" for i in range(len(BAD_QUERIES))])
def test_js_rejects_the_same_bad_queries(run, widget, bi):
    spec, res = run
    offset = len(QUERIES) * len(SEMANTICS) * len(TS)
    case, js = spec["cases"][offset + bi], res["cases"][offset + bi]
    assert case["query"] == BAD_QUERIES[bi]
    with pytest.raises(QueryError) as info:
        python_case(widget, case)
    assert js["error"] == "QueryError", js
    assert js["message"] == str(info.value)
    assert js["position"] == info.value.position


@pytest.mark.integration
@pytest.mark.parametrize("li", range(len(LIMIT_QUERIES)))
def test_queries_at_the_limits_agree(run, widget, li):
    spec, res = run
    offset = len(QUERIES) * len(SEMANTICS) * len(TS) + len(BAD_QUERIES)
    case, js = spec["cases"][offset + li], res["cases"][offset + li]
    assert case["query"] == LIMIT_QUERIES[li]
    assert "error" not in js, js
    assert js["value"] == pytest.approx(python_case(widget, case).value, abs=1e-6)


def test_limits_are_the_same_in_both_languages():
    from nesy.logic import query

    # one source: the spec file, read by Python and by lib/nesy/logic/query/spec.mjs
    source = (MODULE.parent / "spec.mjs").read_text(encoding="utf-8")
    assert "export const MAX_DEPTH = SPEC.limits.max_depth;" in source
    assert "export const MAX_QUERY_LENGTH = SPEC.limits.max_query_length;" in source
    assert (query.MAX_DEPTH, query.MAX_QUERY_LENGTH) == (100, 10_000)
    assert query.SPEC["limits"] == {"max_depth": query.MAX_DEPTH, "max_query_length": query.MAX_QUERY_LENGTH}


def test_deep_and_long_queries_are_query_errors_not_recursion_errors():
    """Nesting far beyond the limit (as deep as Python's own stack would not go) is refused cleanly."""
    for text in ["forall Im: " + "(" * 5000 + "oe(Im)" + ")" * 5000, "forall Im: " + "not " * 2400 + "oe(Im)",
                 "forall Im: " + "oe(Im) and " * 99_999 + "oe(Im)"]:
        with pytest.raises(QueryError, match="nests more than|longer than"):
            parse(text, PREDS, FUNCS)


@pytest.mark.integration
@pytest.mark.parametrize("vi", range(len(BAD_PARAMS)))
def test_js_rejects_the_same_parameter_values(run, widget, vi):
    spec, res = run
    offset = len(QUERIES) * len(SEMANTICS) * len(TS) + len(BAD_QUERIES) + len(LIMIT_QUERIES)
    case, js = spec["cases"][offset + vi], res["cases"][offset + vi]
    with pytest.raises(ValueError) as info:
        python_case(widget, case)
    assert js.get("error") == "Error", js
    assert js["message"] == str(info.value)


@pytest.mark.integration
def test_js_canonical_forms_match(run):
    spec, res = run
    for q, js in zip(QUERIES, res["parsed"]):
        assert js["canonical"] == str(parse(q, PREDS, FUNCS))


@pytest.mark.integration
def test_js_semantics_validation_matches(run):
    spec, res = run
    for s, js in zip(SEMANTICS + BAD_SEMANTICS, res["semantics"]):
        try:
            expected = Semantics.from_dict(s).to_dict()
        except ValueError as exc:
            assert js.get("error") == "Error", (s, js)
            assert js["message"] == str(exc)
        else:
            assert js["normalized"] == expected


@pytest.mark.integration
def test_js_histogram_bins(run):
    _, res = run
    counts = res["histogram"]
    assert len(counts) == 20 and sum(counts) == 6
    assert counts[0] == 2 and counts[1] == 1 and counts[10] == 1 and counts[19] == 2


# ------------------------------------------------------------------ the widget (Python side)


def test_widget_embeds_rounded_outputs_and_the_module(widget):
    from nesy.logic.query import SPEC

    esm = widget._esm
    assert esm == esm_source() and ESM_PATH.name == "logic_query.mjs"
    # one module without imports: the spec inlined, every language module and the view, in order
    assert "import " not in "\n".join(line for line in esm.splitlines() if not line.lstrip().startswith("//"))
    assert f"const SPEC = {json.dumps(SPEC, ensure_ascii=False)};" in esm
    modules = sorted(p.name for p in MODULE.parent.glob("*.mjs") if p != MODULE)  # index.mjs only re-exports
    parts = dict(part.split("\n", 1) for part in esm.split("// ---- ")[1:])
    assert set(parts) == {f"query/{name}" for name in modules} | {"widgets/dom.mjs", "widgets/logic_query.mjs"}
    assert list(parts)[0] == "query/spec.mjs" and list(parts)[-1] == "widgets/logic_query.mjs"
    inlined = f"const SPEC = {json.dumps(SPEC, ensure_ascii=False)};\n"
    views = [("widgets/dom.mjs", ESM_PATH.parent / "dom.mjs"), ("widgets/logic_query.mjs", ESM_PATH)]
    for name, path in [(f"query/{m}", MODULE.parent / m) for m in modules] + views:
        own = "".join(line for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
                      if not line.startswith(("import ", "export * from")))
        assert parts[name].replace(inlined, "").strip() == own.strip(), name  # its code, only its imports gone
    assert parts["query/spec.mjs"].count(inlined) == 1
    assert "export function evaluateQuery(" in esm and "export default { render };" in esm
    assert set(widget.outputs) == set(PREDS + FUNCS)
    assert all(len(v) == N for v in widget.outputs.values())
    assert all(round(x, 3) == x for v in widget.outputs.values() for x in v)
    assert widget.prepared == ARTICLE_QUERIES
    assert widget.query == ARTICLE_QUERIES[0]["query"]
    assert widget.semantics == Semantics().to_dict() and widget.t == 0.5
    state = json.dumps(widget.get_state(), default=str)
    assert len(state) < 80_000


@pytest.mark.integration
def test_widget_evaluate_matches_js(run, widget):
    spec, res = run
    for i, (case, js) in enumerate(zip(spec["cases"], res["cases"])):
        if case["query"] == ARTICLE_QUERIES[2]["query"] and case["semantics"] == {}:
            w = LogicQueryExplorer(widget.outputs, PREDS, FUNCS, query=case["query"],
                                   t=case["params"]["t"])
            assert w.evaluate().value == pytest.approx(js["value"], abs=1e-6)
            assert w.value == pytest.approx(js["value"], abs=1e-6)


def test_bundle_inlines_relative_imports_once_dependencies_first(tmp_path):
    from nesy.widgets.logic_query import bundle

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "data.json").write_text('{"k": [1, "ü"]}', encoding="utf-8")
    (tmp_path / "lib" / "a.mjs").write_text('import D from "./data.json" with { type: "json" };\nexport const A = D.k;\n')
    (tmp_path / "lib" / "b.mjs").write_text('import { A } from "./a.mjs";\nexport const B = A;\n')
    (tmp_path / "main.mjs").write_text('import { B } from "./lib/b.mjs";\nimport { A } from "./lib/a.mjs";\nexport default B;\n')
    assert bundle(tmp_path / "main.mjs") == (
        '// ---- lib/a.mjs\nconst D = {"k": [1, "ü"]};\nexport const A = D.k;\n\n'
        "// ---- lib/b.mjs\nexport const B = A;\n\n"
        "// ---- tmp/main.mjs\nexport default B;\n".replace("tmp", tmp_path.name))
    (tmp_path / "bad.mjs").write_text('import x from "node:fs";\n')
    with pytest.raises(ValueError, match="only one-line relative imports"):
        bundle(tmp_path / "bad.mjs")


@pytest.mark.integration
def test_the_embedded_module_evaluates_as_python(widget, tmp_path):
    """node imports the widget's _esm string itself (as the static page does) and agrees with Python."""
    if NODE is None:
        pytest.skip("node is not on PATH: the JavaScript twin cannot be run")
    bundle = tmp_path / "embedded.mjs"
    bundle.write_text(widget._esm, encoding="utf-8")
    cases = [{"query": q, "params": {"t": 0.3}, "semantics": s} for q in QUERIES[:6] for s in SEMANTICS[:2]]
    cases.append({"query": BAD_QUERIES[21], "params": {"t": 0.3}, "semantics": {}})
    spec = {"outputs": widget.outputs, "predicates": PREDS, "functions": FUNCS, "cases": cases}
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([NODE, str(DRIVER), str(bundle), str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    for case, js in zip(cases[:-1], res["cases"]):
        py = python_case(widget, case)
        assert js["value"] == pytest.approx(py.value, abs=1e-6), case
        assert js["canonical"] == str(py.parsed)
    with pytest.raises(QueryError) as info:
        python_case(widget, cases[-1])
    assert res["cases"][-1]["message"] == str(info.value)
    from nesy.logic.query import SPEC
    assert res["spec"] == SPEC


def test_widget_value_follows_traits():
    outputs = {"oe": [1.0, 0.0, 1.0, 0.0], "Crash": [0.9, 0.0, 0.2, 0.4],
               "td": torch.tensor([0.1, 0.5, 0.25, 0.9])}
    w = LogicQueryExplorer(outputs, ["oe", "Crash"], ["td"], prepared=[],
                           query="forall Im where td(Im) < t: Crash(Im)",
                           t=0.3, semantics={"forall_op": "mean"})
    assert w.query.startswith("forall") and w.prepared == []
    assert w.value == pytest.approx(0.55) and w.domain_size == 2 and w.error == ""
    w.t = 0.05
    assert w.value is None and w.domain_size == 0  # empty domain
    w.t = 1.0
    assert w.value == pytest.approx(0.375) and w.domain_size == 4
    w.semantics = {**w.semantics, "forall_op": "min"}
    assert w.value == 0.0
    w.query = "forall Im: td(Im)"
    assert w.value is None and "'td' is a function" in w.error
    with pytest.raises(QueryError):
        w.evaluate()
    with pytest.raises(Exception, match=r"t must be in \[0, 1\]"):
        w.t = 1.5


def test_widget_rejects_bad_construction():
    with pytest.raises(ValueError, match="outputs has no entry for Crash"):
        LogicQueryExplorer({"oe": [0.5]}, ["oe", "Crash"])
    with pytest.raises(ValueError, match="different lengths"):
        LogicQueryExplorer({"oe": [0.5], "Crash": [0.1, 0.2]}, ["oe", "Crash"])
    with pytest.raises(ValueError, match="Semantics.and_op"):
        LogicQueryExplorer({"oe": [0.5]}, ["oe"], semantics={"and_op": "x"})
    with pytest.raises(ValueError, match=r"t must be in \[0, 1\]"):
        LogicQueryExplorer({"oe": [0.5]}, ["oe"], t=2)


# ------------------------------------------------------------------ the view, in Chromium

FAKE_MODEL = """
async ([src, state]) => {
  const listeners = {};
  window.saves = 0;
  window.model = {
    get: (k) => state[k],
    set: (k, v) => { const old = state[k]; state[k] = v;
                     if (old !== v) (listeners["change:" + k] || []).forEach((cb) => cb()); },
    on: (ev, cb) => { (listeners[ev] = listeners[ev] || []).push(cb); },
    off: (ev, cb) => { listeners[ev] = (listeners[ev] || []).filter((f) => f !== cb); },
    save_changes: () => { window.saves += 1; },
  };
  const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
  const mod = await import(url);
  window.cleanup = mod.default.render({ model: window.model, el: document.getElementById("root") });
}
"""


@pytest.mark.browser
def test_view_in_chromium(browser):
    outputs = {k: v.tolist() for k, v in make_outputs(1).items()}
    w = LogicQueryExplorer(outputs, PREDS, FUNCS, decimals=3)
    state = {k: getattr(w, k) for k in ("outputs", "predicates", "functions", "prepared", "query",
                                        "t", "semantics", "value", "domain_size", "error")}
    state["value"] = None  # the view must compute it

    def py(query, t, semantics):
        return evaluate(query, w.tensors(), {"t": t}, Semantics.from_dict(semantics), PREDS, FUNCS)

    page = browser.new_page()
    try:
        page.set_content('<div id="root"></div>')
        page.evaluate(FAKE_MODEL, [esm_source(), state])
        get = lambda k: page.evaluate(f"window.model.get({json.dumps(k)})")  # noqa: E731

        def check(query, t, semantics):
            r = py(query, t, semantics)
            assert page.inner_text(".nesy-lq-value") == f"{r.value:.3f}"
            assert float(page.get_attribute(".nesy-lq-value", "data-value")) == pytest.approx(r.value, abs=1e-9)
            assert get("value") == pytest.approx(r.value, abs=1e-9)
            assert page.inner_text(".nesy-lq-domain") == str(r.domain_size)
            counts = [int(c) for c in page.eval_on_selector_all(
                "svg.nesy-lq-hist rect.nesy-lq-bar", "rs => rs.map(r => r.getAttribute('data-count'))")]
            assert len(counts) == 20 and sum(counts) == r.domain_size
            assert not page.is_visible(".nesy-lq-error")

        # initial render: the first prepared query
        assert page.input_value(".nesy-lq-input") == ARTICLE_QUERIES[0]["query"]
        check(ARTICLE_QUERIES[0]["query"], 0.5, {})

        # prepared query -> fills the text box; slider -> t
        page.select_option(".nesy-lq-prepared", "3")
        assert page.input_value(".nesy-lq-input") == ARTICLE_QUERIES[3]["query"]
        assert get("query") == ARTICLE_QUERIES[3]["query"]
        check(ARTICLE_QUERIES[3]["query"], 0.5, {})
        page.eval_on_selector(".nesy-lq-t", "e => { e.value = '0.25'; e.dispatchEvent(new Event('input')); }")
        assert get("t") == 0.25 and page.inner_text(".nesy-lq-t-value") == "0.25"
        check(ARTICLE_QUERIES[3]["query"], 0.25, {})

        # semantics selects
        page.select_option("select[data-key=implies_op]", "goedel")
        page.select_option("select[data-key=forall_op]", "mean")
        sem = {"implies_op": "goedel", "forall_op": "mean"}
        assert {k: get("semantics")[k] for k in sem} == sem
        check(ARTICLE_QUERIES[3]["query"], 0.25, sem)

        # typed query, evaluated as you type; a guarded one
        q = "forall Im where sco(Im) or bco(Im): Crash(Im)"
        page.fill(".nesy-lq-input", q)
        assert get("query") == q and page.input_value(".nesy-lq-prepared") == ""
        check(q, 0.25, sem)

        # a bad query: inline red error, no value, value written back as null
        page.fill(".nesy-lq-input", "forall Im: scd(Im)")
        assert page.is_visible(".nesy-lq-error")
        err = page.inner_text(".nesy-lq-error")
        with pytest.raises(QueryError) as info:
            parse("forall Im: scd(Im)", PREDS, FUNCS)
        assert err.strip() == str(info.value).strip()
        color = page.eval_on_selector(".nesy-lq-error", "e => getComputedStyle(e).color")
        assert color == "rgb(204, 0, 0)"
        assert page.inner_text(".nesy-lq-value") == "—" and get("value") is None
        assert "'scd' is a function" in get("error")

        # empty domain
        page.fill(".nesy-lq-input", "forall Im where scd(Im) < -1: Crash(Im)")
        assert page.inner_text(".nesy-lq-value") == "NaN (empty domain)"
        assert page.inner_text(".nesy-lq-domain") == "0" and get("value") is None

        # a change from the kernel side updates the view
        page.evaluate("window.model.set('query', 'exists Im: sco(Im) and scd(Im) < t')")
        assert page.input_value(".nesy-lq-input") == "exists Im: sco(Im) and scd(Im) < t"
        check("exists Im: sco(Im) and scd(Im) < t", 0.25, sem)
        assert page.evaluate("window.saves") > 0
        page.evaluate("window.cleanup()")
    finally:
        page.close()
