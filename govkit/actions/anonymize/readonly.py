"""``anonymize --query``: one SELECT only, run read-only, logged with its literals masked.

Three layers, so that no single mistake lets a query change the database:

1. :func:`check_read_only` reads the query with a tokenizer that follows the database's own
   lexer (no regular expressions over the raw text, so a ``;`` or a keyword inside a
   string or a comment is neither): ``'...'`` strings with ``''`` escapes (and backslash
   escapes in MariaDB/MySQL and in PostgreSQL ``E'...'``), ``"..."`` names (strings in
   MariaDB/MySQL), ``\\`...\\``` names (MariaDB/MySQL, SQLite), ``[...]`` names (SQLite),
   ``$tag$...$tag$`` strings (PostgreSQL), ``--`` comments (in MariaDB/MySQL only when a
   space follows), ``#`` comments (MariaDB/MySQL), ``/* */`` comments (nested in
   PostgreSQL). It accepts exactly one ``SELECT`` or ``WITH ... SELECT`` statement whose
   ``WITH`` bodies are queries too, and refuses ``SELECT ... INTO``, locking clauses
   (``FOR UPDATE``, ``FOR SHARE``, ``LOCK IN SHARE MODE``), MariaDB/MySQL executable
   comments (``/*! ... */``, which run) and data-changing keywords anywhere outside strings
   and names. MariaDB/MySQL text is read twice, with and without backslash escapes (the
   server's sql_mode decides, and it is not known here); when the dialect is unknown, the
   query is read the way of every dialect. It must pass each reading. Refusals are one
   line and name only fixed keywords, never text from the query.
2. :func:`read_only` opens the connection the query runs on read-only: ``PRAGMA query_only``
   (SQLite, switched off again before the connection goes back to the pool), ``SET
   TRANSACTION READ ONLY`` (PostgreSQL, checked with ``SHOW transaction_read_only``),
   ``START TRANSACTION READ ONLY`` (MariaDB/MySQL). Other dialects are refused. Caveat:
   a MariaDB/MySQL read-only transaction refuses writes to tables but not DDL (which
   commits implicitly first) nor ``INTO OUTFILE``; there the check above, and the driver
   sending one statement per call, are what stop them.
3. :func:`mask_query` is what the audit record shows: strings, numbers and comments
   replaced (``'***'``, ``?``, dropped), keywords, names and operators kept.
   :func:`scrub_error` does the same to the parts of a driver's error message that quote
   the query (MariaDB's ``near '...'``, PostgreSQL's ``"..."``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from govkit.errors import UsageError

#: The lexers there are, by dialect family (``mariadb`` reads as ``mysql``). MariaDB/MySQL
#: is read twice: with backslash escapes in strings (the default) and without (sql_mode
#: NO_BACKSLASH_ESCAPES or ANSI_QUOTES), since the server's mode is not known here.
LEXERS = {"postgresql": ("postgresql",), "mysql": ("mysql", "mysql_no_backslash"), "sqlite": ("sqlite",)}
ALL_LEXERS = tuple(lexer for lexers in LEXERS.values() for lexer in lexers)

WORD, NAME, STRING, NUMBER, PARAM, COMMENT, EXEC, PUNCT = (
    "word", "name", "string", "number", "param", "comment", "exec", "punct")

#: The longest masked query kept for the audit record.
MAX_MASKED = 2000

_SPACE = frozenset(" \t\n\r\f\v")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|0[bB][01]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
_POSITIONAL = re.compile(r"\$\d+")

#: Keywords that change data or schema: refused anywhere outside strings and names
#: (unless called as a function, ``TRUNCATE(x, 2)``, or qualified, ``t.update``).
WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "DROP", "CREATE", "ALTER", "TRUNCATE",
                    "GRANT", "REVOKE"})
#: Statement keywords a refusal may name (anything else is "starts with something else").
_NAMEABLE = WRITES | frozenset({
    "SELECT", "WITH", "VALUES", "TABLE", "REPLACE", "RENAME", "COPY", "CALL", "DO", "EXEC", "EXECUTE", "SET",
    "RESET", "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "LOCK", "UNLOCK", "VACUUM",
    "ANALYZE", "ANALYSE", "EXPLAIN", "PRAGMA", "ATTACH", "DETACH", "REINDEX", "CLUSTER", "REFRESH", "LOAD",
    "HANDLER", "SHOW", "DESCRIBE", "DESC", "USE", "PREPARE", "DEALLOCATE", "LISTEN", "NOTIFY", "UNLISTEN",
    "DISCARD", "COMMENT", "SECURITY", "IMPORT", "CHECKPOINT", "REASSIGN", "KILL", "FLUSH", "OPTIMIZE", "REPAIR",
    "CHECK", "CHECKSUM", "INSTALL", "UNINSTALL", "SHUTDOWN", "ABORT", "FETCH", "MOVE", "CLOSE", "DECLARE",
    "INTO", "FOR"})


class Token(NamedTuple):
    kind: str
    start: int
    end: int


class _Refused(Exception):
    """Why the tokenizer or the parser refuses the query (the message only, no query text)."""


# -- the tokenizer ------------------------------------------------------------------------

def family(dialect: str | None) -> str | None:
    """The lexer family of a dialect name (SQLAlchemy's), or None when it is not known."""
    name = (dialect or "").lower()
    if name in ("mysql", "mariadb"):
        return "mysql"
    return name if name in ("postgresql", "sqlite") else None


def _lexers(dialect: str | None) -> tuple[str, ...]:
    known = family(dialect)
    return LEXERS[known] if known else ALL_LEXERS


def dialect_of(url: str | None) -> str | None:
    """The dialect a database URL names (``postgresql``, ``mysql``...), or None."""
    if not url or "://" not in url:
        return None
    from sqlalchemy.engine import make_url

    try:
        return str(make_url(url).get_backend_name())
    except Exception:  # not a URL SQLAlchemy reads: the dialect is unknown
        return None


def tokenize(query: str, lexer: str) -> tuple[list[Token], tuple[str, int] | None]:
    """The tokens of ``query`` as ``lexer`` (see :data:`LEXERS`) reads it, whitespace left
    out, and, when the text ends inside a string, name or comment, what and where."""
    tokens: list[Token] = []
    n, i = len(query), 0
    mysql, postgres, sqlite = lexer.startswith("mysql"), lexer == "postgresql", lexer == "sqlite"
    backslash_quotes = lexer == "mysql"
    while i < n:
        ch = query[i]
        nxt = query[i + 1] if i + 1 < n else ""
        if ch in _SPACE:
            i += 1
            continue
        start = i
        dashes = ch == "-" and nxt == "-" and (not mysql or i + 2 >= n or query[i + 2] in _SPACE
                                               or query[i + 2] < " ")  # MySQL: '--' and a space
        if dashes or (ch == "#" and mysql):
            end = _line_end(query, i)
            tokens.append(Token(COMMENT, start, end))
            i = end
        elif ch == "/" and nxt == "*":
            end = _comment_end(query, i, nested=postgres)
            if end < 0:
                return tokens, ("comment", start)
            executable = mysql and (query.startswith("/*!", i) or query.startswith("/*M!", i))
            tokens.append(Token(EXEC if executable else COMMENT, start, end))
            i = end
        elif ch == "'":
            escapes = bool(tokens) and tokens[-1].end == i and query[tokens[-1].start:i] in ("e", "E")  # E'...'
            backslash = backslash_quotes or (postgres and escapes)
            end = _quoted_end(query, i, "'", backslash)
            if end < 0:
                return tokens, ("string", start)
            tokens.append(Token(STRING, start, end))
            i = end
        elif ch == '"' or (ch == "`" and not postgres):
            end = _quoted_end(query, i, ch, backslash=backslash_quotes and ch == '"')
            if end < 0:
                return tokens, ("string" if mysql and ch == '"' else "quoted name", start)
            tokens.append(Token(STRING if mysql and ch == '"' else NAME, start, end))
            i = end
        elif ch == "[" and sqlite:
            close = query.find("]", i + 1)
            if close < 0:
                return tokens, ("quoted name", start)
            tokens.append(Token(NAME, start, close + 1))
            i = close + 1
        elif ch == "$" and postgres and (tag := _DOLLAR_TAG.match(query, i)) is not None:
            close = query.find(tag.group(), tag.end())
            if close < 0:
                return tokens, ("dollar-quoted string", start)
            end = close + len(tag.group())
            tokens.append(Token(STRING, start, end))
            i = end
        elif ch == "$" and postgres and (positional := _POSITIONAL.match(query, i)) is not None:
            tokens.append(Token(PARAM, start, positional.end()))
            i = positional.end()
        elif (ch.isascii() and ch.isdigit()) or (ch == "." and nxt.isascii() and nxt.isdigit()):
            number = _NUMBER.match(query, i)
            assert number is not None
            tokens.append(Token(NUMBER, start, number.end()))
            i = number.end()
        elif _word_start(ch) or ch == "$":  # $ starts a name in MySQL, a parameter in SQLite
            i += 1
            while i < n and _word_part(query[i]):
                i += 1
            tokens.append(Token(WORD, start, i))
        else:
            tokens.append(Token(PUNCT, start, i + 1))
            i += 1
    return tokens, None


def _word_start(ch: str) -> bool:
    return (ch.isascii() and (ch.isalpha() or ch == "_")) or ord(ch) >= 128


def _word_part(ch: str) -> bool:
    return (ch.isascii() and (ch.isalnum() or ch in "_$")) or ord(ch) >= 128


def _line_end(query: str, i: int) -> int:
    ends = [e for e in (query.find("\n", i), query.find("\r", i)) if e >= 0]
    return min(ends) if ends else len(query)


def _comment_end(query: str, i: int, *, nested: bool) -> int:
    depth, j, n = 1, i + 2, len(query)
    while j < n:
        if query.startswith("*/", j):
            depth -= 1
            j += 2
            if depth == 0:
                return j
        elif nested and query.startswith("/*", j):
            depth += 1
            j += 2
        else:
            j += 1
    return -1


def _quoted_end(query: str, i: int, quote: str, backslash: bool) -> int:
    j, n = i + 1, len(query)
    while j < n:
        c = query[j]
        if backslash and c == "\\":
            j += 2
        elif c == quote:
            if j + 1 < n and query[j + 1] == quote:
                j += 2
            else:
                return j + 1
        else:
            j += 1
    return -1


# -- the check ----------------------------------------------------------------------------

def check_read_only(query: str, dialect: str | None = None) -> None:
    """Refuse (:class:`UsageError`) anything but one ``SELECT`` or ``WITH ... SELECT``.

    ``dialect`` is SQLAlchemy's name for the database (``sqlite``, ``postgresql``,
    ``mysql``, ``mariadb``); unknown or None: the query must pass the checks as every
    dialect reads it.
    """
    try:
        for lexer in _lexers(dialect):
            _check(query, lexer)
    except _Refused as refused:
        raise UsageError(f"--query refused: {refused}") from None


def _check(query: str, lexer: str) -> None:
    tokens, unterminated = tokenize(query, lexer)
    if unterminated is not None:
        raise _Refused(f"it ends inside an unterminated {unterminated[0]}")
    if any(t.kind == EXEC for t in tokens):
        raise _Refused("it holds an executable comment (/*! ... */), which MariaDB/MySQL would run as SQL")
    statements: list[list[tuple[str, str]]] = [[]]
    for t in tokens:
        if t.kind == COMMENT:
            continue
        text = query[t.start:t.end]
        if t.kind == PUNCT and text == ";":
            statements.append([])
        else:
            statements[-1].append((t.kind, text.upper() if t.kind == WORD else text))
    found = [s for s in statements if s]
    if not found:
        raise _Refused("it is empty; give one SELECT statement")
    if len(found) > 1:
        raise _Refused("it holds more than one statement (SQL after a ';'); give one SELECT statement")
    code = found[0]
    match = _parentheses(code)
    _query(code, 0, len(code), match, cte=False)
    _anywhere(code)


def _parentheses(code: list[tuple[str, str]]) -> dict[int, int]:
    match: dict[int, int] = {}
    opened: list[int] = []
    for index, (kind, text) in enumerate(code):
        if kind == PUNCT and text == "(":
            opened.append(index)
        elif kind == PUNCT and text == ")":
            if not opened:
                raise _Refused("its parentheses do not balance")
            match[opened.pop()] = index
    if opened:
        raise _Refused("its parentheses do not balance")
    return match


def _keyword(code: list[tuple[str, str]], index: int) -> str | None:
    if index < len(code) and code[index][0] == WORD:
        return code[index][1]
    return None


def _is(code: list[tuple[str, str]], index: int, punct: str) -> bool:
    return index < len(code) and code[index] == (PUNCT, punct)


def _named(keyword: str | None) -> str:
    return keyword if keyword in _NAMEABLE else "something else"


def _query(code: list[tuple[str, str]], i: int, end: int, match: dict[int, int], *, cte: bool) -> None:
    """``code[i:end]`` must be a query: SELECT or WITH ... SELECT (in a WITH body also VALUES, TABLE)."""
    while i < end and _is(code, i, "("):
        i += 1
    keyword = _keyword(code, i) if i < end else None
    if keyword == "SELECT":
        return
    if keyword == "WITH":
        _with(code, i + 1, end, match)
        return
    if cte:
        if keyword in ("VALUES", "TABLE"):
            return
        raise _Refused(f"a WITH query may only read: WITH name AS ({_named(keyword)} ...) is not a SELECT")
    if keyword is None:
        raise _Refused("it must start with SELECT or WITH")
    raise _Refused(f"it must be one SELECT (or WITH ... SELECT) statement, not {_named(keyword)}")


def _with(code: list[tuple[str, str]], j: int, end: int, match: dict[int, int]) -> None:
    malformed = _Refused("cannot read its WITH clause (expected WITH name AS (SELECT ...) SELECT ...)")
    if _keyword(code, j) == "RECURSIVE":
        j += 1
    while True:
        if j >= end or code[j][0] not in (WORD, NAME):
            raise malformed
        j += 1
        if j < end and _is(code, j, "("):  # the column list
            j = match[j] + 1
        if j >= end or _keyword(code, j) != "AS":
            raise malformed
        j += 1
        if _keyword(code, j) == "NOT":
            j += 1
        if _keyword(code, j) == "MATERIALIZED":
            j += 1
        if j >= end or not _is(code, j, "("):
            raise malformed
        close = match[j]
        _query(code, j + 1, close, match, cte=True)
        j = close + 1
        # PostgreSQL: SEARCH ... SET column, CYCLE ... USING column
        for clause, last in (("SEARCH", "SET"), ("CYCLE", "USING")):
            if _keyword(code, j) == clause:
                while j < end and _keyword(code, j) != last:
                    j += 1
                j += 2
        if j < end and _is(code, j, ","):
            j += 1
            continue
        break
    while j < end and _is(code, j, "("):
        j += 1
    keyword = _keyword(code, j) if j < end else None
    if keyword != "SELECT":
        raise _Refused(f"the statement after its WITH clause must be a SELECT, not {_named(keyword)}")


def _anywhere(code: list[tuple[str, str]]) -> None:
    """Keywords no reading query needs, wherever they are (outside strings and names)."""
    for index, (kind, word) in enumerate(code):
        if kind != WORD or (index and code[index - 1] == (PUNCT, ".")):
            continue
        after = _keyword(code, index + 1)
        if word == "INTO":
            raise _Refused("SELECT ... INTO writes (a table, a file or variables); write the rows with --to")
        if (word == "FOR" and after in ("UPDATE", "SHARE", "NO", "KEY")) or (word == "LOCK" and after == "IN"):
            raise _Refused("a locking clause (FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE) is not allowed")
        if word in WRITES and not _is(code, index + 1, "("):
            raise _Refused(f"it names {word} outside a string, which changes data or schema "
                           f"(quote it if it is a column name)")


# -- masking ------------------------------------------------------------------------------

def _hidden(query: str, dialect: str | None) -> list[tuple[int, int, str]]:
    """The spans of ``query`` that are literals or comments (in any dialect's reading when
    the dialect is not known), merged, in order."""
    spans: list[tuple[int, int, str]] = []
    for lexer in _lexers(dialect):
        tokens, unterminated = tokenize(query, lexer)
        spans += [(t.start, t.end, t.kind) for t in tokens if t.kind in (STRING, NUMBER, COMMENT, EXEC)]
        if unterminated is not None:
            spans.append((unterminated[1], len(query), STRING))
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2] if last[2] == kind else STRING)
        else:
            merged.append((start, end, kind))
    return merged


