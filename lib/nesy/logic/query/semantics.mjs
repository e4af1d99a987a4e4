// Semantics: the fuzzy operators (LTNtorch 1.0.2's ltn.fuzzy_ops, in doubles) that interpret
// the connectives and quantifiers; choices, defaults and epsilon come from the spec.
// LTNtorch 1.0.2: eps = 1e-4 (the spec's epsilon), pi0(x) = (1-eps)x + eps, pi1(x) = (1-eps)x;
// with stable = true, LTNtorch's default, the stable variants are used:
//   and  product: pi0(x)*pi0(y) | min: min(x,y) | lukasiewicz: max(x+y-1, 0)
//   or   probsum: a+b-ab, a=pi1(x), b=pi1(y) | max: max(x,y) | lukasiewicz: min(x+y, 1)
//   implies reichenbach: 1-a+ab, a=pi0(x), b=pi1(y) | kleene_dienes: max(1-x, y)
//           goedel: x<=y ? 1 : y | goguen: a<=y ? 1 : y/a, a=pi0(x) | lukasiewicz: min(1-x+y, 1)
//   not 1-x;  iff: and(implies(x,y), implies(y,x))
//   forall pmean_error: 1 - mean((1-pi1(x))^p)^(1/p) | pmean: mean(pi0(x)^p)^(1/p)
//          min | mean;   exists pmean: mean(pi0(x)^p)^(1/p) | max
// (with stable = false the pi0/pi1 are dropped). Means run over the guard's domain.
import { show } from "./errors.mjs";
import { EPSILON, SPEC, message } from "./spec.mjs";

export const SEMANTICS_CHOICES = SPEC.semantics.choices;
export const DEFAULT_SEMANTICS = SPEC.semantics.defaults;

/** Merge a (partial) semantics object with the defaults and validate it. */
export function normalizeSemantics(semantics) {
  const s = Object.assign({}, DEFAULT_SEMANTICS);
  const given = semantics || {};
  const names = Object.keys(DEFAULT_SEMANTICS);
  const unknown = Object.keys(given).filter((k) => !names.includes(k));
  if (unknown.length)
    throw new Error(message("semantics_unknown", { keys: unknown.join(", "), allowed: names.join(", ") }));
  Object.assign(s, given);
  for (const [name, allowed] of Object.entries(SEMANTICS_CHOICES)) {
    if (!allowed.includes(s[name]))
      throw new Error(message("semantics_choice", { name, allowed: allowed.join(", "), value: show(s[name]) }));
  }
  for (const name of SPEC.semantics.exponents) {
    const v = s[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 1)
      throw new Error(message("semantics_exponent", { name, value: show(v) }));
  }
  if (typeof s.stable !== "boolean")
    throw new Error(message("semantics_stable", { value: show(s.stable) }));
  return s;
}

const pi0 = (x) => (1 - EPSILON) * x + EPSILON;
const pi1 = (x) => (1 - EPSILON) * x;

export function connectives(s) {
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

export function aggregator(kind, s) {
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
