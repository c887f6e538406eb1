"""File -> file for free text (``.txt``, ``.log``, ``.md``): personal-data spans rewritten.

Spans come from the detection engine (patterns and, with the spaCy model, names);
presidio-anonymizer rewrites them with our operators (:mod:`.text`). The operator for an
entity type comes from ``--rule ENTITY_TYPE=OPERATOR``, then the policy's entity rules,
else ``replace`` (``<EMAIL_ADDRESS>``). Lines stream in batches, so file size is no limit.
Verification re-scans the output: an entity whose operator should leave nothing
recognisable (everything but the format-preserving ones) must not be found again, and no
span found in the output may be one of the input's spans.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from govkit.actions.anonymize.export import SYNTHETIC, ExportResult, _mark_incomplete
from govkit.actions.anonymize.operators import Operator, OperatorContext, build
from govkit.actions.anonymize.plan import FieldPlan, Plan, Rule
from govkit.actions.anonymize.text import TextAnonymizer
from govkit.errors import UsageError
from govkit.sources.formats._encoding import detect_encoding, looks_binary
from govkit.sources.formats.base import HEAD_BYTES

TEXT_SUFFIXES = frozenset({".txt", ".log", ".md", ".text"})
DEFAULT_TEXT_OPERATOR = "replace"
#: Pseudonymized emails live under the reserved ``.invalid`` TLD (RFC 2606), which the email
#: recognizer rejects; the URL recognizer may still see a piece of one. Never personal data.
_RESERVED = re.compile(r"\S+@example\.invalid\b")


def text_plan(path: Path, rules: list[Rule], policy: Any) -> Plan:
    """Entity type -> operator, as FieldPlans whose ``field`` is the entity type."""
    text_encoding(path)  # binary content is refused before anything is planned
    plan = Plan(str(path))
    if policy is not None:
        for rule in policy.doc.anonymization.rules:
            if rule.entity is not None:
                plan.add(FieldPlan(path.name, rule.entity, rule.operator, dict(rule.params), rule.entity,
                                   f"anonymization rule for entity type {rule.entity}"))
    for rule in rules:
        entity = rule.field.upper()
        plan.add(FieldPlan(path.name, entity, rule.operator, rule.params, entity, f"--rule {rule.text}"))
    plan.notes.append(f"other entity types found in the text: {DEFAULT_TEXT_OPERATOR} (a placeholder)")
    return plan


def _operator_of(plan: Plan, path: Path, entity_type: str) -> str:
    chosen = plan.fields.get((path.name.lower(), entity_type.lower()))
    return chosen.operator if chosen else DEFAULT_TEXT_OPERATOR


def _lines(path: Path, batch: int, encoding: str = "utf-8") -> Iterator[list[str]]:
    """Lines, ``batch`` at a time. A byte the encoding cannot decode stays itself (a lone
    surrogate), so that the copy keeps it; :func:`_clean` hides it from the engine."""
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as handle:
        chunk: list[str] = []
        for line in handle:
            chunk.append(line)
            if len(chunk) >= batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def text_encoding(path: Path) -> str:
    """The encoding of ``path``, sniffed as 'govkit scan' does (the copy is written as UTF-8);
    binary content is refused."""
    with path.open("rb") as raw:
        head = raw.read(HEAD_BYTES)
    if looks_binary(head):
        raise UsageError(f"{path.name}: binary content, not text; nothing written")
    return detect_encoding(head)


_UNDECODED = re.compile("[\udc80-\udcff]")


def _clean(text: str) -> str:
    """``text`` for the detection engine: an undecodable byte (a lone surrogate, which spaCy
    cannot hash) becomes U+FFFD, one character for one, so span offsets still fit ``text``."""
    return _UNDECODED.sub("\ufffd", text)


def anonymize_text_file(
    path: Path, target: Path, plan: Plan, context: OperatorContext, result: ExportResult, *, verify: bool = True,
    engine: Any = None, batch: int = 1000,
) -> None:
    """Rewrite ``path`` into ``target``; problems go to ``result.problems`` (never values)."""
    from govkit.detect.engine import get_engine

    engine = engine or get_engine()
    operators: dict[str, Operator] = {
        p.field: build(p.operator, p.params, context) for p in plan.fields.values()
    }
    default = build(DEFAULT_TEXT_OPERATOR, {}, context)
    rewriter = TextAnonymizer(operators, default)
    salt = secrets.token_bytes(16)
    originals: set[int] = set()
    encoding = text_encoding(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", errors="surrogateescape", newline="") as out:
        for lines in _lines(path, batch, encoding):
            spans = engine.find_all([_clean(line.rstrip("\r\n")) for line in lines])
            for line, found in zip(lines, spans, strict=True):
                originals.update(hash((salt, line[s.start:s.end])) for s in found)
            texts = [line.rstrip("\r\n") for line in lines]
            new = rewriter.anonymize_many(texts, spans)
            out.writelines((text or "") + line[len(line.rstrip("\r\n")):]
                           for text, line in zip(new, lines, strict=True))
            result.rows += len(lines)
    result.outputs.append(str(target))
    if not verify:
        return
    counts: dict[str, int] = {}
    for lines in _lines(target, batch):
        texts = [line.rstrip("\r\n") for line in lines]
        for text, found in zip(texts, engine.find_patterns([_clean(t) for t in texts]), strict=True):
            synthetic = [s for s in found if _operator_of(plan, path, s.entity_type) in SYNTHETIC]
            reserved = [(m.start(), m.end()) for m in _RESERVED.finditer(text)]
            for span in found:
                if hash((salt, text[span.start:span.end])) in originals:
                    counts[span.entity_type] = counts.get(span.entity_type, 0) + 1
                elif span not in synthetic and not any(
                        s.start <= span.start and span.end <= s.end for s in synthetic) and not any(
                        a <= span.start and span.end <= b for a, b in reserved):
                    # e.g. the domain of a pseudonymized email found again as a URL is no leak
                    counts[span.entity_type] = counts.get(span.entity_type, 0) + 1
    problems = [f"{path.name}: {n} {entity} span(s) still found" for entity, n in counts.items()]
    result.problems.extend(problems)
    if problems:
        _mark_incomplete(target, problems)
