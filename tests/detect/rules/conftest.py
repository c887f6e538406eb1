"""Helpers for the tests of the registered rules (govkit/detect/rules/)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import pytest
from faker import Faker

from govkit.detect.columns import ColumnClassifier, ColumnSample, ColumnVerdict, ValueKind
from govkit.detect.engine import DetectionEngine
from govkit.detect.rules import ColumnFacts

MakeFacts = Callable[..., ColumnFacts]


def make_facts(values: Sequence[object], column: str = "c", table: str = "t", kind: str = "text") -> ColumnFacts:
    """The facts a column rule sees for these sampled values (as the classifier counts them)."""
    texts = Counter(str(v) for v in values if v is not None and str(v).strip())
    return ColumnFacts(table, column, kind, texts, sum(texts.values()), len(texts))


@pytest.fixture
def facts() -> MakeFacts:
    return make_facts


@pytest.fixture(scope="module")
def classifier(engine: DetectionEngine) -> ColumnClassifier:
    return ColumnClassifier(engine)


def classify_table(
    classifier: ColumnClassifier, table: str, columns: dict[str, tuple[ValueKind, Sequence[object]]]
) -> dict[str, ColumnVerdict]:
    samples = [ColumnSample(table, name, kind, list(values)) for name, (kind, values) in columns.items()]
    return {v.column: v for v in classifier.classify_many(samples)}


def fired_ids(verdict: ColumnVerdict) -> list[str]:
    return [f["rule"] for f in verdict.fired]


def found_by(verdict: ColumnVerdict) -> dict[str, str]:
    """entity -> id of the finding rule that found it."""
    return {e.entity_type: e.found_by for e in verdict.entities}


def fake(locale: str = "en_US", seed: int = 14) -> Faker:
    f = Faker(locale)
    f.seed_instance(seed)
    return f
