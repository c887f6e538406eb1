"""Free text: find spans with govkit's detection engine, rewrite them with presidio-anonymizer.

Presidio's AnonymizerEngine does the span bookkeeping (overlaps, offsets shifting as
replacements change length); the replacement itself is our operator, passed as a
``custom`` lambda, so a pseudonym inside a sentence is the same one the column exporter
writes for the same value, and keys never pass through presidio's own operators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from govkit.actions.anonymize.operators import Operator


class TextAnonymizer:
    """Rewrites the personal-data spans of many texts; one presidio engine per instance."""

    def __init__(self, operators: Mapping[str, Operator], default: Operator | None = None) -> None:
        """``operators`` by entity type; ``default`` for entity types it does not name."""
        from presidio_anonymizer import AnonymizerEngine

        self._engine = AnonymizerEngine()  # type: ignore[no-untyped-call]
        self.operators = dict(operators)
        self.default = default

    def _configs(self, entity_types: set[str]) -> dict[str, Any]:
        from presidio_anonymizer.entities import OperatorConfig

        configs: dict[str, Any] = {}
        for entity_type in entity_types:
            operator = self.operators.get(entity_type, self.default)
            if operator is None:
                continue
            configs[entity_type] = OperatorConfig("custom", {"lambda": _bind(operator, entity_type)})
        return configs

    def anonymize_many(self, texts: Sequence[str | None], spans: Sequence[Sequence[Any]]) -> list[str | None]:
        """``spans[i]`` are the detection spans (``entity_type``, ``start``, ``end``, ``score``)
        of ``texts[i]``; entity types without an operator stay as they are."""
        from presidio_anonymizer.entities import RecognizerResult

        out: list[str | None] = []
        for text, found in zip(texts, spans, strict=True):
            if text is None or not found:
                out.append(text)
                continue
            configs = self._configs({s.entity_type for s in found})
            results = [
                RecognizerResult(s.entity_type, s.start, s.end, s.score) for s in found if s.entity_type in configs
            ]
            if not results:
                out.append(text)
                continue
            out.append(self._engine.anonymize(text=text, analyzer_results=results, operators=configs).text)
        return out


def _bind(operator: Operator, entity_type: str) -> Callable[[str], str]:
    def run(value: str) -> str:
        result = operator.apply(value, entity_type)
        return "" if result is None else str(result)

    return run
