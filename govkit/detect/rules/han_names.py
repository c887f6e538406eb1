"""``han-names``: Chinese personal names, told by their form (the NER model cannot read them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from govkit.detect.rules.base import FindingRule, register

if TYPE_CHECKING:
    from govkit.detect.columns import Evidence


@register
class HanNames(FindingRule):
    """The NER model is English and cannot read ``张伟`` or ``欧阳娜娜``, and Chinese schemas often
    name a column after a role the lexicon lacks. A column of Chinese names has a form of its
    own: a common surname and one or two characters, surnames repeating across rows
    (govkit/detect/han_names.py). Not tried where PERSON is already found or validated
    patterns explain part of the column."""

    id = "han-names"
    summary = "Chinese names by their form: a common surname and one or two characters, surnames repeating"
    phase = "shape"

    def find(self, ev: Evidence) -> None:
        from govkit.detect.columns import EntityVerdict, _clamp
        from govkit.detect.evidence import mask
        from govkit.detect.han_names import han_name_share

        if "PERSON" in ev.candidates or ev.proven or ev.profile.letters < 0.5:
            return
        share = han_name_share(ev.texts)
        if share:
            ev.candidates["PERSON"] = EntityVerdict(
                "PERSON", _clamp(0.5 + 0.35 * share), round(share * ev.profile.n),
                [mask(v, "PERSON") for v in list(ev.texts)[:3]], "values look like",
            )
