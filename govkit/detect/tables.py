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

Only the table name and column names are used (and, for ``names no person``, the column
verdicts), so the meaning is the same in a sampled and a full scan, and ``govkit explain``
shows it (``profile.table_meaning``, and the rule that dropped a verdict).

Each meaning is decided by a named rule of the registry (govkit/detect/rules/:
``place-lookup``, ``organisation``, ``names-no-person``, tried in that order); this module
holds what they share.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from govkit.detect.names import tokens

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


def table_words(table: str) -> list[str]:
    """The words of a table's (or file's) short name, without prefixes like ``tbl``/``dim``."""
    return [t for t in tokens(_short_name(table)) if not _FILLER.match(t)]


def table_meaning(table: str, columns: Sequence[str]) -> TableMeaning:
    """The meaning of ``table`` (qualified or not) with these column names, from its name alone
    (rules ``place-lookup`` and ``organisation``)."""
    from govkit.detect.rules import REGISTRY, TableFacts

    facts = TableFacts(table, columns)
    for rule_id in ("place-lookup", "organisation"):
        meaning = REGISTRY.table_rule(rule_id).meaning(facts)
        if meaning is not None:
            return meaning
    return OTHER


_EXTENSIONS = re.compile(r"(?:\.(?:csv|tsv|txt|json|jsonl|ndjson|xlsx|xls|parquet|gz|bz2|zst))+$", re.IGNORECASE)


def _short_name(table: str) -> str:
    """``main.offices`` -> ``offices``; ``exports/offices.csv.gz`` -> ``offices``."""
    return _EXTENSIONS.sub("", table.replace("\\", "/").split("/")[-1]).split(".")[-1]


def names_no_person(table: str, columns: Sequence[str], persons: Sequence[str]) -> TableMeaning:
    """``names no person`` when a name column among ``columns`` holds no person's names
    (``persons``: the columns judged PERSON), else ``other`` (rule ``names-no-person``)."""
    from govkit.detect.rules import REGISTRY, TableFacts

    facts = TableFacts(table, columns, persons, unlike_people=columns)
    return REGISTRY.table_rule("names-no-person").meaning(facts) or OTHER
