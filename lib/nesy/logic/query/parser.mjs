// The hand-written recursive-descent parser (its errors and carets match Python's).
// Precedence, lowest first (the spec's connectives): <-> (left-associative), -> (right-
// associative), or, and, not; comparisons bind tighter than not.
import { QueryError } from "./errors.mjs";
import { ENCODER, KEYWORDS, MAX_DEPTH, MAX_QUERY_LENGTH, message } from "./spec.mjs";
import { CMP_CANON, IDENT_FULL, describe, tokenize } from "./tokens.mjs";

function checkNames(predicates, functions) {
  if (typeof predicates === "string" || typeof functions === "string") throw new TypeError(message("names_not_iterable"));
  const preds = Array.from(predicates || []);
  const funcs = Array.from(functions || []);
  for (const name of preds.concat(funcs)) {
    if (typeof name !== "string" || !IDENT_FULL.test(name))
      throw new Error(message("name_not_identifier", { name: `'${name}'` }));
    if (KEYWORDS.includes(name) || name === ENCODER)
      throw new Error(message("name_reserved", { name: `'${name}'`, keywords: KEYWORDS.join(", "), encoder: ENCODER }));
  }
  const both = preds.filter((p) => funcs.includes(p)).sort();
  if (both.length) throw new Error(message("name_twice", { names: both.join(", ") }));
  return [preds, funcs];
}

