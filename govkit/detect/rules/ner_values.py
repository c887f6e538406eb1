"""``ner-values``: with no name behind it, the NER model tags most of the values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from govkit.detect.rules.base import FindingRule, register

if TYPE_CHECKING:
    from govkit.detect.columns import Evidence


@register
class NerValues(FindingRule):
    """Full names in a ``misc`` column, towns in a ``col3`` column: the name says nothing, the
    values say it all. The NER model must tag 60% of the analysed values as the entity (each
    value covered by its spans) and 60% must have the entity's shape; then the column rules
    that know better (``enumeration``, ``org-names``, ``sales-regions``) may still set it
    aside."""

    id = "ner-values"
    summary = "the NER model tags 60% of the values as the entity and 60% have its shape"
    phase = "shape"

    def find(self, ev: Evidence) -> None:
        from govkit.detect.columns import EntityVerdict, _clamp, _shape_share

        for entity, stat in ev.ner_stats.items():
            if entity in ev.candidates or not ev.ner_total:
                continue
            share = stat.hits / ev.ner_total
            if share < 0.6 or (_shape_share(ev.texts, entity) or 0.0) < 0.6:
                continue
            if ev.veto("ner", entity):
                continue
            ev.candidates[entity] = EntityVerdict(
                entity, _clamp(0.4 + 0.45 * share), round(share * ev.profile.n), stat.examples,
                "values look like",
            )
