"""``yes-no-flags``: a column of yes/no flags holds no personal data, whatever its name says."""

from __future__ import annotations

from collections import Counter

from govkit.detect.rules.base import ColumnFacts, ColumnRule, register

_BOOLEANS = frozenset({"0", "1", "true", "false", "t", "f", "yes", "no", "y", "n", "on", "off",
                       "是", "否", "ja", "nein", "oui", "non"})
#: The share of flag values from which the column is a flag column.
FLAG_SHARE = 0.9


def boolean_share(texts: Counter[str], kind: str) -> float:
    """Share of the values that are yes/no flags (every value of a BOOLEAN column)."""
    n = sum(texts.values())
    if kind == "boolean":
        return 1.0
    return sum(c for v, c in texts.items() if v.strip().lower() in _BOOLEANS) / n if n else 0.0


@register
class YesNoFlags(ColumnRule):
    """``phone_verified``, ``has_email``, ``is_active``: the name mentions personal data, the
    values say whether something holds of it (0/1, yes/no, true/false). A flag identifies no one
    and no recognizer can find anything in it, so the column is decided before patterns and the
    NER model run (which also saves their cost)."""

    id = "yes-no-flags"
    summary = "yes/no flags hold no personal data, whatever the column's name says"
    stages = frozenset({"column"})

    def check(self, entity: str, facts: ColumnFacts) -> str | None:
        if facts.n and boolean_share(facts.texts, facts.kind) >= FLAG_SHARE:
            return "values are yes/no flags"
        return None
