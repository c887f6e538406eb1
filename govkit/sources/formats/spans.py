"""Span detection in free text, fast enough for gigabyte logs, with line and column positions.

Running every recognizer over every line is what makes naive scanners slow, and it is worse
on logs than on prose: each timestamp, duration and request id is a digit run that the phone
matcher parses once per region (twelve regions: about 4 ms per log line here, i.e. 0.03 MB/s).
So text is scanned in three steps, each cheaper than the next is expensive:

1. **Candidates.** :func:`~govkit.sources.formats._candidates.find_candidates` runs over
   a megabyte of lines at a time (array operations, not a regex scan) and finds the tokens
   that *could* be an entity: something
   with an ``@``, a digit run of seven or more digits (minus dates and decimals), an
   address-shaped group of hex, an IBAN- or ID-shaped code, a URL, a crypto address. On a
   typical log only a few percent of lines have one.
2. **Recognizers on windows.** Each candidate, with 32 characters of context before it (the
   context words of the Chinese recognizers look back 30) and 16 after, goes to
   ``engine.find_patterns`` restricted to the entity types its shape can be (an ``@`` token
   only to EMAIL_ADDRESS), many windows per call. The validators are the engine's: Luhn for
   cards, ISO 7064 for resident IDs, and so on. Spans are kept when they overlap the
   candidate and score at least :data:`~govkit.detect.columns.STRONG_SCORE`.
3. **Phone numbers** are checked directly with libphonenumber: the candidate is parsed for
   the regions of the engine's phone recognizer, after a regex pre-check of each region's
   number pattern, and kept when valid in one of them, with the recognizer's score and its
   rule against fragments of longer tokens. This is the recognizer's own test (leniency
   VALID) without the per-region matcher passes; the matcher's date and time-stamp
   exclusions are replaced by rejecting date-shaped candidates up front.

Names, places and groups come from the spaCy NER model, which costs a few milliseconds per
line, so it runs only on lines with a capitalised word pair (``John Smith``, ``Main Street``)
and on at most ``ner_lines`` of them per file, drawn as a seeded uniform sample; of a long
line it reads from a few words before the first pair (a log line's time stamp, level and
logger only make it slower). Finding
those lines is itself done in arrays first (:func:`~govkit.sources.formats._candidates.name_pairs`
finds the ``n S`` seams a pair needs), so the pair regex runs on a few lines, not on every
character of the block. The trade-off:
validated entities are counted exactly over the whole file; names are *found* reliably (a
file with names in one line in a thousand still has hundreds in the sample) but their counts
are counts in the sample, and a name written in lower case or alone (``from Berlin``) is not
looked for. ``benchmarks/files_bench.py`` measures recall against Presidio's own per-line
``analyze`` on the same text.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from govkit.detect.columns import STRONG_SCORE
from govkit.detect.engine import DetectionEngine
from govkit.detect.evidence import mask
from govkit.sources.formats._candidates import find_candidates, name_pairs
from govkit.sources.formats.base import TextBlock
from govkit.sources.formats.sampling import Reservoir

#: Entity types each candidate shape is checked for. PHONE_NUMBER is handled separately.
_GROUP_ENTITIES: dict[str, frozenset[str]] = {
    "email": frozenset({"EMAIL_ADDRESS"}),
    "url": frozenset({"URL"}),
    "mac": frozenset({"MAC_ADDRESS"}),
    "ip": frozenset({"IP_ADDRESS"}),
    "number": frozenset(),  # chosen per token by :func:`_number_entities`
    "code": frozenset({"IBAN_CODE", "CN_USCC", "CN_PASSPORT", "MEDICAL_LICENSE"}),
    "crypto": frozenset({"CRYPTO"}),
}

#: A line worth the NER model: two or more capitalised words in a row.
_NER_CANDIDATE = re.compile(
    r"\b[A-Z\u00c0-\u00de][a-z\u00df-\u00ff]+(?:[ \-'][A-Z\u00c0-\u00de][a-z\u00df-\u00ff]+)+\b"
)

_LEFT_CONTEXT = 32
_RIGHT_CONTEXT = 16
_NER_LINE_CHARS = 1000
#: Characters of a candidate line kept before its first capitalised pair: the words that
#: tell the model a pair is a person ("login ok for", "signed by"). What comes before them
#: on a log line (time stamp, level, thread, logger) only makes the model slower.
_NER_CONTEXT_CHARS = 48
_MAX_LINES_KEPT = 20
_MAX_POSITIONS = 5
_MAX_EXAMPLES = 3


@dataclass(slots=True)
class EntityTally:
    """Hits of one entity type in one file: counts, first lines and positions, masked examples."""

    count: int = 0
    score_total: float = 0.0
    lines: list[int] = field(default_factory=list)
    positions: list[dict[str, int]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    source: str = "patterns"

    @property
    def mean_score(self) -> float:
        return self.score_total / self.count if self.count else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "mean_score": round(self.mean_score, 3),
            "lines": self.lines,
            "positions": self.positions,
            "examples": self.examples,
            "source": self.source,
        }


@dataclass(slots=True)
class TextScan:
    """What a :class:`SpanScanner` found in a file, or in one part of it: small and picklable.

    A big file is scanned in byte ranges by several processes (see
    :mod:`~govkit.sources.formats.ranges`); :meth:`merge` puts the parts back together as
    if one scanner had read the whole file.
    """

    entities: dict[str, EntityTally]
    lines: int
    ner_lines_offered: int
    ner_lines_analysed: int
    candidate_windows: int

    @classmethod
    def merge(cls, parts: list[TextScan]) -> TextScan:
        """The parts of one file, in file order; each part's lines counted from 1."""
        entities: dict[str, EntityTally] = {}
        offset = 0
        for part in parts:
            for name, tally in part.entities.items():
                into = entities.get(name)
                if into is None:
                    into = entities[name] = EntityTally(source=tally.source)
                into.count += tally.count
                into.score_total += tally.score_total
                for line in tally.lines:
                    if len(into.lines) < _MAX_LINES_KEPT and (not into.lines or into.lines[-1] != line + offset):
                        into.lines.append(line + offset)
                for position in tally.positions:
                    if len(into.positions) < _MAX_POSITIONS:
                        into.positions.append({"line": position["line"] + offset, "column": position["column"]})
                for example in tally.examples:
                    if len(into.examples) < _MAX_EXAMPLES and example not in into.examples:
                        into.examples.append(example)
            offset += part.lines
        return cls(
            dict(sorted(entities.items())),
            sum(p.lines for p in parts),
            sum(p.ner_lines_offered for p in parts),
            sum(p.ner_lines_analysed for p in parts),
            sum(p.candidate_windows for p in parts),
        )


