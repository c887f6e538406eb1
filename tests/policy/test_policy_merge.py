"""``extends`` and peers: what a workspace file overrides, keeps, and adds."""

from __future__ import annotations

from pathlib import Path

from govkit.policy import Resolver, Sensitivity, Where, active_policy, load_pack
from govkit.policy.schema import RetentionRule
from tests.policy.helpers import Write, load

WHERE = Where("sqlite:///shop.db", "shop", "customers", "email")


def test_an_entity_override_changes_one_key_and_keeps_the_rest(write: Write) -> None:
    path = write("shop", """
        extends: gdpr
        classification:
          entities:
            EMAIL_ADDRESS: {sensitivity: restricted}
    """)
    policy = load(path)
    klass = Resolver(policy).classify(WHERE, ["EMAIL_ADDRESS"])
    assert klass is not None
    assert (klass.category, klass.sensitivity) == ("contact", Sensitivity.RESTRICTED)
    assert str(klass.origin) == "policies/shop.yaml:4:5"
    assert policy.files == ["govkit:policies/baseline.yaml", "govkit:policies/gdpr.yaml", "policies/shop.yaml"]


def test_a_rule_replaces_the_inherited_rule_with_the_same_selector(write: Write) -> None:
    path = write("shop", """
        extends: baseline
        anonymization:
          rules:
            - {category: financial, operator: redact}
    """)
    rules = [r for r in load(path).doc.anonymization.rules if r.category == "financial"]
    assert [(r.operator, str(r.origin)) for r in rules] == [("redact", "policies/shop.yaml:4:7")]
    # the other baseline rules are still there
    assert len(load(path).doc.anonymization.rules) == len(load_pack("baseline").doc.anonymization.rules)


def test_a_retention_rule_takes_over_only_the_assets_it_names(tmp_path: Path, write: Write) -> None:
    write("common", """
        retention:
          rules:
            - {name: crm, assets: [customers, leads], timestamp: created_at, period: P3Y, action: delete}
    """)
    path = write("shop", """
        extends: ./common.yaml
        retention:
          rules:
            - {assets: [customers], timestamp: created_at, period: P1Y, action: anonymize}
    """)
    rules: list[RetentionRule] = load(path).doc.retention.rules
    assert [(r.assets, str(r.period), r.action) for r in rules] == [
        (["leads"], "P3Y", "delete"), (["customers"], "P1Y", "anonymize"),
    ]


def test_later_bases_win_and_shared_bases_load_once(write: Write) -> None:
    path = write("shop", "extends: [gdpr, pipl]\n")
    policy = load(path)
    assert policy.files == [
        "govkit:policies/baseline.yaml", "govkit:policies/gdpr.yaml", "govkit:policies/pipl.yaml",
        "policies/shop.yaml",
    ]
    # pipl's deadline table did not reset gdpr's; both packs' special markings add up
    assert set(policy.doc.dsr.deadlines) == {"gdpr", "ccpa", "pipl"}
    biometric = policy.doc.classification.categories["biometric"]
    assert biometric.special == ["gdpr-special-category", "pipl-sensitive"]


def test_a_pack_override_does_not_lose_what_a_sibling_pack_set(write: Write) -> None:
    # baseline (via pipl) must not undo gdpr's classification of NRP
    path = write("shop", "extends: [gdpr, pipl]\n")
    klass = Resolver(load(path)).classify(WHERE, ["NRP"])
    assert klass is not None
    assert set(klass.special) == {"gdpr-special-category", "pipl-sensitive"}


def test_peer_files_are_one_layer(write: Write) -> None:
    a = write("a", """
        extends: gdpr
        classification:
          entities:
            EMAIL_ADDRESS: {sensitivity: restricted}
    """)
    b = write("b", """
        classification:
          entities:
            EMAIL_ADDRESS: {category: identity}
        retention:
          rules:
            - {assets: [customers], timestamp: created_at, period: P2Y, action: delete}
    """)
    policy = load(a, b)
    klass = Resolver(policy).classify(WHERE, ["EMAIL_ADDRESS"])
    assert klass is not None
    assert (klass.category, klass.sensitivity) == ("identity", Sensitivity.RESTRICTED)
    assert len(policy.doc.retention.rules) == 1
    assert policy.files[-2:] == ["policies/a.yaml", "policies/b.yaml"]


