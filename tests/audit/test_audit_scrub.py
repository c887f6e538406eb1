"""Parameter scrubbing: secrets never reach the append-only log, whatever shape they come in."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from datetime import date
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from govkit.audit import AuditLog
from govkit.audit.scrub import MASK, is_secret_name, redact_text, scrub


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True), ("PASSWORD", True), ("db_password", True), ("dbPassword", True), ("passwd", True),
        ("pwd", True), ("passphrase", True), ("secret", True), ("client_secret", True), ("token", True),
        ("access_token", True), ("api_key", True), ("apiKey", True), ("x-api-key", True), ("key", True),
        ("private-key", True), ("Authorization", True), ("credentials", True), ("sslkey", True),
        ("sslpassword", True),
        ("key_id", False), ("token_count", False), ("source", False), ("table", False), ("monkey", False),
        ("author", False), ("passage", False), ("rows", False), ("", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://app:s3cret@db.internal/shop", f"postgresql://app:{MASK}@db.internal/shop"),
        ("mysql+pymysql://u:p%40ss@h:3306/db", f"mysql+pymysql://u:{MASK}@h:3306/db"),
        ("scan postgresql://app:s3:cr/et@db/shop now", f"scan postgresql://app:{MASK}@db/shop now"),
        ("https://api.example/x?token=abc123&page=2", f"https://api.example/x?token={MASK}&page=2"),
        ("host=db password='two words' user=app", f"host=db password={MASK} user=app"),
        ("postgresql://app@db/shop?password=s3cret&sslmode=require",
         f"postgresql://app@db/shop?password={MASK}&sslmode=require"),
        ("mysql+pymysql://u@h/db?charset=utf8mb4&passwd=s3cret", f"mysql+pymysql://u@h/db?charset=utf8mb4&passwd={MASK}"),
        ("scan postgresql://u@h/db?sslkey=/k/client.key&pwd=p1&api_key=k2&secret=s3&sslpassword=s4 now",
         f"scan postgresql://u@h/db?sslkey={MASK}&pwd={MASK}&api_key={MASK}&secret={MASK}&sslpassword={MASK} now"),
        ("Authorization: Bearer eyJhbGciOi", f"Authorization: {MASK}"),
        ("sqlite:///shop.db", "sqlite:///shop.db"),
        ("postgresql://app@db/shop", "postgresql://app@db/shop"),
        ("https://example.com/a:b", "https://example.com/a:b"),
        ("customers.email", "customers.email"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


class Mode(Enum):
    FULL = "full"


def test_scrub_masks_nested_and_normalises_types() -> None:
    params = {
        "password": "hunter2",
        "token": None,
        "source": "postgresql://app:hunter2@db/shop",
        "options": {"apiKey": "k-123", "tables": ["a", "b"], "sslmode": "require"},
        "urls": ("postgresql://x:hunter2@h/d",),
        "path": Path("/data/exports"),
        "since": date(2024, 5, 1),
        "mode": Mode.FULL,
        "ratio": float("inf"),
        "blob": b"hunter2",
        "tags": {"b", "a"},
        "other": object(),
    }
    assert scrub(params) == {
        "password": MASK,
        "token": None,
        "source": f"postgresql://app:{MASK}@db/shop",
        "options": {"apiKey": MASK, "tables": ["a", "b"], "sslmode": "require"},
        "urls": [f"postgresql://x:{MASK}@h/d"],
        "path": "/data/exports",
        "since": "2024-05-01",
        "mode": "full",
        "ratio": "inf",
        "blob": "<bytes>",
        "tags": ["a", "b"],
        "other": "<object>",
    }
    assert "hunter2" not in json.dumps(scrub(params))


def test_scrub_survives_deep_nesting() -> None:
    deep: dict[str, Any] = {"password": "hunter2"}
    for _ in range(50):
        deep = {"level": deep}
    assert "hunter2" not in json.dumps(scrub(deep))


# -- property: a secret given under a secret-looking name never reaches the stored line ---------

SECRET_NAMES = st.sampled_from([
    "password", "Password", "DB_PASSWORD", "dbPassword", "passwd", "pwd", "passphrase", "secret", "client_secret",
    "token", "access_token", "refreshToken", "api_key", "apiKey", "key", "private-key", "credentials",
])
PLAIN_NAMES = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12).filter(lambda n: not is_secret_name(n))
PLAIN_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
# A marker makes the secret unmistakable: "0000..." could otherwise occur in a hash by chance.
SECRETS = st.text(min_size=1, max_size=40).map(lambda s: "S3cr3t!" + s)
URL_PASSWORDS = st.text(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:%", min_size=1, max_size=30).map(
    lambda s: "Pw7" + s
)


def _forms(secret: str) -> Iterator[str]:
    yield secret
    yield json.dumps(secret, ensure_ascii=False)[1:-1]
    yield json.dumps(secret)[1:-1]


@pytest.fixture(scope="module")
def shared_log(tmp_path_factory: pytest.TempPathFactory) -> AuditLog:
    return AuditLog(tmp_path_factory.mktemp("scrub") / ".govkit")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=SECRET_NAMES,
    secret=SECRETS,
    others=st.dictionaries(PLAIN_NAMES, PLAIN_VALUES, max_size=5),
    nest=st.integers(0, 3),
)
def test_secret_values_never_reach_the_log(
    shared_log: AuditLog, name: str, secret: str, others: dict[str, Any], nest: int
) -> None:
    assume(all("S3cr3t!" not in str(v) for v in others.values()))
    params: dict[str, Any] = {**others, name: secret}
    for depth in range(nest):
        params = {f"level{depth}": params, "note": "nested"}
    record = shared_log.append("scan", params=params)
    line = record.line().decode("utf-8")
    for form in _forms(secret):
        assert form not in line


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=URL_PASSWORDS, embedded=st.booleans())
def test_url_passwords_never_reach_the_log(shared_log: AuditLog, password: str, embedded: bool) -> None:
    url = f"postgresql://app:{password}@db.internal:5432/shop"
    value = f"scanning {url} (full)" if embedded else url
    line = shared_log.append("scan", params={"source": value, "where": PurePosixPath("/x")}).line().decode()
    assert password not in line
    assert "db.internal" in line  # the rest of the URL is kept
