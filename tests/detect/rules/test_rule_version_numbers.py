"""Rule ``version-numbers``."""

from __future__ import annotations

import pytest

from govkit.detect.columns import ColumnClassifier, ColumnSample
from govkit.detect.rules import REGISTRY
from tests.detect.rules.conftest import MakeFacts

RULE = REGISTRY.column_rule("version-numbers")
VERSIONS = ["1.2.3.4", "2.10.3.1", "3.0.1.2", "1.4.0.17", "2.2.2.9", "4.1.0.0"]
ADDRESSES = ["192.168.1.10", "10.0.45.200", "172.16.254.1", "81.2.69.160", "203.0.113.77", "8.8.4.4"]


@pytest.mark.parametrize(("values", "column"), [(VERSIONS, "ip"), (ADDRESSES, "build_version"), (ADDRESSES, "release")])
def test_versions_are_not_ip_addresses(facts: MakeFacts, values: list[str], column: str) -> None:
    assert RULE.check("IP_ADDRESS", facts(values, column)) is not None


@pytest.mark.parametrize(("values", "column"), [(ADDRESSES, "ip"), (ADDRESSES, "client_addr"), (["n/a"], "ip")])
def test_real_addresses_stand(facts: MakeFacts, values: list[str], column: str) -> None:
    assert RULE.check("IP_ADDRESS", facts(values, column)) is None


def test_only_ip_addresses_at_the_pattern_stage() -> None:
    assert RULE.applies("patterns", "IP_ADDRESS")
    assert not RULE.applies("patterns", "URL")
    assert not RULE.applies("ner", "IP_ADDRESS")


def test_the_verdict_names_the_rule(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("devices", "firmware", "text", VERSIONS * 20))
    assert verdict.entities == []
    assert verdict.rule == "implausible values"
    assert {"rule": "version-numbers", "entity": "IP_ADDRESS", "stage": "patterns",
            "why": "dotted numbers never exceed 31: version strings, not IP addresses"} in verdict.fired
