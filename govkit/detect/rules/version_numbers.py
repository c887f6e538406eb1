"""``version-numbers``: dotted numbers that never leave the low range are versions, not IPs."""

from __future__ import annotations

import re

from govkit.detect.rules.base import ColumnFacts, ColumnRule, register

_VERSION_NAME = re.compile(r"version|release|build|\bver\b|版本", re.IGNORECASE)


@register
class VersionNumbers(ColumnRule):
    """Each of ``1.2.3.4`` or ``2.10.3.1`` is a syntactically valid IPv4 address, so no single
    value can be told apart; a column can. Real address columns spread over the whole 0-255
    range; version columns never leave the low numbers (or are named as versions)."""

    id = "version-numbers"
    summary = "dotted numbers that stay small, or in a column named as a version, are versions, not IP addresses"
    stages = frozenset({"patterns"})
    entities = frozenset({"IP_ADDRESS"})

    def check(self, entity: str, facts: ColumnFacts) -> str | None:
        quads = [v.strip().split(".") for v in facts.texts if v.count(".") == 3]
        numeric = [[int(p) for p in q] for q in quads if all(p.isdigit() for p in q)]
        if not numeric:
            return None
        large = sum(1 for q in numeric if max(q) >= 32) / len(numeric)
        if large < 0.2:
            return "dotted numbers never exceed 31: version strings, not IP addresses"
        if _VERSION_NAME.search(facts.column):
            return "the column is named as a version"
        return None
