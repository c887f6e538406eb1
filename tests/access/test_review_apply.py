"""``govkit access review`` and ``apply`` on the real PostgreSQL and MariaDB servers.

The seeded database (see conftest ``seed``) holds exactly these violations of the analyst
policy: the analyst's column grant on email and PUBLIC's grant on phone; every personal
customer field for ``bi`` through the ``reporting`` group role it inherits; PUBLIC's phone
grant; ``nomap``, a user with no policy role reading employee data. ``support`` may read
customers in clear and is no violation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from govkit.actions.anonymize.operators import Mask, MaskParams, OperatorContext
from tests.access.conftest import Seeded, cli

pytestmark = pytest.mark.server

PG_CUSTOMER = ["first_name", "last_name", "address", "city", "state", "country", "postal_code", "phone", "fax", "email"]
MY_CUSTOMER = ["FirstName", "LastName", "Address", "City", "State", "Country", "PostalCode", "Phone", "Fax", "Email"]


def _names(seeded: Seeded) -> dict[str, str]:
    pg = seeded.dialect == "postgresql"
    return {"email": "email" if pg else "Email", "phone": "phone" if pg else "Phone",
            "company": "company" if pg else "Company", "id": "customer_id" if pg else "CustomerId",
            "first": "first_name" if pg else "FirstName", "address": "address" if pg else "Address",
            "customer": "customer" if pg else "Customer"}


def _account(seeded: Seeded, short: str) -> str:
    return seeded.user(short) + ("" if seeded.dialect == "postgresql" else "@%")


def _review(folder: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = cli(folder, "access", "review", "shop", "--format", "json", *extra)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def _findings(review: dict[str, Any], kind: str) -> set[tuple[str, str | None]]:
    return {(f["user"], f["field"]) for f in review["findings"] if f["kind"] == kind}


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql).all()]
    finally:
        engine.dispose()


def _refused(url: str, sql: str) -> bool:
    try:
        _rows(url, sql)
    except sa.exc.DBAPIError as exc:
        text = str(exc).lower()
        assert "denied" in text, text  # refused for privileges, not any other error
        return True
    return False


def test_review_finds_exactly_the_seeded_violations_and_apply_fixes_them(seeded: Seeded,
                                                                         seeded_workspace: Path) -> None:
    folder = seeded_workspace
    n = _names(seeded)
    customer = PG_CUSTOMER if seeded.dialect == "postgresql" else MY_CUSTOMER
    code, review = _review(folder, "--fail-on", "HIGH")
    assert code == 1  # HIGH violations: the CI gate trips
    assert review["assessed"] is True
    analyst, bi = _account(seeded, "analyst"), _account(seeded, "bi")
    expected = {(analyst, n["email"]), (analyst, n["phone"])} | {(bi, field) for field in customer}
    assert _findings(review, "role-violation") == expected
    assert _findings(review, "public-grant") == {("PUBLIC", n["phone"])}
    assert _findings(review, "unmapped-user") == {(_account(seeded, "nomap"), None)}
    if seeded.dialect == "postgresql":  # listed as they are: no row rules in the policy to judge them by
        assert [(r["table"], r["enabled"], [x["name"] for x in r["policies"]]) for r in review["row_security"]] == \
            [("invoice", True, [f"{seeded.prefix}_own_rows"])]
        assert _findings(review, "default-privileges") == {(_account(seeded, "nomap"), None)}
    # the paths name the grant: direct, through PUBLIC, through the inherited group role
    via = {(f["user"], f["field"]): f["via"] for f in review["findings"] if f["kind"] == "role-violation"}
    assert via[(analyst, n["email"])] == f"SELECT ({n['email']}), granted to it"
    assert via[(analyst, n["phone"])] == f"SELECT ({n['phone']}), granted to PUBLIC"
    assert via[(bi, n["email"])] == f"SELECT on the table, granted to role {seeded.user('reporting')}"
    assert all(f["rule"] and f["rule"].startswith("policies/shop.yaml:") for f in review["findings"]
               if f["kind"] == "role-violation")
    # support reads customers in clear, which its role allows: listed, no violation
    support = next(u for u in review["users"] if u["user"] == _account(seeded, "support"))
    assert support["role"] == "support"
    assert len(support["clear"]) == len(customer)
    # stored for the audit report
    assert (folder / ".govkit" / "access" / "review-shop.json").stat().st_mode & 0o777 == 0o600

    # the dry run prints the SQL and changes nothing
    dry = cli(folder, "access", "apply", "shop")
    assert dry.exit_code == 0, dry.output
    assert "REVOKE SELECT" in dry.stdout
    assert "CREATE" in dry.stdout
    assert "dry run" in dry.stderr
    assert "pseudonymize: in SQL its key would be readable" in dry.stdout  # names: denied in views, and why
    _, again = _review(folder)
    assert _findings(again, "role-violation") == expected

    applied = cli(folder, "access", "apply", "shop", "--apply")
    assert applied.exit_code == 0, applied.output
    code, after = _review(folder, "--fail-on", "HIGH")
    assert code == 0, after["findings"]  # the drift check passes
    assert _findings(after, "role-violation") == set()
    assert _findings(after, "public-grant") == set()
    assert _findings(after, "unmapped-user") == {(_account(seeded, "nomap"), None)}  # not apply's to change
    # drift: a grant added by hand trips the CI gate again
    _exec_admin(seeded, f"GRANT SELECT ON {n['customer']} TO {_grantee(seeded, 'analyst')}")
    code, drifted = _review(folder, "--fail-on", "HIGH")
    assert code == 1
    assert (analyst, n["email"]) in _findings(drifted, "role-violation")
    # a second apply revokes it again and stays clean
    second = cli(folder, "access", "apply", "shop", "--apply", "--format", "json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["plan"]["revokes"] == 1
    third = cli(folder, "access", "apply", "shop", "--format", "json")
    assert json.loads(third.stdout)["plan"]["revokes"] == 0  # nothing left to revoke

    # logging in as each user: masked values through the role's views, refused on the base columns
    views = "govkit_analyst" if seeded.dialect == "postgresql" else f"{seeded.name}_govkit_analyst"
    base = _rows(seeded.url, f"SELECT {n['id']}, {n['email']}, {n['phone']} FROM {n['customer']} "
                             f"ORDER BY {n['id']}")
    mask = OperatorContext(None)
    first = Mask(MaskParams(keep_first=1), mask)
    last4 = Mask(MaskParams(keep_last=4), mask)
    for short in ("analyst", "bi"):
        url = seeded.login_url(short)
        seen = _rows(url, f"SELECT {n['id']}, {n['email']}, {n['phone']} FROM {views}.{n['customer']} "
                          f"ORDER BY {n['id']}")
        assert len(seen) == len(base) == 59
        for (key, email, phone), (_, got_email, got_phone) in zip(base, seen, strict=True):
            assert got_email == first.apply(email), key
            assert got_email != email, key
            assert got_phone == (None if phone is None else last4.apply(phone)), key
        # pseudonyms are not computed in SQL and locations are denied: those columns are not in the view
        assert _missing_column(url, f"SELECT {n['first']} FROM {views}.{n['customer']}")
        assert _missing_column(url, f"SELECT {n['address']} FROM {views}.{n['customer']}")
        assert _refused(url, f"SELECT {n['email']} FROM {n['customer']}")
        assert _refused(url, f"SELECT {n['phone']} FROM {n['customer']}")
        assert _refused(url, f"SELECT * FROM {n['customer']}")
    assert _rows(seeded.login_url("bi"), f"SELECT {n['company']} FROM {n['customer']} LIMIT 1")  # clear columns stay
    support_rows = _rows(seeded.login_url("support"), f"SELECT {n['email']} FROM {n['customer']} "
                                                      f"ORDER BY {n['id']}")
    assert [r[0] for r in support_rows] == [r[1] for r in base]  # support reads in clear, as its role allows

    # the run went through the change engine: begun and finished in the audit log, nothing unfinished
    log = cli(folder, "log", "show", "--format", "json")
    actions = [r["action"] for r in json.loads(log.stdout)["records"]]
    assert actions.count("access.apply.begun") == 2
    assert actions.count("access.apply") == 2
    assert cli(folder, "runs").exit_code == 0

    # bi no longer plays the analyst role: the next apply takes the role's views away from it
    config = folder / "govkit.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(f'"{seeded.user("bi")}" = "analyst"\n', ""),
                      encoding="utf-8")
    unmapped = cli(folder, "access", "apply", "shop", "--apply")
    assert unmapped.exit_code == 0, unmapped.output
    assert f"{_account(seeded, 'bi')} reads the views of role analyst but is not mapped to it" in unmapped.stdout
    assert _refused(seeded.login_url("bi"), f"SELECT {n['email']} FROM {views}.{n['customer']}")
    assert _rows(seeded.login_url("analyst"), f"SELECT {n['email']} FROM {views}.{n['customer']} LIMIT 1")

    # the audit report shows the last review: who reads what, no violation left but the unmapped user
    report = cli(folder, "report", "audit", "--format", "json")
    assert report.exit_code == 0, report.output
    section = json.loads(report.stdout)["access_review"]
    assert section["status"] == "reviewed"
    (source,) = section["sources"]
    assert source["assessed"] is True
    assert [(v["kind"], v["user"]) for v in source["violations"]] == [("unmapped-user", _account(seeded, "nomap"))]
    users = {u["user"]: u for u in source["users"]}
    assert users[analyst]["in_clear"] == 0
    assert users[analyst]["masked"] == 7  # email, phone, fax of both tables and the birth year, via its views

    if seeded.dialect == "mariadb":  # an account that may not read the grant tables: one line, exit 3
        config.write_text(config.read_text(encoding="utf-8").replace(seeded.url, seeded.login_url("nomap")),
                          encoding="utf-8")
        refused = cli(folder, "access", "review", "shop")
        assert refused.exit_code == 3
        assert "cannot read the privileges (the account needs SELECT on mysql.user" in refused.output
        assert seeded.passwords["nomap"] not in refused.output


def _grantee(seeded: Seeded, short: str) -> str:
    return seeded.user(short) if seeded.dialect == "postgresql" else f"'{seeded.user(short)}'@'%'"


def _exec_admin(seeded: Seeded, statement: str) -> None:
    engine = sa.create_engine(seeded.url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            cursor = conn.connection.cursor()
            cursor.execute(statement)
            cursor.close()
    finally:
        engine.dispose()


def _missing_column(url: str, sql: str) -> bool:
    try:
        _rows(url, sql)
    except sa.exc.DBAPIError as exc:
        text = str(exc).lower()
        return "column" in text and ("does not exist" in text or "unknown" in text)
    return False
