"""The operators' masks written in each dialect's SQL, for the per-role masking views.

A masking view must show what ``govkit anonymize`` would write for the same operator, so a
role sees ``l***@e**********.br`` through PostgreSQL, MariaDB and an export alike.
``mask`` (the keep-first/keep-last rule with its "never more than half" shrink and kept
separators) is a small helper function (PL/pgSQL; a MariaDB stored function) that mirrors
:class:`govkit.actions.anonymize.operators.Mask` line by line; ``redact``, ``replace`` and
``generalize`` (year, month, prefix, and band/range on numeric columns) are plain
expressions. A NULL stays NULL, as in the operators.

What is *not* written in SQL, and why (the column is then denied in the view, and the
reason is shown in the plan and by ``access show``):

* keyed operators (``pseudonymize``, ``hash``, ``fake``, ``encrypt``): the key would have to
  be in the view's text, which the grantee can read (``pg_views``,
  ``information_schema.VIEWS``, ``SHOW CREATE VIEW``), or behind a function the grantee may
  call on any input: an oracle that pseudonymizes guesses and so reverses the pseudonyms by
  dictionary. Neither keeps the key secret, so the column is denied; ``govkit access
  export`` writes keyed pseudonyms outside the database instead;
* ``generalize`` to ``city`` or ``network``: they parse addresses and IP networks in
  Python, and an approximation in SQL could show more than the operator does;
* ``drop``: the operator's own meaning is "leave the column out".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: Separators the mask operator keeps (``Mask._SEPARATORS``), in SQL string form.
SEPARATORS = "@.-_ +()/"
KEYED = frozenset({"pseudonymize", "hash", "fake", "encrypt"})
_NUMERIC = re.compile(r"INT|NUMERIC|DECIMAL|REAL|FLOAT|DOUBLE|NUMBER", re.IGNORECASE)

DENIED_KEYED = ("keyed operator {op}: in SQL its key would be readable in the view's definition or "
                "callable as an oracle by the grantee, so the column is denied (use 'govkit access export')")


@dataclass(frozen=True, slots=True)
class Masked:
    """A column's SELECT expression in a view, or the reason it is left out (``sql`` is None)."""

    sql: str | None
    reason: str = ""


def family(dialect: str) -> str:
    """``postgresql`` or ``mysql`` (MariaDB included); anything else has no views here."""
    if dialect == "postgresql":
        return "postgresql"
    if dialect in ("mysql", "mariadb"):
        return "mysql"
    return dialect


def quote_ident(dialect: str, name: str) -> str:
    if family(dialect) == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def quote_literal(dialect: str, text: str) -> str:
    text = text.replace("'", "''")
    if family(dialect) == "mysql":  # backslash escapes are on unless NO_BACKSLASH_ESCAPES
        text = text.replace("\\", "\\\\")
    return "'" + text + "'"


def as_text(dialect: str, column: str) -> str:
    return f"CAST({column} AS CHAR)" if family(dialect) == "mysql" else f"CAST({column} AS text)"


def expression(dialect: str, operator: str, params: dict[str, Any], column: str, *, entity_type: str | None,
               sql_type: str | None, helpers: str) -> Masked:
    """The masked form of ``column`` (already quoted) for ``operator``; ``helpers`` is the quoted
    schema (PostgreSQL) or database (MariaDB) holding the ``mask`` function."""
    from govkit.actions.anonymize.operators import validate_params

    if operator in KEYED:
        return Masked(None, DENIED_KEYED.format(op=operator))
    model = validate_params(operator, params)
    values = model.model_dump()
    text = as_text(dialect, column)
    mysql = family(dialect) == "mysql"
    if operator == "keep":
        return Masked(column)
    if operator == "mask":
        function = f"{helpers}.gk_mask" if mysql else f"{helpers}.mask"
        fill = quote_literal(dialect, str(values["char"]))
        return Masked(f"{function}({text}, {int(values['keep_first'])}, {int(values['keep_last'])}, {fill})")
    if operator == "redact":
        return Masked(f"CASE WHEN {column} IS NULL THEN NULL ELSE '' END")
    if operator == "replace":
        placeholder = values.get("value")
        placeholder = placeholder if placeholder is not None else f"<{entity_type or 'REDACTED'}>"
        return Masked(f"CASE WHEN {column} IS NULL THEN NULL ELSE {quote_literal(dialect, placeholder)} END")
    if operator == "generalize":
        to, bucket = values["to"], values.get("bucket")
        if to in ("year", "month"):
            return Masked(_date_level(dialect, column, text, to, int(bucket or 1)))
        if to == "prefix":  # a blank text becomes empty, as in the operator
            blank = f"TRIM({text}) = ''" if mysql else f"btrim({text}, E' \\t\\r\\n') = ''"
            return Masked(f"CASE WHEN {blank} THEN '' ELSE LEFT(REPLACE({text}, ' ', ''), {int(bucket or 3)}) END")
        if to in ("band", "range"):
            if not sql_type or not _NUMERIC.search(sql_type):
                return Masked(None, f"generalize to {to} is computed in SQL on numeric columns only "
                                    f"({sql_type or 'unknown type'})")
            width = int(bucket or (10 if to == "band" else 1000))
            low = (f"CAST(FLOOR({column} / {width}) * {width} AS SIGNED)" if mysql
                   else f"CAST(floor({column} / {width}.0) * {width} AS bigint)")
            joined = (f"CONCAT({low}, '-', {low} + {width - 1})" if mysql
                      else f"({low})::text || '-' || ({low} + {width - 1})::text")
            return Masked(f"CASE WHEN {column} IS NULL THEN NULL ELSE {joined} END")
        return Masked(None, f"generalize to {to} parses values in Python; no SQL form shows no more than it does")
    if operator in KEYED:
        return Masked(None, DENIED_KEYED.format(op=operator))
    if operator == "drop":
        return Masked(None, "operator drop: the column is left out")
    return Masked(None, f"operator {operator} has no SQL form")


