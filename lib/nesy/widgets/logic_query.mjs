// Typed first-order-logic queries over per-image predicate outputs: the JavaScript twin of
// nesy/logic/query.py (same language, same error messages, same values to 1e-6), and the
// anywidget front end of nesy.widgets.logic_query.LogicQueryExplorer.
//
// No imports: runs in node 20 and in browsers, and is served by the book itself.
//
// Semantics (LTNtorch 1.0.2 ltn.fuzzy_ops, eps = 1e-4, pi0(x) = (1-eps)x + eps,
// pi1(x) = (1-eps)x; with stable = true, LTNtorch's default, the stable variants are used):
//   and  product: pi0(x)*pi0(y) | min: min(x,y) | lukasiewicz: max(x+y-1, 0)
//   or   probsum: a+b-ab, a=pi1(x), b=pi1(y) | max: max(x,y) | lukasiewicz: min(x+y, 1)
//   implies reichenbach: 1-a+ab, a=pi0(x), b=pi1(y) | kleene_dienes: max(1-x, y)
//           goedel: x<=y ? 1 : y | goguen: a<=y ? 1 : y/a, a=pi0(x) | lukasiewicz: min(1-x+y, 1)
//   not 1-x;  iff: and(implies(x,y), implies(y,x))
//   forall pmean_error: 1 - mean((1-pi1(x))^p)^(1/p) | pmean: mean(pi0(x)^p)^(1/p)
//          min | mean;   exists pmean: mean(pi0(x)^p)^(1/p) | max
// (with stable = false the pi0/pi1 are dropped). Means run over the guard's domain.

// ------------------------------------------------------------------------------ errors

export const ENCODER = "e";
export const KEYWORDS = ["forall", "exists", "where", "not", "and", "or"];
// Longest query text (code points) and deepest nesting the parser accepts (as in Python).
export const MAX_QUERY_LENGTH = 10000;
export const MAX_DEPTH = 100;

export function formatError(reason, text, position) {
  const shown = Array.from(text)
    .map((c) => ("\t\n\r\f\v".includes(c) ? " " : c))
    .join("");
  return `${reason}\n    ${shown}\n    ${" ".repeat(position)}^`;
}

export class QueryError extends Error {
  constructor(reason, text, position) {
    super(formatError(reason, text, position));
    this.name = "QueryError";
    this.reason = reason;
    this.text = text;
    this.position = position;
  }
}

// ------------------------------------------------------------------------------ tokens

const WS = " \t\n\r\f\v";
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y; // sticky: matched at lastIndex, so tokenizing is linear
const IDENT_FULL = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
const SYMBOLS = [
  ["<->", "iff"], ["<=>", "iff"], ["->", "implies"], ["=>", "implies"],
  ["<=", "cmp"], [">=", "cmp"], ["<", "cmp"], [">", "cmp"],
  ["≤", "cmp"], ["≥", "cmp"],
  ["⇔", "iff"], ["↔", "iff"], ["⇒", "implies"], ["→", "implies"],
  ["¬", "not"], ["!", "not"], ["∧", "and"], ["&", "and"], ["∨", "or"], ["|", "or"],
  ["∀", "forall"], ["∃", "exists"],
  ["(", "lparen"], [")", "rparen"], [",", "comma"], [":", "colon"],
];
const CMP_CANON = { "<": "<", "<=": "<=", "≤": "<=", ">": ">", ">=": ">=", "≥": ">=" };

function stickyMatch(re, text, at) {
  re.lastIndex = at;
  const m = re.exec(text);
  return m ? m[0] : null;
}

