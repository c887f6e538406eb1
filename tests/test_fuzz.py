"""Property-based fuzzing (issue #16): file readers, the policy loader, the URL scrubbers.

* **File readers** (CSV, TSV, JSON, JSON Lines, text): any bytes, under any of their names,
  read to the end without an exception, except the documented :class:`JsonTooDeep` (the
  scan lists the file as skipped with its message); every problem is one line.
* **Policy loader**: any YAML-ish text (random text, shipped packs mutated, documents built
  from the format's own keys with anchors and aliases) gives a policy or a
  :class:`PolicyError` whose message is one line, never another exception.
* **Scrubbers**: a password placed in a URL (its password field, or a secret query
  argument such as ``?password=``) never appears in :func:`~govkit.sources.database.redact`'s
  output, nor in what :func:`govkit.audit.scrub.scrub` keeps for the audit log.

``max_examples`` is kept small (the module runs in well under 40 s); each example has a
deadline, so a reader or the loader that goes quadratic on some input fails here.
"""

from __future__ import annotations

import json
import os
import string
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from govkit.audit.scrub import redact_text, scrub
from govkit.policy.errors import PolicyError
from govkit.policy.loader import load_policy, packs_dir
from govkit.sources.database import redact
from govkit.sources.formats import READERS, Problems, open_input
from govkit.sources.formats.jsonfile import JsonTooDeep

#: Examples per property; GOVKIT_FUZZ_EXAMPLES=5000 for a long local run.
EXAMPLES = int(os.environ.get("GOVKIT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=5),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="govkit-fuzz-") as folder:
        yield Path(folder)


# -- file readers --------------------------------------------------------------------------------

_JSONISH = list('{}[]",:\\ \n\r\t') + list("aeE01-.+") + ["\x00", "é", "手", "\ufeff", "true", "null", '"k":']

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


def _nested(depth: int, opener: str) -> str:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return opener * depth + ("1" if opener != "[" else "") + closer * depth


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


contents = st.one_of(
    st.binary(max_size=3000),
    st.builds(_encode, st.lists(st.sampled_from(_JSONISH), max_size=800).map("".join),
              st.sampled_from(["utf-8", "utf-16", "gb18030", "latin-1"])),
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
    st.lists(json_values.map(json.dumps), max_size=8).map(lambda rows: "\n".join(rows).encode()),
    st.builds(_nested, st.integers(1, 3000), st.sampled_from(["[", '{"a":'])).map(str.encode),
    st.lists(st.lists(st.text(st.sampled_from(list('ab,;\t|"\n\r 1@.')), max_size=12), max_size=6),
             max_size=12).map(lambda rows: "\n".join(",".join(r) for r in rows).encode()),
    st.builds(lambda head, body: b"\x1f\x8b" + head + body, st.binary(max_size=20), st.binary(max_size=200)),
)


def _read_all(path: Path, reader_name: str | None) -> Problems:
    """Open and read ``path`` to the end with the registry's choice, or with ``reader_name``."""
    source, chosen = open_input(path)
    try:
        reader_class = READERS[reader_name] if reader_name is not None else chosen
        problems = Problems()
        if reader_class is None:
            return problems  # binary: skipped, nothing to read
        reader = reader_class(source, problems, max_bytes=10**8)
        stopped: JsonTooDeep | None = None
        try:
            if reader.structured:
                for batch in reader.batches():
                    assert batch.rows >= 0
                    assert all(isinstance(name, str) for name in batch.columns)
            else:
                for block in reader.blocks():
                    assert block.first_line >= 1
        except JsonTooDeep as exc:  # documented: the file is listed as skipped with this message
            stopped = exc
        if stopped is not None:
            assert reader_class.name == "json"
            assert "\n" not in str(stopped)
        return problems
    finally:
        source.close()


@FUZZ
@given(data=contents, name=st.sampled_from(["a.csv", "a.tsv", "a.json", "a.jsonl", "a.txt", "a", "a.json.gz"]),
       forced=st.sampled_from([None, "csv", "tsv", "json", "jsonl", "text"]))
@example(data=b"[" * 100_000, name="a.json", forced=None)
@example(data=b'{"a":' * 50_000, name="a.jsonl", forced="jsonl")
@example(data=b'{"a": 1}\n' + b"[" * 5000 + b"\n", name="a.json", forced=None)
@example(data=b"\xff\xfe" + "手,机\n1,2\n".encode("utf-16-le"), name="a.csv", forced=None)
def test_readers_never_raise(scratch: Path, data: bytes, name: str, forced: str | None) -> None:
    path = scratch / name
    path.write_bytes(data)
    problems = _read_all(path, forced)
    assert all("\n" not in message for message in problems.messages())


# -- the policy loader ---------------------------------------------------------------------------

_TOP_KEYS = ["version", "name", "description", "extends", "classification", "processing", "retention",
             "anonymization", "access", "dsr"]
_INNER_KEYS = ["entities", "categories", "rules", "roles", "deadlines", "identifiers", "category",
               "severity", "period", "asset", "assets", "field", "entity", "operator", "special", "cite",
               "basis", "purpose", "default", "exceptions", "when", "params", "EMAIL_ADDRESS", "contact",
               "P7Y", "15 working days", "mask", "hash", "gdpr", "baseline", "<<"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.sampled_from(_INNER_KEYS),
                    st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True))
policy_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_INNER_KEYS) | st.text(max_size=6),
                                                                inner, max_size=4),
    max_leaves=25,
)
policy_documents = st.dictionaries(st.sampled_from(_TOP_KEYS), policy_values, max_size=6).map(
    lambda doc: yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


def _shipped(name: str) -> str:
    return packs_dir().joinpath(f"{name}.yaml").read_text(encoding="utf-8")


@st.composite
def mutated_packs(draw: st.DrawFn) -> str:
    """A shipped pack with a few random edits: cuts, repeats, swaps, inserted characters."""
    text = _shipped(draw(st.sampled_from(["baseline", "gdpr", "ccpa", "pipl"])))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["cut", "insert", "repeat", "anchor"]))
        if kind == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 80)):]
        elif kind == "insert":
            text = text[:at] + draw(st.text(st.sampled_from(list(":-[]{}&*!|>'\"#\n\t ,?%@`")), max_size=5)) + text[at:]
        elif kind == "repeat":
            line_start = text.rfind("\n", 0, at) + 1
            line_end = text.find("\n", at)
            line_end = len(text) if line_end < 0 else line_end + 1
            text = text[:line_end] + text[line_start:line_end] + text[line_end:]
        else:
            text = text[:at] + draw(st.sampled_from(["&x ", "*x ", "<<: *x\n", "!!python/object ", "? "])) + text[at:]
    return text


