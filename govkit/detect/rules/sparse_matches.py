"""``sparse-matches``: a few e-mail addresses or IBANs in a structured column are a leak."""

from __future__ import annotations

from typing import TYPE_CHECKING

from govkit.detect.rules.base import FindingRule, register

if TYPE_CHECKING:
    from govkit.detect.columns import Evidence


@register
class SparseMatches(FindingRule):
    """Random data never produces a valid e-mail address or an IBAN with a right check digit,
    so even one such value in a ``reference`` or ``comment`` column is personal data that
    leaked there, worth reporting however small its share. Card numbers are not among these
    entities: one random 16-digit number in ten passes Luhn."""

    id = "sparse-matches"
    summary = "even one valid e-mail address or IBAN in a structured column: such values do not occur by chance"
    phase = "patterns"

    def find(self, ev: Evidence) -> None:
        from govkit.detect.columns import SPARSE_ENTITIES, EntityVerdict, _clamp

        for entity in SPARSE_ENTITIES & ev.patterns.keys():
            stat = ev.patterns[entity]
            if entity not in ev.candidates and stat.hits >= 1 and stat.mean_score >= 0.9:
                share = stat.hits / ev.pattern_total
                ev.candidates[entity] = EntityVerdict(
                    entity, _clamp(0.55 + 0.3 * share), stat.hits, stat.examples, "sparse matches",
                    of=ev.pattern_total,
                )