function tokenize(text) {
  // u walks UTF-16 code units, i counts code points (positions agree with Python's)
  const tokens = [];
  let u = 0;
  let i = 0;
  while (u < text.length) {
    const c = String.fromCodePoint(text.codePointAt(u));
    if (WS.includes(c)) {
      u += c.length;
      i += 1;
      continue;
    }
    let word = stickyMatch(NUMBER, text, u);
    if (word !== null && (c !== "-" || !text.startsWith("->", u))) {
      tokens.push({ kind: "number", text: word, pos: i });
      u += word.length; // ASCII only: code units == code points
      i += word.length;
      continue;
    }
    word = stickyMatch(IDENT, text, u);
    if (word !== null) {
      tokens.push({ kind: KEYWORDS.includes(word) ? word : "ident", text: word, pos: i });
      u += word.length;
      i += word.length;
      continue;
    }
    const symbol = SYMBOLS.find(([sym]) => text.startsWith(sym, u));
    if (!symbol) throw new QueryError(`unexpected character '${c}'`, text, i);
    tokens.push({ kind: symbol[1], text: symbol[0], pos: i });
    u += symbol[0].length;
    i += Array.from(symbol[0]).length;
  }
  tokens.push({ kind: "eof", text: "", pos: i });
  return tokens;
}

function describe(tok) {
  return tok.kind === "eof" ? "end of query" : `'${tok.text}'`;
}

// ------------------------------------------------------------------------------ AST printing

const PREC = { iff: 1, implies: 2, or: 3, and: 4 };
const SYM = { iff: "↔", implies: "→", or: "∨", and: "∧" };

function termToString(t, v) {
  if (t.type === "apply") return `${t.name}(${v})`;
  if (t.type === "number") return t.text || String(t.value);
  return t.name;
}

function formulaToString(f, v) {
  switch (f.type) {
    case "atom":
      return `${f.name}(${v})`;
    case "compare": {
      const op = { "<=": "≤", ">=": "≥" }[f.op] || f.op;
      return `${termToString(f.left, v)} ${op} ${termToString(f.right, v)}`;
    }
    case "not": {
      let inner = formulaToString(f.operand, v);
      if (f.operand.type === "binop" || f.operand.type === "compare") inner = `(${inner})`;
      return "¬" + inner;
    }
    case "binop": {
      const prec = PREC[f.op];
      let left = formulaToString(f.left, v);
      let right = formulaToString(f.right, v);
      if (f.left.type === "binop") {
        const lp = PREC[f.left.op];
        if (lp < prec || (lp === prec && f.op === "implies") || (f.op === "or" && f.left.op === "and"))
          left = `(${left})`;
      }
      if (f.right.type === "binop") {
        const rp = PREC[f.right.op];
        if (rp < prec || (rp === prec && f.op !== "implies") || (f.op === "or" && f.right.op === "and"))
          right = `(${right})`;
      }
      return `${left} ${SYM[f.op]} ${right}`;
    }
    default:
      throw new TypeError(`not a formula node: ${JSON.stringify(f)}`);
  }
}

/** Canonical text of a parsed query (the same as Python's str(Query)). */
export function formatQuery(q) {
  const quant = q.quantifier === "forall" ? "∀" : "∃";
  const guard = q.guard ? ` where ${formulaToString(q.guard, q.variable)}` : "";
  return `${quant} ${q.variable}${guard}: ${formulaToString(q.body, q.variable)}`;
}

// ------------------------------------------------------------------------------ parser

function checkNames(predicates, functions) {
  if (typeof predicates === "string" || typeof functions === "string")
    throw new TypeError("predicates and functions must be iterables of names, not a string");
  const preds = Array.from(predicates || []);
  const funcs = Array.from(functions || []);
  for (const name of preds.concat(funcs)) {
    if (typeof name !== "string" || !IDENT_FULL.test(name))
      throw new Error(`symbol name '${name}' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)`);
    if (KEYWORDS.includes(name) || name === ENCODER)
      throw new Error(`symbol name '${name}' is reserved (keywords: ${KEYWORDS.join(", ")}; encoder: ${ENCODER})`);
  }
  const both = preds.filter((p) => funcs.includes(p)).sort();
  if (both.length)
    throw new Error(`names declared both as predicate and as function: ${both.join(", ")}`);
  return [preds, funcs];
}

