"""Named entities in prose the English NER model was not trained on.

govkit's spaCy model is English. Run over German or French sentences it tags capitalised
nouns (``Lieferadresse``, ``Rechnung``), verbs at the start of a sentence and adjectives as
people and places. The names in such notes are still found, because a name is a name in any
language; what the model gets wrong is everything else. So in a free-text column that is not
English, an NER span counts only when it has the form a name has there:

* two or more words, each capitalised (``Karla Conradi``, ``Jens-Peter Kambs``): a lone
  capitalised word is a German noun as often as a name;
* not at the start of a sentence, where every word is capitalised;
* made of words that are rare in the column: a person is mentioned a few times, while the
  nouns of a language recur throughout its text.

English prose keeps every span the model finds, as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from govkit.detect.engine import Span

#: English function words that are not also common words of German, French, Spanish or
#: Portuguese (so not "a", "an", "die", "in", "no", "on", "so", "me").
_ENGLISH_WORDS = frozenset(
    "the and to of for with you your was were are is it this that have has had not but be been "
    "my we they he she his her from will would can could should please thanks there their what "
    "when which about after before our just very all any by or if as at do did does i".split()
)

#: Below this share of English function words, a column's prose is taken as not English.
#: English prose runs at 25-40%; German and French text at well under 2%.
FOREIGN_BELOW = 0.08

#: A word occurring more often than this in the analysed values is vocabulary, not a name.
MAX_NAME_WORD_REPEATS = 2

_STRIP = ".,;:!?()[]\"'\u201c\u201d\u201e\u00ab\u00bb"


def _words(value: str) -> list[str]:
    return [w for w in (t.strip(_STRIP) for t in value[:500].split()) if w]


def english_share(values: Iterable[str], limit: int = 200) -> float:
    """Share of the words of up to ``limit`` values that are English function words."""
    english = total = 0
    for index, value in enumerate(values):
        if index >= limit:
            break
        words = _words(value)
        total += len(words)
        english += sum(1 for w in words if w.lower() in _ENGLISH_WORDS)
    return english / total if total else 1.0


def is_foreign_prose(values: Iterable[str]) -> bool:
    """True when the values are written in a cased script but hardly use English words.

    Text without case (Chinese) is left alone: the rules in this module rely on
    capitalisation.
    """
    values = list(values)
    cased = any(ch.isupper() for v in values[:200] for ch in v[:500])
    return cased and english_share(values) < FOREIGN_BELOW


def credible_spans(ner: dict[str, list[Span]]) -> dict[str, list[Span]]:
    """Keep only the spans that have the form of a name in non-English prose."""
    repeats: Counter[str] = Counter(w for value in ner for w in _words(value))
    return {value: [s for s in spans if _name_like(value, s, repeats)] for value, spans in ner.items()}


def _name_like(value: str, span: Span, repeats: Counter[str]) -> bool:
    words = _words(value[span.start : span.end])
    if len(words) < 2 or not all(w[0].isupper() for w in words):
        return False
    before = value[: span.start].rstrip()
    if not before or before[-1] in ".!?:":
        return False
    return all(repeats[w] <= MAX_NAME_WORD_REPEATS for w in words)
