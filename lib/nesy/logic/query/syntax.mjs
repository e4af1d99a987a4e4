// The syntax tree's canonical printing (the same as Python's str(Query)) and walking.
// Nodes are plain objects: {type: "query" | "atom" | "compare" | "not" | "binop" | "apply" |
// "number" | "param", ...}.
import { SPEC } from "./spec.mjs";

const CONNECTIVES = SPEC.connectives;

function termToString(t, v) {
  if (t.type === "apply") return `${t.name}(${v})`;
  if (t.type === "number") return t.text || String(t.value);
  return t.name;
}

function formulaToString(f, v) {
  switch (f.type) {
    case "atom":
      return `${f.name}(${v})`;
    case "compare":
      return `${termToString(f.left, v)} ${SPEC.comparison_symbols[f.op]} ${termToString(f.right, v)}`;
    case "not": {
      let inner = formulaToString(f.operand, v);
      if (f.operand.type === "binop" || f.operand.type === "compare") inner = `(${inner})`;
      return CONNECTIVES.not.symbol + inner;
    }
    case "binop": {
      const prec = CONNECTIVES[f.op].precedence;
      const right = CONNECTIVES[f.op].associativity === "right";
      let left = formulaToString(f.left, v);
      let rightText = formulaToString(f.right, v);
      // fewest parentheses, plus (a ∧ b) inside ∨ for readability
      if (f.left.type === "binop") {
        const lp = CONNECTIVES[f.left.op].precedence;
        if (lp < prec || (lp === prec && right) || (f.op === "or" && f.left.op === "and")) left = `(${left})`;
      }
      if (f.right.type === "binop") {
        const rp = CONNECTIVES[f.right.op].precedence;
        if (rp < prec || (rp === prec && !right) || (f.op === "or" && f.right.op === "and"))
          rightText = `(${rightText})`;
      }
      return `${left} ${CONNECTIVES[f.op].symbol} ${rightText}`;
    }
    default:
      throw new TypeError(`not a formula node: ${JSON.stringify(f)}`);
  }
}

/** Canonical text of a parsed query (the same as Python's str(Query)). */
export function formatQuery(q) {
  const guard = q.guard ? ` where ${formulaToString(q.guard, q.variable)}` : "";
  return `${SPEC.quantifiers[q.quantifier]} ${q.variable}${guard}: ${formulaToString(q.body, q.variable)}`;
}

/** Call visit(node) on node and every node below it, parents first. */
export function walk(node, visit) {
  if (!node) return;
  visit(node);
  if (node.type === "query") {
    walk(node.guard, visit);
    walk(node.body, visit);
  } else if (node.type === "not") walk(node.operand, visit);
  else if (node.type === "binop" || node.type === "compare") {
    walk(node.left, visit);
    walk(node.right, visit);
  }
}
