"""``prose-ner``: free text naming people, places and groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from govkit.detect.rules.base import FindingRule, register

if TYPE_CHECKING:
    from govkit.detect.columns import Evidence


@register
class ProseNer(FindingRule):
    """A biography, a support ticket or a nurse's note names people and the places tied to
    them. Every entity the NER model finds in 2 values or more, and in 5% of the analysed
    ones, is listed, because whoever anonymizes or erases the text needs every span, not only
    the commonest kind. In prose of another language only name-shaped spans count
    (govkit/detect/prose.py), and a description of a thing (``description-prose``) lists
    none."""

    id = "prose-ner"
    summary = "free text names an entity the NER model finds in 2 values or more and 5% of them"
    phase = "prose"

    def find(self, ev: Evidence) -> None:
        from govkit.detect.columns import EntityVerdict, _clamp

        for entity, stat in ev.ner_stats.items():
            share = stat.hits / ev.ner_total if ev.ner_total else 0.0
            if stat.hits < 2 or share < 0.05 or entity in ev.candidates:
                continue
            # A product's or a film's description names characters, places and brands, not
            # people whose data it is: only patterns (e-mails, phones) count there.
            if ev.veto("prose", entity):
                continue
            confidence = 0.45 + 0.45 * min(1.0, share * 2)
            ev.candidates[entity] = EntityVerdict(
                entity, _clamp(confidence), round(share * ev.profile.n), stat.examples, "free text"
            )