class Parser {
  constructor(text, preds, funcs) {
    this.text = text;
    this.preds = preds;
    this.funcs = funcs;
    if (Array.from(text).length > MAX_QUERY_LENGTH)
      throw new QueryError(message("too_long", { max_length: MAX_QUERY_LENGTH }), text, MAX_QUERY_LENGTH);
    this.tokens = tokenize(text);
    this.i = 0;
    this.variable = "";
    this.open = 0; // levels entered and not yet left: parentheses, 'not', right-nested '->'
    this.depths = new WeakMap(); // node -> depth of its subtree (leaves 1)
  }
  nest(node, children, pos) {
    const depth = 1 + Math.max(0, ...children.map((c) => this.depths.get(c) || 1));
    if (depth > MAX_DEPTH) this.tooDeep(pos);
    this.depths.set(node, depth);
    return node;
  }
  enter(pos) {
    this.open += 1;
    if (this.open > MAX_DEPTH) this.tooDeep(pos);
  }
  tooDeep(pos) {
    this.error(message("too_deep", { max_depth: MAX_DEPTH }), pos);
  }
  get tok() {
    return this.tokens[this.i];
  }
  peek(k = 1) {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)];
  }
  advance() {
    const t = this.tokens[this.i];
    this.i = Math.min(this.i + 1, this.tokens.length - 1);
    return t;
  }
  error(reason, pos) {
    throw new QueryError(reason, this.text, pos === undefined ? this.tok.pos : pos);
  }
  expected(key, values = {}) {
    this.error(message("expected", { what: message(key, values), got: describe(this.tok) }));
  }
  isSymbol(name) {
    return this.preds.includes(name) || this.funcs.includes(name);
  }
  unknownSymbol(tok) {
    const none = message("none");
    const predicates = this.preds.join(", ") || none;
    const functions = this.funcs.join(", ") || none;
    this.error(message("unknown_symbol", { name: tok.text, predicates, functions }), tok.pos);
  }

  query() {
    if (this.tok.kind !== "forall" && this.tok.kind !== "exists") this.expected("want_quantifier");
    const quant = this.advance();
    if (this.tok.kind !== "ident") this.expected("want_variable", { quantifier: quant.text });
    const v = this.advance();
    if (this.isSymbol(v.text) || v.text === ENCODER) {
      const kind = this.preds.includes(v.text) ? "predicate" : this.funcs.includes(v.text) ? "function" : "encoder";
      this.error(message("variable_taken", { name: v.text, kind }), v.pos);
    }
    this.variable = v.text;
    let guard = null;
    if (this.tok.kind === "where") {
      this.advance();
      guard = this.formula();
      if (this.tok.kind !== "colon") this.expected("want_colon");
      this.advance();
    } else if (this.tok.kind === "colon") {
      this.advance();
    }
    const body = this.formula();
    if (this.tok.kind !== "eof") this.expected("want_connective");
    return {
      type: "query", quantifier: quant.kind, variable: v.text, guard, body,
      predicates: this.preds, functions: this.funcs, text: this.text,
    };
  }
  formula() {
    let left = this.implication();
    while (this.tok.kind === "iff") {
      const op = this.advance();
      const right = this.implication();
      left = this.nest({ type: "binop", op: "iff", left, right }, [left, right], op.pos);
    }
    return left;
  }
  implication() {
    const left = this.disjunction();
    if (this.tok.kind === "implies") {
      const op = this.advance();
      this.enter(op.pos);
      const right = this.implication();
      this.open -= 1;
      return this.nest({ type: "binop", op: "implies", left, right }, [left, right], op.pos);
    }
    return left;
  }
  disjunction() {
    let left = this.conjunction();
    while (this.tok.kind === "or") {
      const op = this.advance();
      const right = this.conjunction();
      left = this.nest({ type: "binop", op: "or", left, right }, [left, right], op.pos);
    }
    return left;
  }
  conjunction() {
    let left = this.negation();
    while (this.tok.kind === "and") {
      const op = this.advance();
      const right = this.negation();
      left = this.nest({ type: "binop", op: "and", left, right }, [left, right], op.pos);
    }
    return left;
  }
  negation() {
    if (this.tok.kind === "not") {
      const op = this.advance();
      this.enter(op.pos);
      const operand = this.negation();
      this.open -= 1;
      return this.nest({ type: "not", operand }, [operand], op.pos);
    }
    return this.primary();
  }
  primary() {
    const tok = this.tok;
    if (tok.kind === "lparen") {
      this.advance();
      this.enter(tok.pos);
      const inner = this.formula();
      if (this.tok.kind !== "rparen") this.expected("want_rparen");
      this.advance();
      this.open -= 1;
      return inner;
    }
    if (tok.kind !== "ident" && tok.kind !== "number") this.expected("want_formula");
    const left = this.term();
    if (this.tok.kind !== "cmp") {
      if (left.type === "apply" && left.kind === "predicate") return { type: "atom", name: left.name, pos: left.pos };
      if (left.type === "apply") this.error(message("function_as_formula", { name: left.name, var: this.variable }), left.pos);
      if (left.type === "param") this.unknownSymbol(tok);
      this.expected("want_comparison", { text: tok.text });
    }
    const op = this.advance();
    const right = this.term();
    if (left.type !== "apply" && right.type !== "apply") this.error(message("comparison_without_application"), op.pos);
    if (this.tok.kind === "cmp") this.error(message("chained_comparison"));
    return { type: "compare", op: CMP_CANON[op.text], left, right, pos: op.pos };
  }
  term() {
    const tok = this.tok;
    if (tok.kind === "number") {
      this.advance();
      return { type: "number", value: Number(tok.text), text: tok.text };
    }
    if (tok.kind !== "ident") this.expected("want_term");
    const name = tok;
    if (name.text === this.variable) {
      const example = this.preds.concat(this.funcs, ["p"])[0];
      this.error(message("variable_as_value", { var: this.variable, example }), name.pos);
    }
    this.advance();
    const isSym = this.isSymbol(name.text);
    if (this.tok.kind !== "lparen") {
      if (isSym) this.expected("want_lparen", { name: name.text });
      return { type: "param", name: name.text, pos: name.pos };
    }
    if (!isSym) this.unknownSymbol(name);
    this.advance();
    this.argument(name.text);
    if (this.tok.kind !== "rparen") this.expected("want_close", { name: name.text });
    this.advance();
    const kind = this.preds.includes(name.text) ? "predicate" : "function";
    return { type: "apply", name: name.text, kind, pos: name.pos };
  }
  argument(fname) {
    const tok = this.tok;
    const v = this.variable;
    if (tok.kind === "rparen") return;
    if (tok.kind === "ident" && tok.text === v) {
      this.advance();
      return;
    }
    if (tok.kind === "ident" && tok.text === ENCODER && this.peek().kind === "lparen") {
      this.advance();
      this.advance();
      const inner = this.tok;
      if (inner.kind === "ident" && inner.text === v) this.advance();
      else if (inner.kind === "ident" && this.peek().kind !== "lparen")
        this.error(message("unknown_variable", { name: inner.text, var: v }));
      else this.expected("want_encoder_variable", { var: v, encoder: ENCODER });
      if (this.tok.kind !== "rparen") this.expected("want_close", { name: ENCODER });
      this.advance();
      return;
    }
    if (tok.kind === "ident" && this.peek().kind !== "lparen")
      this.error(message("unknown_variable", { name: tok.text, var: v }));
    this.expected("want_argument", { var: v, encoder: ENCODER, name: fname });
  }
}

/**
 * Parse a query. Returns a plain-object AST
 * {type: "query", quantifier, variable, guard, body, predicates, functions, text}.
 * Throws QueryError (message: reason, the query, a caret) on a bad query.
 */
export function parseQuery(text, predicates, functions = []) {
  if (typeof text !== "string") throw new TypeError(`query must be a string, got ${typeof text}`);
  const [preds, funcs] = checkNames(predicates, functions);
  return new Parser(text, preds, funcs).query();
}
