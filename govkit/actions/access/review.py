"""``govkit access review SOURCE``: who can really read what, against what the policy allows.

The privileges come from the database's own catalog (:mod:`.catalog`); the policy's side
from the role decisions of :mod:`.show`; the bridge is ``[access.users]`` in govkit.toml
(database user -> policy role, per source in ``sources.NAME.access_users``). For every
database user and every personal field of the inventory, the review asks the catalog
whether (and through which grant) the user can SELECT the column, and reports:

``role-violation`` (HIGH)
    a mapped user can read in clear a field its policy role may only see masked, or not at
    all; the path names the grant (direct, through a role, through PUBLIC, superuser);
``public-grant`` (HIGH)
    PUBLIC can read a personal field in clear: every role of the server, mapped or not;
``unmapped-user`` (MEDIUM)
    a user with no policy role can read personal data in clear (one finding per user);
``default-privileges`` (MEDIUM for PUBLIC or an unmapped grantee, else LOW)
    tables created from now on will be readable by the grantee (PostgreSQL);
``unknown-user`` (LOW)
    ``[access.users]`` names a user the server does not have (a typo reviews nothing);
``administrator`` (LOW)
    a superuser or an account with SELECT on every database: it reads everything whatever
    the grants say, so grants cannot fix it (keep such accounts few, and map them to a role
    that may read in clear, e.g. ``dpo``). A mapped administrator whose role may not read
    everything is a ``role-violation`` that ``apply`` cannot fix.

PUBLIC is reported once, not expanded to every role of the server (on a shared server that
would list thousands of unrelated roles). Row-level security policies are listed as they
are (PostgreSQL); the policy format has no row rules, so none is required or judged.

SQLite has no users and no privileges: the review says "not assessed", never "no violation".
The result is stored in ``.govkit/access/`` (0600) for the audit report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govkit.actions.access.catalog import PUBLIC, Catalog
from govkit.actions.access.show import FieldAccess, role_access, source_inventory
from govkit.detect.entities import Severity
from govkit.errors import ConfigError, UsageError

#: Where the last review of each source is kept (read by the audit report).
REVIEW_DIR = "access"
#: The prefix of the schemas (PostgreSQL) or databases (MariaDB) holding the masking views.
VIEW_PREFIX = "govkit_"


@dataclass(slots=True)
class Finding:
    kind: str
    severity: Severity
    user: str | None
    role: str | None
    asset: str | None
    field: str | None
    message: str
    via: str | None = None
    rule: str | None = None
    fix: str = ""
    #: role-violation: what the policy allows the role ("masked" or "none")
    allowed: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__slots__}
        data["severity"] = self.severity.name
        return data


@dataclass(slots=True)
class UserAccess:
    user: str
    role: str | None
    login: bool
    admin: str | None
    bypassrls: bool
    member_of: dict[str, str]
    clear: list[str] = field(default_factory=list)
    masked: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class Review:
    source: str
    dialect: str
    reviewed_at: str
    assessed: bool
    reason: str = ""
    database: str | None = None
    personal_fields: int = 0
    users: list[UserAccess] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    row_security: list[dict[str, Any]] = field(default_factory=list)
    default_privileges: list[dict[str, Any]] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.kind in ("role-violation", "public-grant", "unmapped-user")]

    def at_or_above(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity >= severity]

    def counts(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for finding in self.findings:
            kinds[finding.kind] = kinds.get(finding.kind, 0) + 1
        return {"users": len(self.users), "personal_fields": self.personal_fields, "findings": len(self.findings),
                "violations": len(self.violations), **kinds}

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "dialect": self.dialect, "database": self.database,
            "reviewed_at": self.reviewed_at, "assessed": self.assessed, "reason": self.reason,
            "counts": self.counts(), "mapping": self.mapping, "users": [u.to_dict() for u in self.users],
            "findings": [f.to_dict() for f in self.findings], "row_security": self.row_security,
            "default_privileges": self.default_privileges,
        }


def split_asset(asset: str, default_schema: str) -> tuple[str, str]:
    schema, dot, table = asset.rpartition(".")
    return (schema if dot else default_schema), table


def view_schema(dialect: str, database: str, role: str) -> str:
    """The schema (PostgreSQL) or database (MariaDB: one per source database) of ``role``'s views."""
    from govkit.actions.access.sql import family

    name = VIEW_PREFIX + role if family(dialect) == "postgresql" else f"{database}_{VIEW_PREFIX}{role}"
    limit = 63 if family(dialect) == "postgresql" else 64
    if len(name) > limit:
        raise UsageError(f"the view schema {name!r} for role {role!r} is longer than {limit} characters; "
                         "use a shorter role name")
    return name.lower() if family(dialect) == "postgresql" else name