@st.composite
def aliased(draw: st.DrawFn) -> str:
    """Anchors and aliases, merge keys included, under the format's own keys."""
    lines = ["version: 1", "x0: &x0 " + json.dumps(draw(st.lists(st.sampled_from(_INNER_KEYS), max_size=4)))]
    for level in range(1, draw(st.integers(1, 12)) + 1):
        refs = ", ".join([f"*x{draw(st.integers(0, level - 1))}"] * draw(st.integers(1, 12)))
        body = f"[{refs}]" if draw(st.booleans()) else f"{{<<: [{refs}]}}"
        lines.append(f"x{level}: &x{level} {body}")
    lines.append(f"{draw(st.sampled_from(_TOP_KEYS))}: *x{draw(st.integers(0, len(lines) - 2))}")
    return "\n".join(lines) + "\n"


policy_texts = st.one_of(st.text(max_size=300), policy_documents, mutated_packs(), aliased())


@FUZZ
@given(text=policy_texts)
@example(text="a: &a [1]\nb: [*a, *a]\n" * 2)
@example(text="version: 1\n" + "[" * 3000)
@example(text='version: 1\nname: "a\\nb"\nbogus: 1\n')
@example(text="extends: [./missing.yaml, ../../../../../dev/zero.yaml]\n")
@example(text="version: !!python/object:os.system 1\n")
@example(text="? [1, 2]\n: 3\n")
@example(text="\ufeffversion: 1\n")
def test_policy_loader_gives_a_policy_or_one_line_error(scratch: Path, text: str) -> None:
    path = scratch / "policy.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    error: PolicyError | None = None
    try:
        load_policy([path])  # any exception but a PolicyError fails the test
    except PolicyError as exc:
        error = exc
    if error is not None:
        assert len(str(error).splitlines()) == 1, str(error)
        assert all(len(str(problem).splitlines()) == 1 for problem in error.problems)