@dataclass(slots=True)
class _Window:
    text: str
    line: int
    column: int  # 0-based column of text[0] in its line
    start: int  # the candidate inside text
    end: int


#: Called with (line, column, entity type) for every span found (benchmarks use it).
SpanSink = Callable[[int, int, str], None]


class SpanScanner:
    """Finds entity spans in the blocks of one text file; feed blocks, then :meth:`finish`."""

    def __init__(
        self,
        engine: DetectionEngine,
        *,
        ner_lines: int = 2000,
        seed: int = 42,
        key: str = "",
        sink: SpanSink | None = None,
    ) -> None:
        self.engine = engine
        self.entities: dict[str, EntityTally] = {}
        self.lines = 0
        self.candidate_windows = 0
        self.ner_candidates: Reservoir[tuple[int, int, str]] = Reservoir(
            ner_lines if engine.has_ner else 0, random.Random(f"{seed}:{key}:ner")
        )
        self.sink = sink
        self._seen: set[tuple[str, int, int]] = set()
        self._phone = _PhoneCheck(engine)

    # -- feeding ------------------------------------------------------------------------

    def feed(self, block: TextBlock) -> None:
        text = block.text
        self.lines += text.count("\n") + (0 if block.first_column else 1)
        windows: dict[frozenset[str], list[_Window]] = {}
        hits: list[tuple[str, int, int, str, float]] = []
        lines = _Lines(text, block)
        for start, end, group in find_candidates(text):
            token = text[start:end]
            line, line_start, line_end, column0 = lines.locate(start)
            left = max(line_start, start - _LEFT_CONTEXT)
            right = min(line_end, end + _RIGHT_CONTEXT)
            column = left - line_start + column0
            entities = _GROUP_ENTITIES[group]
            if group == "number":
                score = self._phone.score(text, start, end, token)
                if score is not None:
                    hits.append(("PHONE_NUMBER", line, start - line_start + column0, token, score))
                entities = _number_entities(token)
                if not entities:
                    continue
            window = _Window(text[left:right], line, column, start - left, end - left)
            windows.setdefault(entities, []).append(window)
        for entities, found in windows.items():
            self.candidate_windows += len(found)
            self._run_patterns(entities, found, hits)
        # Recorded in file order, so first lines, positions and examples do not depend on
        # how the file was cut into blocks or parts.
        hits.sort(key=lambda hit: (hit[1], hit[2], hit[0]))
        for entity, line, column, value, score in hits:
            self._record(entity, line, column, value, score, "patterns")
        self._collect_ner_lines(block)

    def _run_patterns(
        self, entities: frozenset[str], windows: list[_Window], hits: list[tuple[str, int, int, str, float]]
    ) -> None:
        results = self.engine.find_patterns([w.text for w in windows], entities)
        for window, spans in zip(windows, results, strict=True):
            for span in spans:
                if span.score < STRONG_SCORE or span.end <= window.start or span.start >= window.end:
                    continue
                value = window.text[span.start : span.end]
                hits.append((span.entity_type, window.line, window.column + span.start, value, span.score))

    def _collect_ner_lines(self, block: TextBlock) -> None:
        if not self.ner_candidates.size:
            return
        text = block.text
        last_line = -1
        lines = _Lines(text, block)
        # The regex runs only on lines with a seam between two words that could be names;
        # the seam is necessary for a match, so the lines offered are the same.
        for offset in name_pairs(text):
            line, line_start, line_end, column0 = lines.locate(offset)
            if line == last_line:
                continue
            last_line = line
            pair = _NER_CANDIDATE.search(text, line_start, line_end)
            if pair is not None:
                start = line_start
                cut = pair.start() - _NER_CONTEXT_CHARS
                if cut > line_start:  # start at a word, a few words before the pair
                    space = text.find(" ", cut, pair.start())
                    start = space + 1 if space >= 0 else cut
                self.ner_candidates.offer(
                    (line, column0 + start - line_start, text[start:line_end][:_NER_LINE_CHARS])
                )

    # -- results ------------------------------------------------------------------------

    def finish(self) -> dict[str, EntityTally]:
        """Run NER over the sampled candidate lines; the tallies by entity type."""
        sample = sorted(self.ner_candidates.items)
        if sample:
            named = self.engine.find_named_entities([text for _, _, text in sample])
            for (line, column0, text), spans in zip(sample, named, strict=True):
                for span in spans:
                    mention = text[span.start : span.end]
                    if "@" in mention or sum(ch.isdigit() for ch in mention) >= 3:
                        continue  # an e-mail or a phone is not a PERSON (the engine's rule)
                    self._record(
                        span.entity_type, line, column0 + span.start, text[span.start : span.end], span.score, "ner"
                    )
        return dict(sorted(self.entities.items()))

    def result(self) -> TextScan:
        """Everything found so far, as a :class:`TextScan` (call after :meth:`finish`)."""
        return TextScan(
            dict(sorted(self.entities.items())),
            self.lines,
            self.ner_lines_offered,
            self.ner_lines_analysed,
            self.candidate_windows,
        )

    @property
    def ner_lines_analysed(self) -> int:
        return len(self.ner_candidates.items)

    @property
    def ner_lines_offered(self) -> int:
        return self.ner_candidates.seen

    def _record(self, entity: str, line: int, column: int, value: str, score: float, source: str) -> None:
        key = (entity, line, column)
        if key in self._seen:
            return
        if len(self._seen) < 1_000_000:
            self._seen.add(key)  # bounded: beyond it a duplicate window may count twice
        tally = self.entities.get(entity)
        if tally is None:
            tally = self.entities[entity] = EntityTally(source=source)
        tally.count += 1
        tally.score_total += score
        if len(tally.lines) < _MAX_LINES_KEPT and (not tally.lines or tally.lines[-1] != line):
            tally.lines.append(line)
        if len(tally.positions) < _MAX_POSITIONS:
            tally.positions.append({"line": line, "column": column + 1})
        if len(tally.examples) < _MAX_EXAMPLES:
            shown = mask(value, entity)
            if shown not in tally.examples:
                tally.examples.append(shown)
        if self.sink is not None:
            self.sink(line, column, entity)


