"""``place-lookup``: a table named after a kind of place is reference data, not people's addresses."""

from __future__ import annotations

from govkit.detect.rules.base import TableFacts, TableRule, register
from govkit.detect.tables import TableMeaning, table_words

PLACE_TABLES = frozenset({
    "city", "cities", "country", "countries", "region", "regions", "territory", "territories",
    "state", "states", "province", "provinces", "district", "districts", "continent",
    "continents", "zone", "zones", "ville", "villes", "pays", "stadt", "staedte", "land", "laender",
    "ciudad", "ciudades", "pais", "paises", "cidade", "cidades",
})


@register
class PlaceLookup(TableRule):
    """``city.city``, ``country.country``, ``Territories.TerritoryDescription``: a list of the
    world's cities describes no person; a person's city is personal data only in the row that
    is about the person. The table's name decides (its last word: ``customer_address`` is an
    address table, ``sales_region`` a region list); its LOCATION verdicts are dropped."""

    id = "place-lookup"
    summary = "the table is a list of places (city, country, region): reference data, its places locate no one"

    def meaning(self, facts: TableFacts) -> TableMeaning | None:
        words = table_words(facts.table)
        if not words or words[-1] not in PLACE_TABLES:
            return None
        return TableMeaning(
            "place lookup", f"the table {facts.table!r} is a list of places (reference data), not of people"
        )