def _date_level(dialect: str, column: str, text: str, to: str, width: int) -> str:
    """``generalize`` to month, year or year bands, as :class:`DateHierarchy` places a value:
    ``YYYY[-M[M]...]`` text (leading spaces allowed) or a date; a year outside 1-9999 or a
    month outside 1-12 is no date and becomes ``*``; a blank text becomes empty."""
    mysql = family(dialect) == "mysql"
    if mysql:
        year = f"REGEXP_REPLACE({text}, '(?s)^\\\\s*([0-9]{{4}}).*$', '\\\\1')"
        month = (f"CASE WHEN {text} REGEXP '^\\\\s*[0-9]{{4}}-[0-9]' THEN "
                 f"REGEXP_REPLACE({text}, '(?s)^\\\\s*[0-9]{{4}}-([0-9]{{1,2}}).*$', '\\\\1') END")
        is_date = f"{text} REGEXP '^\\\\s*[0-9]{{4}}'"
        number, pad = "SIGNED", "LPAD"
        empty = f"TRIM({text}) = ''"
    else:
        year = f"substring({text} from '^\\s*([0-9]{{4}})')"
        month = f"substring({text} from '^\\s*[0-9]{{4}}-([0-9]{{1,2}})')"
        is_date = f"{text} ~ '^\\s*[0-9]{{4}}'"
        number, pad = "integer", "lpad"
        empty = f"btrim({text}, E' \\t\\r\\n') = ''"
    y, m = f"CAST({year} AS {number})", f"CAST({month} AS {number})"
    bad = f"NOT ({is_date}) OR {y} < 1 OR ({month} IS NOT NULL AND ({m} < 1 OR {m} > 12))"
    if to == "month":
        shown = f"CASE WHEN {month} IS NULL THEN {year} ELSE CONCAT({year}, '-', {pad}({month}, 2, '0')) END"
    elif width == 1:
        shown = year
    else:
        low = f"({y} DIV {width} * {width})" if mysql else f"({y} / {width} * {width})"
        shown = f"CONCAT({pad}(CAST({low} AS CHAR{'' if mysql else '(4)'}), 4, '0'), '-', " \
                f"{pad}(CAST({low} + {width - 1} AS CHAR{'' if mysql else '(4)'}), 4, '0'))"
    return (f"CASE WHEN {column} IS NULL THEN NULL WHEN {empty} THEN '' WHEN {bad} THEN '*' "
            f"ELSE {shown} END")


def helper_statements(dialect: str, helpers: str) -> list[str]:
    """CREATE OR REPLACE of the ``mask`` helper in ``helpers`` (idempotent: a resume may repeat it)."""
    separators = quote_literal(dialect, SEPARATORS)
    if family(dialect) == "mysql":
        return [f"""CREATE OR REPLACE FUNCTION {helpers}.gk_mask(v LONGTEXT, kf INT, kl INT, fill VARCHAR(1))
RETURNS LONGTEXT DETERMINISTIC NO SQL
BEGIN
  DECLARE n INT; DECLARE f INT DEFAULT kf; DECLARE l INT DEFAULT kl; DECLARE i INT DEFAULT 1;
  DECLARE o LONGTEXT DEFAULT ''; DECLARE c VARCHAR(1);
  IF v IS NULL THEN RETURN NULL; END IF;
  SET n = CHAR_LENGTH(v);
  WHILE f + l > n DIV 2 AND (f > 0 OR l > 0) DO
    IF f >= l THEN SET f = f - 1; ELSE SET l = l - 1; END IF;
  END WHILE;
  WHILE i <= n DO
    SET c = SUBSTRING(v, i, 1);
    IF i <= f OR i > n - l OR LOCATE(c, {separators}) > 0 THEN SET o = CONCAT(o, c);
    ELSE SET o = CONCAT(o, fill); END IF;
    SET i = i + 1;
  END WHILE;
  RETURN o;
END"""]
    return [f"""CREATE OR REPLACE FUNCTION {helpers}.mask(value text, keep_first integer, keep_last integer, fill text)
RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $gk$
DECLARE
  n integer := char_length(value);
  f integer := keep_first;
  l integer := keep_last;
  result text := '';
  c text;
BEGIN
  WHILE f + l > n / 2 AND (f > 0 OR l > 0) LOOP
    IF f >= l THEN f := f - 1; ELSE l := l - 1; END IF;
  END LOOP;
  FOR i IN 1..n LOOP
    c := substr(value, i, 1);
    IF i <= f OR i > n - l OR position(c IN {separators}) > 0 THEN result := result || c;
    ELSE result := result || fill; END IF;
  END LOOP;
  RETURN result;
END $gk$"""]
