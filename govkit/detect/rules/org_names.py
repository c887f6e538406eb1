"""``org-names``: a column where a quarter of the values are organisations' names is no person's."""

from __future__ import annotations

import re
from collections import Counter

from govkit.detect.rules.base import ColumnFacts, ColumnRule, register

#: Words and suffixes that mark an organisation's name ("Mini Gifts Distributors Ltd.",
#: "Havel & Zbyszek Co", "REGAN BRADTKE AND SONS").
ORG_MARKERS = frozenset({
    "inc", "co", "corp", "corporation", "ltd", "llc", "llp", "plc", "gmbh", "ag", "kg", "sa",
    "sarl", "srl", "bv", "nv", "pty", "oy", "company", "companies",
    "limited", "group", "holdings", "enterprises", "industries", "imports", "exports",
    "distributors", "wholesale", "wholesalers", "trading", "traders", "stores", "store", "shop",
    "shopping", "gifts", "collectables", "collectibles", "supplies", "supply", "sons", "bros",
    "brothers", "partners", "associates", "network", "market", "markt", "supermarket",
    "supermercado", "restaurant", "cafe", "café", "bank", "foods", "services", "solutions",
    "systems", "international", "import", "export", "handel", "delikatessen", "comercio",
})
_ORG_SYMBOLS = re.compile(r"&|\.com\b|\+")
#: The share of organisation names from which the column is a list of organisations.
ORG_SHARE = 0.25


def org_share(texts: Counter[str], limit: int = 200) -> float:
    """Share of (up to ``limit``) distinct values that carry an organisation's marker."""
    distinct = list(texts)[:limit]
    if not distinct:
        return 0.0
    hits = sum(
        1 for v in distinct
        if _ORG_SYMBOLS.search(v) or any(t in ORG_MARKERS for t in re.findall(r"[^\W\d_]+", v.lower()))
    )
    return hits / len(distinct)


@register
class OrgNames(ColumnRule):
    """Company names read as people's names to the NER model and to a name-shape check
    ("Bradtke and Sons", "Havel & Zbyszek Co"), and a ``customerName`` column may hold firms.
    Not every firm carries a marker (``Alfreds Futterkiste``), so a quarter of the values
    carrying one (Ltd, GmbH, & Co, Sons, Imports...) marks the whole column as a list of
    organisations, however person-like the rest look."""

    id = "org-names"
    summary = "a quarter of the values carry an organisation's marker (Ltd, GmbH, & Co...): firms, not people"
    stages = frozenset({"name", "ner"})
    entities = frozenset({"PERSON"})

    def check(self, entity: str, facts: ColumnFacts) -> str | None:
        share = org_share(facts.texts)
        if share >= ORG_SHARE:
            return f"{share:.0%} of the distinct values are organisations' names"
        return None
