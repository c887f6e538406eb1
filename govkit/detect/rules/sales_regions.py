"""``sales-regions``: "Western Europe" and "British Isles" are sales regions, not addresses."""

from __future__ import annotations

import re

from govkit.detect.rules.base import ColumnFacts, ColumnRule, register

#: Words of sales regions and areas that are not part of a postal address.
REGION_WORDS = frozenset({
    "north", "south", "east", "west", "northern", "southern", "eastern", "western", "central",
    "europe", "america", "americas", "asia", "africa", "oceania", "isles", "emea", "apac",
    "latam", "nordic", "nordics", "scandinavia", "pacific", "mediterranean", "benelux", "dach",
    "midwest", "northeast", "northwest", "southeast", "southwest", "international", "global",
})


@register
class SalesRegions(ColumnRule):
    """A ``Region`` column of ``Western Europe``, ``British Isles``, ``North America`` reads as
    places to the NER model, but a continent-sized area locates no one: it is how a business
    groups its customers. Half the distinct values made of such words settles it."""

    id = "sales-regions"
    summary = "most values are sales regions or continents (Western Europe, EMEA): they locate no one"
    stages = frozenset({"name", "ner"})
    entities = frozenset({"LOCATION"})

    def check(self, entity: str, facts: ColumnFacts, limit: int = 200) -> str | None:
        distinct = list(facts.texts)[:limit]
        if not distinct:
            return None
        regions = sum(1 for v in distinct if any(t in REGION_WORDS for t in re.findall(r"[^\W\d_]+", v.lower())))
        if regions / len(distinct) >= 0.5:
            return f"{regions} of {len(distinct)} distinct values are sales regions or areas"
        return None
