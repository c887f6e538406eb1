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

TEXT_SUFFIXES = frozenset({".txt", ".log", ".md", ".text"})
DEFAULT_TEXT_OPERATOR = "replace"
#: Pseudonymized emails live under the reserved ``.invalid`` TLD (RFC 2606), which the email
#: recognizer rejects; the URL recognizer may still see a piece of one. Never personal data.
_RESERVED = re.compile(r"\S+@example\.invalid\b")


def text_plan(path: Path, rules: list[Rule], policy: Any) -> Plan:
    """Entity type -> operator, as FieldPlans whose ``field`` is the entity type."""
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


def _lines(path: Path, batch: int) -> Iterator[list[str]]:
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        chunk: list[str] = []
        for line in handle:
            chunk.append(line)
            if len(chunk) >= batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


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
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", errors="surrogateescape", newline="") as out:
        for lines in _lines(path, batch):
            spans = engine.find_all([line.rstrip("\r\n") for line in lines])
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
        for text, found in zip(texts, engine.find_patterns(texts), strict=True):
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