class Parser {
  constructor(text, preds, funcs) {
    this.text = text;
    this.preds = preds;
    this.funcs = funcs;
    if (Array.from(text).length > MAX_QUERY_LENGTH)
      throw new QueryError(`the query is longer than ${MAX_QUERY_LENGTH} characters`, text, MAX_QUERY_LENGTH);
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
    this.error(`the formula nests more than ${MAX_DEPTH} levels deep (connectives, 'not' and parentheses)`, pos);
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
  expected(what) {
    this.error(`expected ${what}, got ${describe(this.tok)}`);
  }
  isSymbol(name) {
    return this.preds.includes(name) || this.funcs.includes(name);
  }
  unknownSymbol(tok) {
    const p = this.preds.join(", ") || "(none)";
    const f = this.funcs.join(", ") || "(none)";
    this.error(`unknown symbol '${tok.text}'; predicates: ${p}; functions: ${f}`, tok.pos);
  }

  query() {
    if (this.tok.kind !== "forall" && this.tok.kind !== "exists")
      this.expected("a quantifier ('forall', 'exists', '∀' or '∃')");
    const quant = this.advance();
    if (this.tok.kind !== "ident") this.expected(`the image variable after '${quant.text}'`);
    const v = this.advance();
    if (this.isSymbol(v.text) || v.text === ENCODER) {
      const kind = this.preds.includes(v.text) ? "predicate" : this.funcs.includes(v.text) ? "function" : "encoder";
      this.error(`the variable name '${v.text}' is already the ${kind} '${v.text}'`, v.pos);
    }
    this.variable = v.text;
    let guard = null;
    if (this.tok.kind === "where") {
      this.advance();
      guard = this.formula();
      if (this.tok.kind !== "colon") this.expected("':' after the guard");
      this.advance();
    } else if (this.tok.kind === "colon") {
      this.advance();
    }
    const body = this.formula();
    if (this.tok.kind !== "eof") this.expected("a connective or end of query");
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
      if (this.tok.kind !== "rparen") this.expected("')'");
      this.advance();
      this.open -= 1;
      return inner;
    }
    if (tok.kind !== "ident" && tok.kind !== "number")
      this.expected("a formula (a predicate application, a comparison, 'not' or '(')");
    const left = this.term();
    if (this.tok.kind !== "cmp") {
      if (left.type === "apply" && left.kind === "predicate")
        return { type: "atom", name: left.name, pos: left.pos };
      if (left.type === "apply")
        this.error(
          `'${left.name}' is a function (a magnitude), not a predicate: compare it with a threshold, e.g. ${left.name}(${this.variable}) < 0.5`,
          left.pos,
        );
      if (left.type === "param") this.unknownSymbol(tok);
      this.expected(`a comparison operator ('<', '<=', '>', '>=') after '${tok.text}'`);
    }
    const op = this.advance();
    const right = this.term();
    if (left.type !== "apply" && right.type !== "apply")
      this.error("a comparison needs a predicate or function application on one side", op.pos);
    if (this.tok.kind === "cmp") this.error("comparisons cannot be chained; join them with 'and'");
    return { type: "compare", op: CMP_CANON[op.text], left, right, pos: op.pos };
  }
  term() {
    const tok = this.tok;
    if (tok.kind === "number") {
      this.advance();
      return { type: "number", value: Number(tok.text), text: tok.text };
    }
    if (tok.kind !== "ident") this.expected("a number, a parameter or a function application");
    const name = tok;
    if (name.text === this.variable) {
      const example = this.preds.concat(this.funcs, ["p"])[0];
      this.error(
        `the variable '${this.variable}' is an image, not a value: apply a predicate or function to it, e.g. ${example}(${this.variable})`,
        name.pos,
      );
    }
    this.advance();
    const isSym = this.isSymbol(name.text);
    if (this.tok.kind !== "lparen") {
      if (isSym) this.expected(`'(' after '${name.text}'`);
      return { type: "param", name: name.text, pos: name.pos };
    }
    if (!isSym) this.unknownSymbol(name);
    this.advance();
    this.argument(name.text);
    if (this.tok.kind !== "rparen") this.expected(`')' to close '${name.text}('`);
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
        this.error(`unknown variable '${inner.text}' (the quantified variable is '${v}')`);
      else this.expected(`the variable '${v}' inside ${ENCODER}(...)`);
      if (this.tok.kind !== "rparen") this.expected(`')' to close '${ENCODER}('`);
      this.advance();
      return;
    }
    if (tok.kind === "ident" && this.peek().kind !== "lparen")
      this.error(`unknown variable '${tok.text}' (the quantified variable is '${v}')`);
    this.expected(`'${v}', '${ENCODER}(${v})' or nothing as the argument of '${fname}'`);
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

// ------------------------------------------------------------------------------ semantics

export const SEMANTICS_CHOICES = {
  and_op: ["product", "min", "lukasiewicz"],
  or_op: ["probsum", "max", "lukasiewicz"],
  implies_op: ["reichenbach", "kleene_dienes", "goedel", "goguen", "lukasiewicz"],
  forall_op: ["pmean_error", "pmean", "min", "mean"],
  exists_op: ["pmean", "max"],
};
export const DEFAULT_SEMANTICS = {
  and_op: "product", or_op: "probsum", implies_op: "reichenbach",
  forall_op: "pmean_error", forall_p: 2.0, exists_op: "pmean", exists_p: 2.0, stable: true,
};

// A bad value in an error message, as Python's nesy.logic.query.show_value writes it.
function show(v) {
  if (typeof v === "string") return `'${v}'`;
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "nan";
    if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
    return String(v);
  }
  if (typeof v === "boolean" || v === null) return String(v);
  if (v === undefined) return "null";
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Merge a (partial) semantics object with the defaults and validate it. */
export function normalizeSemantics(semantics) {
  const s = Object.assign({}, DEFAULT_SEMANTICS);
  const given = semantics || {};
  const names = Object.keys(DEFAULT_SEMANTICS);
  const unknown = Object.keys(given).filter((k) => !names.includes(k));
  if (unknown.length)
    throw new Error(`unknown semantics keys ${unknown.join(", ")}; allowed: ${names.join(", ")}`);
  Object.assign(s, given);
  for (const [name, allowed] of Object.entries(SEMANTICS_CHOICES)) {
    if (!allowed.includes(s[name]))
      throw new Error(`Semantics.${name} must be one of ${allowed.join(", ")}; got ${show(s[name])}`);
  }
  for (const name of ["forall_p", "exists_p"]) {
    const v = s[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 1)
      throw new Error(`Semantics.${name} must be a finite number >= 1; got ${show(v)}`);
  }
  if (typeof s.stable !== "boolean")
    throw new Error(`Semantics.stable must be true or false; got ${show(s.stable)}`);
  return s;
}

const EPS = 1e-4;
const pi0 = (x) => (1 - EPS) * x + EPS;
const pi1 = (x) => (1 - EPS) * x;

function connectives(s) {
  const st = s.stable;
  const and = {
    product: st ? (x, y) => pi0(x) * pi0(y) : (x, y) => x * y,
    min: (x, y) => Math.min(x, y),
    lukasiewicz: (x, y) => Math.max(x + y - 1, 0),
  }[s.and_op];
  const or = {
    probsum: st
      ? (x, y) => {
          const a = pi1(x), b = pi1(y);
          return a + b - a * b;
        }
      : (x, y) => x + y - x * y,
    max: (x, y) => Math.max(x, y),
    lukasiewicz: (x, y) => Math.min(x + y, 1),
  }[s.or_op];
  const implies = {
    reichenbach: st
      ? (x, y) => {
          const a = pi0(x), b = pi1(y);
          return 1 - a + a * b;
        }
      : (x, y) => 1 - x + x * y,
    kleene_dienes: (x, y) => Math.max(1 - x, y),
    goedel: (x, y) => (x <= y ? 1 : y),
    goguen: (x, y) => {
      const a = st ? pi0(x) : x;
      return a <= y ? 1 : y / a;
    },
    lukasiewicz: (x, y) => Math.min(1 - x + y, 1),
  }[s.implies_op];
  const iff = (x, y) => and(implies(x, y), implies(y, x));
  return { and, or, implies, iff, not: (x) => 1 - x };
}

function mean(xs) {
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

function aggregator(kind, s) {
  const st = s.stable;
  if (kind === "forall") {
    const p = s.forall_p;
    return {
      pmean_error: (xs) => 1 - Math.pow(mean(xs.map((x) => Math.pow(1 - (st ? pi1(x) : x), p))), 1 / p),
      pmean: (xs) => Math.pow(mean(xs.map((x) => Math.pow(st ? pi0(x) : x, p))), 1 / p),
      min: (xs) => xs.reduce((a, b) => Math.min(a, b), Infinity),
      mean: (xs) => mean(xs),
    }[s.forall_op];
  }
  const p = s.exists_p;
  return {
    pmean: (xs) => Math.pow(mean(xs.map((x) => Math.pow(st ? pi0(x) : x, p))), 1 / p),
    max: (xs) => xs.reduce((a, b) => Math.max(a, b), -Infinity),
  }[s.exists_op];
}

// ------------------------------------------------------------------------------ evaluation

function walk(node, visit) {
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
      const given = Object.keys(params).join(", ") || "(none)";
      throw new QueryError(`unbound parameter '${p.name}'; give its value in params (given: ${given})`, q.text, p.pos);
    }
    const v = params[p.name];
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new Error(`parameter '${p.name}' must be a finite number; got ${show(v)}`);
  }
  const predicatesUsed = new Set(
    symbolNodes.filter((a) => a.type === "atom" || a.kind === "predicate").map((a) => a.name),
  );
  const names = [...new Set(symbolNodes.map((a) => a.name))];
  const vectors = {};
  let n = null;
  for (const name of names) {
    if (!Object.prototype.hasOwnProperty.call(outputs, name))
      throw new Error(`outputs has no entry for '${name}' (the query uses it); it has: ${Object.keys(outputs).join(", ") || "(nothing)"}`);
    const v = Array.from(outputs[name], Number);
    if (n === null) n = v.length;
    else if (v.length !== n) throw new Error(`outputs['${name}'] has ${v.length} values, other symbols ${n}`);
    if (!v.every(Number.isFinite)) throw new Error(`outputs['${name}'] has non-finite values`);
    if (predicatesUsed.has(name) && !v.every((x) => x >= 0 && x <= 1))
      throw new Error(`outputs['${name}'] (a predicate) has values outside [0, 1]`);
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

// ------------------------------------------------------------------------------ widget

const SVG_NS = "http://www.w3.org/2000/svg";
const BINS = 20;
const SEM_LABELS = [
  ["and_op", "and"], ["or_op", "or"], ["implies_op", "implies"], ["forall_op", "∀"], ["exists_op", "∃"],
];

function h(tag, attrs = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "style") e.style.cssText = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return e;
}

function svg(tag, attrs = {}, text = null) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== null) e.textContent = text;
  return e;
}

