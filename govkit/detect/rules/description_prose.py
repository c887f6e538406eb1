"""``description-prose``: a description of a film or a product names characters, not data subjects."""

from __future__ import annotations

from govkit.detect.names import about_people, tokens
from govkit.detect.rules.base import ColumnFacts, ColumnRule, register

#: Column words for a description of the row's subject.
DESCRIPTION_WORDS = frozenset({
    "description", "descriptions", "desc", "descr", "plot", "synopsis", "summary", "overview",
    "abstract", "blurb", "beschreibung", "descripcion", "descrição", "descricao", "descrizione",
    "beschrijving", "描述", "简介", "说明",
})


def describes_a_thing(column: str, table: str) -> bool:
    """A description column (``film.description``, ``productDescription``) in a table whose
    rows are not people: it describes a product, a film, a category."""
    return any(t in DESCRIPTION_WORDS for t in tokens(column)) and not about_people(table)


@register
class DescriptionProse(ColumnRule):
    """Film plots and product descriptions mention characters, places and brands ("A Epic
    Drama of a Feminist And a Mad Scientist who must Battle a Teacher in The Canadian Rockies"):
    the NER model finds PERSON and LOCATION spans, but they are not people whose data the row
    holds. In such a column only validated patterns (an e-mail, a phone number) count; a
    description in a table of people (a patient's description) is not set aside."""

    id = "description-prose"
    summary = "a description of a thing (film plot, product text) names characters and places, not data subjects"
    stages = frozenset({"prose"})

    def check(self, entity: str, facts: ColumnFacts) -> str | None:
        if describes_a_thing(facts.column, facts.table):
            return f"{facts.column!r} describes the rows of {facts.table!r}, which are not people"
        return None
