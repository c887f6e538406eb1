"""``bare-domains``: a column of bare domain names names organisations, not people."""

from __future__ import annotations

import re

from govkit.detect.rules.base import ColumnFacts, ColumnRule, register

_BARE_DOMAIN = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z]{2,}$", re.IGNORECASE)


@register
class BareDomains(ColumnRule):
    """A URL identifies a person when it points at their page (``/users/jane``); a domain alone
    (``example.com``), as in an ``email_domain`` column, names an organisation's site. Nine in
    ten values being bare domains settles it for the column."""

    id = "bare-domains"
    summary = "bare domain names (example.com) identify organisations, not people"
    stages = frozenset({"patterns"})
    entities = frozenset({"URL"})

    def check(self, entity: str, facts: ColumnFacts) -> str | None:
        total = sum(facts.texts.values())
        bare = sum(c for v, c in facts.texts.items() if _BARE_DOMAIN.match(v.strip()))
        if total and bare / total >= 0.9:
            return "the values are bare domain names, which identify organisations"
        return None