def test_a_peer_that_is_also_a_base_is_loaded_once(write: Write) -> None:
    common = write("common", """
        extends: baseline
        dsr:
          deadlines: {gdpr: 30 days}
    """)
    shop = write("shop", """
        extends: ./common.yaml
        dsr:
          deadlines: {gdpr: 20 days}
    """)
    policy = load(common, shop)
    assert str(policy.doc.dsr.deadlines["gdpr"]) == "P20D"
    assert policy.files == ["govkit:policies/baseline.yaml", "policies/common.yaml", "policies/shop.yaml"]


def test_field_rules_apply_attribute_by_attribute(write: Write) -> None:
    path = write("shop", """
        extends: baseline
        classification:
          fields:
            - {asset: "cust*", sensitivity: restricted}
            - {asset: customers, field: notes, category: other}
            - {asset: customers, field: legacy_*, allow_personal_data: false}
    """)
    resolver = Resolver(load(path))
    notes = resolver.classify(Where("s", None, "customers", "notes"), ["PERSON"])
    assert notes is not None
    assert (notes.category, notes.sensitivity) == ("other", Sensitivity.RESTRICTED)
    email = resolver.classify(Where("s", None, "main.customers", "email"), ["EMAIL_ADDRESS"])
    assert email is not None
    assert (email.category, email.sensitivity) == ("contact", Sensitivity.RESTRICTED)
    assert resolver.allows_personal_data(Where("s", None, "customers", "legacy_fax")) is not None
    assert resolver.allows_personal_data(Where("s", None, "customers", "email")) is None


def test_workspace_without_policies_uses_baseline(policy_dir: Path) -> None:
    assert active_policy(policy_dir).files == ["govkit:policies/baseline.yaml"]


def test_workspace_loads_every_yaml_in_policies(policy_dir: Path, write: Write) -> None:
    write("a", "extends: gdpr\n")
    (policy_dir / "policies" / "b.yml").write_text("dsr: {default_erasure: anonymize}\n", encoding="utf-8")
    (policy_dir / "policies" / "notes.txt").write_text("not a policy", encoding="utf-8")
    policy = active_policy(policy_dir)
    assert policy.files[-2:] == ["policies/a.yaml", "policies/b.yml"]
    assert policy.doc.dsr.default_erasure == "anonymize"


def test_retention_precedence(write: Write) -> None:
    path = write("shop", """
        extends: baseline
        retention:
          rules:
            - {name: contact data, categories: [contact], timestamp: created_at, period: P2Y, action: delete}
            - {name: money, categories: [financial], timestamp: created_at, period: P10Y, action: archive}
            - {name: all orders, assets: ["ord*"], timestamp: created_at, period: P6Y, action: delete}
            - {name: orders, assets: [orders], timestamp: created_at, period: P5Y, action: delete}
    """)
    resolver = Resolver(load(path))
    chosen = resolver.retention(Where("s", None, "orders"), {"contact"})
    assert chosen is not None
    assert chosen.rule.name == "orders"
    assert chosen.why == 'retention rule "orders" selects asset orders'
    chosen = resolver.retention(Where("s", None, "ordinals"), set())
    assert chosen is not None
    assert chosen.rule.name == "all orders"
    chosen = resolver.retention(Where("s", None, "payments"), {"contact", "financial"})
    assert chosen is not None
    assert chosen.rule.name == "money"
    assert chosen.why == ('retention rule "money" selects category financial '
                          "(the longest of 2 category rules for this asset)")
    assert resolver.retention(Where("s", None, "logs"), {"online"}) is None


def test_access_precedence(write: Write) -> None:
    path = write("shop", """
        extends: baseline
        access:
          roles:
            support:
              rules:
                - {asset: payments, field: card_number, read: masked, operator: mask, params: {keep_last: 4}}
    """)
    resolver = Resolver(load(path))
    decisions = {d.role: d for d in resolver.access(
        Where("s", None, "payments", "card_number"), ["CREDIT_CARD"],
        resolver.classify(Where("s", None, "payments", "card_number"), ["CREDIT_CARD"]))}
    assert (decisions["support"].read, decisions["support"].operator) == ("masked", "mask")
    assert (decisions["analyst"].read, decisions["dpo"].read) == ("none", "clear")
    # a sensitivity rule is a ceiling: restricted notes are masked for support, although
    # support reads the identity category in clear
    notes = Where("s", None, "customers", "notes")
    path2 = write("shop", """
        extends: baseline
        classification:
          fields:
            - {asset: customers, field: notes, sensitivity: restricted}
    """)
    resolver = Resolver(load(path2))
    klass = resolver.classify(notes, ["PERSON"])
    support = next(d for d in resolver.access(notes, ["PERSON"], klass) if d.role == "support")
    assert (support.read, support.why) == ("masked", "role support: rule for sensitivity restricted")
