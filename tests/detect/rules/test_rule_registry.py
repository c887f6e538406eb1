"""The registry of named rules: declared order, one rule per file, ids, docs, first-wins."""

from __future__ import annotations

import importlib
from collections import Counter

import pytest

from govkit.detect.rules import ORDER, REGISTRY, ColumnFacts, ColumnRule, FindingRule, Registry, TableFacts, TableRule
from govkit.detect.tables import TableMeaning


def test_every_declared_rule_is_registered_once_in_order() -> None:
    assert [r.id for r in REGISTRY.rules()] == list(ORDER)
    assert len(set(ORDER)) == len(ORDER)


@pytest.mark.parametrize("rule_id", ORDER)
def test_each_rule_lives_in_its_own_file_with_a_why(rule_id: str) -> None:
    rule = REGISTRY.get(rule_id)
    module = importlib.import_module(f"govkit.detect.rules.{rule_id.replace('-', '_')}")
    assert type(rule).__module__ == module.__name__
    assert len((type(rule).__doc__ or "").split()) >= 20  # says why, not just what
    assert rule.summary
    assert "\n" not in rule.summary
    assert len(rule.summary) <= 120
    if isinstance(rule, ColumnRule):
        assert rule.stages <= {"column", "patterns", "name", "ner", "prose"}
        assert rule.stages
    if isinstance(rule, FindingRule):
        assert rule.phase in {"patterns", "shape", "prose"}


def test_finding_rules_come_first_and_in_phase_order() -> None:
    phases = [r.phase for r in REGISTRY.rules() if isinstance(r, FindingRule)]
    assert phases == sorted(phases, key=["patterns", "shape", "prose"].index)
    kinds = [isinstance(r, FindingRule) for r in REGISTRY.rules()]
    assert kinds == sorted(kinds, reverse=True)


def test_an_undeclared_or_repeated_rule_is_refused() -> None:
    registry = Registry(("only",))

    class Only(TableRule):
        """A rule that exists only to be registered twice: the registry must refuse it."""

        id = "only"
        summary = "one line"

        def meaning(self, facts: TableFacts) -> TableMeaning | None:
            return None

    class Stranger(Only):
        """A rule whose id is not in the declared order: the registry must refuse it."""

        id = "stranger"

    registry.register(Only)
    with pytest.raises(ValueError, match="twice"):
        registry.register(Only)
    with pytest.raises(ValueError, match="declared order"):
        registry.register(Stranger)


def test_the_first_rule_in_order_is_the_one_that_fired() -> None:
    registry = Registry(("first", "second"))

    class Second(ColumnRule):
        """Always vetoes PERSON, but comes second in the order, so it is never recorded."""

        id = "second"
        summary = "second"
        stages = frozenset({"ner"})

        def check(self, entity: str, facts: ColumnFacts) -> str | None:
            return "second says no"

    class First(Second):
        """Always vetoes PERSON, first in the order: the one the registry reports."""

        id = "first"
        summary = "first"
        entities = frozenset({"PERSON"})

        def check(self, entity: str, facts: ColumnFacts) -> str | None:
            return "first says no"

    registry.register(Second)  # registration order does not matter, the declared one does
    registry.register(First)
    facts = ColumnFacts("t", "c", "text", Counter({"x": 1}), 1, 1)
    fired = registry.veto("ner", "PERSON", facts)
    assert fired is not None
    assert (fired.rule, fired.why) == ("first", "first says no")
    other = registry.veto("ner", "LOCATION", facts)  # First is about PERSON only
    assert other is not None
    assert other.rule == "second"
    assert registry.veto("name", "PERSON", facts) is None  # neither asks at the name stage
