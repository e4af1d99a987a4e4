// The first-order query language in JavaScript, the twin of the Python package beside it
// (nesy.logic.query): one module per concern, as in Python.
export * from "./spec.mjs";
export * from "./errors.mjs";
export * from "./tokens.mjs";
export * from "./syntax.mjs";
export * from "./parser.mjs";
export * from "./semantics.mjs";
export * from "./evaluation.mjs";
