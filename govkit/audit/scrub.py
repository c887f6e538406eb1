"""Make a command's parameters safe to keep forever in the audit log.

The audit log is append-only: whatever goes into it cannot be taken out again without
breaking the hash chain. So callers are expected to pass only non-secret, non-personal
parameters, and this module is the second line of defence for when they don't:

* a parameter whose *name* looks secret (``password``, ``db_passwd``, ``apiKey``,
  ``access_token``, ``passphrase``, ``secret``, ``key`` ...) keeps its name, so the log shows
  it was given, but its value becomes ``***``. Names ending in ``id``/``ids``/``count`` are
  exempt (``key_id`` names a key, it is not one);
* a URL with a password (``postgresql://app:s3cret@db/shop``) goes through
  :func:`govkit.sources.database.redact`, the same redaction the findings contract uses;
  URLs embedded in longer text, secret query arguments (``?password=``, ``?passwd=``,
  ``?pwd=``, ``?sslkey=``, ``?sslpassword=``, ``?token=``, ``?secret=``, ``?api_key=`` ...)
  and ``password=...`` pairs in connection strings are masked too;
* anything that is not plain JSON data is reduced to something that is (paths and dates to
  text, other objects to ``<TypeName>``) rather than to its ``repr``, which might quote
  anything.

Masking is deliberately generous: a false positive costs a ``***`` in a log line, a false
negative a leaked credential.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from enum import Enum
from pathlib import PurePath
from typing import Any

MASK = "***"
_MAX_DEPTH = 20

#: Matched anywhere in the name with separators removed: "dbPassword", "x_api_key_v2".
_SECRET_SUBSTRINGS = (
    "password", "passwd", "passphrase", "secret", "token", "credential", "apikey", "privatekey",
    "accesskey", "authorization", "cookie", "sslkey",
)
#: Matched as whole words of the name only, because as substrings they are too common
#: ("monkey", "passage", "author").
_SECRET_WORDS = frozenset({"key", "keys", "pwd", "pass", "auth", "dsn", "salt"})
#: A name ending in one of these words is about a secret, not the secret itself.
_EXEMPT_LAST_WORDS = frozenset({"id", "ids", "count", "counts"})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")

#: ``scheme://user:password@``: the password part, wherever it is in a string.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)(?P<password>[^\s@]*)(?P<at>@)")
#: A whole string that is a URL with a password: handed to the database module's redact().
_WHOLE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:[^\s@]*@\S*$")
#: ``name=value`` / ``name: value`` pairs (query strings, DSNs, "Authorization: ...").
#: The value is captured in a lookahead so that a pair whose name is harmless ("https:")
#: does not swallow a secret pair inside its value ("https://h/x?token=..."). An HTTP auth
#: scheme ("Authorization: Bearer ...") is taken as part of the value.
_PAIR = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)(?P<sep>\s*[=:]\s*)(?=(?P<value>(?i:bearer|basic|digest|token|negotiate)\s+[^\s&;,]+|\"[^\"]*\"|'[^']*'|[^\s&;,]+))"
)
_MASKED_VALUES = frozenset({MASK, f'"{MASK}"', f"'{MASK}'"})


def scrub(params: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-safe copy of ``params`` with secret-looking values masked and URLs redacted."""
    return _mapping(params, 0)


def is_secret_name(name: str) -> bool:
    """Whether a parameter called ``name`` probably holds a secret."""
    words = [w for w in _WORD_SPLIT.split(_CAMEL.sub("_", name).lower()) if w]
    if not words or words[-1] in _EXEMPT_LAST_WORDS:
        return False
    joined = "".join(words)
    return any(s in joined for s in _SECRET_SUBSTRINGS) or any(w in _SECRET_WORDS for w in words)


def redact_text(text: str) -> str:
    """``text`` with URL passwords and secret-looking ``name=value`` pairs masked."""
    if _WHOLE_URL.match(text):
        from govkit.sources.database import redact  # SQLAlchemy is costly to import; only when needed

        redacted = redact(text)
        if redacted != "<unparseable URL>":
            text = redacted
    # Also after redact(): it only knows the URL's password field, not query arguments, and
    # a URL it parses differently from how a server would must still lose its password.
    text = _URL_PASSWORD.sub(lambda m: m[0] if m["password"] == MASK else f"{m['head']}{MASK}{m['at']}", text)
    return _mask_pairs(text)


def _mask_pairs(text: str) -> str:
    parts: list[str] = []
    position = 0
    for match in _PAIR.finditer(text):
        if match.start() < position or match["value"] in _MASKED_VALUES or not is_secret_name(match["name"]):
            continue
        parts += [text[position:match.end("sep")], MASK]
        position = match.end("value")
    return "".join(parts) + text[position:]


def _mapping(params: Mapping[Any, Any], depth: int) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for raw_name, value in params.items():
        name = redact_text(str(raw_name))
        if is_secret_name(name) and value is not None:
            clean[name] = MASK
        else:
            clean[name] = _value(value, depth + 1)
    return clean


def _value(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return "<nested too deep>"
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Enum):
        return _value(value.value, depth + 1)
    if isinstance(value, PurePath):
        return redact_text(str(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return _mapping(value, depth)
    if isinstance(value, list | tuple):
        return [_value(v, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_value(v, depth + 1) for v in value), key=str)
    return f"<{type(value).__name__}>"
