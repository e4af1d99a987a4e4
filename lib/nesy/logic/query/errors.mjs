// The language's error (QueryError) and how values are written in messages.
import { SPEC, message } from "./spec.mjs";

export function formatError(reason, text, position) {
  const shown = Array.from(text)
    .map((c) => (SPEC.whitespace.includes(c) ? " " : c))
    .join("");
  return message("layout", { reason, query: shown, pad: " ".repeat(position) });
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

// A bad value in an error message, as Python's nesy.logic.query.show_value writes it.
export function show(v) {
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
