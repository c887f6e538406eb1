"""One verdict per column: does it hold personal data, of which kind, how sure are we, why.

Evidence comes from two places and is weighed, never simply OR-ed:

* the column's **name** (:mod:`govkit.detect.names`): strong hints (``email``, ``身份证号``)
  and weak ones (``name``, ``city``);
* its **values**: pattern recognizers with validators (checksums, real dates), the spaCy NER
  model, and cheap shape checks (does this look like a person's name? a date? a phone?).

The rules, in the order they are tried (``rule`` in the verdict names the one that decided):

1. ``labelled``: a human label wins (applied by the caller, see :func:`apply_label`).
2. ``binary`` / ``boolean values``: bytes and yes/no flags hold no detectable personal data,
   whatever the name says (``phone_verified``; rule ``yes-no-flags``).
3. ``free text``: long multi-word values are scanned span by span and every entity type
   found in enough of them is listed (rules ``prose-patterns``, ``prose-ner``).
4. ``values match``: validated patterns hit most values (an e-mail column called ``misc``;
   ``values-match``, ``mixed-kinds``, ``sparse-matches``).
5. ``name + values``: the name points at an entity and the values have its shape (names
   look like names, dates are dates); NER agreement raises the confidence. A weak name
   (``city``, plain ``name``) needs NER agreement; a name never wins against contrary values
   (``name-values``).
6. ``values look like``: NER alone tags most values (full names in a ``misc`` column;
   ``ner-values``, ``han-names``, ``address-values``).

Each of those ids is a registered rule in govkit/detect/rules/ (one file each, applied in
the order declared there), as are the rules that set evidence aside (``org-names``,
``enumeration``...) and the table rules; this module gathers the evidence they weigh
(:class:`Evidence`) and turns their candidates into the verdict.

Dates are personal only through rule 5 with a birth/death-date name: spaCy and Presidio read
every digit string as DATE, which would bury the real findings under ``created_at`` columns.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

from govkit.detect.engine import NER_SCORE, DetectionEngine, Span
from govkit.detect.evidence import mask
from govkit.detect.names import NameHint, hints_for
from govkit.detect.prose import credible_spans, is_foreign_prose
from govkit.detect.rules import REGISTRY, ColumnFacts, Fired, TableFacts
from govkit.detect.rules.base import Stage
from govkit.detect.rules.yes_no_flags import boolean_share
from govkit.detect.values import WHOLE_VALUE_CHECKS

ValueKind = Literal["text", "integer", "number", "boolean", "date", "datetime", "binary", "other"]

#: Values longer than this are cut before analysis; a 10 MB text cell must not stall a scan.
MAX_VALUE_CHARS = 10_000
#: Pattern scores at or above this count as a hit on their own; lower ones need the name.
STRONG_SCORE = 0.4
#: A structured value "is" an entity when one span covers this share of it.
FULL_COVERAGE = 0.7

_NUMBER = re.compile(r"^[-+]?\d+(?:[.,]\d+)?$")
_DATE = re.compile(
    r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{4}年\d{1,2}月\d{1,2}日)$"
)
_PERSON_NAME = re.compile(r"^[^\W\d_]+\.?(?:[ '\u2019\-.,]{1,2}[^\W\d_]+\.?){0,5}$")
_PHONE_SHAPE = re.compile(r"^\+?[\d\s().\-/]{7,24}$")
_WORD = re.compile(r"\w+")


@dataclass(slots=True)
class ColumnSample:
    """The sampled, non-null values of one column, and what the database says of it.

    ``full_patterns``, when set, holds pattern hits counted over every row of the column
    (``govkit scan --full``); the classifier then takes pattern shares from it and
    everything else (names, NER, shapes) from ``values``, a uniform sample of the rows.
    """

    table: str
    column: str
    kind: ValueKind
    values: list[Any]
    nulls: int = 0
    full_patterns: PatternTally | None = None


@dataclass(slots=True)
class EntityStat:
    """How many sampled values carried an entity, and a few masked examples."""

    hits: int = 0
    score_total: float = 0.0
    examples: list[str] = field(default_factory=list)

    @property
    def mean_score(self) -> float:
        # Rounded: a sum of 49 scores of 0.4 divides back to 0.39999999999999997, which
        # would fail the ``>= STRONG_SCORE`` test every valid phone number is meant to pass.
        return round(self.score_total / self.hits, 9) if self.hits else 0.0


@dataclass(slots=True)
class EntityVerdict:
    """One entity in a column. ``hits`` of ``of`` values carried it; ``of`` is the number
    of values that evidence was counted over (every row for pattern hits in ``--full``
    mode, the sample otherwise; 0 means the verdict's ``sampled``)."""

    entity_type: str
    confidence: float
    hits: int
    evidence: list[str]
    rule: str
    of: int = 0
    #: The id of the registered finding rule that found it (govkit/detect/rules/).
    found_by: str = ""


@dataclass(slots=True)
class ColumnVerdict:
    """The decision for one column and everything needed to explain it."""

    table: str
    column: str
    kind: str
    sampled: int
    entities: list[EntityVerdict]
    rule: str
    reason: str
    name_hints: list[dict[str, Any]] = field(default_factory=list)
    value_evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    #: The registered rules (govkit/detect/rules/) that set an entity aside or dropped it:
    #: ``{"rule", "entity", "stage", "why"}`` each, in the order they fired.
    fired: list[dict[str, str]] = field(default_factory=list)

    @property
    def is_personal(self) -> bool:
        return bool(self.entities)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnVerdict:
        data = dict(data)
        data["entities"] = [EntityVerdict(**e) for e in data.get("entities", [])]
        return cls(**data)


@dataclass(slots=True)
class _Profile:
    n: int
    distinct: int
    booleans: float
    numbers: float
    dates: float
    letters: float
    median_len: float
    mean_words: float
    truncated: int
    prose: float = 0.0
    lower: float = 1.0
    #: The whole-column rule that decided before any evidence was weighed (yes-no-flags).
    flags: Fired | None = None

    @property
    def free_text(self) -> bool:
        """Long, multi-word values that read as prose (notes, tickets), not as tokens
        (user agents, paths, serialised data), which only look long, nor as title-cased
        names (one-line addresses: ``734 Mitchell Trace, Lake Davidborough, SC 01694``)."""
        return self.median_len >= 35 and self.mean_words >= 6 and self.prose >= 0.6 and self.lower >= 0.35


@dataclass(slots=True)
class Evidence:
    """What the registered rules weigh for one column (govkit/detect/rules/): the finding
    rules add ``candidates``; the column rules, asked through :meth:`veto`, set entities aside
    and are recorded on the verdict (``fired``)."""

    sample: ColumnSample
    texts: Counter[str]
    profile: _Profile
    hints: list[NameHint]
    facts: ColumnFacts
    verdict: ColumnVerdict
    patterns: dict[str, EntityStat]
    pattern_total: int
    ner: dict[str, list[Span]] | None
    ner_stats: dict[str, EntityStat]
    ner_total: int
    hint_strength: dict[str, float] = field(default_factory=dict)
    candidates: dict[str, EntityVerdict] = field(default_factory=dict)
    #: Pattern entities a column rule set aside: entity -> why.
    rejected: dict[str, str] = field(default_factory=dict)
    #: The largest share of values a pattern finding explains, once the pattern rules ran:
    #: the shape rules stand back where another entity is proven (an address column of e-mails).
    proven: float = 0.0

    def veto(self, stage: Stage, entity: str) -> Fired | None:
        """The column rule that sets ``entity`` aside at ``stage`` (recorded), or None."""
        fired = REGISTRY.veto(stage, entity, self.facts)
        if fired is not None:
            self.verdict.fired.append(fired.to_dict())
        return fired


class ColumnClassifier:
    """Classify columns with one engine; reuse it for every column of a scan."""

    def __init__(
        self, engine: DetectionEngine, *, min_confidence: float = 0.5, ner_sample: int = 200
    ) -> None:
        self.engine = engine
        self.min_confidence = min_confidence
        self.ner_sample = ner_sample

    def classify(self, sample: ColumnSample) -> ColumnVerdict:
        return self.classify_many([sample])[0]

    def classify_many(self, samples: Sequence[ColumnSample]) -> list[ColumnVerdict]:
        """Classify a batch of columns; NER for all of them runs in one ``nlp.pipe`` pass."""
        prepared = [_prepare(s) for s in samples]
        # Patterns first: a column whose values are proven e-mails or card numbers has
        # nothing to gain from the NER model, which is the slower half of detection.
        patterns = [self._structured_patterns(s, t, p, skip) for s, (t, p, skip) in zip(samples, prepared, strict=True)]
        ner_inputs: list[str] = []
        ner_slices: list[tuple[int, int] | None] = []
        for sample, (texts, profile, _), found in zip(samples, prepared, patterns, strict=True):
            decided = found is not None and any(stat.hits >= 0.8 * found[1] for stat in found[0].values())
            if self._wants_ner(sample, profile) and texts and not decided:
                chosen = list(texts)[: self.ner_sample]
                ner_slices.append((len(ner_inputs), len(ner_inputs) + len(chosen)))
                ner_inputs.extend(chosen)
            else:
                ner_slices.append(None)
        ner_spans = self.engine.find_named_entities(ner_inputs) if ner_inputs else []
        verdicts = []
        for sample, (texts, profile, skipped), span, found in zip(
            samples, prepared, ner_slices, patterns, strict=True
        ):
            ner = None
            if span is not None:
                chosen = list(texts)[: self.ner_sample]
                ner = dict(zip(chosen, ner_spans[span[0] : span[1]], strict=True))
            verdicts.append(self._decide(sample, texts, profile, skipped, ner, found))
        _apply_table_meaning(samples, verdicts)
        return verdicts

    def _structured_patterns(
        self, sample: ColumnSample, texts: Counter[str], profile: _Profile, skipped: str | None
    ) -> tuple[dict[str, EntityStat], int] | None:
        """Pattern evidence for a structured column (hits and the count they are out of);
        None where the column is decided otherwise (skipped, empty, flags, free text)."""
        if skipped or not profile.n or profile.flags is not None:
            return None
        hints = hints_for(sample.column, sample.table)
        if profile.free_text and not any(h.effective_strength >= 0.8 for h in hints):
            return None
        if sample.full_patterns is not None and sample.full_patterns.n:
            return sample.full_patterns.settled(), sample.full_patterns.n
        hint_strength = {h.entity_type: h.effective_strength for h in hints}
        return self._pattern_stats(texts, hint_strength, full=True, kind=sample.kind), profile.n

    def _wants_ner(self, sample: ColumnSample, profile: _Profile) -> bool:
        return (
            self.engine.has_ner
            and sample.kind not in ("integer", "number", "boolean", "date", "datetime", "binary")
            and profile.letters >= 0.5
            and profile.flags is None
        )

    def _decide(
        self,
        sample: ColumnSample,
        texts: Counter[str],
        profile: _Profile,
        skipped: str | None,
        ner: dict[str, list[Span]] | None,
        pattern_evidence: tuple[dict[str, EntityStat], int] | None = None,
    ) -> ColumnVerdict:
        hints = hints_for(sample.column, sample.table)
        verdict = ColumnVerdict(
            table=sample.table,
            column=sample.column,
            kind=sample.kind,
            sampled=profile.n,
            entities=[],
            rule="no evidence",
            reason="neither the name nor the values point at personal data",
            name_hints=[_hint_dict(h) for h in hints],
            profile={
                "distinct": profile.distinct,
                "nulls": sample.nulls,
                "median_length": profile.median_len,
                "free_text": profile.free_text,
                "truncated_values": profile.truncated,
            },
        )
        if skipped:
            verdict.rule, verdict.reason, verdict.skipped = "skipped", skipped, skipped
            return verdict
        if profile.n == 0:
            verdict.rule, verdict.reason = "empty", "no non-null values in the sample"
            return verdict
        if profile.flags is not None:
            verdict.rule = "boolean values"
            verdict.reason = profile.flags.why + _despite(hints)
            verdict.fired.append(profile.flags.to_dict())
            return verdict
        facts = _facts(sample, texts, profile)
        # A strongly named column (shipping_address) stays structured even when its values
        # are long: it is one value of one kind, not prose that may mention anything.
        if profile.free_text and not any(h.effective_strength >= 0.8 for h in hints):
            return self._decide_free_text(sample, verdict, texts, profile, ner, facts)

        if pattern_evidence is None:
            pattern_evidence = self._structured_patterns(sample, texts, profile, skipped)
        patterns, pattern_total = pattern_evidence if pattern_evidence is not None else ({}, profile.n)
        ner_stats = _ner_stats(texts, ner, full=True) if ner is not None else {}
        ner_total = _ner_total(texts, ner)
        verdict.value_evidence = _evidence_dict(patterns, pattern_total, "patterns")
        verdict.value_evidence.update(_evidence_dict(ner_stats, ner_total, "ner"))

        ev = Evidence(
            sample, texts, profile, hints, facts, verdict, patterns, pattern_total, ner, ner_stats, ner_total,
            hint_strength={h.entity_type: h.effective_strength for h in hints},
        )
        # The registered finding rules (govkit/detect/rules/), in their declared order: the
        # validated-pattern rules first, then those weighing names, shapes and NER, which
        # stand back where a pattern of another entity explains most values.
        REGISTRY.find("patterns", ev)
        ev.proven = max((patterns[e].hits / pattern_total for e in ev.candidates if e in patterns), default=0.0)
        REGISTRY.find("shape", ev)
        candidates, rejected = ev.candidates, ev.rejected

        kept = [c for c in candidates.values() if c.confidence >= self.min_confidence]
        kept.sort(key=lambda c: -c.confidence)
        if kept:
            top = kept[0]
            # Mixed columns (a 'contact' column of e-mails and phones) keep their second kind.
            verdict.entities = [top] + [
                c for c in kept[1:] if c.hits >= 0.25 * profile.n or c.rule == "sparse matches"
            ]
            verdict.rule = top.rule
            verdict.reason = _reason(top, top.of or profile.n, hints)
        elif rejected:
            entity, why = next(iter(rejected.items()))
            verdict.rule = "implausible values"
            verdict.reason = f"values match {entity} one by one, but as a column they do not: {why}"
        elif hints and any(h.effective_strength > 0 for h in hints):
            strongest = next(h for h in hints if h.effective_strength > 0)
            verdict.rule = "contrary values"
            verdict.reason = (
                f"the name suggests {strongest.entity_type} ({strongest.term!r}) "
                "but the values do not look like it"
            )
        elif hints:
            verdict.rule = "negated name"
            verdict.reason = (
                f"the name mentions {hints[0].term!r} but describes a property of it "
                f"({hints[0].negated_by!r})"
            )
        return verdict

    def _decide_free_text(
        self,
        sample: ColumnSample,
        verdict: ColumnVerdict,
        texts: Counter[str],
        profile: _Profile,
        ner: dict[str, list[Span]] | None,
        facts: ColumnFacts,
    ) -> ColumnVerdict:
        patterns = self._pattern_stats(texts, {}, full=False)
        if ner is not None and is_foreign_prose(ner):
            ner = credible_spans(ner)  # the NER model is English; see detect/prose.py
        ner_stats = _ner_stats(texts, ner, full=False) if ner is not None else {}
        ner_total = _ner_total(texts, ner)
        verdict.value_evidence = _evidence_dict(patterns, profile.n, "patterns")
        verdict.value_evidence.update(_evidence_dict(ner_stats, ner_total, "ner"))
        ev = Evidence(
            sample, texts, profile, [], facts, verdict, patterns, profile.n, ner, ner_stats, ner_total
        )
        REGISTRY.find("prose", ev)
        found = list(ev.candidates.values())
        verdict.entities = sorted(
            (f for f in found if f.confidence >= self.min_confidence), key=lambda f: -f.confidence
        )
        verdict.rule = "free text"
        verdict.reason = (
            "free text mentioning " + ", ".join(f.entity_type for f in verdict.entities)
            if verdict.entities
            else "free text with no personal data found in the sample"
        )
        return verdict

    def pattern_tally(self, table: str, column: str, kind: ValueKind) -> PatternTally:
        """An accumulator of exact pattern hits, fed batch by batch (``scan --full``)."""
        return PatternTally(self, table, column, kind)

    def _pattern_stats(
        self, texts: Counter[str], hint_strength: dict[str, float], *, full: bool, kind: ValueKind = "text"
    ) -> dict[str, EntityStat]:
        stats: dict[str, EntityStat] = {}
        distinct = list(texts)
        for value, best in zip(distinct, self._judge(distinct, hint_strength, full=full, kind=kind), strict=True):
            _tally(stats, texts[value], best)
        return stats

    def _judge(
        self, distinct: list[str], hint_strength: dict[str, float], *, full: bool, kind: ValueKind,
        settle: bool = True,
    ) -> list[dict[str, tuple[float, str]]]:
        """For each distinct value, the entities it carries: entity -> (score, text to show).

        ``settle=False`` leaves look-alike claims unsettled (:func:`_settle_look_alikes`):
        a :class:`PatternTally` settles them once over the whole column instead of per batch,
        so that its counts do not depend on how the rows were batched or shared out.
        """
        entities = _pattern_entities(kind, hint_strength)
        if entities is not None and not entities:
            return [{} for _ in distinct]
        # Structured cells are checked whole where a validator exists (see detect/values.py).
        whole = {
            e: check for e, check in WHOLE_VALUE_CHECKS.items() if full and (entities is None or e in entities)
        }
        # Weak recognizers only matter where the name supports them (see engine._weak_entities).
        weak = {e for e in self.engine.weak_entities if hint_strength.get(e, 0.0) < 0.5}
        found = self.engine.find_patterns(distinct, entities, exclude=frozenset(whole) | weak)
        judged = []
        for value, spans in zip(distinct, found, strict=True):
            best: dict[str, tuple[float, str]] = {}
            length = len(value.strip()) or 1
            for span in _outermost(spans):
                strong = span.score >= STRONG_SCORE or hint_strength.get(span.entity_type, 0) >= 0.5
                covers = (span.end - span.start) / length >= FULL_COVERAGE
                if strong and (covers or not full) and span.score > best.get(span.entity_type, (0.0, ""))[0]:
                    best[span.entity_type] = (span.score, value if full else value[span.start : span.end])
            for entity, check in whole.items():
                score = check(value)
                if score is not None:
                    best[entity] = (score, value)
            judged.append(best)
        if settle:
            _settle_look_alikes(judged)
        return judged


class PatternTally:
    """Exact pattern hit counts over every value of a column, accumulated batch by batch.

    Values already judged are remembered (up to ``CACHE_VALUES`` distinct ones per column),
    so a status, country or city column costs one judgement per distinct value, not per row.
    """

    CACHE_VALUES = 100_000

    def __init__(self, classifier: ColumnClassifier, table: str, column: str, kind: ValueKind) -> None:
        self.classifier = classifier
        self.column = column
        self.kind = kind
        self.hint_strength = {h.entity_type: h.effective_strength for h in hints_for(column, table)}
        self.stats: dict[str, EntityStat] = {}
        #: Per look-alike pair, the hits of values both entities claim (the same digits):
        #: what :meth:`settled` takes away from one of them once the whole column is counted.
        self.shared: dict[tuple[str, str], dict[str, EntityStat]] = {}
        self.n = 0
        self._seen: dict[str, dict[str, tuple[float, str]]] = {}

    def add(self, values: Iterable[Any]) -> None:
        self.add_counts(self.count(values))

    def count(self, values: Iterable[Any]) -> Counter[str]:
        """A batch's values as text, counted (None and binary values left out).

        Split from :meth:`add_counts` so that a scan can count in one process and judge in
        another (:mod:`govkit.detect.parallel`).
        """
        texts: Counter[str] = Counter()
        # Count raw values first (in C), then convert each distinct one once. Unhashable
        # values (JSON or array columns) are counted by their text instead.
        batch = [v for v in values if v is not None]
        try:
            raw: Counter[Any] = Counter(batch)
        except TypeError:
            raw = Counter(_as_text(v) for v in batch if not isinstance(v, bytes | bytearray | memoryview))
        for value, count in raw.items():
            if isinstance(value, bytes | bytearray | memoryview):
                continue
            text = value[:MAX_VALUE_CHARS] if isinstance(value, str) else _as_text(value)[:MAX_VALUE_CHARS]
            if text.strip():
                texts[text] += count
        return texts

    def add_counts(self, texts: Counter[str]) -> None:
        """Judge the values not seen before, then tally every value of the batch."""
        new = [v for v in texts if v not in self._seen]
        judged = (
            self.classifier._judge(new, self.hint_strength, full=True, kind=self.kind, settle=False) if new else []
        )
        self.n += sum(texts.values())
        fresh = dict(zip(new, judged, strict=True))
        if len(self._seen) < self.CACHE_VALUES:
            self._seen.update(fresh)
        for value, count in texts.items():
            best = fresh.get(value)
            if best is None:
                best = self._seen[value]
            _tally(self.stats, count, best)
            for pair, claims in _shared_claims(best).items():
                _tally(self.shared.setdefault(pair, {}), count, claims)

    def settled(self) -> dict[str, EntityStat]:
        """The column's counts with look-alike claims settled over the whole column
        (:func:`_settle_look_alikes`'s rule, on row counts)."""
        stats = {e: EntityStat(s.hits, s.score_total, list(s.examples)) for e, s in self.stats.items()}
        for (checksum, look_alike), claims in self.shared.items():
            claimed = stats[look_alike].hits if look_alike in stats else 0
            if not claimed or look_alike not in claims:
                continue
            loser = _look_alike_loser((checksum, look_alike), claims[look_alike].hits, claimed)
            if loser is None or loser not in stats or loser not in claims:
                continue
            stat = stats[loser]
            stat.hits -= claims[loser].hits
            stat.score_total -= claims[loser].score_total
            if stat.hits <= 0:
                del stats[loser]
        return stats

    def take(self) -> tuple[int, dict[str, EntityStat], dict[tuple[str, str], dict[str, EntityStat]]]:
        """The counts so far, reset to zero (the judgement cache stays): a worker's delta."""
        delta = (self.n, self.stats, self.shared)
        self.n, self.stats, self.shared = 0, {}, {}
        return delta

    def merge(
        self, n: int, stats: dict[str, EntityStat], shared: dict[tuple[str, str], dict[str, EntityStat]] | None = None
    ) -> None:
        """Add counts taken from another tally of the same column (merged in batch order,
        the examples come out as a single process would have kept them)."""
        self.n += n
        _merge_stats(self.stats, stats)
        for pair, claims in (shared or {}).items():
            _merge_stats(self.shared.setdefault(pair, {}), claims)


def _merge_stats(mine: dict[str, EntityStat], theirs: dict[str, EntityStat]) -> None:
    for entity, other in theirs.items():
        stat = mine.setdefault(entity, EntityStat())
        stat.hits += other.hits
        stat.score_total += other.score_total
        stat.examples.extend(other.examples[: max(0, 3 - len(stat.examples))])


def _shared_claims(best: dict[str, tuple[float, str]]) -> dict[tuple[str, str], dict[str, tuple[float, str]]]:
    """The look-alike pairs both claiming this value's digits, with both claims."""
    out: dict[tuple[str, str], dict[str, tuple[float, str]]] = {}
    for checksum, look_alike in _CHANCE_CHECKSUMS:
        if checksum in best and look_alike in best and _digits(best[checksum][1]) in _digits(best[look_alike][1]):
            out[(checksum, look_alike)] = {checksum: best[checksum], look_alike: best[look_alike]}
    return out


#: Entities whose validated matches essentially never occur by chance: even one hit in a
#: structured column is reported (rule "sparse matches"). Card numbers are not among them:
#: one random 16-digit number in ten passes Luhn.
SPARSE_ENTITIES = frozenset({"EMAIL_ADDRESS", "IBAN_CODE"})

#: (checksum entity, look-alike entity) -> the chance that a number of the look-alike passes
#: the checksum entity's check. A US phone number written 3-3-4 passes the NHS mod-11 check
#: one time in eleven; a column of NHS numbers parses as phone numbers almost throughout.
_CHANCE_CHECKSUMS: dict[tuple[str, str], float] = {("UK_NHS", "PHONE_NUMBER"): 1 / 11}

#: The fewest look-alike matches from which a pass rate is worth judging.
_MIN_LOOK_ALIKES = 5


def _settle_look_alikes(judged: list[dict[str, tuple[float, str]]]) -> None:
    """Decide, per column, which of two entities claiming the same numbers is real.

    One number cannot be told apart (``415 745 1020`` is a valid phone number *and* passes
    the NHS check), but a batch can, by the checksum's pass rate. Among the values the
    look-alike matched: if nearly all pass the checksum, they are the checksum entity and
    the look-alike match is incidental; if about as few pass as chance predicts, the
    checksum passed by coincidence. Between the two, both stay. Only the shared matches
    (the same digits) are settled: a value carrying both, apart, keeps both.
    """
    for checksum, look_alike in _CHANCE_CHECKSUMS:
        claimed = [best for best in judged if look_alike in best]
        shared = [
            best for best in claimed
            if checksum in best and _digits(best[checksum][1]) in _digits(best[look_alike][1])
        ]  # fmt: skip
        if not shared:
            continue
        loser = _look_alike_loser((checksum, look_alike), len(shared), len(claimed))
        if loser is not None:
            for best in shared:
                del best[loser]


def _look_alike_loser(pair: tuple[str, str], shared: int, claimed: int) -> str | None:
    """Which entity of a (checksum, look-alike) pair gives up the numbers both claim, or
    None to keep both: the rule of :func:`_settle_look_alikes`, for distinct values (a
    sample) and row counts (:meth:`PatternTally.settled`) alike."""
    checksum, look_alike = pair
    rate = shared / claimed
    if rate >= 0.9 and claimed >= _MIN_LOOK_ALIKES:
        return look_alike
    if rate <= 3 * _CHANCE_CHECKSUMS[pair]:
        return checksum
    return None


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


#: Entities a bare number can be: what an INTEGER or NUMERIC column is checked for.
_NUMERIC_ENTITIES = frozenset({"CREDIT_CARD", "CN_BANK_CARD", "US_SSN", "US_BANK_NUMBER", "US_ITIN", "UK_NHS"})


def _pattern_entities(kind: ValueKind, hint_strength: dict[str, float]) -> frozenset[str] | None:
    """Which pattern entities are worth running for a column of this SQL type (None: all).

    Dates, times and booleans carry no pattern entity; a number column can hold a card or
    account number, or whatever its name says (a phone stored as BIGINT), but running the
    phone matcher over every price and millisecond count would be wasted work.
    """
    if kind in ("date", "datetime", "boolean", "binary"):
        return frozenset()
    if kind in ("integer", "number"):
        return _NUMERIC_ENTITIES | {e for e, s in hint_strength.items() if s > 0}
    return None


def column_confidence(score: float, share: float, hint: float) -> float:
    """Confidence that a column holds an entity, from per-value score, hit share and name.

    A score is Presidio's belief for one value in isolation (a validated phone number gets
    0.4, because digit runs in prose are often something else). In a column, the same
    validated shape in most values is evidence of its own, so confidence grows with the
    share: ``1 - (1 - score) ** (1 + 2 * share)`` turns 0.4 at 100% into 0.78 but keeps
    Presidio's 0.01-0.05 guesses (any 8-17 digit number "might be" a bank account) low. A
    supporting name then closes part of the remaining gap, as Presidio's context words do.
    """
    combined = 1.0 - (1.0 - min(score, 1.0)) ** (1.0 + 2.0 * share)
    return _clamp(combined + (1.0 - combined) * hint * 0.6)


def apply_label(verdict: ColumnVerdict, entity_type: str | None, note: str = "") -> ColumnVerdict:
    """Override a verdict with a human label (``entity_type=None`` means not personal data)."""
    verdict.rule = "labelled"
    if entity_type is None:
        verdict.entities = []
        verdict.reason = "labelled not personal data by a person" + (f": {note}" if note else "")
    else:
        verdict.entities = [EntityVerdict(entity_type, 1.0, verdict.sampled, [], "labelled")]
        verdict.reason = f"labelled {entity_type} by a person" + (f": {note}" if note else "")
    return verdict


# -- helpers ------------------------------------------------------------------------------


def _prepare(sample: ColumnSample) -> tuple[Counter[str], _Profile, str | None]:
    """Turn raw values into counted strings, and profile them."""
    texts: Counter[str] = Counter()
    truncated = 0
    binary = sample.kind == "binary"
    for value in sample.values:
        if isinstance(value, bytes | bytearray | memoryview):
            binary = True
            break
        text = _as_text(value)
        if len(text) > MAX_VALUE_CHARS:
            text = text[:MAX_VALUE_CHARS]
            truncated += 1
        if text.strip():
            texts[text] += 1
    if binary:
        empty = _Profile(0, 0, 0, 0, 0, 0, 0, 0, 0)
        return Counter(), empty, "binary column: not scanned (no text to analyse)"
    n = sum(texts.values())
    if not n:
        return texts, _Profile(0, 0, 0, 0, 0, 0, 0, 0, truncated), None

    def share(predicate: Any) -> float:
        return sum(c for v, c in texts.items() if predicate(v)) / n

    is_date_kind = sample.kind in ("date", "datetime")
    lengths = [len(v) for v in texts.elements()] if len(texts) < 5000 else [len(v) for v in texts]
    words = sum(len(_WORD.findall(v[:500])) * c for v, c in texts.items()) / n
    profile = _Profile(
        n=n,
        distinct=len(texts),
        booleans=boolean_share(texts, sample.kind),
        numbers=share(lambda v: bool(_NUMBER.match(v.strip()))),
        dates=1.0 if is_date_kind else share(lambda v: bool(_DATE.match(v.strip()))),
        letters=share(lambda v: any(ch.isalpha() for ch in v[:200])),
        median_len=float(statistics.median(lengths)),
        mean_words=round(words, 2),
        truncated=truncated,
        prose=_prose_share(texts),
        lower=_lower_share(texts),
    )
    profile.flags = REGISTRY.veto("column", "", _facts(sample, texts, profile))
    return texts, profile, None


def _facts(sample: ColumnSample, texts: Counter[str], profile: _Profile) -> ColumnFacts:
    """What the registered rules look at (govkit/detect/rules/base.py)."""
    return ColumnFacts(sample.table, sample.column, sample.kind, texts, profile.n, profile.distinct)


_PROSE_WORD = re.compile(r"^[(\"'\u201c]?[^\W\d_]+(?:['\u2019-][^\W\d_]+)*[.,;:!?)\"'\u201d]*$")


_QUOTED_CONTACT = re.compile(r"^(?:[+(]?\d[\d().\-]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)[.,;:)]?$")


def _prose_share(texts: Counter[str], limit: int = 200) -> float:
    """Share of whitespace-separated tokens that are plain words, over up to ``limit`` values.

    Prose is mostly words; a user agent (``Mozilla/5.0 (X11; Linux x86_64)``), a path or a
    serialised record is mostly tokens with digits, slashes and brackets. Numbers and e-mail
    addresses count neither way: a note that reads "called Mario at +86 13800000001, mail
    x@example.com" is a sentence quoting contact data.
    """
    words = total = 0
    for value in list(texts)[:limit]:
        tokens = [t for t in value[:500].split() if not _QUOTED_CONTACT.match(t)]
        total += len(tokens)
        words += sum(1 for t in tokens if _PROSE_WORD.match(t))
    return words / total if total else 0.0


def _lower_share(texts: Counter[str], limit: int = 200) -> float:
    """Share of cased words that start in lower case, over up to ``limit`` values.

    Sentences are mostly lower-case words (articles, verbs), even in German; addresses and
    lists of names are capitalised throughout. Scripts without case (Chinese) give 1.0.
    """
    lower = cased = 0
    for value in list(texts)[:limit]:
        for token in value[:500].split():
            first = next((ch for ch in token if ch.isalpha()), "")
            if first.islower():
                lower += 1
                cased += 1
            elif first.isupper():
                cased += 1
    return lower / cased if cased else 1.0


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def _outermost(spans: list[Span]) -> list[Span]:
    """Drop spans lying inside a longer span of another entity that scores at least as high.

    The URL recognizer matches the domain of every e-mail address (``example.com`` in
    ``jane@example.com``); that is part of the e-mail, not a second finding.
    """
    return [
        inner
        for inner in spans
        if not any(
            outer is not inner
            and outer.entity_type != inner.entity_type
            and outer.start <= inner.start
            and inner.end <= outer.end
            and (outer.end - outer.start) > (inner.end - inner.start)
            and outer.score >= inner.score
            for outer in spans
        )
    ]


def _tally(stats: dict[str, EntityStat], count: int, best: dict[str, tuple[float, str]]) -> None:
    """Count one distinct value (``count`` times) for each entity it carries.

    ``best`` maps entity -> (score, text to show): the whole value for structured columns,
    only the matched span for free text, always masked.
    """
    for entity, (score, shown) in best.items():
        stat = stats.setdefault(entity, EntityStat())
        stat.hits += count
        stat.score_total += score * count
        if len(stat.examples) < 3:
            stat.examples.append(mask(shown, entity))


def _ner_stats(texts: Counter[str], ner: dict[str, list[Span]] | None, *, full: bool) -> dict[str, EntityStat]:
    stats: dict[str, EntityStat] = {}
    for value, spans in (ner or {}).items():
        length = len(value.strip()) or 1
        if full:
            # A structured value "is" an entity when that entity's spans together cover most
            # of it: "Angus Young, Malcolm Young, Brian Johnson" is three PERSON spans.
            covered: dict[str, int] = {}
            for s in spans:
                covered[s.entity_type] = covered.get(s.entity_type, 0) + (s.end - s.start)
            best = {e: (NER_SCORE, value) for e, chars in covered.items() if chars / length >= 0.6}
        else:
            best = {s.entity_type: (s.score, value[s.start : s.end]) for s in spans}
        _tally(stats, texts[value], best)
    return stats


def _ner_total(texts: Counter[str], ner: dict[str, list[Span]] | None) -> int:
    return sum(texts[v] for v in ner) if ner else 0


def _looks_like_person(value: str) -> bool:
    return len(value) <= 80 and bool(_PERSON_NAME.match(value.strip()))


def _looks_like_place(value: str) -> bool:
    """Addresses, cities, postcodes: text that is not a bare number (a price, a count)."""
    stripped = value.strip()
    if re.fullmatch(r"[A-Z0-9\- ]{3,10}", stripped.upper()):
        return True  # postcodes: 14700, SW1A 1AA, H2G 1A7
    return 2 <= len(stripped) <= 300 and not _NUMBER.match(stripped.replace(" ", ""))


_ADDRESS = re.compile(r"^(?=.*\d)(?=.*[^\W\d_]{3}).{8,200}$")


def _address_share(texts: Counter[str]) -> float:
    """Share of values shaped like a one-line address: words and a number, in one line,
    with a comma between parts (``734 Mitchell Trace, Lake Davidborough, SC 01694``)."""
    n = sum(texts.values())
    shaped = sum(c for v, c in texts.items() if "," in v and "\n" not in v and _ADDRESS.match(v.strip()))
    return shaped / n if n else 0.0


def _looks_like_date(value: str) -> bool:
    return bool(_DATE.match(value.strip()))


def _looks_like_phone(value: str) -> bool:
    return bool(_PHONE_SHAPE.match(value.strip())) and sum(ch.isdigit() for ch in value) >= 7


_SHAPES: dict[str, Callable[[str], bool]] = {
    "PERSON": _looks_like_person,
    "LOCATION": _looks_like_place,
    "DATE_TIME": _looks_like_date,
    "PHONE_NUMBER": _looks_like_phone,
}


def _shape_share(texts: Counter[str], entity: str, profile: _Profile | None = None) -> float | None:
    """Share of values shaped like ``entity``; None where only a pattern match can tell."""
    check = _SHAPES.get(entity)
    if check is None:
        return None
    n = sum(texts.values())
    if not n:
        return 0.0
    if entity == "DATE_TIME" and profile is not None and profile.dates == 1.0:
        return 1.0
    return sum(c for v, c in texts.items() if check(v)) / n


def _evidence_dict(stats: dict[str, EntityStat], total: int, source: str) -> dict[str, dict[str, Any]]:
    return {
        f"{source}:{entity}": {
            "hits": stat.hits,
            "of": total,
            "share": round(stat.hits / total, 3) if total else 0.0,
            "mean_score": round(stat.mean_score, 3),
            "examples": stat.examples,
        }
        for entity, stat in sorted(stats.items(), key=lambda kv: -kv[1].hits)
    }


def _hint_dict(hint: NameHint) -> dict[str, Any]:
    return {
        "entity_type": hint.entity_type,
        "term": hint.term,
        "strength": hint.strength,
        "negated_by": hint.negated_by,
    }


def _reason(top: EntityVerdict, n: int, hints: Iterable[NameHint]) -> str:
    share = f"{top.hits}/{n} sampled values"
    named = next((h for h in hints if h.entity_type == top.entity_type and h.effective_strength), None)
    by_name = f"the name ({named.term!r})" if named else ""
    if top.rule == "values match":
        return f"{share} match {top.entity_type}"
    if top.rule == "sparse matches":
        return f"{share} are valid {top.entity_type} values: few, but such values do not occur by chance"
    if top.rule == "values look like":
        return f"the NER model tags {share} as {top.entity_type}"
    return f"{by_name} points at {top.entity_type} and {share} have its form"


def _despite(hints: Sequence[NameHint]) -> str:
    named = [h for h in hints if h.strength > 0]
    return f", although the name suggests {named[0].entity_type}" if named else ""


def _clamp(value: float) -> float:
    return round(max(0.0, min(0.99, value)), 3)


# -- helpers for the rules that stay in the classifier -------------------------------------


_COORDINATE = re.compile(r"^[+-]?\d{1,3}(?:\.\d+)?$")


def _coordinate_share(texts: Counter[str], term: str) -> float:
    """Share of values that are a latitude (|x| <= 90) or longitude (|x| <= 180) with decimals."""
    limit = 90.0 if term in ("latitude", "lat", "geolat") else 180.0
    total = sum(texts.values())
    good = sum(n for v, n in texts.items() if _COORDINATE.match(v.strip()) and "." in v
               and abs(float(v)) <= limit)
    return good / total if total else 0.0


def _apply_table_meaning(samples: Sequence[ColumnSample], verdicts: list[ColumnVerdict]) -> None:
    """Drop the verdicts a table's meaning says describe no person (the registry's table
    rules, govkit/detect/rules/: place-lookup, organisation, names-no-person)."""
    by_table: dict[str, list[int]] = {}
    for index, sample in enumerate(samples):
        by_table.setdefault(sample.table, []).append(index)
    for table, indices in by_table.items():
        columns = [samples[i].column for i in indices]
        persons = [verdicts[i].column for i in indices
                   if any(e.entity_type == "PERSON" for e in verdicts[i].entities)]
        # A name column the NER model reads as people half the time is not evidence that
        # the row names no person, even when it fell short of a PERSON verdict.
        unlike_people = [verdicts[i].column for i in indices
                         if verdicts[i].value_evidence.get("ner:PERSON", {}).get("share", 0.0) < 0.5]
        decided = REGISTRY.table_meaning(TableFacts(table, columns, persons, unlike_people))
        if decided is None:
            continue
        rule_id, meaning = decided
        for i in indices:
            verdict = verdicts[i]
            verdict.profile["table_meaning"] = f"{meaning.kind}: {meaning.reason}"
            dropped = [e for e in verdict.entities if meaning.drops(e.entity_type)]
            if not dropped:
                continue
            verdict.entities = [e for e in verdict.entities if not meaning.drops(e.entity_type)]
            verdict.fired.extend(Fired(rule_id, e.entity_type, "table", meaning.reason).to_dict() for e in dropped)
            names = ", ".join(f"{e.entity_type} (by {e.rule!r})" for e in dropped)
            if verdict.entities:
                verdict.reason += f"; {names} dropped: {meaning.reason}"
            else:
                verdict.rule = "table meaning"
                verdict.reason = f"the values suggest {names}, dropped: {meaning.reason}"
