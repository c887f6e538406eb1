"""What a table's rows are, and what that means for its columns' verdicts.

A column verdict alone can't tell whose address it is: an ``address`` column holds a
person's address in ``customers`` and a company's in ``offices``; a ``city`` column in a
``city`` table is a list of the world's cities and describes no one. So govkit also gives
each table a small, explainable *meaning*, from its name and its columns:

- ``place lookup``: the table is named after a kind of place (``city``, ``country``,
  ``region``, ``territories``). Its rows are reference data; its LOCATION verdicts are
  dropped.
- ``organisation``: the table is named after an organisation (``offices``, ``shippers``,
  ``suppliers``, ``vendor``, ``company``, ``branch``, ``warehouse``). When no column names a
  person (``contact_name``, ``first_name``: a PERSON name hint of 0.8 or more), its
  addresses, phone numbers and web sites are the organisation's and are dropped. When a
  column names a contact person, the address and phone are that person's work contact data
  (personal data under GDPR) and stay; the web site is still the organisation's.
- ``names no person``: a table that is not about people (``orders``, ``hotels``) has a name
  column (``ShipName``, ``CompanyName``, ``name``) that was judged *not* to hold people's
  names, and no column holds them. The row names an organisation or a thing, so its
  addresses and phone numbers are not a person's and are dropped. This one is decided after
  the columns, from their verdicts.
- ``other`` (people, events, anything else): verdicts are left as they are.

Only the table name and column names are used, so the meaning is the same in a sampled and
a full scan, and ``govkit explain`` shows it (``profile.table_meaning``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from govkit.detect.names import about_people, hints_for, tokens

_PLACE_TABLES = frozenset({
    "city", "cities", "country", "countries", "region", "regions", "territory", "territories",
    "state", "states", "province", "provinces", "district", "districts", "continent",
    "continents", "zone", "zones", "ville", "villes", "pays", "stadt", "staedte", "land", "laender",
    "ciudad", "ciudades", "pais", "paises", "cidade", "cidades",
})
_ORGANISATION_TABLES = frozenset({
    "office", "offices", "shipper", "shippers", "supplier", "suppliers", "vendor", "vendors",
    "company", "companies", "branch", "branches", "warehouse", "warehouses", "carrier",
    "carriers", "manufacturer", "manufacturers", "agency", "agencies", "organisation",
    "organisations", "organization", "organizations", "firm", "firms", "merchant", "merchants",
    "store", "stores", "lieferant", "lieferanten", "fournisseur", "fournisseurs", "proveedor",
    "proveedores", "fornecedor", "fornecedores", "filiale", "filialen", "sucursal",
})
#: What an organisation's row carries about the organisation itself.
_ORGANISATION_CONTACT = frozenset({"LOCATION", "PHONE_NUMBER", "URL"})
#: Prefixes of table names, and file extensions (a file's "table" is its name).
_FILLER = re.compile(r"^(?:tbl|tb|t|dim|ref|lkp|lookup|the|csv|tsv|txt|json|jsonl|ndjson|xlsx|xls|parquet|gz)$")


@dataclass(frozen=True, slots=True)
class TableMeaning:
    kind: str  # "place lookup", "organisation", "organisation with contact person", "other"
    reason: str

    def drops(self, entity: str) -> bool:
        """Whether a verdict of ``entity`` in this table describes no person."""
        if self.kind == "place lookup":
            return entity == "LOCATION"
        if self.kind in ("organisation", "names no person"):
            return entity in _ORGANISATION_CONTACT
        if self.kind == "organisation with contact person":
            return entity == "URL"
        return False


OTHER = TableMeaning("other", "")


def table_meaning(table: str, columns: Sequence[str]) -> TableMeaning:
    """The meaning of ``table`` (qualified or not) with these column names."""
    words = [t for t in tokens(_short_name(table)) if not _FILLER.match(t)]
    if not words:
        return OTHER
    head = words[-1]  # "customer_address" is an address, "sales_region" a region
    if head in _PLACE_TABLES:
        return TableMeaning(
            "place lookup", f"the table {table!r} is a list of places (reference data), not of people"
        )
    if head in _ORGANISATION_TABLES:
        person = next(
            (c for c in columns if any(h.entity_type == "PERSON" and h.effective_strength >= 0.8
                                       for h in hints_for(c))),
            None,
        )
        if person is None:
            return TableMeaning(
                "organisation",
                f"the rows of {table!r} are organisations and no column names a person:"
                " their address, phone and web site are the organisation's",
            )
        return TableMeaning(
            "organisation with contact person",
            f"the rows of {table!r} are organisations with a contact person ({person!r}):"
            " address and phone are that person's work contact data, the web site is the organisation's",
        )
    return OTHER


_EXTENSIONS = re.compile(r"(?:\.(?:csv|tsv|txt|json|jsonl|ndjson|xlsx|xls|parquet|gz|bz2|zst))+$", re.IGNORECASE)


def _short_name(table: str) -> str:
    """``main.offices`` -> ``offices``; ``exports/offices.csv.gz`` -> ``offices``."""
    return _EXTENSIONS.sub("", table.replace("\\", "/").split("/")[-1]).split(".")[-1]


_NAME_TERMS = frozenset({"name", "nom", "naam", "nombre", "nome"})


def names_no_person(table: str, columns: Sequence[str], persons: Sequence[str]) -> TableMeaning:
    """``names no person`` when a name column of a table not about people holds no person's
    names (``persons``: the columns judged PERSON), else ``other``."""
    if persons or about_people(table):
        return OTHER
    named = next(
        (c for c in columns if any(h.entity_type == "PERSON" and h.term in _NAME_TERMS for h in hints_for(c))), None
    )
    if named is None:
        return OTHER
    return TableMeaning(
        "names no person",
        f"the rows of {table!r} are named by {named!r}, which holds no person's names, and no column does:"
        " their addresses and phones are an organisation's",
    )
