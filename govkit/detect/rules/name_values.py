"""``name-values``: the column's name points at an entity and its values have that entity's form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from govkit.detect.names import COORDINATE_TERMS
from govkit.detect.rules.base import FindingRule, register

if TYPE_CHECKING:
    from govkit.detect.columns import EntityVerdict, Evidence
    from govkit.detect.names import NameHint


@register
class NameValues(FindingRule):
    """Names are strong hints and weak proof: ``email_verified`` holds flags, ``name`` in a
    genre table holds genres. So a name counts when the values agree: they have the entity's
    shape (a person's name, a place that is not a bare number, a date, a phone-like string),
    and for PERSON and LOCATION either the name is strong (0.8) and 80% have the shape, or the
    NER model tags half the values and 60% have the shape. Coordinates (``latitude``) need 90%
    of the values in range with decimals. Entities only a validated pattern can tell (e-mail,
    cards, IDs) are left to ``values-match``. Not tried where validated patterns of another
    entity already explain 80% of the values (an ``address`` column of e-mails), nor where a
    column rule (``org-names``, ``sales-regions``) sets the entity aside."""

    id = "name-values"
    summary = "the name points at the entity and the values have its form (NER agreeing for weak names)"
    phase = "shape"

    def find(self, ev: Evidence) -> None:
        for hint in ev.hints:
            if hint.effective_strength <= 0 or hint.entity_type in ev.candidates or ev.proven >= 0.8:
                continue
            if ev.veto("name", hint.entity_type):
                continue
            found = self._from_name(hint, ev)
            if found:
                ev.candidates[hint.entity_type] = found

    def _from_name(self, hint: NameHint, ev: Evidence) -> EntityVerdict | None:
        from govkit.detect.columns import EntityVerdict, _clamp, _coordinate_share, _shape_share
        from govkit.detect.evidence import mask

        texts, profile = ev.texts, ev.profile
        entity, strength = hint.entity_type, hint.effective_strength
        if hint.term in COORDINATE_TERMS:
            # Latitude/longitude of a person's or an address row: numbers in range.
            share = _coordinate_share(texts, hint.term)
            if share < 0.9:
                return None
            examples = [mask(v, entity) for v in list(texts)[:3]]
            return EntityVerdict(entity, _clamp(strength * share * 0.85), round(share * profile.n), examples,
                                 "name + values")
        shape = _shape_share(texts, entity, profile)
        if shape is None:
            return None  # validated kinds (e-mail, cards, IDs) must match their patterns
        ner_stats, ner_total = ev.ner_stats, ev.ner_total
        ner_share = ner_stats[entity].hits / ner_total if entity in ner_stats and ner_total else 0.0
        if entity in ("PERSON", "LOCATION"):
            if strength >= 0.8 and shape >= 0.8:
                confidence = strength * shape * 0.85 + 0.2 * ner_share
            elif strength >= 0.4 and ner_share >= 0.5 and shape >= 0.6:
                confidence = 0.45 + 0.2 * strength + 0.3 * ner_share
            else:
                return None
        elif shape >= 0.8:
            confidence = strength * shape * (0.95 if entity == "DATE_TIME" else 0.8)
        else:
            return None
        examples = [mask(v, entity) for v in list(texts)[:3]]
        return EntityVerdict(entity, _clamp(confidence), round(shape * profile.n), examples, "name + values")
