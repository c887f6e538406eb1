"""Every way a policy can be wrong, one test each, with the exact message the user sees.

Each message names the file, line and column, the key, what was expected and, where one is
close, what was probably meant. A bad policy never half-loads: loading raises, and there is
no partial result to use by accident.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govkit.errors import ConfigError
from govkit.policy import PolicyError, load_pack
from tests.policy.helpers import Write, error_of, load, messages

# -- the schema: keys and types --------------------------------------------------------------


def test_unknown_top_level_key_suggests_the_section(write: Write) -> None:
    path = write("shop", """
        extends: gdpr
        retension:
          rules: []
    """)
    assert messages(path) == ['unknown key "retension" at policies/shop.yaml:2:1; did you mean "retention"?']


def test_unknown_nested_key_names_its_parent(write: Write) -> None:
    path = write("shop", """
        retention:
          rules:
            - assets: [orders]
              timestamp: created_at
              period: P7Y
              action: delete
              perod: P1Y
    """)
    assert messages(path) == [
        'unknown key "perod" in retention.rules[0] at policies/shop.yaml:7:7; did you mean "period"?'
    ]


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(write: Write) -> None:
    path = write("shop", """
        dsr:
          xyz: 1
    """)
    assert messages(path) == [
        'unknown key "xyz" in dsr (expected one of: identifiers, erasure, default_erasure, deadlines) '
        "at policies/shop.yaml:2:3"
    ]


def test_wrong_type(write: Write) -> None:
    path = write("shop", """
        retention:
          rules:
            - assets: orders
              timestamp: created_at
              period: P7Y
              action: delete
    """)
    assert messages(path) == ["retention.rules[0].assets must be a list, got text at policies/shop.yaml:3:15"]


def test_wrong_type_of_a_list_item(write: Write) -> None:
    path = write("shop", """
        processing:
          activities:
            - name: Accounts
              purposes: [billing, 42]
              legal_basis: contract
              assets: [customers]
    """)
    assert messages(path) == [
        "processing.activities[0].purposes[1] must be text, got a number at policies/shop.yaml:4:27"
    ]


def test_missing_key_points_at_the_rule(write: Write) -> None:
    path = write("shop", """
        retention:
          rules:
            - assets: [orders]
              timestamp: created_at
              action: delete
    """)
    assert messages(path) == ['missing key "period" in retention.rules[0] at policies/shop.yaml:3:7']


def test_bad_choice_suggests_the_closest(write: Write) -> None:
    path = write("shop", """
        retention:
          rules:
            - assets: [orders]
              timestamp: created_at
              period: P7Y
              action: delte
    """)
    assert messages(path) == [
        'retention.rules[0].action must be one of: delete, anonymize, archive; got "delte" '
        'at policies/shop.yaml:6:15; did you mean "delete"?'
    ]


def test_bad_sensitivity(write: Write) -> None:
    path = write("shop", """
        classification:
          entities:
            EMAIL_ADDRESS: {sensitivity: secret}
    """)
    assert messages(path) == [
        "classification.entities.EMAIL_ADDRESS.sensitivity must be one of: public, internal, confidential, "
        'restricted; got "secret" at policies/shop.yaml:3:34'
    ]


# -- values with their own grammar -------------------------------------------------------------


def test_bad_period_suggests_a_spelling(write: Write) -> None:
    path = write("shop", """
        retention:
          rules:
            - assets: [orders]
              timestamp: created_at
              period: 7 yrs
              action: delete
    """)
    assert messages(path) == [
        'period "7 yrs": unknown unit "yrs"; expected years, months, weeks, days or working days '
        'at policies/shop.yaml:5:15; did you mean "7 years"?'
    ]


def test_period_as_a_bare_number(write: Write) -> None:
    path = write("shop", """
        dsr:
          deadlines:
            gdpr: 30
    """)
    assert messages(path) == [
        'expected a period such as "P7Y" or "7 years", got the number 30 (a period needs a unit: "30 days"?) '
        "at policies/shop.yaml:3:11"
    ]


def test_period_with_hours(write: Write) -> None:
    path = write("shop", """
        dsr:
          deadlines:
            breach: PT72H
    """)
    assert messages(path) == [
        'period "PT72H": hours, minutes and seconds (PT...) are not supported; use days at policies/shop.yaml:3:13'
    ]


def test_unknown_operator(write: Write) -> None:
    path = write("shop", """
        anonymization:
          rules:
            - category: financial
              operator: hsh
    """)
    assert messages(path) == ['unknown operator "hsh" at policies/shop.yaml:4:17; did you mean "hash"?']


def test_unknown_operator_parameter(write: Write) -> None:
    path = write("shop", """
        anonymization:
          rules:
            - entity: PHONE_NUMBER
              operator: mask
              params: {chr: "#"}
    """)
    assert messages(path) == [
        'unknown parameter "chr" for operator "mask" (takes char, keep_first, keep_last) '
        'at policies/shop.yaml:5:16; did you mean "char"?'
    ]


def test_operator_on_an_access_rule_that_does_not_mask(write: Write) -> None:
    path = write("shop", """
        access:
          roles:
            support:
              rules:
                - {category: contact, read: clear, operator: mask}
    """)
    assert messages(path) == ["an operator only applies when read is masked, not clear at policies/shop.yaml:5:54"]


def test_bad_predicate(write: Write) -> None:
    path = write("shop", """
        retention:
          rules:
            - assets: [orders]
              timestamp: created_at
              period: P7Y
              action: delete
              exceptions:
                - where: status = open
    """)
    assert messages(path) == [
        "bad predicate \"status = open\": expected a value: 'text', a number, true or false "
        '(strings need single quotes), found "open" at policies/shop.yaml:8:18'
    ]


def test_predicate_cannot_smuggle_sql(write: Write) -> None:
    path = write("shop", """
        retention:
          rules:
            - assets: [orders]
              timestamp: created_at
              period: P7Y
              action: delete
              exceptions:
                - where: "status = 'x'; DROP TABLE orders"
    """)
    assert messages(path) == [
        "bad predicate \"status = 'x'; DROP TABLE orders\": expected the end of the predicate (one comparison "
        'only; use several exceptions for OR), found "; DROP TABLE orders" at policies/shop.yaml:8:18'
    ]


def test_entity_type_must_be_upper_case(write: Write) -> None:
    path = write("shop", """
        classification:
          entities:
            email_address: {category: contact}
    """)
    assert messages(path) == [
        'entity type "email_address" must be written in UPPER_SNAKE_CASE like EMAIL_ADDRESS '
        'at policies/shop.yaml:3:5; did you mean "EMAIL_ADDRESS"?'
    ]


def test_unknown_legal_basis(write: Write) -> None:
    path = write("shop", """
        processing:
          activities:
            - name: Newsletter
              purposes: [marketing]
              legal_basis: consnet
              assets: [subscribers]
    """)
    assert messages(path) == [
        'unknown legal basis "consnet" (expected one of: consent, contract, legal_obligation, vital_interests, '
        "public_task, legitimate_interests, hr_management, news_reporting, public_information, business_purpose) "
        'at policies/shop.yaml:5:20; did you mean "consent"?'
    ]


def test_retain_needs_a_legal_basis(write: Write) -> None:
    path = write("shop", """
        dsr:
          erasure:
            - {asset: invoices, action: retain}
    """)
    assert messages(path) == [
        "erasure action retain for invoices needs a legal_basis saying why the data is kept "
        "at policies/shop.yaml:3:33"
    ]


def test_a_rule_must_select_something(write: Write) -> None:
    path = write("shop", """
        retention:
          rules:
            - timestamp: created_at
              period: P1Y
              action: delete
    """)
    assert messages(path) == [
        "a retention rule needs assets (table or file globs) or categories at policies/shop.yaml:3:7"
    ]


# -- references between sections (checked on the merged policy) ----------------------------------


def test_unknown_category_reference(write: Write) -> None:
    path = write("shop", """
        extends: baseline
        retention:
          rules:
            - categories: [finanical]
              timestamp: created_at
              period: P10Y
              action: archive
    """)
    assert messages(path) == [
        'unknown category "finanical" (declare it under classification.categories) '
        'at policies/shop.yaml:4:20; did you mean "financial"?'
    ]


def test_unknown_entity_reference(write: Write) -> None:
    path = write("shop", """
        extends: baseline
        dsr:
          identifiers:
            entities: [EMAIL_ADRESS]
    """)
    assert messages(path) == [
        'unknown entity type "EMAIL_ADRESS" at policies/shop.yaml:4:16; did you mean "EMAIL_ADDRESS"?'
    ]


def test_misspelt_entity_class(write: Write) -> None:
    path = write("shop", """
        extends: baseline
        classification:
          entities:
            CREDIT_CRAD: {sensitivity: restricted}
    """)
    assert messages(path) == [
        'unknown entity type "CREDIT_CRAD" at policies/shop.yaml:4:5; did you mean "CREDIT_CARD"?'
    ]


def test_entity_without_a_sensitivity(write: Write) -> None:
    path = write("shop", """
        classification:
          categories:
            badges: {description: door badges}
          entities:
            BADGE_ID: {category: badges}
    """)
    assert messages(path) == [
        'entity type BADGE_ID has no sensitivity: set one on it or on category "badges" at policies/shop.yaml:5:5'
    ]


# -- extends -----------------------------------------------------------------------------------


def test_extends_cycle_names_the_cycle(write: Write) -> None:
    a = write("a", "extends: ./b.yaml\n")
    write("b", "extends: [gdpr, ./a.yaml]\n")
    assert messages(a) == [
        "extends cycle: policies/a.yaml -> policies/b.yaml -> policies/a.yaml at policies/b.yaml:1:17"
    ]


def test_a_file_extending_itself(write: Write) -> None:
    a = write("a", "extends: ./a.yaml\n")
    assert messages(a) == ["extends cycle: policies/a.yaml -> policies/a.yaml at policies/a.yaml:1:10"]


def test_unknown_pack(write: Write) -> None:
    path = write("shop", "extends: gdrp\n")
    assert messages(path) == [
        'unknown policy pack "gdrp" in extends (shipped: baseline, ccpa, gdpr, pipl) '
        'at policies/shop.yaml:1:10; did you mean "gdpr"?'
    ]


def test_missing_relative_base(write: Write) -> None:
    path = write("shop", "extends: [./common.yaml]\n")
    assert messages(path) == [
        'extends: no policy file "./common.yaml" (relative to policies/shop.yaml) at policies/shop.yaml:1:11'
    ]


def test_unknown_pack_by_name() -> None:
    with pytest.raises(PolicyError) as info:
        load_pack("hipaa")
    assert str(info.value) == 'unknown policy pack "hipaa" (shipped: baseline, ccpa, gdpr, pipl)'


# -- contradictions --------------------------------------------------------------------------------


def test_two_rules_for_one_field_in_one_file(write: Write) -> None:
    path = write("shop", """
        classification:
          fields:
            - {asset: customers, field: email, sensitivity: restricted}
            - {asset: customers, field: email, sensitivity: internal}
    """)
    assert messages(path) == [
        'contradicting rules for field customers.email: sensitivity is "restricted" at policies/shop.yaml:3:53 '
        'but "internal" at policies/shop.yaml:4:53'
    ]


def test_a_rule_cannot_forbid_and_classify_at_once(write: Write) -> None:
    path = write("shop", """
        classification:
          fields:
            - {asset: products, sensitivity: internal, allow_personal_data: false}
    """)
    assert messages(path) == [
        "a rule saying allow_personal_data: false cannot also classify the data it forbids (drop category, "
        "sensitivity and special) at policies/shop.yaml:3:69"
    ]


def test_two_peer_files_classify_an_entity_differently(write: Write) -> None:
    a = write("a", """
        extends: baseline
        classification:
          entities:
            EMAIL_ADDRESS: {sensitivity: restricted}
    """)
    b = write("b", """
        classification:
          entities:
            EMAIL_ADDRESS: {sensitivity: internal}
    """)
    assert messages(a, b) == [
        "contradicting values for classification.entities.EMAIL_ADDRESS.sensitivity: "
        '"restricted" at policies/a.yaml:4:34 but "internal" at policies/b.yaml:3:34'
    ]


def test_two_peer_files_retain_one_table_differently(write: Write) -> None:
    a = write("a", """
        retention:
          rules:
            - {assets: [orders, customers], timestamp: created_at, period: P1Y, action: delete}
    """)
    b = write("b", """
        retention:
          rules:
            - {assets: [customers], timestamp: created_at, period: P2Y, action: delete}
    """)
    assert messages(a, b) == [
        'contradicting rules for asset customers: period is "P1Y" at policies/a.yaml:3:68 '
        'but "P2Y" at policies/b.yaml:3:60'
    ]


def test_identical_rules_are_not_a_contradiction(write: Write) -> None:
    a = write("a", """
        retention:
          rules:
            - {assets: [orders], timestamp: created_at, period: P1Y, action: delete, note: one}
            - {assets: [orders], timestamp: created_at, period: 1 year, action: delete, note: two}
    """)
    assert [str(r.period) for r in load(a).doc.retention.rules] == ["P1Y", "P1Y"]


def test_erasure_contradiction(write: Write) -> None:
    path = write("shop", """
        dsr:
          erasure:
            - {asset: orders, action: delete}
            - {asset: ORDERS, action: anonymize}
    """)
    assert messages(path) == [
        'contradicting rules for asset orders: action is "delete" at policies/shop.yaml:3:31 '
        'but "anonymize" at policies/shop.yaml:4:31'
    ]


# -- YAML itself -----------------------------------------------------------------------------------


def test_bad_yaml_syntax_names_the_line(write: Write) -> None:
    path = write("shop", """
        retention:
          rules: [
            {assets: [orders]
    """)
    assert messages(path) == [
        "bad YAML syntax: expected ',' or '}', but got '<stream end>' at policies/shop.yaml:4:1"
    ]


def test_duplicate_key(write: Write) -> None:
    path = write("shop", """
        classification:
          entities:
            PERSON: {category: identity}
            PERSON: {category: contact}
    """)
    assert messages(path) == ['duplicate key "PERSON" (first at line 3) at policies/shop.yaml:4:5']


def test_a_policy_must_be_a_mapping(write: Write) -> None:
    path = write("shop", "- retention\n- access\n")
    assert messages(path) == [
        "a policy file must be a mapping of sections (classification, retention, ...), got a list "
        "at policies/shop.yaml:1:1"
    ]


def test_missing_file(policy_dir: Path) -> None:
    assert messages(Path("policies/nope.yaml")) == ["no such policy file: policies/nope.yaml"]


# -- all or nothing ----------------------------------------------------------------------------------


def test_every_problem_is_reported_in_file_order_and_nothing_loads(write: Write) -> None:
    path = write("shop", """
        anonymization:
          rules:
            - {category: financial, operator: hsh}
        retention:
          rules:
            - {assets: [orders], timestamp: created_at, period: 7 yrs, action: delete}
        retension: {}
    """)
    error = error_of(path)
    assert [p.mark.line for p in error.problems if p.mark] == [3, 6, 7]
    assert str(error) == (
        'unknown operator "hsh" at policies/shop.yaml:3:39; did you mean "hash"? (and 2 more problems)'
    )
    assert isinstance(error, ConfigError)
    assert error.exit_code == 2


def test_one_bad_peer_fails_the_whole_set(write: Write) -> None:
    good = write("a", "extends: gdpr\n")
    bad = write("b", "access: {roles: {support: {default: hidden}}}\n")
    assert messages(good, bad) == [
        'access.roles.support.default must be one of: clear, masked, none; got "hidden" at policies/b.yaml:1:37'
    ]
