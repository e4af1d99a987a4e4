"""The tokenizer: query text to tokens (kinds, texts and code-point positions)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nesy.logic.query.errors import QueryError
from nesy.logic.query.spec import KEYWORDS, SPEC, message

WHITESPACE = SPEC["whitespace"]
IDENT = re.compile(SPEC["identifier"])
NUMBER = re.compile(SPEC["number"])
#: (text, kind) of every symbol token, longest first
SYMBOLS = sorted(((text, kind) for kind, texts in SPEC["tokens"].items() for text in texts),
                 key=lambda s: -len(s[0]))
#: comparison token text -> canonical operator (<, <=, >, >=)
CMP_CANON: dict[str, str] = SPEC["comparisons"]


@dataclass(frozen=True)
class Token:
    kind: str  # ident number cmp not and or implies iff forall exists where lparen rparen comma colon eof
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``eof`` token; ``QueryError`` on a stray character."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in WHITESPACE:
            i += 1
            continue
        m = NUMBER.match(text, i)
        if m and (c != "-" or not text.startswith("->", i)):
            tokens.append(Token("number", m.group(0), i))
            i = m.end()
            continue
        m = IDENT.match(text, i)
        if m:
            word = m.group(0)
            tokens.append(Token(word if word in KEYWORDS else "ident", word, i))
            i = m.end()
            continue
        for sym, kind in SYMBOLS:
            if text.startswith(sym, i):
                tokens.append(Token(kind, sym, i))
                i += len(sym)
                break
        else:
            raise QueryError(message("unexpected_character", char=c), text, i)
    tokens.append(Token("eof", "", n))
    return tokens


def describe(tok: Token) -> str:
    """A token as error messages name it."""
    return message("end_of_query") if tok.kind == "eof" else message("quoted", text=tok.text)
