"""Rule ``yes-no-flags``."""

from __future__ import annotations

import pytest

from govkit.detect.columns import ColumnClassifier, ColumnSample
from govkit.detect.rules import REGISTRY
from tests.detect.rules.conftest import MakeFacts

RULE = REGISTRY.column_rule("yes-no-flags")


@pytest.mark.parametrize(("values", "kind"), [
    (["0", "1"] * 50, "text"),
    (["yes", "no", "Yes", "N"] * 25, "text"),
    (["true", "false"] * 50, "text"),
    (["是", "否"] * 10, "text"),
    ([1, 0, 1], "boolean"),
    (["1"] * 91 + ["maybe"] * 9, "text"),
])
def test_flags_decide_the_column(facts: MakeFacts, values: list[object], kind: str) -> None:
    assert RULE.check("", facts(values, "phone_verified", kind=kind)) == "values are yes/no flags"


@pytest.mark.parametrize("values", [["1"] * 89 + ["maybe"] * 11, ["+1 555 0100"] * 10, []])
def test_other_values_are_not_flags(facts: MakeFacts, values: list[object]) -> None:
    assert RULE.check("", facts(values, "phone_verified")) is None


def test_the_verdict_names_the_rule(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("users", "email_verified", "text", ["yes", "no"] * 40))
    assert verdict.entities == []
    assert verdict.rule == "boolean values"
    assert verdict.reason.startswith("values are yes/no flags, although the name suggests EMAIL_ADDRESS")
    assert [f["rule"] for f in verdict.fired] == ["yes-no-flags"]
