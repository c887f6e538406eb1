"""``address-values``: one-line addresses, where the NER model finds a place inside each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from govkit.detect.rules.base import FindingRule, register

if TYPE_CHECKING:
    from govkit.detect.columns import Evidence


@register
class AddressValues(FindingRule):
    """``734 Mitchell Trace, Lake Davidborough, SC 01694``: the NER model tags the town or the
    street inside a one-line address, never the whole value, so ``ner-values`` (which wants
    the value covered) misses it. Here the share that counts is of values *containing* a
    place (60%), and 60% must be shaped like an address: words and a number, one line, a
    comma between parts."""

    id = "address-values"
    summary = "60% of the values contain a place the NER model finds and are shaped like one-line addresses"
    phase = "shape"

    def find(self, ev: Evidence) -> None:
        from govkit.detect.columns import EntityVerdict, _address_share, _clamp, _ner_stats

        if "LOCATION" in ev.candidates or not ev.ner_total or ev.proven:
            return
        places = _ner_stats(ev.texts, ev.ner, full=False).get("LOCATION")
        share = places.hits / ev.ner_total if places else 0.0
        if places and share >= 0.6 and _address_share(ev.texts) >= 0.6:
            ev.candidates["LOCATION"] = EntityVerdict(
                "LOCATION", _clamp(0.4 + 0.45 * share), round(share * ev.profile.n), places.examples,
                "values look like",
            )
