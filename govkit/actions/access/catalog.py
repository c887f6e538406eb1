"""The privileges a database really grants, read from its catalog, in one shape for every dialect.

PostgreSQL: ``pg_roles`` (superuser, BYPASSRLS, login, INHERIT), ``pg_auth_members`` (who
is a member of whom; PostgreSQL 16's per-membership ``inherit_option`` when present),
``pg_class.relacl`` and ``pg_attribute.attacl`` exploded with ``aclexplode`` (table and column
SELECT, PUBLIC included; a NULL ACL is the owner's default, ``acldefault``),
``pg_namespace.nspacl`` (USAGE: without it a table grant reads nothing), ``pg_default_acl``
(what future tables will grant) and ``pg_policies`` (row-level security).

MariaDB/MySQL: ``mysql.user`` (accounts, roles, global SELECT, default role),
``mysql.roles_mapping`` (roles granted to users and to roles), ``mysql.db`` (database-level
SELECT; its ``Db`` may be a LIKE pattern), ``mysql.tables_priv`` and ``mysql.columns_priv``.
``PUBLIC`` (MariaDB 10.11+) appears there as a grantee like any other.

Only ``SELECT`` is read: the question is who can *read* personal data. The catalog holds
names of roles, tables and columns, never a row of data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

PUBLIC = "PUBLIC"


@dataclass(slots=True)
class Principal:
    """A database role or user. ``admin`` says why it reads everything (superuser, global SELECT)."""

    name: str
    login: bool
    is_role: bool = False
    admin: str | None = None
    bypassrls: bool = False
    inherits: bool = True
    #: role name -> "inherited" (its privileges apply at once) or "set-role" (after SET ROLE)
    member_of: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class Grant:
    """SELECT on a table (``column`` None), on one column, or on every table of a schema
    (``table`` None: MariaDB's database-level grant; ``schema`` may then be a LIKE pattern)."""

    grantee: str
    schema: str
    table: str | None
    column: str | None = None


@dataclass(slots=True)
class Catalog:
    dialect: str
    database: str
    principals: dict[str, Principal] = field(default_factory=dict)
    grants: list[Grant] = field(default_factory=list)
    #: PostgreSQL: schema -> grantees with USAGE (owner included); None: the dialect has no such gate
    usage: dict[str, set[str]] | None = None
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    #: relation kind by (schema, table): "table" or "view"
    kinds: dict[tuple[str, str], str] = field(default_factory=dict)
    #: columns of views, by (schema, view); of every relation, in table order
    view_columns: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    columns: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    default_privileges: list[dict[str, Any]] = field(default_factory=list)
    row_security: list[dict[str, Any]] = field(default_factory=list)
    _index: dict[str, list[Grant]] | None = field(default=None, repr=False)
    _indexed: int = field(default=-1, repr=False)

    # -- who is who ---------------------------------------------------------------------------

    def closure(self, name: str) -> dict[str, str]:
        """Every role ``name`` can read through, with how: "self", "inherited", "set-role"
        (PostgreSQL NOINHERIT or a non-default MariaDB role: usable after SET ROLE)."""
        found: dict[str, str] = {name: "self"}
        frontier = [name]
        while frontier:
            current = frontier.pop()
            principal = self.principals.get(current)
            if principal is None:
                continue
            for role, how in principal.member_of.items():
                mode = "inherited" if found[current] in ("self", "inherited") and how == "inherited" else "set-role"
                if role not in found or (found[role] == "set-role" and mode == "inherited"):
                    found[role] = mode
                    frontier.append(role)
        found.setdefault(PUBLIC, "inherited")
        return found

    def can_read(self, name: str, schema: str, table: str, column: str) -> str | None:
        """How ``name`` can SELECT ``schema.table.column`` (a sentence), or None when it cannot."""
        found = self.read_path(name, schema, table, column)
        if found is None:
            return None
        role, how, what = found
        if role == "":
            return what
        if role == PUBLIC:
            return f"{what}, granted to PUBLIC"
        if role == name:
            return f"{what}, granted to it"
        return f"{what}, granted to role {role}" + (" (after SET ROLE)" if how == "set-role" else "")

    def read_path(self, name: str, schema: str, table: str, column: str) -> tuple[str, str, str] | None:
        """(grantee, how it applies, what it grants) of the most direct way ``name`` reads the
        column; the grantee is "" for an administrator (superuser, global SELECT)."""
        principal = self.principals.get(name)
        if principal is not None and principal.admin:
            return "", "self", principal.admin
        roles = self.closure(name)
        if self.dialect == "postgresql":
            # a predefined role that reads every table without any ACL entry (PostgreSQL 14+)
            how = roles.get("pg_read_all_data")
            if how is not None:
                return "", how, "member of pg_read_all_data (reads every table)" + (
                    " after SET ROLE" if how == "set-role" else "")
        else:  # MariaDB: a role's global privileges come with the role
            for role, how in roles.items():
                granted = self.principals.get(role)
                if role != name and granted is not None and granted.admin:
                    return "", how, f"{granted.admin} through role {role}"
        if self.usage is not None and not any(r in self.usage.get(schema, set()) for r in roles):
            return None  # no USAGE on the schema: a table grant reads nothing
        owner = self.owners.get((schema, table))
        paths = []
        for role, how in roles.items():
            if role == owner:
                paths.append((role, how, "owner of the table"))
            for grant in self._grants_of(role, schema, table):
                if grant.column is None or grant.column.lower() == column.lower():
                    what = ("SELECT on every table of " + grant.schema if grant.table is None
                            else "SELECT on the table" if grant.column is None else f"SELECT ({grant.column})")
                    paths.append((role, how, what))
        if not paths:
            return None
        rank = {"self": 0, "inherited": 1, "set-role": 2}
        return min(paths, key=lambda p: (rank[p[1]], p[0] != name, p[0] == PUBLIC))

    def _grants_of(self, role: str, schema: str, table: str) -> Iterable[Grant]:
        for grant in self._by_grantee.get(role, ()):
            if grant.table is None:
                if _like(grant.schema, schema):
                    yield grant
            elif grant.schema == schema and grant.table.lower() == table.lower():
                yield grant

    @property
    def _by_grantee(self) -> dict[str, list[Grant]]:
        if self._index is None or self._indexed != len(self.grants):
            self._index = {}
            for grant in self.grants:
                self._index.setdefault(grant.grantee, []).append(grant)
            self._indexed = len(self.grants)
        return self._index

    def grants_on(self, schema: str, table: str) -> list[Grant]:
        return [g for g in self.grants if g.table is not None and g.schema == schema
                and g.table.lower() == table.lower()]


def _like(pattern: str, name: str) -> bool:
    """MariaDB's ``mysql.db.Db``: a LIKE pattern (``%``, ``_``; ``\\_`` is a literal underscore)."""
    parts, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.fullmatch("".join(parts), name) is not None


# -- PostgreSQL ----------------------------------------------------------------------------------

_PG_SYSTEM = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%%'"


def read_postgres(conn: sa.Connection, database: str) -> Catalog:
    catalog = Catalog("postgresql", database, usage={})

    def rows(sql: str) -> list[Any]:
        return list(conn.exec_driver_sql(sql).all())

    for name, superuser, bypass, login, inherit in rows(
            "SELECT rolname, rolsuper, rolbypassrls, rolcanlogin, rolinherit FROM pg_roles"):
        catalog.principals[name] = Principal(name, bool(login), is_role=not login,
                                             admin="superuser" if superuser else None, bypassrls=bool(bypass),
                                             inherits=bool(inherit))
    has_option = bool(conn.exec_driver_sql(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'pg_catalog' "
        "AND table_name = 'pg_auth_members' AND column_name = 'inherit_option'").scalar())
    option = "am.inherit_option" if has_option else "NULL"
    for member, role, inherit_option in rows(
            f"SELECT m.rolname, g.rolname, {option} FROM pg_auth_members am "
            "JOIN pg_roles m ON m.oid = am.member JOIN pg_roles g ON g.oid = am.roleid"):
        principal = catalog.principals.get(member)
        if principal is None:
            continue
        inherited = bool(inherit_option) if inherit_option is not None else principal.inherits
        principal.member_of[role] = "inherited" if inherited else "set-role"
    grantee = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END"
    for schema, table, kind, owner, rls, forced in rows(
            "SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relrowsecurity, "
            "c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_PG_SYSTEM}"):
        catalog.owners[(schema, table)] = owner
        catalog.kinds[(schema, table)] = "view" if kind in ("v", "m") else "table"
        if rls:
            catalog.row_security.append({"schema": schema, "table": table, "enabled": True, "forced": bool(forced),
                                         "policies": []})
    for schema, table, who in rows(
            f"SELECT n.nspname, c.relname, {grantee} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
            "aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a "
            f"WHERE a.privilege_type = 'SELECT' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_PG_SYSTEM}"):
        catalog.grants.append(Grant(who, schema, table))
    for schema, table, column, who in rows(
            f"SELECT n.nspname, c.relname, att.attname, {grantee} FROM pg_attribute att "
            "JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace, "
            "aclexplode(att.attacl) a WHERE att.attacl IS NOT NULL AND att.attnum > 0 AND NOT att.attisdropped "
            f"AND a.privilege_type = 'SELECT' AND {_PG_SYSTEM}"):
        catalog.grants.append(Grant(who, schema, table, column))
    assert catalog.usage is not None
    for schema, who in rows(
            f"SELECT n.nspname, {grantee} FROM pg_namespace n, "
            "aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a "
            f"WHERE a.privilege_type = 'USAGE' AND {_PG_SYSTEM}"):
        catalog.usage.setdefault(schema, set()).add(who)
    for owner, schema, who in rows(
            f"SELECT pg_get_userbyid(d.defaclrole), n.nspname, {grantee} FROM pg_default_acl d "
            "LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a "
            "WHERE d.defaclobjtype = 'r' AND a.privilege_type = 'SELECT'"):
        catalog.default_privileges.append({"creator": owner, "schema": schema, "grantee": who,
                                           "privilege": "SELECT", "on": "tables created from now on"})
    by_table = {(r["schema"], r["table"]): r for r in catalog.row_security}
    for schema, table, name, permissive, roles, command in rows(
            "SELECT schemaname, tablename, policyname, permissive, roles::text, cmd FROM pg_policies"):
        entry = by_table.get((schema, table))
        if entry is None:  # policies on a table whose RLS is off do nothing: say so
            entry = {"schema": schema, "table": table, "enabled": False, "forced": False, "policies": []}
            catalog.row_security.append(entry)
            by_table[(schema, table)] = entry
        entry["policies"].append({"name": name, "permissive": permissive, "roles": roles, "command": command})
    for schema, view, column in rows(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "ORDER BY table_schema, table_name, ordinal_position"):
        catalog.columns.setdefault((schema, view), []).append(column)
        if catalog.kinds.get((schema, view)) == "view":
            catalog.view_columns.setdefault((schema, view), []).append(column)
    return catalog


# -- MariaDB / MySQL -----------------------------------------------------------------------------


def account(user: str, host: str) -> str:
    """``user@host`` for an account; a role (or PUBLIC) has no host and is its bare name."""
    return f"{user}@{host}" if host else user


def read_mysql(conn: sa.Connection, database: str) -> Catalog:
    catalog = Catalog("mysql", database)

    def rows(sql: str) -> list[Any]:
        return list(conn.exec_driver_sql(sql).all())

    columns = {r[0].lower() for r in rows("SHOW COLUMNS FROM mysql.user")}
    role_column = "is_role" if "is_role" in columns else "'N'"
    default_column = "default_role" if "default_role" in columns else "''"
    for user, host, is_role, default_role, select in rows(
            f"SELECT User, Host, {role_column}, {default_column}, Select_priv FROM mysql.user"):
        name = account(user, host)
        role = str(is_role).upper() == "Y"
        principal = Principal(name, login=not role, is_role=role,
                              admin="SELECT on every database (global privilege)" if str(select).upper() == "Y"
                              else None)
        if default_role:
            principal.member_of[str(default_role)] = "inherited"
        catalog.principals[name] = principal
    catalog.principals.setdefault(PUBLIC, Principal(PUBLIC, login=False, is_role=True))
    try:
        mapping = rows("SELECT Host, User, Role FROM mysql.roles_mapping")
    except sa.exc.DBAPIError:
        mapping = []  # MySQL keeps roles elsewhere (mysql.role_edges); no roles read
    for host, user, role in mapping:
        grantee = catalog.principals.get(account(user, host))
        if grantee is not None:
            # a role granted to a role is active with it; a user's non-default role after SET ROLE
            grantee.member_of.setdefault(role, "inherited" if grantee.is_role else "set-role")
    for host, pattern, user in rows("SELECT Host, Db, User FROM mysql.db WHERE Select_priv = 'Y'"):
        catalog.grants.append(Grant(account(user, host), pattern, None))
    for host, schema, user, table in rows(
            "SELECT Host, Db, User, Table_name FROM mysql.tables_priv WHERE FIND_IN_SET('Select', Table_priv) > 0"):
        catalog.grants.append(Grant(account(user, host), schema, table))
    for host, schema, user, table, column in rows(
            "SELECT Host, Db, User, Table_name, Column_name FROM mysql.columns_priv "
            "WHERE FIND_IN_SET('Select', Column_priv) > 0"):
        catalog.grants.append(Grant(account(user, host), schema, table, column))
    for schema, table, kind in rows(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"):
        catalog.kinds[(schema, table)] = "view" if kind == "VIEW" else "table"
    for schema, table, column in rows(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "
            "ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"):
        catalog.columns.setdefault((schema, table), []).append(column)
        if catalog.kinds.get((schema, table)) == "view":
            catalog.view_columns.setdefault((schema, table), []).append(column)
    return catalog


#: What the account govkit connects as must be able to read, by dialect (said when it cannot).
NEEDS = {
    "postgresql": "any account can read pg_catalog; check the connection",
    "mysql": "the account needs SELECT on mysql.user, mysql.db, mysql.tables_priv, mysql.columns_priv and "
             "mysql.roles_mapping",
}


def read_catalog(source: Any) -> Catalog:
    """The catalog of ``source`` (a :class:`~govkit.sources.database.DatabaseSource` on
    PostgreSQL or MariaDB/MySQL); a catalog it may not read is a one-line error saying what
    the account needs."""
    from govkit.actions.access.sql import family

    kind = family(source.engine.dialect.name)
    try:
        with source.engine.connect() as conn:
            if kind == "postgresql":
                database = str(conn.exec_driver_sql("SELECT current_database()").scalar())
                return read_postgres(conn, database)
            database = str(conn.exec_driver_sql("SELECT DATABASE()").scalar())
            return read_mysql(conn, database)
    except sa.exc.SQLAlchemyError as exc:
        raise source.error(exc, f"cannot read the privileges ({NEEDS.get(kind, kind)})") from None
