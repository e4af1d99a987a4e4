// Evaluation: a query's truth over per-image outputs (evaluateQuery), as Python's
// nesy.logic.query.evaluate computes it (to 1e-6).
import { QueryError, show } from "./errors.mjs";
import { parseQuery } from "./parser.mjs";
import { aggregator, connectives, normalizeSemantics } from "./semantics.mjs";
import { message } from "./spec.mjs";
import { formatQuery, walk } from "./syntax.mjs";

const CMP = {
  "<": (a, b) => a < b, "<=": (a, b) => a <= b, ">": (a, b) => a > b, ">=": (a, b) => a >= b,
};

function evalFormula(node, vectors, params, ops, n) {
  switch (node.type) {
    case "atom":
      return vectors[node.name];
    case "compare": {
      const leaf = (t) =>
        t.type === "apply" ? vectors[t.name] : t.type === "number" ? t.value : params[t.name];
      const l = leaf(node.left), r = leaf(node.right);
      const f = CMP[node.op];
      const out = new Array(n);
      for (let i = 0; i < n; i++) {
        const a = typeof l === "number" ? l : l[i];
        const b = typeof r === "number" ? r : r[i];
        out[i] = f(a, b) ? 1 : 0;
      }
      return out;
    }
    case "not":
      return evalFormula(node.operand, vectors, params, ops, n).map(ops.not);
    case "binop": {
      const x = evalFormula(node.left, vectors, params, ops, n);
      const y = evalFormula(node.right, vectors, params, ops, n);
      const f = ops[node.op];
      return x.map((xi, i) => f(xi, y[i]));
    }
    default:
      throw new TypeError(`not a formula node: ${JSON.stringify(node)}`);
  }
}

/**
 * Evaluate a query (text or parsed AST) over per-image outputs.
 * outputs: {name: number[] (one value per image)}; params: {name: number};
 * semantics: partial object with DEFAULT_SEMANTICS's keys; predicates default to every key
 * of outputs that is not a function. Returns {value, perImage, domainSize, query, parsed}:
 * value is NaN for an empty domain; perImage is NaN outside the guard's domain.
 */
export function evaluateQuery(text, outputs, params = {}, semantics = {}, predicates = null, functions = []) {
  let q;
  if (text && typeof text === "object" && text.type === "query") q = text;
  else {
    const funcs = Array.from(functions || []);
    const preds = predicates == null ? Object.keys(outputs).filter((k) => !funcs.includes(k)) : Array.from(predicates);
    q = parseQuery(text, preds, funcs);
  }
  const s = normalizeSemantics(semantics);
  params = params || {};

  const paramNodes = [], symbolNodes = [];
  walk(q, (node) => {
    if (node.type === "param") paramNodes.push(node);
    if (node.type === "atom" || node.type === "apply") symbolNodes.push(node);
  });
  for (const p of paramNodes) {
    if (!Object.prototype.hasOwnProperty.call(params, p.name)) {
      const given = Object.keys(params).join(", ") || message("none");
      throw new QueryError(message("unbound_parameter", { name: p.name, given }), q.text, p.pos);
    }
    const v = params[p.name];
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new Error(message("parameter_not_finite", { name: `'${p.name}'`, value: show(v) }));
  }
  const predicatesUsed = new Set(
    symbolNodes.filter((a) => a.type === "atom" || a.kind === "predicate").map((a) => a.name),
  );
  const names = [...new Set(symbolNodes.map((a) => a.name))];
  const vectors = {};
  let n = null;
  for (const name of names) {
    if (!Object.prototype.hasOwnProperty.call(outputs, name))
      throw new Error(
        message("outputs_missing", { name: `'${name}'`, names: Object.keys(outputs).join(", ") || message("nothing") }),
      );
    const v = Array.from(outputs[name], Number);
    if (n === null) n = v.length;
    else if (v.length !== n) throw new Error(message("outputs_length", { name: `'${name}'`, count: v.length, n }));
    if (!v.every(Number.isFinite)) throw new Error(message("outputs_not_finite", { name: `'${name}'` }));
    if (predicatesUsed.has(name) && !v.every((x) => x >= 0 && x <= 1))
      throw new Error(message("outputs_out_of_range", { name: `'${name}'` }));
    vectors[name] = v;
  }
  n = n || 0;

  const ops = connectives(s);
  const body = evalFormula(q.body, vectors, params, ops, n);
  const agg = aggregator(q.quantifier, s);
  let perImage, domain;
  if (q.guard) {
    const g = evalFormula(q.guard, vectors, params, ops, n);
    perImage = body.map((b, i) => (g[i] > 0.5 ? b : NaN));
    domain = body.filter((b, i) => g[i] > 0.5);
  } else {
    perImage = body;
    domain = body;
  }
  const value = domain.length > 0 ? agg(domain) : NaN;
  return { value, perImage, domainSize: domain.length, query: q.text || formatQuery(q), parsed: q };
}
