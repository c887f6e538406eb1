"""``govkit access apply SOURCE``: the SQL that makes the database match the policy's roles.

The plan, made from a fresh review (:mod:`.review`) with nothing changed:

1. a helper schema (PostgreSQL ``govkit__fn``) or, per role, the role's view database
   (MariaDB) with the ``mask`` function of :mod:`.sql`;
2. per policy role that has mapped users, a schema (PostgreSQL ``govkit_<role>``) or a
   database (MariaDB ``<db>_govkit_<role>``) with one view per table holding personal data:
   clear columns as they are, masked ones through the operator's SQL form, denied ones (and
   masks SQL cannot compute without exposing a key) left out, with the reason in the plan;
3. ``GRANT`` of those views (and the schema) to the role's mapped users;
4. per grantee that reads a personal column it may not read in clear: the table-level
   ``SELECT`` revoked and ``SELECT`` granted again on the columns it may read in clear
   (column privileges), or the column grants revoked. The allowed columns of a grantee are
   its role's clear columns; for PUBLIC, the columns without personal data; for a group role
   without a mapping, those every mapped member may read in clear. Unmapped users,
   administrators (superusers, global SELECT) and table owners are not changed: the plan
   says so, and the next review still reports them.

Row-level security: the policy format has no row rules, so no RLS policy is written.

Execution goes through the change engine (``access.apply`` runs, resumable with ``govkit
runs resume``). PostgreSQL runs the whole plan in ONE transaction (one unit): it commits
entirely or not at all. MariaDB commits every DDL statement and GRANT/REVOKE on its own,
so each statement is one unit and every statement is idempotent (``CREATE OR REPLACE``,
``CREATE DATABASE IF NOT EXISTS``, GRANT; a REVOKE of a privilege already gone is taken as
done), which makes re-running a unit after a crash safe. A unit's before/after digest is
the access state the catalog shows (ACLs of the tables, the view definitions), not data.
After the units, a second review verifies that the violations the plan fixes are gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from govkit.actions.access.catalog import PUBLIC, Catalog
from govkit.actions.access.review import Review, mapping_for, role_of, split_asset, view_schema
from govkit.actions.access.show import FieldAccess, role_access, source_inventory
from govkit.actions.access.sql import expression, family, helper_statements, quote_ident, quote_literal
from govkit.errors import GovkitError, UsageError

KIND = "access.apply"
HELPER_SCHEMA = "govkit__fn"
#: MariaDB: "there is no such grant defined" (1141, 1147): a REVOKE already done is done.
_GONE = (1141, 1147, 1403)


@dataclass(slots=True)
class AccessPlan:
    source: str
    dialect: str
    database: str
    statements: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    denied: list[dict[str, str]] = field(default_factory=list)
    revokes: int = 0
    grants: int = 0
    #: the findings this plan fixes (kind, user, asset, field), checked after the run
    fixes: list[list[str | None]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def _grantee(dialect: str, name: str) -> str:
    if name == PUBLIC:
        return "PUBLIC"
    if family(dialect) == "mysql":
        user, at, host = name.rpartition("@")
        return f"{quote_literal(dialect, user)}@{quote_literal(dialect, host)}" if at else quote_ident(dialect, name)
    return quote_ident(dialect, name)


def build_plan(catalog: Catalog, review: Review, source: str, assets: list[Any], rows: list[Any], policy: Any,
               mapping: dict[str, str]) -> AccessPlan:
    """The statements (see the module docstring); nothing is executed."""
    dialect = catalog.dialect
    pg = family(dialect) == "postgresql"
    default_schema = "public" if pg else catalog.database

    def q(name: str) -> str:
        return quote_ident(dialect, name)

    plan = AccessPlan(source, dialect, catalog.database)
    users: dict[str, list[str]] = {}
    for name in sorted(catalog.principals):
        role = role_of(mapping, name)
        if role is not None and name != PUBLIC:
            users.setdefault(role, []).append(name)
    for user in mapping:
        if not any(role_of({user: mapping[user]}, n) for n in catalog.principals):
            plan.notes.append(f"[access.users] maps {user!r}, which is no user or role of this server: skipped")
    decisions: dict[str, dict[tuple[str, str], FieldAccess]] = {}
    for role in sorted(set(mapping.values())):
        decisions[role] = {(f.asset, f.field.lower()): f for f in role_access(policy, role, assets, rows).fields}
    personal_assets = sorted({r.asset for r in rows})
    columns_of = {a.name: _in_table_order(catalog, a, default_schema) for a in assets}
    personal_of = {a: {r.field.lower() for r in rows if r.asset == a} for a in personal_assets}

    # 1. helpers, 2. views, 3. grants of the views
    if pg and users:
        plan.statements.append(f"CREATE SCHEMA IF NOT EXISTS {q(HELPER_SCHEMA)}")
        plan.statements += helper_statements(dialect, q(HELPER_SCHEMA))
    for role, members in sorted(users.items()):
        schema = view_schema(dialect, catalog.database, role)
        helpers = q(HELPER_SCHEMA) if pg else q(schema)
        if pg:
            plan.statements.append(f"CREATE SCHEMA IF NOT EXISTS {q(schema)}")
        else:
            plan.statements.append(f"CREATE DATABASE IF NOT EXISTS {q(schema)} CHARACTER SET utf8mb4")
            plan.statements += helper_statements(dialect, q(schema))
        for asset in personal_assets:
            base_schema, table = split_asset(asset, default_schema)
            select = []
            for column, sql_type in columns_of.get(asset, []):
                decision = decisions[role].get((asset, column.lower()))
                read = decision.read if decision is not None else "clear"
                if read == "clear":
                    select.append(q(column))
                    continue
                if read == "none":
                    plan.denied.append({"role": role, "field": f"{asset}.{column}",
                                        "reason": f"the policy denies it ({decision.rule if decision else ''})"})
                    continue
                assert decision is not None
                masked = expression(dialect, decision.operator or "mask", decision.params, q(column),
                                    entity_type=decision.entity_types[0] if decision.entity_types else None,
                                    sql_type=sql_type, helpers=helpers)
                if masked.sql is None:
                    plan.denied.append({"role": role, "field": f"{asset}.{column}", "reason": masked.reason})
                    continue
                select.append(f"{masked.sql} AS {q(column)}")
            view = f"{q(schema)}.{q(table)}"
            if not select:
                plan.notes.append(f"role {role}: no column of {asset} is readable, so it gets no view")
                continue
            body = f"SELECT {', '.join(select)} FROM {q(base_schema)}.{q(table)}"
            if pg:
                plan.statements.append(f"DROP VIEW IF EXISTS {view}")
                plan.statements.append(f"CREATE VIEW {view} AS {body}")
            else:
                plan.statements.append(f"CREATE OR REPLACE SQL SECURITY DEFINER VIEW {view} AS {body}")
            plan.views.append(f"{schema}.{table}")
        # views an earlier apply made for tables that no longer hold personal data go
        made = {f"{schema}.{t}" for t in [split_asset(a, default_schema)[1] for a in personal_assets]}
        for (owner_schema, name), kind in sorted(catalog.kinds.items()):
            if owner_schema == schema and kind == "view" and f"{schema}.{name}" not in made:
                plan.statements.append(f"DROP VIEW IF EXISTS {q(schema)}.{q(name)}")
                plan.notes.append(f"{schema}.{name}: a view of an earlier apply whose table holds no personal "
                                  "data now: dropped")
        for member in members:
            grantee = _grantee(dialect, member)
            if pg:
                plan.statements.append(f"GRANT USAGE ON SCHEMA {q(schema)}, {q(HELPER_SCHEMA)} TO {grantee}")
                plan.statements.append(f"GRANT SELECT ON ALL TABLES IN SCHEMA {q(schema)} TO {grantee}")
                plan.grants += 2
            else:
                plan.statements.append(f"GRANT SELECT ON {q(schema)}.* TO {grantee}")
                plan.grants += 1
        # users who read this role's views but no longer play the role lose them
        for holder in sorted({g.grantee for g in catalog.grants if g.grantee not in members
                              and g.grantee != catalog.owners.get((schema, g.table or ""))
                              and not getattr(catalog.principals.get(g.grantee), "admin", None)
                              and g.schema == schema
                              and (g.table is None or catalog.kinds.get((schema, g.table)) == "view")}):
            grantee = _grantee(dialect, holder)
            plan.notes.append(f"{holder} reads the views of role {role} but is not mapped to it: revoked")
            if pg:
                plan.statements.append(f"REVOKE SELECT ON ALL TABLES IN SCHEMA {q(schema)} FROM {grantee}")
                plan.statements.append(f"REVOKE USAGE ON SCHEMA {q(schema)} FROM {grantee}")
            elif any(g.grantee == holder and g.table is None and g.schema == schema for g in catalog.grants):
                plan.statements.append(f"REVOKE SELECT ON {q(schema)}.* FROM {grantee}")
            plan.revokes += 1

    # 4. revokes on the base tables
    for asset in personal_assets:
        base_schema, table = split_asset(asset, default_schema)
        all_columns = [c for c, _ in columns_of.get(asset, [])]
        target = f"{q(base_schema)}.{q(table)}"
        holders = sorted({g.grantee for g in catalog.grants_on(base_schema, table)} |
                         {g.grantee for g in catalog.grants if g.table is None and _schema_grant(g, base_schema)})
        for holder in holders:
            allowed = _allowed(catalog, holder, asset, all_columns, personal_of[asset], decisions, mapping)
            if allowed is None:
                continue
            table_level = any(g.grantee == holder and g.column is None for g in catalog.grants_on(base_schema, table))
            schema_level = [g for g in catalog.grants if g.grantee == holder and g.table is None
                            and _schema_grant(g, base_schema)]
            column_level = {g.column for g in catalog.grants_on(base_schema, table)
                            if g.grantee == holder and g.column is not None}
            grantee = _grantee(dialect, holder)
            if set(all_columns) - set(allowed) and (table_level or schema_level):
                if schema_level:
                    plan.notes.append(f"{holder} has SELECT on every table of {base_schema}: that grant is replaced "
                                      "by grants per table")
                    plan.statements.append(f"REVOKE SELECT ON {q(base_schema)}.* FROM {grantee}")
                    for other in sorted({t for (s, t), k in catalog.kinds.items() if s == base_schema
                                         and k == "table" and f"{s}.{t}" != asset and t != asset
                                         and not _personal(t, personal_assets)}):
                        plan.statements.append(f"GRANT SELECT ON {q(base_schema)}.{q(other)} TO {grantee}")
                        plan.grants += 1
                if table_level:
                    plan.statements.append(f"REVOKE SELECT ON {target} FROM {grantee}")
                plan.revokes += 1
                if allowed:
                    plan.statements.append(
                        f"GRANT SELECT ({', '.join(q(c) for c in allowed)}) ON {target} TO {grantee}")
                    plan.grants += 1
            bad = sorted(c for c in column_level if c.lower() not in {a.lower() for a in allowed})
            if bad:
                plan.statements.append(f"REVOKE SELECT ({', '.join(q(c) for c in bad)}) ON {target} FROM {grantee}")
                plan.revokes += 1
    for finding in review.findings:
        unfixable = finding.kind == "role-violation" and (
            (catalog.principals.get(finding.user or "") is not None
             and catalog.principals[finding.user or ""].admin is not None)
            or (finding.via or "").startswith(("owner of the table", "member of pg_read_all_data"))
            or (" through role " in (finding.via or "") and "global privilege" in (finding.via or "")))
        if finding.kind in ("role-violation", "public-grant") and not unfixable:
            plan.fixes.append([finding.kind, finding.user, finding.asset, finding.field])
        elif finding.kind == "role-violation":
            plan.notes.append(f"{finding.user} reads {finding.asset}.{finding.field} as {finding.via}: grants on "
                              "the table cannot restrict that; not changed")
        elif finding.kind == "unmapped-user":
            plan.notes.append(f"{finding.user} has no policy role: not changed (map it in [access.users])")
        elif finding.kind == "default-privileges":
            plan.notes.append(f"default privileges: {finding.message}; not changed ({finding.fix})")
    if not users:
        plan.notes.append("no database user is mapped to a policy role ([access.users]): no view is made")
    plan.notes.append("row-level security: the policy has no row rules, so no RLS policy is written")
    for entry in plan.denied:
        plan.notes.append(f"role {entry['role']}: {entry['field']} left out of its view: {entry['reason']}")
    return plan


def _in_table_order(catalog: Catalog, asset: Any, default_schema: str) -> list[tuple[str, str]]:
    """The inventory's fields of ``asset`` (name, SQL type) in the table's own column order."""
    fields = [(str(f["name"]), str(f.get("sql_type") or "")) for f in asset.fields]
    order = {c.lower(): i for i, c in enumerate(catalog.columns.get(split_asset(asset.name, default_schema), []))}
    return sorted(fields, key=lambda f: order.get(f[0].lower(), len(order)))


def _personal(table: str, personal_assets: list[str]) -> bool:
    return any(a.rsplit(".", 1)[-1].lower() == table.lower() for a in personal_assets)


def _schema_grant(grant: Any, schema: str) -> bool:
    from govkit.actions.access.catalog import _like

    return _like(grant.schema, schema)


def _allowed(catalog: Catalog, holder: str, asset: str, columns: list[str], personal: set[str],
             decisions: dict[str, dict[tuple[str, str], FieldAccess]], mapping: dict[str, str]) -> list[str] | None:
    """The columns ``holder`` may read in clear, or None when apply leaves it alone."""
    principal = catalog.principals.get(holder)
    if principal is not None and principal.admin:
        return None
    owner = catalog.owners.get(split_asset(asset, "public" if family(catalog.dialect) == "postgresql"
                                           else catalog.database))
    if holder == owner:
        return None
    if holder == PUBLIC:
        return [c for c in columns if c.lower() not in personal]
    role = role_of(mapping, holder)
    if role is not None:
        return [c for c in columns if c.lower() not in personal
                or decisions[role][(asset, c.lower())].read == "clear"]
    if principal is None or principal.login:
        return None  # an unmapped user: reported, not changed
    members = [n for n, p in catalog.principals.items() if n != holder and holder in catalog.closure(n)
               and role_of(mapping, n) is not None]
    if not members:
        return None
    allowed = set(columns)
    for member in members:
        role = role_of(mapping, member)
        assert role is not None
        allowed &= {c for c in columns if c.lower() not in personal
                    or decisions[role][(asset, c.lower())].read == "clear"}
    return [c for c in columns if c in allowed]


# -- running it ----------------------------------------------------------------------------------


def plan_source(workspace: Any, source_name: str, policy: Any) -> tuple[AccessPlan, Review]:
    """Review ``source_name`` and plan the statements that fix it (nothing is changed)."""
    from govkit.actions.access.catalog import read_catalog
    from govkit.actions.access.review import _is_view_schema, review_catalog
    from govkit.sources.database import DatabaseSource

    config = workspace.source(source_name)
    if config.kind != "database":
        raise UsageError(f"source {source_name!r} is a folder of files: there are no database privileges to set")
    assets, rows = source_inventory(workspace, source_name)
    assets = [a for a in assets if not _is_view_schema(a.name)]
    rows = [r for r in rows if not _is_view_schema(r.asset)]
    with DatabaseSource(config.resolved_url()) as source:
        dialect = source.engine.dialect.name
        if family(dialect) not in ("postgresql", "mysql"):
            raise UsageError(f"{source_name} is {dialect}: it has no users or privileges, so there is nothing to "
                             "apply (use 'govkit access export' for role-appropriate copies)")
        catalog = read_catalog(source)
    mapping = mapping_for(workspace, source_name, policy, catalog)
    by_role = {role: role_access(policy, role, assets, rows).fields for role in sorted(set(mapping.values()))}
    first = next(iter(policy.doc.access.roles), None)
    if first is None:
        raise UsageError("the policy declares no access roles (access.roles): there is nothing to apply")
    personal = [f for f in role_access(policy, first, assets, rows).fields if f.personal]
    review = review_catalog(catalog, source_name, policy, mapping, by_role, personal)
    return build_plan(catalog, review, source_name, assets, rows, policy, mapping), review


def apply_plan(workspace: Any, plan: AccessPlan) -> dict[str, Any]:
    """Begin an ``access.apply`` run in the change engine, then execute it."""
    from govkit.change.run import ChangeRun
    from govkit.sources.database import redact

    url = workspace.source(plan.source).resolved_url()
    params = {"source": plan.source, "database": redact(url), "statements": len(plan.statements),
              "views": len(plan.views), "revokes": plan.revokes, "grants": plan.grants}
    with ChangeRun.begin(workspace.state_dir, KIND, redact(url), params, plan.to_dict(),
                         sources=[redact(url)]) as run:
        return execute(run, workspace, plan)


def resume_apply(run: Any, workspace: Any) -> dict[str, Any]:
    """Complete an interrupted ``access.apply`` run from its stored plan (``govkit runs resume``)."""
    return execute(run, workspace, AccessPlan(**run.plan()))


def execute(run: Any, workspace: Any, plan: AccessPlan) -> dict[str, Any]:
    """The units, a second review as verification, the "finished" audit record."""
    from govkit.policy.loader import active_policy
    from govkit.sources.database import create_engine

    engine = create_engine(workspace.source(plan.source).resolved_url())
    try:
        with run.failures_audited(KIND):
            done = run.phase_data("verified")
            if done is None:
                units = _units(plan)
                for key, statements in units:
                    run.db_unit(engine.connect, key, lambda conn: _state(conn, plan),
                                lambda conn, statements=statements: _run(conn, plan.dialect, statements))
                remaining = _remaining(workspace, plan, active_policy(workspace.root))
                done = {"remaining": remaining, "units": len(units)}
                run.phase("verified", done)
            remaining = done["remaining"]
            outcome = "ok" if not remaining else "verification-failed"
            run.audited(KIND, {"source": plan.source, "views": plan.views, "statements": len(plan.statements),
                               "verification": "passed" if not remaining else "failed",
                               "remaining": remaining[:20]},
                        {"statements": len(plan.statements), "views": len(plan.views), "revokes": plan.revokes,
                         "grants": plan.grants, "fixed": len(plan.fixes) - len(remaining),
                         "remaining": len(remaining)}, outcome=outcome)
        run.finish("failed" if remaining else "finished")
    finally:
        engine.dispose()
    return {"run_id": run.id, "units": done["units"], "remaining": remaining, "verified": not remaining}


def _units(plan: AccessPlan) -> list[tuple[str, list[str]]]:
    """PostgreSQL: one unit, one transaction. MariaDB: one unit per (auto-committing) statement."""
    if family(plan.dialect) == "postgresql":
        return [("all", list(plan.statements))] if plan.statements else []
    return [(f"stmt-{i:04d}", [s]) for i, s in enumerate(plan.statements)]


def _run(conn: sa.Connection, dialect: str, statements: list[str]) -> dict[str, Any]:
    cursor = conn.connection.cursor()  # the driver's own cursor: no bind-parameter parsing of ':' or '%'
    try:
        for statement in statements:
            try:
                cursor.execute(statement)
            except Exception as exc:
                code = getattr(exc, "args", (None,))[0]
                if family(dialect) == "mysql" and statement.startswith("REVOKE") and code in _GONE:
                    continue  # already revoked: a re-run unit after a crash
                raise GovkitError(f"access apply: the database refused a statement ({type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0][:200]}): {statement[:120]}") from None
    finally:
        cursor.close()
    return {"statements": len(statements)}


def _state(conn: sa.Connection, plan: AccessPlan) -> list[tuple[Any, ...]]:
    """The access state the plan changes, as rows (ACLs, view definitions): the units' digests."""
    if family(plan.dialect) == "postgresql":
        sql = ("SELECT n.nspname, c.relname, coalesce(c.relacl::text, ''), "
               "CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) ELSE '' END, "
               "coalesce((SELECT string_agg(a.attname || '=' || a.attacl::text, ',' ORDER BY a.attnum) "
               "FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL), '') "
               "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
               "WHERE c.relkind IN ('r', 'p', 'v') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
               "UNION ALL SELECT n.nspname, '', coalesce(n.nspacl::text, ''), '', '' FROM pg_namespace n "
               "WHERE n.nspname LIKE 'govkit\\_%' ORDER BY 1, 2")
    else:
        database = plan.database.replace("'", "''")
        sql = ("SELECT 't', Host, User, Db, Table_name, Table_priv, Column_priv FROM mysql.tables_priv "
               "UNION ALL SELECT 'c', Host, User, Db, Table_name, Column_name, Column_priv FROM mysql.columns_priv "
               "UNION ALL SELECT 'd', Host, User, Db, Select_priv, '', '' FROM mysql.db "
               "UNION ALL SELECT 'v', TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION, '', '', '' FROM "
               f"information_schema.VIEWS WHERE TABLE_SCHEMA LIKE '{database}\\_govkit\\_%' "
               "UNION ALL SELECT 'r', ROUTINE_SCHEMA, ROUTINE_NAME, '', '', '', '' FROM information_schema.ROUTINES "
               f"WHERE ROUTINE_SCHEMA LIKE '{database}\\_govkit\\_%' ORDER BY 1, 2, 3, 4, 5, 6")
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        return [tuple(str(v) for v in row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _remaining(workspace: Any, plan: AccessPlan, policy: Any) -> list[str]:
    """The findings the plan was to fix that a fresh review still finds."""
    from govkit.actions.access.review import review_source, store

    review = review_source(workspace, plan.source, policy)
    store(workspace.state_dir, review)
    now = {(f.kind, f.user, f.asset, f.field) for f in review.findings}
    return [f"{kind} {user} {asset}.{fld}" for kind, user, asset, fld in plan.fixes if (kind, user, asset, fld) in now]
