"""The review's reading of a catalog, on hand-made catalogs: the paths the server tests do not seed."""

from __future__ import annotations

from govkit.actions.access.catalog import PUBLIC, Catalog, Grant, Principal, _like
from govkit.actions.access.review import review_catalog
from govkit.actions.access.show import FieldAccess


def _pg(**principals: Principal) -> Catalog:
    catalog = Catalog("postgresql", "shop", usage={"public": {PUBLIC}, "hidden": {"owner"}})
    catalog.principals = {"owner": Principal("owner", True), **principals}
    catalog.owners[("public", "customer")] = "owner"
    return catalog


def test_a_noinherit_membership_still_reads_after_set_role() -> None:
    catalog = _pg(group=Principal("group", False, is_role=True),
                  alice=Principal("alice", True, inherits=False, member_of={"group": "set-role"}))
    catalog.grants.append(Grant("group", "public", "customer"))
    assert catalog.can_read("alice", "public", "customer", "email") == \
        "SELECT on the table, granted to role group (after SET ROLE)"


def test_pg_read_all_data_reads_everything_without_any_acl() -> None:
    catalog = _pg(bob=Principal("bob", True, member_of={"pg_read_all_data": "inherited"}),
                  pg_read_all_data=Principal("pg_read_all_data", False, is_role=True))
    assert catalog.can_read("bob", "public", "customer", "email") == "member of pg_read_all_data (reads every table)"


def test_a_table_grant_without_schema_usage_reads_nothing() -> None:
    catalog = _pg(carol=Principal("carol", True))
    catalog.grants.append(Grant("carol", "hidden", "customer"))
    assert catalog.can_read("carol", "hidden", "customer", "email") is None
    catalog.usage = {"hidden": {"carol"}}
    assert catalog.can_read("carol", "hidden", "customer", "email") == "SELECT on the table, granted to it"


def test_mariadb_database_grants_match_like_patterns() -> None:
    assert _like("shop\\_%", "shop_eu")
    assert not _like("shop\\_%", "shopxeu")
    assert _like("sh_p", "shop")
    catalog = Catalog("mysql", "shop_eu")
    catalog.principals = {"dave@%": Principal("dave@%", True), PUBLIC: Principal(PUBLIC, False, is_role=True)}
    catalog.grants.append(Grant("dave@%", "shop\\_%", None))
    assert catalog.can_read("dave@%", "shop_eu", "Customer", "Email") == \
        "SELECT on every table of shop\\_%, granted to it"


def _field(asset: str, name: str, read: str) -> FieldAccess:
    return FieldAccess("db", "shop", asset, name, ["EMAIL_ADDRESS"], read, "mask" if read == "masked" else None,
                       {}, "policies/shop.yaml:3", f"role analyst: rule ({read})")


def test_default_privileges_and_unmapped_users_are_findings_public_only_reads_are_not() -> None:
    catalog = _pg(erin=Principal("erin", True), frank=Principal("frank", True))
    catalog.grants += [Grant("erin", "public", "customer", "email"), Grant(PUBLIC, "public", "customer", "phone")]
    catalog.default_privileges.append({"creator": "owner", "schema": "public", "grantee": PUBLIC,
                                       "privilege": "SELECT", "on": "tables created from now on"})
    personal = [_field("public.customer", "email", "masked"), _field("public.customer", "phone", "masked")]
    review = review_catalog(catalog, "shop", None, {"frank": "analyst", "franck": "analyst"},
                            {"analyst": personal}, personal)
    found = {(f.kind, f.user, f.field, f.severity.name) for f in review.findings}
    assert found == {
        ("public-grant", PUBLIC, "phone", "HIGH"),
        ("role-violation", "frank", "phone", "HIGH"),  # through PUBLIC: mapped users are judged per field
        ("unmapped-user", "erin", None, "MEDIUM"),  # its own grant on email; phone through PUBLIC is not its own
        ("default-privileges", PUBLIC, None, "MEDIUM"),
        ("unmapped-user", "owner", None, "MEDIUM"),  # the table's owner reads it all, and plays no role
        ("unknown-user", "franck", None, "LOW"),  # a typo in [access.users] is said, not silently ignored
    }
    assert {u.user for u in review.users} == {"erin", "frank", "owner"}  # not every login role PUBLIC reaches
