"""Rule ``bare-domains``."""

from __future__ import annotations

import pytest

from govkit.detect.columns import ColumnClassifier, ColumnSample
from govkit.detect.rules import REGISTRY
from tests.detect.rules.conftest import MakeFacts

RULE = REGISTRY.column_rule("bare-domains")
DOMAINS = ["example.com", "acme.co.uk", "mail.example.org", "gmail.com", "wanadoo.fr"]


@pytest.mark.parametrize("values", [DOMAINS, DOMAINS * 9 + ["https://example.com/u/jane"]])
def test_bare_domains_name_organisations(facts: MakeFacts, values: list[str]) -> None:
    assert RULE.check("URL", facts(values, "email_domain")) is not None


@pytest.mark.parametrize("values", [
    ["https://example.com/users/jane", "https://example.org/~bob"],
    [*DOMAINS[:4], "https://example.com/u/jane"],  # 80%: not nine in ten
])
def test_urls_to_pages_stand(facts: MakeFacts, values: list[str]) -> None:
    assert RULE.check("URL", facts(values, "homepage")) is None


def test_the_verdict_names_the_rule(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("accounts", "website", "text", DOMAINS * 20))
    assert "URL" not in {e.entity_type for e in verdict.entities}
    assert [f["rule"] for f in verdict.fired] == ["bare-domains"]
