"""SOQL text → `Query`, with Salesforce's MALFORMED_QUERY errors for syntax mistakes."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from emulator.clock import epoch_of
from emulator.soql import ast
from emulator.soql.errors import SoqlError, caret

_GRAMMAR = (Path(__file__).with_name("soql.lark")).read_text()
_PARSER = Lark(_GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=False)


def _pos(tok: Token) -> ast.Pos:
    return ast.Pos(tok.line, tok.column)


def _unescape(body: str) -> str:
    out = []
    k = 0
    escapes = {
        "n": "\n",
        "r": "\r",
        "t": "\t",
        "b": "\b",
        "f": "\f",
        "'": "'",
        '"': '"',
        "\\": "\\",
    }
    while k < len(body):
        c = body[k]
        if c == "\\" and k + 1 < len(body):
            nxt = body[k + 1]
            out.append(escapes.get(nxt, "\\" + nxt))  # \% and \_ stay escaped for LIKE
            k += 2
            continue
        out.append(c)
        k += 1
    return "".join(out)


def _literal(tok: Token) -> ast.Literal:
    t = tok.type
    text = str(tok)
    pos = _pos(tok)
    if t == "STRING":
        return ast.Literal("string", _unescape(text[1:-1]), text, pos)
    if t == "NUMBER":
        value = float(text) if any(c in text for c in ".eE") else int(text)
        return ast.Literal("number", value, text, pos)
    if t == "DATETIME":
        return ast.Literal("datetime", epoch_of(text), text, pos)
    if t == "DATE":
        return ast.Literal("date", text, text, pos)
    if t in ("TRUE", "FALSE"):
        return ast.Literal("boolean", t == "TRUE", text, pos)
    if t == "NULL":
        return ast.Literal("null", None, text, pos)
    if t == "DATE_LITERAL":
        return ast.Literal("date_literal", (text.upper(), None), text, pos)
    if t == "DATE_N_LITERAL":
        name, n = re.split(r"\s*:\s*", text)
        return ast.Literal("date_literal", (name.upper(), int(n)), text, pos)
    raise ValueError(t)


@v_args(inline=True)
class _Build(Transformer):
    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def start(self, q):
        return q

    def field_path(self, *names):
        return ast.FieldRef([str(n) for n in names], _pos(names[0]))

    def count_expr(self, count_tok, *rest):
        field = next((r for r in rest if isinstance(r, ast.FieldRef)), None)
        alias = next((str(r) for r in rest if isinstance(r, Token) and r.type == "NAME"), None)
        return ast.CountExpr(field, alias, _pos(count_tok))

    def select_list(self, *items):
        return list(items)

    def value_list(self, *vals):
        return [_literal(v) for v in vals]

    def compare(self, field, op, value):
        op = "!=" if str(op) == "<>" else str(op)
        return ast.Compare(field, op, _literal(value))

    def in_list(self, field, _in, values):
        return ast.InList(field, values, negate=False)

    def not_in_list(self, field, _not, _in, values):
        return ast.InList(field, values, negate=True)

    def like(self, field, _like, value):
        return ast.Like(field, _literal(value))

    def includes(self, field, _kw, values):
        return ast.Includes(field, values, exclude=False)

    def excludes(self, field, _kw, values):
        return ast.Includes(field, values, exclude=True)

    def and_chain(self, *items):
        return ast.And([i for i in items if not isinstance(i, Token)])

    def or_chain(self, *items):
        return ast.Or([i for i in items if not isinstance(i, Token)])

    def not_cond(self, _not, item):
        return ast.Not(item)

    def where_clause(self, _where, cond):
        return ("where", cond)

    def direction(self, tok):
        return ("desc", tok.type == "DESC")

    def nulls(self, _nulls, which):
        return ("nulls_last", which.type == "LAST")

    def order_item(self, field, *opts):
        item = ast.OrderItem(field)
        for key, value in opts:
            setattr(item, key, value)
        return item

    def order_clause(self, _order, _by, *items):
        return ("order", list(items))

    def limit_clause(self, _limit, n):
        return ("limit", int(n))

    def offset_clause(self, _offset, n):
        return ("offset", int(n))

    def query(self, _select, select, _from, name, *clauses):
        q = ast.Query(self.text, select, str(name), _pos(name))
        for key, value in clauses:
            setattr(q, key, value)
        return q


def _syntax_error(text: str, err: UnexpectedInput) -> SoqlError:
    if (isinstance(err, UnexpectedToken) and err.token.type == "$END") or isinstance(
        err, UnexpectedEOF
    ):
        lines = text.split("\n")
        return SoqlError(
            "MALFORMED_QUERY",
            caret(text, len(lines), len(lines[-1]) + 1, "unexpected token: '<EOF>'"),
        )
    if isinstance(err, UnexpectedToken):
        tok = err.token
        return SoqlError(
            "MALFORMED_QUERY", caret(text, tok.line, tok.column, f"unexpected token: '{tok}'")
        )
    if isinstance(err, UnexpectedCharacters):
        rest = text[err.pos_in_stream :]
        word = re.match(r"[A-Za-z0-9_]+|'[^'\n]*'?|\S", rest)
        bad = word.group(0) if word else "<EOF>"
        return SoqlError(
            "MALFORMED_QUERY", caret(text, err.line, err.column, f"unexpected token: '{bad}'")
        )
    return SoqlError("MALFORMED_QUERY", str(err))


@lru_cache(maxsize=512)
def parse(text: str) -> ast.Query:
    """Parse SOQL; raises SoqlError(MALFORMED_QUERY) with Salesforce's caret message."""
    if not text or not text.strip():
        raise SoqlError("MALFORMED_QUERY", "unexpected token: '<EOF>'")
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(text, err) from None
    return _Build(text).transform(tree)
