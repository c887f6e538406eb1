"""Free text that people type into govkit (a label's ``--note``): kept, but never a value.

A note explains a decision ("internal order reference", "holds e-mails since 2021"), and
it is stored in the inventory and shown by ``explain`` and the reports. People quote the
value that made them decide, though ("alice@example.com is the shared inbox"), and what
is stored there must be as safe as evidence. So a note is kept with every span the
detection engine finds in it (pattern recognizers, and the workspace's NER model when it
has one) masked like evidence (:func:`govkit.detect.evidence.mask`): ``a***@e******.com is
the shared inbox``. Masking instead of refusing keeps the note's point and costs one
engine run on a short text; a refused note would just be retyped with the value spelled
differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from govkit.detect.engine import Span, get_engine
from govkit.detect.evidence import mask

#: Spans below this score are too weak to mask (pattern hints without context).
_MIN_SCORE = 0.4
#: Found but not personal data in a note (a URL to a ticket; dates are never looked for).
_KEPT = frozenset({"URL", "DATE_TIME"})


@dataclass(frozen=True, slots=True)
class MaskedText:
    text: str
    entities: tuple[str, ...]  # the entity types that were masked, sorted

    @property
    def changed(self) -> bool:
        return bool(self.entities)


def mask_note(text: str, model: str | None = None, language: str = "en") -> MaskedText:
    """``text`` with every personal-data span masked, and which entity types were found."""
    if not text.strip():
        return MaskedText(text, ())
    engine = get_engine(model, language)
    spans = [s for s in engine.find_all([text])[0] if s.score >= _MIN_SCORE and s.entity_type not in _KEPT]
    return mask_spans(text, spans)


def mask_spans(text: str, spans: list[Span]) -> MaskedText:
    """``text`` with ``spans`` masked; overlapping spans are masked as one."""
    merged: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1][1]:
            start, end, entity = merged[-1]
            merged[-1] = (start, max(end, span.end), entity)
        else:
            merged.append((span.start, span.end, span.entity_type))
    out: list[str] = []
    position = 0
    for start, end, entity in merged:
        out += [text[position:start], mask(text[start:end], entity)]
        position = end
    out.append(text[position:])
    return MaskedText("".join(out), tuple(sorted({e for _, _, e in merged})))
