// Driver for tests/test_query_js.py: evaluates many query cases with the JavaScript twin in
// one node process.
//   node run_queries.mjs MODULE.mjs CASES.json  ->  JSON results on stdout
// CASES.json: {outputs, predicates, functions, cases: [{query, params, semantics}],
//              parse: [query, ...], semantics: [semantics object, ...]}
// NaN is written as null. In CASES.json, {"$number": "nan" | "inf" | "-inf"} stands for NaN and the infinities.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [modulePath, casesPath] = process.argv.slice(2);
const lq = await import(pathToFileURL(modulePath).href);
const SPECIAL = { nan: NaN, inf: Infinity, "-inf": -Infinity };
const revive = (key, v) => (v && typeof v === "object" && !Array.isArray(v) && "$number" in v ? SPECIAL[v.$number] : v);
const spec = JSON.parse(readFileSync(casesPath, "utf8"), revive);
const { outputs, predicates, functions } = spec;

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
const histogram = lq.histogram([0, 0.049, 0.05, 0.5, 0.999, 1, NaN]);
process.stdout.write(JSON.stringify({ cases, parsed, semantics, histogram }));