class _Lines:
    """Line numbers of offsets in a block, counted incrementally as offsets grow."""

    def __init__(self, text: str, block: TextBlock) -> None:
        self.text = text
        self.block = block
        self.position = 0
        self.newlines = 0

    def locate(self, offset: int) -> tuple[int, int, int, int]:
        """Line number, line start and end offsets, and column offset of ``text[offset]``."""
        text = self.text
        if offset < self.position:
            self.position = self.newlines = 0
        self.newlines += text.count("\n", self.position, offset)
        self.position = offset
        line_start = text.rfind("\n", 0, offset) + 1
        line_end = text.find("\n", offset)
        if line_end < 0:
            line_end = len(text)
        column0 = self.block.first_column if self.newlines == 0 else 0
        return self.block.first_line + self.newlines, line_start, line_end, column0


#: Candidate tokens are ASCII (digits, separators, a final X), so this keeps their digits.
_NON_DIGITS = re.compile(r"[^0-9]")
#: Distinct tokens whose phone verdict is remembered (a dict; cleared when full).
_PHONE_CACHE = 100_000

_CN_MOBILE_DIGITS = re.compile(r"^(?:0{0,2}86)?1[3-9]\d{9}$")
_SSN_SHAPE = re.compile(r"^\d{3}[- ]\d{2}[- ]\d{4}$")


