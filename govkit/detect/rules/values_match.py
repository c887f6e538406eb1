"""``values-match``: validated patterns match most of a column's values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from govkit.detect.rules.base import FindingRule, register

if TYPE_CHECKING:
    from govkit.detect.columns import Evidence


@register
class ValuesMatch(FindingRule):
    """A pattern recognizer with a validator (an e-mail's form, a card's Luhn digit, a phone
    number libphonenumber accepts) is strong evidence one value at a time, and a column where
    most values pass is that entity whatever its name (an e-mail column called ``misc``). The
    bar is 60% of the values, or 30% when the name points at the entity or the matches score
    0.9 or more; a column check (``version-numbers``, ``bare-domains``) can set the entity
    aside first. Named columns get the verdict rule ``name + values``, others ``values match``."""

    id = "values-match"
    summary = "validated patterns match most values (60%, or 30% with the name or near-certain matches)"
    phase = "patterns"

    def find(self, ev: Evidence) -> None:
        from govkit.detect.columns import EntityVerdict, _clamp, column_confidence

        for entity, stat in ev.patterns.items():
            vetoed = ev.veto("patterns", entity)
            if vetoed:
                ev.verdict.value_evidence[f"patterns:{entity}"]["rejected"] = vetoed.why
                ev.rejected[entity] = vetoed.why
                continue
            share = stat.hits / ev.pattern_total
            named = ev.hint_strength.get(entity, 0.0)
            if share >= 0.6 or (share >= 0.3 and (named >= 0.5 or stat.mean_score >= 0.9)):
                confidence = column_confidence(stat.mean_score, share, named)
                ev.candidates[entity] = EntityVerdict(
                    entity, _clamp(confidence), stat.hits, stat.examples,
                    "name + values" if named else "values match", of=ev.pattern_total,
                )
