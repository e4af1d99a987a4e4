// Driver for tests/test_query_js.py and tests/test_fuzz.py: evaluates many query cases with the
// JavaScript twin in one node process.
//   node run_queries.mjs MODULE.mjs CASES.json  ->  JSON results on stdout
// MODULE.mjs exports the language: lib/nesy/logic/query/index.mjs (the language modules), or a
// file holding the widget's bundled _esm (nesy.widgets.logic_query.esm_source()).
// CASES.json: {outputs, predicates, functions, cases: [{query, params, semantics}],
//              parse: [query, ...], semantics: [semantics object, ...], trees: [query, ...],
//              calls: [{fn, args}, ...]}
// NaN is written as null. In CASES.json, {"$number": "nan" | "inf" | "-inf"} stands for NaN and the infinities.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { histogram as widgetHistogram } from "../../lib/nesy/widgets/logic_query.mjs";

const [modulePath, casesPath] = process.argv.slice(2);
const lq = await import(pathToFileURL(modulePath).href);
const SPECIAL = { nan: NaN, inf: Infinity, "-inf": -Infinity };
const revive = (key, v) => (v && typeof v === "object" && !Array.isArray(v) && "$number" in v ? SPECIAL[v.$number] : v);
const spec = JSON.parse(readFileSync(casesPath, "utf8"), revive);
const { outputs, predicates, functions } = spec;
spec.cases = spec.cases || [];

const fail = (e) => ({ error: e.name === "QueryError" ? "QueryError" : "Error", message: e.message, position: e.position ?? null });
const num = (x) => (Number.isFinite(x) ? x : null);

const cases = spec.cases.map((c) => {
  try {
    const r = lq.evaluateQuery(c.query, outputs, c.params, c.semantics, predicates, functions);
    return { value: num(r.value), perImage: r.perImage.map(num), domainSize: r.domainSize, canonical: lq.formatQuery(r.parsed) };
  } catch (e) {
    return fail(e);
  }
});
const parsed = (spec.parse || []).map((q) => {
  try {
    return { canonical: lq.formatQuery(lq.parseQuery(q, predicates, functions)) };
  } catch (e) {
    return fail(e);
  }
});
const semantics = (spec.semantics || []).map((s) => {
  try {
    return { normalized: lq.normalizeSemantics(s) };
  } catch (e) {
    return fail(e);
  }
});
// the tree of each query in spec.trees (the conformance tests compare shapes with Python's)
const strip = (node) =>
  node && typeof node === "object"
    ? Object.fromEntries(Object.entries(node).filter(([k]) => !["pos", "text", "predicates", "functions"].includes(k)).map(([k, v]) => [k, strip(v)]))
    : node;
const trees = (spec.trees || []).map((q) => {
  try {
    return { tree: strip(lq.parseQuery(q, predicates, functions)) };
  } catch (e) {
    return fail(e);
  }
});
// any call of the language: spec.calls = [{fn: "parseQuery" | "evaluateQuery" | "normalizeSemantics", args: [...]}]
const CALLS = {
  parseQuery: (...args) => ({ canonical: lq.formatQuery(lq.parseQuery(...args)) }),
  evaluateQuery: (...args) => ({ value: num(lq.evaluateQuery(...args).value) }),
  normalizeSemantics: (s) => ({ normalized: lq.normalizeSemantics(s) }),
};
const calls = (spec.calls || []).map(({ fn, args }) => {
  try {
    return CALLS[fn](...args);
  } catch (e) {
    return fail(e);
  }
});
const histogram = (lq.histogram ?? widgetHistogram)([0, 0.049, 0.05, 0.5, 0.999, 1, NaN]);
const jsSpec = lq.SPEC ?? null;
process.stdout.write(JSON.stringify({ cases, parsed, semantics, trees, calls, histogram, spec: jsSpec }));
