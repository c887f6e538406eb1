"""Column predicates for retention exceptions: ``status != 'open'``, ``region in ('EU', 'UK')``.

A policy file is configuration, not code, and may come from anyone with write access to a
repository, so it must never be able to inject SQL. A predicate is therefore parsed into a
:class:`Predicate` (one column, one operator, literals) by the tiny tokenizer below, and
turned into SQLAlchemy expressions with bound parameters; its text never reaches a query.

Grammar (keywords case-insensitive)::

    predicate := column op literal
               | column [not] in ( literal {, literal} )
               | column is [not] null
    column    := identifier | "double-quoted identifier"    ("" escapes a quote)
    op        := = | == | != | <> | < | <= | > | >=
    literal   := 'single-quoted string' ('' escapes a quote) | number | true | false

SQL's three-valued logic is tamed where the predicate is used: a row is *exempt* from
retention only when its predicate is true, never when it is NULL (see :meth:`sql`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

Scalar = str | int | float | bool

_KEYWORDS = frozenset({"in", "not", "is", "null", "true", "false", "and", "or"})
_SIMPLE_IDENT = re.compile(r"[^\W\d]\w*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_OPERATORS = ("<=", ">=", "!=", "<>", "==", "=", "<", ">")
_CANONICAL = {"==": "=", "<>": "!="}
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
ALL_OPERATORS = (*COMPARISONS, "in", "not in", "is null", "is not null")


class PredicateError(ValueError):
    """Not a predicate this parser accepts; the message says what was expected where."""


@dataclass(frozen=True, slots=True)
class Predicate:
    """``column op value``; ``value`` is a tuple for ``in``/``not in`` and None for ``is [not] null``."""

    column: str
    op: str
    value: Scalar | tuple[Scalar, ...] | None = None

    def __post_init__(self) -> None:
        if not self.column:
            raise PredicateError("a predicate needs a column name")
        if self.op not in ALL_OPERATORS:
            raise PredicateError(f"unknown operator {self.op!r}")
        if self.op in ("in", "not in"):
            if not isinstance(self.value, tuple) or not self.value:
                raise PredicateError(f"'{self.op}' needs a non-empty list of values")
        elif self.op in ("is null", "is not null"):
            if self.value is not None:
                raise PredicateError(f"'{self.op}' takes no value")
        elif self.value is None or isinstance(self.value, tuple):
            raise PredicateError(f"'{self.op}' needs a single value")

    @classmethod
    def parse(cls, text: str) -> Predicate:
        return _Parser(text).predicate()

    def __str__(self) -> str:
        column = _quote_column(self.column)
        if self.op in ("is null", "is not null"):
            return f"{column} {self.op}"
        if isinstance(self.value, tuple):
            return f"{column} {self.op} ({', '.join(_literal(v) for v in self.value)})"
        assert self.value is not None
        return f"{column} {self.op} {_literal(self.value)}"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def sql(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        """The predicate over ``column`` with bound parameters, true only when it holds.

        ``column IS NOT NULL AND (...)`` makes the comparison two-valued: where the column
        is NULL the result is FALSE, so ``NOT`` of it is TRUE and the row is not silently
        dropped from a count.
        """
        if self.op == "is null":
            return column.is_(None)
        if self.op == "is not null":
            return column.is_not(None)
        if isinstance(self.value, tuple):
            values = list(self.value)
            test = column.in_(values) if self.op == "in" else column.not_in(values)
        else:
            ops: dict[str, Any] = {
                "=": column.__eq__, "!=": column.__ne__, "<": column.__lt__, "<=": column.__le__,
                ">": column.__gt__, ">=": column.__ge__,
            }
            test = ops[self.op](self.value)
        return sa.and_(column.is_not(None), test)


def _quote_column(name: str) -> str:
    if _SIMPLE_IDENT.fullmatch(name) and name.lower() not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


class _Parser:
    """A hand-written scanner: small enough to read in one sitting and to trust."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise PredicateError(f"expected a predicate such as \"status != 'open'\", got {type(text).__name__}")
        self.text = text
        self.pos = 0

    def fail(self, expected: str) -> PredicateError:
        rest = self.text[self.pos:]
        found = f'"{rest[:20]}"' if rest.strip() else "the end"
        return PredicateError(f'bad predicate "{self.text}": expected {expected}, found {found}')

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def word(self) -> str | None:
        """The next bare word (identifier or keyword), consumed; None if there is none."""
        self.skip_space()
        match = _SIMPLE_IDENT.match(self.text, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return match.group()

    def peek_keyword(self, *words: str) -> bool:
        self.skip_space()
        match = _SIMPLE_IDENT.match(self.text, self.pos)
        return match is not None and match.group().lower() in words

    def keyword(self, word: str) -> None:
        start = self.pos
        found = self.word()
        if found is None or found.lower() != word:
            self.pos = start
            self.skip_space()
            raise self.fail(f'"{word}"')

    def predicate(self) -> Predicate:
        column = self.column()
        self.skip_space()
        op = next((o for o in _OPERATORS if self.text.startswith(o, self.pos)), None)
        if op is not None:
            self.pos += len(op)
            value: Scalar | tuple[Scalar, ...] | None = self.literal()
            result = Predicate(column, _CANONICAL.get(op, op), value)
        elif self.peek_keyword("in", "not"):
            negated = self.peek_keyword("not")
            if negated:
                self.word()
            self.keyword("in")
            result = Predicate(column, "not in" if negated else "in", self.literal_list())
        elif self.peek_keyword("is"):
            self.word()
            negated = self.peek_keyword("not")
            if negated:
                self.word()
            self.keyword("null")
            result = Predicate(column, "is not null" if negated else "is null")
        else:
            raise self.fail("an operator (=, !=, <, <=, >, >=, in, not in, is null, is not null)")
        self.skip_space()
        if self.pos != len(self.text):
            raise self.fail("the end of the predicate (one comparison only; use several exceptions for OR)")
        return result

    def column(self) -> str:
        self.skip_space()
        if self.text.startswith('"', self.pos):
            end = self.pos + 1
            name = []
            while True:
                quote = self.text.find('"', end)
                if quote < 0:
                    raise self.fail("a closing double quote")
                name.append(self.text[end:quote])
                if self.text.startswith('""', quote):
                    name.append('"')
                    end = quote + 2
                    continue
                self.pos = quote + 1
                break
            result = "".join(name)
            if not result:
                raise PredicateError(f'bad predicate "{self.text}": empty column name')
            return result
        start = self.pos
        word = self.word()
        if word is None or word.lower() in _KEYWORDS:
            self.pos = start
            self.skip_space()
            raise self.fail("a column name")
        return word

    def literal(self) -> Scalar:
        self.skip_space()
        if self.text.startswith("'", self.pos):
            end = self.pos + 1
            parts = []
            while True:
                quote = self.text.find("'", end)
                if quote < 0:
                    raise self.fail("a closing single quote")
                parts.append(self.text[end:quote])
                if self.text.startswith("''", quote):
                    parts.append("'")
                    end = quote + 2
                    continue
                self.pos = quote + 1
                return "".join(parts)
        number = _NUMBER.match(self.text, self.pos)
        if number is not None:
            self.pos = number.end()
            text = number.group()
            return float(text) if any(c in text for c in ".eE") else int(text)
        start = self.pos
        word = self.word()
        if word is not None and word.lower() in ("true", "false"):
            return word.lower() == "true"
        self.pos = start
        hint = " (strings need single quotes)" if word is not None and word.lower() != "null" else ""
        if word is not None and word.lower() == "null":
            hint = " (use 'is null' to test for NULL)"
        raise self.fail(f"a value: 'text', a number, true or false{hint}")

    def literal_list(self) -> tuple[Scalar, ...]:
        self.skip_space()
        if not self.text.startswith("(", self.pos):
            raise self.fail('"(" starting a list of values')
        self.pos += 1
        values = [self.literal()]
        while True:
            self.skip_space()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                values.append(self.literal())
            elif self.text.startswith(")", self.pos):
                self.pos += 1
                return tuple(values)
            else:
                raise self.fail('"," or ")"')