# -- scrubbers -----------------------------------------------------------------------------------

#: Distinctive passwords: a marker no other part of the generated URL contains, then anything.
passwords = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=4, max_size=24).map(
    lambda tail: "Zq8" + tail)
SECRET_PARAMS = ["password", "passwd", "pwd", "sslpassword", "token", "secret", "api_key", "sslkey"]
schemes = st.sampled_from(["postgresql", "postgresql+psycopg", "mysql+pymysql", "mssql+pyodbc", "oracle"])
words = st.text(string.ascii_lowercase + string.digits + "_", min_size=1, max_size=8)


def _spellings(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret)}


def _assert_hidden(secret: str, *outputs: str) -> None:
    for output in outputs:
        for spelling in _spellings(secret):
            assert spelling not in output, (secret, output)


def _audit_outputs(url: str) -> list[str]:
    kept: dict[str, Any] = scrub({"url": url, "note": f"connecting to {url} failed", "args": [url]})
    return [kept["url"], kept["note"], kept["args"][0], redact_text(f"error: {url}; retrying")]


@FUZZ
@given(scheme=schemes, user=words, password=passwords,
       host=st.sampled_from(["db", "127.0.0.1", "[::1]", "db.internal"]), port=st.none() | st.integers(1, 65535),
       database=words, extra=st.dictionaries(words, words, max_size=3))
@example(scheme="postgresql", user="app", password="Zq8s3cr3t", host="db", port=5432, database="shop", extra={})
@example(scheme="postgresql", user="app", password="Zq8p@ss:w/rd?#&=%+ ", host="db", port=None,
         database="shop", extra={"sslmode": "require"})
def test_password_field_never_shown(scheme: str, user: str, password: str, host: str, port: int | None,
                                    database: str, extra: dict[str, str]) -> None:
    netloc = f"{host}:{port}" if port else host
    query = "&".join(f"{k}={v}" for k, v in extra.items())
    url = f"{scheme}://{user}:{quote(password, safe='')}@{netloc}/{database}" + (f"?{query}" if query else "")
    assume(not any(s in url.replace(quote(password, safe=""), "") for s in _spellings(password)))
    _assert_hidden(password, redact(url), *_audit_outputs(url))


@FUZZ
@given(scheme=schemes, password=passwords, name=st.sampled_from(SECRET_PARAMS),
       before=st.dictionaries(words, words, max_size=2), after=st.dictionaries(words, words, max_size=2),
       with_user_password=st.booleans())
@example(scheme="postgresql", password="Zq8s3cr3t", name="password", before={}, after={}, with_user_password=False)
@example(scheme="mysql+pymysql", password="Zq8a&b=c d", name="passwd", before={"charset": "utf8mb4"}, after={},
         with_user_password=True)
def test_secret_query_argument_never_shown(scheme: str, password: str, name: str, before: dict[str, str],
                                           after: dict[str, str], with_user_password: bool) -> None:
    assume(name not in before and name not in after)
    userinfo = "app:Zq8other@" if with_user_password else "app@"
    pairs = [*before.items(), (name, quote_plus(password)), *after.items()]
    url = f"{scheme}://{userinfo}db:5432/shop?" + "&".join(f"{k}={v}" for k, v in pairs)
    _assert_hidden(password, redact(url), *_audit_outputs(url))


@pytest.mark.xfail(strict=False, reason="a password with an unencoded '@' is not a well-formed URL: SQLAlchemy "
                   "splits it at the first '@', so what follows shows as the host (and the audit scrubber "
                   "agrees). Users must percent-encode such passwords (docs/workspace.md).")
@settings(max_examples=30, deadline=timedelta(seconds=5))
@given(head=st.text(string.ascii_letters, max_size=6), tail=st.text(string.ascii_letters + "/:?#", max_size=8))
def test_unencoded_at_in_a_password_never_shown(head: str, tail: str) -> None:
    password = f"Zq8{head}@Yk7{tail}"
    url = f"postgresql://app:{password}@db/shop"
    for output in [redact(url), *_audit_outputs(url)]:
        assert f"Yk7{tail}" not in output, output
