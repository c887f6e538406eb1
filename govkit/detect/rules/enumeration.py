"""``enumeration``: a handful of values repeated over many rows is a status list, not people."""

from __future__ import annotations

from govkit.detect.rules.base import ColumnFacts, ColumnRule, register

#: At most this many distinct values ...
MAX_DISTINCT = 12
#: ... each seen this many times on average.
MIN_REPEATS = 4


@register
class Enumeration(ColumnRule):
    """Six statuses (``Shipped``, ``Resolved``, ``On Hold``...) repeated over hundreds of rows
    are an enumeration, however name-like the NER model finds them: people's names do not
    repeat like that in a column of people. Only the NER-alone route is vetoed: a column
    *named* for names (``first_name`` in a small sample) still goes by its name."""

    id = "enumeration"
    summary = "few distinct values, each repeated many times, are statuses or categories, not people's names"
    stages = frozenset({"ner"})
    entities = frozenset({"PERSON"})

    def check(self, entity: str, facts: ColumnFacts) -> str | None:
        if facts.distinct <= MAX_DISTINCT and facts.n >= MIN_REPEATS * facts.distinct:
            return f"{facts.distinct} distinct values repeated over {facts.n} rows: an enumeration"
        return None
