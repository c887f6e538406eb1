"""``names-no-person``: rows named by something other than a person carry no person's contact data."""

from __future__ import annotations

from govkit.detect.names import about_people, hints_for
from govkit.detect.rules.base import TableFacts, TableRule, register
from govkit.detect.tables import TableMeaning

_NAME_TERMS = frozenset({"name", "nom", "naam", "nombre", "nome"})


@register
class NamesNoPerson(TableRule):
    """``Orders.ShipName``, ``hotels.name``: a table that is not about people has a name column
    whose values were judged *not* to be people's names (the NER model read them as people
    less than half the time), and no column holds people's names. The row names an
    organisation or a thing, so its addresses and phone numbers are not a person's and are
    dropped. Decided after the columns, from their verdicts, and only when no earlier table
    rule gave the table a meaning."""

    id = "names-no-person"
    summary = "the table's name column holds no person's names and no column does: its addresses are an organisation's"

    def meaning(self, facts: TableFacts) -> TableMeaning | None:
        if facts.persons or about_people(facts.table):
            return None
        named = next(
            (c for c in facts.unlike_people
             if any(h.entity_type == "PERSON" and h.term in _NAME_TERMS for h in hints_for(c))),
            None,
        )
        if named is None:
            return None
        return TableMeaning(
            "names no person",
            f"the rows of {facts.table!r} are named by {named!r}, which holds no person's names, and no column does:"
            " their addresses and phones are an organisation's",
        )
