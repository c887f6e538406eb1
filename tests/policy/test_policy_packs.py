"""The shipped packs: each loads, classifies every entity type, and says where its rules come from."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from govkit.detect.entities import known_entities
from govkit.policy import Period, Resolver, Sensitivity, Where, load_pack, shipped_packs
from govkit.policy.loader import packs_dir

PACKS = ["baseline", "gdpr", "ccpa", "pipl"]
REPO_POLICIES = Path(__file__).resolve().parents[2] / "policies"


def test_the_four_packs_are_shipped() -> None:
    assert shipped_packs() == sorted(PACKS)


def test_packs_come_from_the_repository_in_a_development_install() -> None:
    # A wheel carries them as govkit/_data/policies (pyproject's force-include); an
    # editable install reads the top-level folder.
    assert Path(str(packs_dir())).resolve() == REPO_POLICIES


@pytest.mark.parametrize("name", PACKS)
def test_every_pack_loads(name: str) -> None:
    policy = load_pack(name)
    assert policy.files[-1] == f"govkit:policies/{name}.yaml"
    if name != "baseline":
        assert policy.files[0] == "govkit:policies/baseline.yaml"


@pytest.mark.parametrize("name", PACKS)
def test_every_pack_classifies_every_known_entity_type(name: str) -> None:
    """A new recognizer's entity type must be classified in baseline.yaml, or evaluate reports it."""
    resolver = Resolver(load_pack(name))
    where = Where("sqlite:///x.db", None, "t", "c")
    unclassified = [e for e in known_entities() if resolver.classify(where, [e]) is None]
    assert unclassified == []


@pytest.mark.parametrize("name", PACKS)
def test_every_restricted_entity_has_an_anonymization_rule(name: str) -> None:
    resolver = Resolver(load_pack(name))
    where = Where("sqlite:///x.db", None, "t", "c")
    missing = []
    for entity_type in known_entities():
        klass = resolver.classify(where, [entity_type])
        assert klass is not None
        if klass.sensitivity is Sensitivity.RESTRICTED and resolver.anonymization(where, [entity_type], klass) is None:
            missing.append(entity_type)
    assert missing == []


@pytest.mark.parametrize("name", ["gdpr", "ccpa", "pipl"])
def test_regime_packs_cite_the_law_for_their_rules(name: str) -> None:
    """Every rule a regime pack adds names the article it encodes (docs/policies.md lists them)."""
    raw = yaml.safe_load((REPO_POLICIES / f"{name}.yaml").read_text(encoding="utf-8"))
    uncited = []
    for entity_type, klass in raw.get("classification", {}).get("entities", {}).items():
        if not klass.get("cite"):
            uncited.append(f"entity {entity_type}")
    for section in ("anonymization",):
        for rule in raw.get(section, {}).get("rules", []):
            if not rule.get("cite"):
                uncited.append(f"{section} {rule}")
    for role, spec in raw.get("access", {}).get("roles", {}).items():
        for rule in spec.get("rules", []):
            if not rule.get("cite"):
                uncited.append(f"access {role} {rule}")
    assert uncited == []


def test_dsr_deadlines() -> None:
    deadlines = load_pack("baseline").doc.dsr.deadlines
    assert deadlines == {
        "gdpr": Period(months=1), "ccpa": Period(days=45), "pipl": Period(working_days=15),
    }


def test_gdpr_marks_special_categories() -> None:
    resolver = Resolver(load_pack("gdpr"))
    klass = resolver.classify(Where("s", None, "patients", "nhs_no"), ["UK_NHS"])
    assert klass is not None
    assert (klass.category, klass.sensitivity, klass.special) == ("health", Sensitivity.RESTRICTED,
                                                                   ("gdpr-special-category",))


def test_pipl_marks_sensitive_personal_information() -> None:
    resolver = Resolver(load_pack("pipl"))
    where = Where("s", None, "member", "sfzh")
    for entity_type in ("CN_RESIDENT_ID", "CN_PASSPORT", "CN_BANK_CARD", "CREDIT_CARD", "NRP"):
        klass = resolver.classify(where, [entity_type])
        assert klass is not None
        assert "pipl-sensitive" in klass.special, entity_type
        assert klass.sensitivity is Sensitivity.RESTRICTED
    assert set(load_pack("pipl").doc.classification.categories) >= {"biometric", "precise_location", "minor"}


def test_ccpa_marks_sensitive_personal_information() -> None:
    resolver = Resolver(load_pack("ccpa"))
    klass = resolver.classify(Where("s", None, "employees", "ssn"), ["US_SSN"])
    assert klass is not None
    assert klass.special == ("ccpa-sensitive",)


def test_show_output_of_a_pack_is_valid_yaml_and_json() -> None:
    import json

    policy = load_pack("pipl")
    assert yaml.safe_load(policy.to_yaml())["dsr"]["deadlines"]["pipl"] == "15 working days"
    assert json.loads(policy.to_json())["files"] == ["govkit:policies/baseline.yaml", "govkit:policies/pipl.yaml"]
