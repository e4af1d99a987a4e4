// The tokenizer: query text to tokens (kinds, texts and code-point positions, as in Python).
import { QueryError } from "./errors.mjs";
import { KEYWORDS, SPEC, message } from "./spec.mjs";

const IDENT = new RegExp(SPEC.identifier, "y"); // sticky: matched at lastIndex, so tokenizing is linear
export const IDENT_FULL = new RegExp(`^${SPEC.identifier}$`);
const NUMBER = new RegExp(SPEC.number, "y");
// [text, kind] of every symbol token, longest first
const SYMBOLS = Object.entries(SPEC.tokens)
  .flatMap(([kind, texts]) => texts.map((text) => [text, kind]))
  .sort((a, b) => b[0].length - a[0].length);
// comparison token text -> canonical operator (<, <=, >, >=)
export const CMP_CANON = SPEC.comparisons;

function stickyMatch(re, text, at) {
  re.lastIndex = at;
  const m = re.exec(text);
  return m ? m[0] : null;
}

export function tokenize(text) {
  // u walks UTF-16 code units, i counts code points (positions agree with Python's)
  const tokens = [];
  let u = 0;
  let i = 0;
  while (u < text.length) {
    const c = String.fromCodePoint(text.codePointAt(u));
    if (SPEC.whitespace.includes(c)) {
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
    if (!symbol) throw new QueryError(message("unexpected_character", { char: c }), text, i);
    tokens.push({ kind: symbol[1], text: symbol[0], pos: i });
    u += symbol[0].length;
    i += Array.from(symbol[0]).length;
  }
  tokens.push({ kind: "eof", text: "", pos: i });
  return tokens;
}

/** A token as error messages name it. */
export function describe(tok) {
  return tok.kind === "eof" ? message("end_of_query") : message("quoted", { text: tok.text });
}