_REPLACEMENT = {STRING: "'***'", NUMBER: "?", COMMENT: " ", EXEC: " "}


def _render(query: str, spans: list[tuple[int, int, str]], start: int, end: int) -> str:
    """``query[start:end]`` with the hidden spans replaced and whitespace runs made one space."""
    out: list[str] = []
    at = start
    for s, e, kind in spans:
        if e <= start or s >= end:
            continue
        if s > at:
            out.append(query[at:s])
        out.append(_REPLACEMENT[kind])
        at = max(at, e)
    if at < end:
        out.append(query[at:end])
    return " ".join("".join(out).split())


def mask_query(query: str, dialect: str | None = None) -> str:
    """The query for the audit record: strings ``'***'``, numbers ``?``, comments left out;
    keywords, names and operators kept (at most :data:`MAX_MASKED` characters)."""
    masked = _render(query, _hidden(query, dialect), 0, len(query))
    return masked if len(masked) <= MAX_MASKED else masked[:MAX_MASKED] + " ..."


def scrub_error(message: str, query: str, dialect: str | None = None) -> str:
    """A driver's error message without the query's literals: quoted pieces of the query
    (MariaDB's ``near '...' at line N``, PostgreSQL's ``at or near "..."``) shown masked,
    and any literal of three or more characters left in it replaced by ``***``."""
    spans = [s for s in _hidden(query, dialect) if s[2] != NUMBER]
    if not spans:
        return message

    def piece(text: str) -> str:
        at = query.find(text) if text else -1
        if at < 0:
            return text
        if any(s < at and at + len(text) < e for s, e, _ in spans):
            return "***"  # a piece of one literal
        return _render(query, spans, at, at + len(text)) if any(
            s < at + len(text) and e > at for s, e, _ in spans) else text

    near = re.search(r"near '(.*)' at line (\d+)", message)
    if near is not None:
        message = message[:near.start(1)] + piece(near.group(1)) + message[near.end(1):]
    else:
        message = re.sub(r'"([^"]*)"', lambda m: '"' + piece(m.group(1)) + '"', message)
        message = re.sub(r"'([^']*)'", lambda m: "'" + piece(m.group(1)) + "'", message)
    literals: set[str] = set()
    for s, e, kind in spans:
        text = query[s:e]
        if kind == STRING and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            inner = text[1:-1]
            literals |= {inner, inner.replace(text[0] * 2, text[0]), inner.replace("\\" + text[0], text[0])}
        elif kind == STRING and text.startswith("$"):
            tag = text[:text.index("$", 1) + 1]
            literals.add(text[len(tag):-len(tag)])
        else:
            literals.add(text)
    for literal in sorted((x for x in literals if len(x.strip()) >= 3), key=len, reverse=True):
        message = message.replace(literal, "***")
    return message