/** Counts of the finite values in [0, 1] over `bins` equal bins (1.0 goes in the last). */
export function histogram(values, bins = BINS) {
  const counts = new Array(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))] += 1;
  }
  return counts;
}

function drawHistogram(el, values, value) {
  while (el.firstChild) el.removeChild(el.firstChild);
  const W = 360, H = 150, L = 34, R = 8, T = 10, B = 32;
  const counts = histogram(values);
  const max = Math.max(1, ...counts);
  const bw = (W - L - R) / BINS;
  el.appendChild(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#444" }));
  el.appendChild(svg("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#444" }));
  counts.forEach((c, i) => {
    const bh = ((H - T - B) * c) / max;
    const r = svg("rect", {
      class: "nesy-lq-bar", x: (L + i * bw + 0.5).toFixed(2), y: (H - B - bh).toFixed(2),
      width: (bw - 1).toFixed(2), height: bh.toFixed(2), fill: "#4c72b0", "data-count": c,
    });
    r.appendChild(svg("title", {}, `[${(i / BINS).toFixed(2)}, ${((i + 1) / BINS).toFixed(2)}${i === BINS - 1 ? "]" : ")"}: ${c}`));
    el.appendChild(r);
  });
  for (const x of [0, 0.5, 1]) {
    el.appendChild(svg("text", { x: L + x * (W - L - R), y: H - B + 13, "text-anchor": "middle", "font-size": 10 }, String(x)));
  }
  el.appendChild(svg("text", { x: L - 4, y: T + 8, "text-anchor": "end", "font-size": 10 }, String(max)));
  el.appendChild(svg("text", { x: L - 4, y: H - B, "text-anchor": "end", "font-size": 10 }, "0"));
  el.appendChild(svg("text", { x: L + (W - L - R) / 2, y: H - 4, "text-anchor": "middle", "font-size": 10 }, "truth of the body per image"));
  if (Number.isFinite(value)) {
    const x = L + value * (W - L - R);
    el.appendChild(svg("line", { class: "nesy-lq-marker", x1: x, y1: T, x2: x, y2: H - B, stroke: "#c44e52", "stroke-width": 2, "stroke-dasharray": "4 2" }));
  }
}