def mapping_for(workspace: Any, source: str, policy: Any, catalog: Catalog | None = None) -> dict[str, str]:
    """``[access.users]`` for ``source``, each role checked against the policy."""
    mapping: dict[str, str] = dict(workspace.users_of(source))
    roles = policy.doc.access.roles
    for user, role in mapping.items():
        if role not in roles:
            known = ", ".join(sorted(roles)) or "none"
            raise ConfigError(f"{workspace.config_path}: access user {user!r} maps to role {role!r}, which the "
                              f"policy does not have (roles: {known})")
    return mapping


def role_of(mapping: dict[str, str], principal: str) -> str | None:
    """A user's policy role: ``user@host`` first, then the bare user name (MariaDB), then the name."""
    if principal in mapping:
        return mapping[principal]
    user, at, _ = principal.rpartition("@")
    return mapping.get(user) if at else None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def review_catalog(
    catalog: Catalog, source: str, policy: Any, mapping: dict[str, str], fields_by_role: dict[str, list[FieldAccess]],
    personal: Sequence[FieldAccess],
) -> Review:
    """The pure part: catalog x policy decisions -> findings (``personal``: the personal fields)."""
    from govkit.actions.access.sql import family

    default_schema = "public" if family(catalog.dialect) == "postgresql" else catalog.database
    review = Review(source, catalog.dialect, _now(), True, database=catalog.database,
                    personal_fields=len(personal), mapping=dict(mapping))
    review.row_security = list(catalog.row_security)
    review.default_privileges = list(catalog.default_privileges)
    decisions = {role: {(f.asset, f.field.lower()): f for f in found} for role, found in fields_by_role.items()}
    names = sorted(n for n, p in catalog.principals.items() if n != PUBLIC and (p.login or role_of(mapping, n)))
    for name in names:
        principal = catalog.principals[name]
        role = role_of(mapping, name)
        user = UserAccess(name, role, principal.login, principal.admin, principal.bypassrls, dict(principal.member_of))
        views = view_schema(catalog.dialect, catalog.database, role) if role else None
        own: list[str] = []  # read through its own grants, not PUBLIC's (reported once, below)
        for decision in personal:
            schema, table = split_asset(decision.asset, default_schema)
            address = f"{decision.asset}.{decision.field}"
            path = catalog.read_path(name, schema, table, decision.field)
            via = catalog.can_read(name, schema, table, decision.field)
            if via is None or path is None:
                if views and catalog.can_read(name, views, table, decision.field) and \
                        decision.field.lower() in {c.lower() for c in catalog.view_columns.get((views, table), [])}:
                    user.masked.append(address)
                continue
            user.clear.append(address)
            if path[0] != PUBLIC:
                own.append(address)
            if role is None:
                continue
            allowed = decisions[role][(decision.asset, decision.field.lower())]
            if allowed.read == "clear":
                continue
            wanted = "masked" if allowed.read == "masked" else "not at all"
            fix = ("grants cannot restrict an administrator: remove SUPERUSER / the global privilege, or map "
                   "the account to a role that may read in clear" if principal.admin else
                   f"'govkit access apply {source}' revokes it and grants the role's masking views")
            review.findings.append(Finding(
                "role-violation", Severity.HIGH, name, role, decision.asset, decision.field,
                f"{name} (role {role}) can read {address} in clear; the policy allows {wanted}",
                via, allowed.rule, fix, allowed.read))
        if principal.admin and principal.login:
            review.findings.append(Finding(
                "administrator", Severity.LOW, name, role, None, None,
                f"{name} reads every table ({principal.admin}){'' if role else '; it has no policy role'}",
                principal.admin, None, "keep administrator accounts few; map them in [access.users]"))
        elif role is None and principal.login and own:
            tables = sorted({a.rsplit(".", 1)[0] for a in own})
            review.findings.append(Finding(
                "unmapped-user", Severity.MEDIUM, name, None, None, None,
                f"{name} has no policy role and can read {len(own)} personal field(s) in clear "
                f"({', '.join(tables[:5])}{', ...' if len(tables) > 5 else ''})",
                None, None, "map it to a policy role in govkit.toml [access.users], or revoke its grants"))
        if own or user.masked or role is not None or principal.admin:
            review.users.append(user)
    for decision in personal:
        schema, table = split_asset(decision.asset, default_schema)
        via = catalog.can_read(PUBLIC, schema, table, decision.field)
        if via is not None:
            review.findings.append(Finding(
                "public-grant", Severity.HIGH, PUBLIC, None, decision.asset, decision.field,
                f"PUBLIC can read {decision.asset}.{decision.field} in clear: every role of the server, mapped or not",
                via, None, f"'govkit access apply {source}' revokes it"))
    personal_schemas = {split_asset(d.asset, default_schema)[0] for d in personal}
    for entry in catalog.default_privileges:
        if entry["schema"] not in (None, *personal_schemas):
            continue
        grantee = entry["grantee"]
        if grantee == entry["creator"]:
            continue
        unmapped = grantee == PUBLIC or role_of(mapping, grantee) is None
        where = f"schema {entry['schema']}" if entry["schema"] else "every schema"
        review.findings.append(Finding(
            "default-privileges", Severity.MEDIUM if unmapped else Severity.LOW, grantee, role_of(mapping, grantee),
            None, None, f"tables {entry['creator']} creates in {where} from now on will be readable by {grantee}",
            "ALTER DEFAULT PRIVILEGES", None,
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {entry['creator']} REVOKE SELECT ON TABLES FROM {grantee}"))
    for mapped, role in sorted(mapping.items()):
        if not any(role_of({mapped: role}, name) for name in catalog.principals):
            review.findings.append(Finding(
                "unknown-user", Severity.LOW, mapped, role, None, None,
                f"[access.users] maps {mapped!r} to role {role}, but the server has no such user or role",
                None, None, "fix the name in govkit.toml (MariaDB: user or user@host)"))
    review.findings.sort(key=lambda f: (-f.severity, f.kind, f.user or "", f.asset or "", f.field or ""))
    return review


def review_source(workspace: Any, source_name: str, policy: Any) -> Review:
    """Read the catalog of ``source_name`` and review it (SQLite: "not assessed")."""
    from govkit.actions.access.catalog import read_catalog
    from govkit.actions.access.sql import family
    from govkit.sources.database import DatabaseSource

    config = workspace.source(source_name)
    if config.kind != "database":
        return Review(source_name, "files", _now(), False,
                      "a folder of files has no database privileges; file permissions are not reviewed")
    assets, rows = source_inventory(workspace, source_name)
    with DatabaseSource(config.resolved_url()) as source:
        dialect = source.engine.dialect.name
        if family(dialect) not in ("postgresql", "mysql"):
            return Review(source_name, dialect, _now(), False,
                          f"{dialect} has no users or privileges: there is nothing to review")
        catalog = read_catalog(source)
    mapping = mapping_for(workspace, source_name, policy, catalog)
    assets = [a for a in assets if not _is_view_schema(a.name)]
    by_role = {role: role_access(policy, role, assets, rows).fields for role in sorted(set(mapping.values()))}
    any_role = next(iter(policy.doc.access.roles), None)
    if any_role is None:
        raise UsageError("the policy declares no access roles (access.roles): there is nothing to review against")
    personal = [f for f in role_access(policy, any_role, assets, rows).fields if f.personal]
    return review_catalog(catalog, source_name, policy, mapping, by_role, personal)


def _is_view_schema(asset: str) -> bool:
    schema = asset.rpartition(".")[0].lower()
    return schema.startswith(VIEW_PREFIX) or f"_{VIEW_PREFIX}" in schema


def store(state_dir: Path, review: Review) -> Path:
    from govkit.private import private_dir, write_private_atomic

    folder = state_dir / REVIEW_DIR
    private_dir(folder)
    path = folder / f"review-{_safe(review.source)}.json"
    write_private_atomic(path, json.dumps(review.to_dict(), indent=2, default=str).encode())
    return path


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def stored_reviews(state_dir: Path) -> list[dict[str, Any]]:
    """The last stored review of each source (for the audit report); [] when none ran."""
    folder = state_dir / REVIEW_DIR
    out = []
    for path in sorted(folder.glob("review-*.json")) if folder.is_dir() else []:
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a damaged file is no review
    return out