def _number_entities(token: str) -> frozenset[str]:
    """The entity types a digit token can be, by its length and checksums.

    Every recognizer asked here needs an exact digit count (a resident ID has 15 or 18, a
    card 13 to 19 and a valid Luhn sum, an SSN reaches a strong score only as ``123-45-6789``),
    so the count alone spares most tokens the recognizers: a 12-digit request id goes to none.
    """
    digits = _NON_DIGITS.sub("", token)
    count = len(digits)
    found: set[str] = set()
    if count == 9 and _SSN_SHAPE.match(token):
        found.update(("US_SSN", "US_ITIN"))
    if count == 10:
        found.add("UK_NHS")
    if 11 <= count <= 15 and _CN_MOBILE_DIGITS.match(digits):
        found.add("CN_PHONE_NUMBER")
    if 13 <= count <= 19 and _luhn(digits):
        found.update(("CREDIT_CARD", "CN_BANK_CARD"))
    if count in (15, 18) or (count == 17 and token[-1:] in "Xx"):
        found.update(("CN_RESIDENT_ID", "CN_USCC"))
    return frozenset(found)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class _PhoneCheck:
    """PHONE_NUMBER the way the engine's recognizer decides it, minus its per-region passes."""

    def __init__(self, engine: DetectionEngine) -> None:
        import phonenumbers

        self.phonenumbers = phonenumbers
        recognizer = next(
            (r for r in engine.pattern_recognizers if list(r.supported_entities) == ["PHONE_NUMBER"]), None
        )
        self.enabled = recognizer is not None
        self._cache: dict[str, float | None] = {}
        regions = tuple(getattr(recognizer, "supported_regions", ()) or ("US",))
        self.score_value = float(getattr(recognizer, "SCORE", 0.4))
        self.regions: list[tuple[str, re.Pattern[str], str, re.Pattern[str]]] = []
        for region in regions:
            metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
            if metadata is None or metadata.general_desc is None:
                continue
            pattern = metadata.general_desc.national_number_pattern or r"\d+"
            typed = [
                desc.national_number_pattern
                for desc in (metadata.mobile, metadata.fixed_line, metadata.toll_free, metadata.voip)
                if desc is not None and desc.national_number_pattern
            ]
            likely = re.compile("|".join(f"(?:{p})" for p in typed) if typed else pattern)
            self.regions.append((region, re.compile(pattern), metadata.national_prefix or "", likely))
        from govkit.detect.recognizers.phone_number import is_glued_to_token

        self.glued = is_glued_to_token
        try:
            # The matcher's own VALID rule (a valid number, and only valid punctuation in the
            # raw text). It is private API, so a phonenumbers release that moves it falls back
            # to the public is_valid_number, which accepts slightly more.
            from phonenumbers.phonenumbermatcher import Leniency, _verify

            self.verify: Callable[[Any, str], bool] = lambda number, raw: bool(
                _verify(Leniency.VALID, number, raw, None)  # type: ignore[arg-type]  # unused at VALID
            )
        except ImportError:  # pragma: no cover - depends on the installed phonenumbers
            self.verify = lambda number, raw: bool(phonenumbers.is_valid_number(number))

    def score(self, text: str, start: int, end: int, token: str) -> float | None:
        """The recognizer's score when ``token`` is a valid phone number, else None.

        Apart from the glue rule, the answer depends on the token alone, and a log repeats
        the same few numbers (one customer's phone in every line of a session): answers are
        kept for the last :data:`_PHONE_CACHE` distinct tokens.
        """
        if not self.enabled or self.glued(text, start, end):
            return None
        if token in self._cache:
            return self._cache[token]
        if len(self._cache) >= _PHONE_CACHE:
            self._cache.clear()
        result = self._cache[token] = self._score(token)
        return result

    def _score(self, token: str) -> float | None:
        digits = _NON_DIGITS.sub("", token)
        # E.164 allows 15 digits after the ``+``; a ``00`` dialling prefix is not one of them.
        if not 7 <= len(digits) - (2 if token.startswith("00") else 0) <= 15:
            return None
        if token.startswith(("+", "00")):
            candidate = "+" + digits[2:] if token.startswith("00") else token
            return self.score_value if self._valid(candidate, None) else None
        if len(digits) >= 12 and not digits.startswith("0") and digits == token:
            # Written nationally, numbers of 12+ digits carry the trunk prefix 0 in every
            # default region; a solid run like this is an id, and parsing it is wasted work.
            return None
        # Every region whose number pattern fits is still tried, as before; those where the
        # digits also fit a mobile or fixed-line pattern go first, so a US number is parsed
        # as American before Chinese, French, German... The verdict is the same in any order.
        first: list[str] = []
        then: list[str] = []
        for region, pattern, prefix, likely in self.regions:
            national = digits[len(prefix) :] if prefix and digits.startswith(prefix) else digits
            if not (pattern.fullmatch(national) or pattern.fullmatch(digits)):
                continue
            (first if likely.fullmatch(national) or likely.fullmatch(digits) else then).append(region)
        for region in first + then:
            if self._valid(token, region):
                return self.score_value
        return None

    def _valid(self, candidate: str, region: str | None) -> bool:
        """libphonenumber's own VALID leniency (valid, and a national prefix where required)."""
        phonenumbers = self.phonenumbers
        try:
            number = phonenumbers.parse(candidate, region, keep_raw_input=True)
        except phonenumbers.NumberParseException:
            return False
        return bool(self.verify(number, candidate))