# -- running read-only --------------------------------------------------------------------

@contextlib.contextmanager
def read_only(engine: Any) -> Iterator[Any]:
    """A connection of ``engine`` (SQLAlchemy) in a read-only transaction; see the module
    docstring. Errors are SQLAlchemy's (the caller words them); an unsupported dialect is
    a :class:`UsageError`."""
    dialect = engine.dialect.name
    lexer = family(dialect)
    if lexer is None:
        raise UsageError(f"--query runs read-only on SQLite, PostgreSQL and MariaDB/MySQL, not on {dialect}")
    with engine.connect() as conn:
        if lexer == "sqlite":
            conn.exec_driver_sql("PRAGMA query_only = ON")
            try:
                if conn.exec_driver_sql("PRAGMA query_only").scalar() != 1:
                    raise UsageError("--query: SQLite did not switch the connection to read-only")
                yield conn
            finally:
                try:  # the connection goes back to the pool: writable again, nothing pending
                    conn.rollback()
                    conn.exec_driver_sql("PRAGMA query_only = OFF")
                except Exception:
                    conn.invalidate()  # never reused half read-only
            return
        if lexer == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            if conn.exec_driver_sql("SHOW transaction_read_only").scalar() != "on":
                raise UsageError("--query: PostgreSQL did not make the transaction read-only (autocommit?)")
        else:
            conn.exec_driver_sql("START TRANSACTION READ ONLY")
        try:
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.rollback()
