"""Independent readers of the two policy languages the signer writes, for the property tests.

* `parse_cel` tokenises a Credential Access Boundary condition with CEL's own string-literal rules
  (single, double and triple quotes, `r` raw prefixes, backslash escapes), then accepts only the
  three condition forms the signer is meant to emit, joined by `||`. Anything else, such as a
  term smuggled in through a quote, is a parse error. It returns what the condition grants.
* `iam_language` reads an IAM `Resource` / `StringLike` value as IAM does (`*` any run, `?` any
  one character, `${...}` a policy variable) and returns (literal, open_ended): the set of strings
  it matches is exactly "literal" or "literal followed by anything". Patterns with a wildcard
  anywhere but at the very end have no such form and are reported as unbounded.

Both are written from the languages' specifications, not from the signer's code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


class CelError(ValueError):
    pass


def _string(text: str, i: int) -> tuple[str, int]:
    raw = False
    if text[i] in "rR":
        raw, i = True, i + 1
    quote = text[i : i + 3] if text[i : i + 3] in ("'''", '"""') else text[i]
    i += len(quote)
    out = []
    while True:
        if i >= len(text):
            raise CelError("unterminated string")
        if text.startswith(quote, i):
            return "".join(out), i + len(quote)
        c = text[i]
        if c == "\\" and not raw:
            nxt = text[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            raise CelError(f"escape \\{nxt} (not emitted by the signer)")
        if c == "\n" and len(quote) == 1:
            raise CelError("newline in a single-line string")
        out.append(c)
        i += 1


def tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "'\"" or (c in "rR" and text[i + 1 : i + 2] in ("'", '"')):
            value, i = _string(text, i)
            out.append(("str", value))
        elif text.startswith(("||", "&&", "==", "!="), i):
            out.append(("op", text[i : i + 2]))
            i += 2
        elif c in ".(),!":
            out.append(("op", c))
            i += 1
        elif re.match(r"[A-Za-z_]", c):
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(text, i)
            assert m
            out.append(("id", m.group()))
            i = m.end()
        else:
            raise CelError(f"unexpected character {c!r}")
    return out


@dataclass(frozen=True)
class Grant:
    kind: str  # "object_prefix" | "object_exact" | "list_prefix"
    value: str


def parse_cel(text: str) -> list[Grant]:
    """The grants of `term || term || ...` for the three forms the signer emits; else CelError."""
    toks = tokens(text)
    pos = 0

    def expect(*want: tuple[str, str]) -> None:
        nonlocal pos
        for w in want:
            if pos >= len(toks) or toks[pos] != w:
                raise CelError(f"expected {w[1]!r} at token {pos}, got {toks[pos:pos + 1]}")
            pos += 1

    def string() -> str:
        nonlocal pos
        if pos >= len(toks) or toks[pos][0] != "str":
            raise CelError(f"expected a string at token {pos}")
        pos += 1
        return toks[pos - 1][1]

    def ident(name: str) -> tuple[str, str]:
        return ("id", name)

    def op(o: str) -> tuple[str, str]:
        return ("op", o)

    grants = []
    while True:
        if pos < len(toks) and toks[pos] == ident("resource"):
            expect(ident("resource"), op("."), ident("name"))
            if pos < len(toks) and toks[pos] == op("=="):
                expect(op("=="))
                grants.append(Grant("object_exact", string()))
            else:
                expect(op("."), ident("startsWith"), op("("))
                grants.append(Grant("object_prefix", string()))
                expect(op(")"))
        elif pos < len(toks) and toks[pos] == ident("api"):
            expect(ident("api"), op("."), ident("getAttribute"), op("("))
            if string() != "storage.googleapis.com/objectListPrefix":
                raise CelError("an attribute other than objectListPrefix")
            expect(op(","))
            if string() != "":
                raise CelError("a default other than ''")
            expect(op(")"), op("."), ident("startsWith"), op("("))
            value = string()
            if value == "":
                raise CelError("'' would match every request without a list prefix")
            grants.append(Grant("list_prefix", value))
            expect(op(")"))
        else:
            raise CelError(f"unexpected term at token {pos}: {toks[pos:pos + 3]}")
        if pos == len(toks):
            return grants
        expect(op("||"))


def iam_language(pattern: str) -> Optional[tuple[str, bool]]:
    """(literal, open_ended) for a pattern matching `literal` or `literal*`; None when a wildcard
    or policy variable appears anywhere else (the pattern matches an unbounded family)."""
    body, open_ended = (pattern[:-1], True) if pattern.endswith("*") else (pattern, False)
    if any(c in body for c in "*?") or "${" in body:
        return None
    return body, open_ended


def iam_match(pattern: str, value: str) -> bool:
    """IAM's glob: `*` any run, `?` one character, `${...}` any run (a variable's unknown value)."""
    rx = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("${", i) and "}" in pattern[i:]:
            rx += ".*"
            i = pattern.index("}", i) + 1
            continue
        c = pattern[i]
        rx += ".*" if c == "*" else "." if c == "?" else re.escape(c)
        i += 1
    return re.fullmatch(rx, value, re.DOTALL) is not None
