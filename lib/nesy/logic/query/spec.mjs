// The language's shared spec (spec.json, read by the Python package too): tokens, keywords,
// precedence, operator choices and defaults, epsilon, limits and message templates.
// (The widget's bundle, nesy.widgets.logic_query.esm_source, inlines the JSON here.)
import SPEC from "./spec.json" with { type: "json" };

export { SPEC };
export const ENCODER = SPEC.encoder;
export const KEYWORDS = SPEC.keywords;
// Longest query text (code points) and deepest nesting the parser accepts (as in Python).
export const MAX_QUERY_LENGTH = SPEC.limits.max_query_length;
export const MAX_DEPTH = SPEC.limits.max_depth;
export const EPSILON = SPEC.epsilon;

/** The spec's message template `key` with each {name} replaced by String(values[name]). */
export function message(key, values = {}) {
  return SPEC.messages[key].replace(/\{(\w+)\}/g, (_, name) => {
    if (!(name in values)) throw new Error(`message '${key}' needs a value for '${name}'`);
    return String(values[name]);
  });
}
