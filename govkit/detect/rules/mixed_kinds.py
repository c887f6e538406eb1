"""``mixed-kinds``: a column of e-mails and phones is both, judged on what they explain together."""

from __future__ import annotations

from typing import TYPE_CHECKING

from govkit.detect.rules.base import FindingRule, register

if TYPE_CHECKING:
    from govkit.detect.columns import Evidence


@register
class MixedKinds(FindingRule):
    """A ``contact`` column holds e-mail addresses in some rows and phone numbers in others:
    neither reaches 60% alone, yet every value is personal. When the pattern entities with at
    least a quarter of the values each explain 80% of the column together, each of them is a
    finding, with a confidence from the share they explain together."""

    id = "mixed-kinds"
    summary = "pattern kinds with a quarter of the values each explain 80% of the column together"
    phase = "patterns"

    def find(self, ev: Evidence) -> None:
        from govkit.detect.columns import EntityVerdict, column_confidence

        total = ev.pattern_total
        sizeable = {e: st for e, st in ev.patterns.items() if st.hits >= 0.25 * total and e not in ev.rejected}
        together = sum(st.hits for st in sizeable.values()) / total if total else 0.0
        if len(sizeable) > 1 and together >= 0.8:
            for entity, stat in sizeable.items():
                if entity not in ev.candidates:
                    confidence = column_confidence(stat.mean_score, together, ev.hint_strength.get(entity, 0.0))
                    ev.candidates[entity] = EntityVerdict(
                        entity, confidence, stat.hits, stat.examples, "values match", of=total
                    )