function render({ model, el }) {
  const root = h("div", { class: "nesy-lq", style: "font-family: system-ui, sans-serif; font-size: 14px; max-width: 760px; line-height: 1.5" });
  const prepared = h("select", { class: "nesy-lq-prepared", style: "max-width: 100%" });
  const input = h("input", {
    type: "text", class: "nesy-lq-input", spellcheck: "false", autocomplete: "off",
    "aria-label": "query", style: "width: 100%; box-sizing: border-box; font-family: monospace; font-size: 14px; padding: 4px",
  });
  const error = h("div", { class: "nesy-lq-error", role: "alert", style: "color: #c00; white-space: pre; font-family: monospace; font-size: 12px; overflow-x: auto; display: none" });
  const help = h("div", { class: "nesy-lq-help", style: "color: #666; font-size: 12px" });
  const tSlider = h("input", { type: "range", class: "nesy-lq-t", min: "0", max: "1", step: "0.01", "aria-label": "t" });
  const tValue = h("span", { class: "nesy-lq-t-value", style: "font-family: monospace" });
  const semSelects = {};
  const semRow = h("div", { class: "nesy-lq-semantics", style: "display: flex; flex-wrap: wrap; gap: 10px" });
  for (const [key, label] of SEM_LABELS) {
    const sel = h("select", { class: `nesy-lq-sem nesy-lq-${key.replace("_op", "")}`, "data-key": key });
    for (const c of SEMANTICS_CHOICES[key]) sel.appendChild(h("option", { value: c, text: c }));
    semSelects[key] = sel;
    semRow.appendChild(h("label", {}, [`${label} `, sel]));
  }
  const valueEl = h("b", { class: "nesy-lq-value", style: "font-family: monospace; font-size: 16px" });
  const domainEl = h("span", { class: "nesy-lq-domain" });
  const totalEl = h("span", { class: "nesy-lq-total" });
  const hist = svg("svg", { class: "nesy-lq-hist", width: 360, height: 150, viewBox: "0 0 360 150", role: "img", "aria-label": "histogram of per-image truth values" });

  root.append(
    h("div", {}, [h("label", {}, ["prepared query: ", prepared])]),
    input, error, help,
    h("div", {}, [h("label", {}, ["t = ", tSlider]), " ", tValue]),
    semRow,
    h("div", { class: "nesy-lq-result" }, ["truth value ", valueEl, " over ", domainEl, " of ", totalEl, " images"]),
    hist,
  );
  el.appendChild(root);

  const get = (k, d) => {
    const v = model.get(k);
    return v === undefined || v === null ? d : v;
  };

  function fillPrepared() {
    while (prepared.firstChild) prepared.removeChild(prepared.firstChild);
    prepared.appendChild(h("option", { value: "", text: "(custom query)" }));
    get("prepared", []).forEach((p, i) => prepared.appendChild(h("option", { value: String(i), text: p.label || p.query })));
  }
  function syncPrepared() {
    const q = get("query", "");
    const idx = get("prepared", []).findIndex((p) => p.query === q);
    prepared.value = idx >= 0 ? String(idx) : "";
  }
  function syncHelp() {
    const p = get("predicates", []), f = get("functions", []);
    help.textContent = `predicates: ${p.join(", ") || "(none)"} · functions (compare them): ${f.join(", ") || "(none)"} · parameter: t · e.g. forall Im: not oe(Im) -> not Crash(Im)`;
  }
  function syncControls() {
    const q = get("query", "");
    if (input.value !== q) input.value = q;
    const t = Number(get("t", 0.5));
    if (Number(tSlider.value) !== t) tSlider.value = String(t);
    tValue.textContent = t.toFixed(2);
    const s = Object.assign({}, DEFAULT_SEMANTICS, get("semantics", {}));
    for (const [key, sel] of Object.entries(semSelects)) if (sel.value !== s[key]) sel.value = s[key];
    syncPrepared();
  }

  function compute() {
    const outputs = get("outputs", {});
    const names = Object.keys(outputs);
    const n = names.length ? outputs[names[0]].length : 0;
    totalEl.textContent = String(n);
    let res = null, message = "";
    try {
      res = evaluateQuery(get("query", ""), outputs, { t: Number(get("t", 0.5)) }, get("semantics", {}),
        get("predicates", []), get("functions", []));
    } catch (e) {
      message = e && e.message ? e.message : String(e);
    }
    if (res) {
      error.style.display = "none";
      error.textContent = "";
      input.style.outline = "";
      input.removeAttribute("aria-invalid");
      const ok = Number.isFinite(res.value);
      valueEl.textContent = ok ? res.value.toFixed(3) : "NaN (empty domain)";
      valueEl.setAttribute("data-value", ok ? String(res.value) : "NaN");
      domainEl.textContent = String(res.domainSize);
      root.setAttribute("data-domain-size", String(res.domainSize));
      drawHistogram(hist, res.perImage, res.value);
    } else {
      error.style.display = "block";
      error.textContent = message;
      input.style.outline = "2px solid #c00";
      input.setAttribute("aria-invalid", "true");
      valueEl.textContent = "—";
      valueEl.setAttribute("data-value", "");
      domainEl.textContent = "0";
      root.setAttribute("data-domain-size", "0");
      drawHistogram(hist, [], NaN);
    }
    const value = res && Number.isFinite(res.value) ? res.value : null;
    const changes = { value, error: message, domain_size: res ? res.domainSize : 0 };
    let dirty = false;
    for (const [k, v] of Object.entries(changes)) {
      if (model.get(k) !== v) {
        model.set(k, v);
        dirty = true;
      }
    }
    if (dirty) model.save_changes();
  }

  function refresh() {
    syncControls();
    compute();
  }

  // UI -> model (the model's change events then update the view)
  const onInput = () => {
    model.set("query", input.value);
    model.save_changes();
  };
  input.addEventListener("input", onInput);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      onInput();
      compute();
    }
  });
  prepared.addEventListener("change", () => {
    const p = get("prepared", [])[Number(prepared.value)];
    if (prepared.value === "" || !p) return;
    model.set("query", p.query);
    model.save_changes();
  });
  tSlider.addEventListener("input", () => {
    model.set("t", Number(tSlider.value));
    model.save_changes();
  });
  for (const [key, sel] of Object.entries(semSelects)) {
    sel.addEventListener("change", () => {
      const s = Object.assign({}, DEFAULT_SEMANTICS, get("semantics", {}), { [key]: sel.value });
      model.set("semantics", s);
      model.save_changes();
    });
  }

  // model -> view
  const onPrepared = () => {
    fillPrepared();
    syncPrepared();
  };
  const listeners = [
    ["change:query", refresh], ["change:t", refresh], ["change:semantics", refresh],
    ["change:outputs", refresh], ["change:predicates", () => { syncHelp(); refresh(); }],
    ["change:functions", () => { syncHelp(); refresh(); }], ["change:prepared", onPrepared],
  ];
  for (const [ev, cb] of listeners) model.on(ev, cb);

  fillPrepared();
  syncHelp();
  refresh();
  return () => {
    for (const [ev, cb] of listeners) model.off(ev, cb);
  };
}

export default { render };
