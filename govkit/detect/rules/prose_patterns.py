"""``prose-patterns``: free text quoting e-mail addresses, phone numbers, IDs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from govkit.detect.rules.base import FindingRule, register

if TYPE_CHECKING:
    from govkit.detect.columns import Evidence


@register
class ProsePatterns(FindingRule):
    """Notes and tickets quote contact data in a few rows: "called Mario at +86 13800000001,
    mail x@example.com". Mentions are sparse in prose, so a validated pattern entity found in
    2 values or more, and in 2% of them, with a mean score of 0.4 or more, is a finding; its
    confidence grows with the share as if four times as many values carried it."""

    id = "prose-patterns"
    summary = "free text quotes a validated pattern (e-mail, phone, ID) in 2 values or more and 2% of them"
    phase = "prose"

    def find(self, ev: Evidence) -> None:
        from govkit.detect.columns import STRONG_SCORE, EntityVerdict, column_confidence

        for entity, stat in ev.patterns.items():
            share = stat.hits / ev.pattern_total
            if stat.hits >= 2 and share >= 0.02 and stat.mean_score >= STRONG_SCORE:
                confidence = column_confidence(stat.mean_score, min(1.0, share * 4), 0.0)
                ev.candidates.setdefault(entity, EntityVerdict(entity, confidence, stat.hits, stat.examples,
                                                               "free text"))
