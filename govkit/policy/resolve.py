"""Which rule applies to a field or an asset, and why: shared by ``evaluate`` and ``explain``.

Precedence, most specific first (documented here once, relied on everywhere):

* classification: a ``classification.fields`` rule naming the field, then one naming the
  asset (attribute by attribute: a table-wide ``sensitivity`` and a field's
  ``allow_personal_data`` both apply), then the class of the detected entity types (the
  most sensitive one when a field holds several);
* anonymization: a rule for the field, then for one of its entity types, then its category;
* retention: a rule naming the asset (literal names beat globs), then rules selecting a
  category the asset holds. Of several category rules the *longest* period wins, since a
  shorter one would delete rows another rule requires to keep; name the asset in a rule to
  decide otherwise;
* access, per role: a rule naming the field, then the asset (the most specific name wins);
  otherwise, of the rules matching the field's entity type, category or sensitivity, the
  most restrictive (``none`` over ``masked`` over ``clear``: a sensitivity rule is a ceiling
  no category rule can lift); then the role's ``default``, then ``none``;
* DSR erasure: a rule naming the asset, then ``dsr.default_erasure``.

Among equally specific rules the later one wins (a workspace's rules come after a pack's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from govkit.policy.errors import Mark
from govkit.policy.loader import Policy, default_category
from govkit.policy.schema import (
    Activity,
    AnonymizationRule,
    ErasureRule,
    FieldRule,
    Read,
    RetentionRule,
    Sensitivity,
    matches_asset,
    matches_name,
    matches_source,
    specificity,
)


@dataclass(frozen=True, slots=True)
class Where:
    """Where a field lives: ``source`` is the redacted URL, ``source_name`` its govkit.toml name."""

    source: str
    source_name: str | None
    asset: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class FieldClass:
    """A field's classification and the rule(s) it came from."""

    category: str
    sensitivity: Sensitivity
    special: tuple[str, ...]
    origin: Mark | None
    why: str


@dataclass(frozen=True, slots=True)
class Chosen:
    """A rule that applies, where it was written, and why it (and not another) applies."""

    rule: Any
    origin: Mark | None
    why: str


@dataclass(frozen=True, slots=True)
class AccessDecision:
    role: str
    read: Read
    operator: str | None
    params: dict[str, Any] = field(default_factory=dict)
    origin: Mark | None = None
    why: str = ""


_STRICTNESS = {"clear": 0, "masked": 1, "none": 2}


class Resolver:
    """Answers "which rule applies?" for one effective policy."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.doc = policy.doc

    # -- classification ---------------------------------------------------------------------

    def field_attribute(self, where: Where, attribute: str) -> Chosen | None:
        """The most specific ``classification.fields`` rule setting ``attribute`` for ``where``."""
        best: tuple[tuple[int, ...], FieldRule] | None = None
        for index, rule in enumerate(self.doc.classification.fields):
            if getattr(rule, attribute) is None or not self._field_rule_matches(rule, where):
                continue
            rank = (1 if rule.field else 0, *specificity(rule.asset), *specificity(rule.field or ""), index)
            if best is None or rank > best[0]:
                best = (rank, rule)
        if best is None:
            return None
        rule = best[1]
        target = f"{rule.asset}.{rule.field}" if rule.field else f"asset {rule.asset}"
        return Chosen(rule, rule.mark_of(attribute), f"classification.fields rule for {target}")

    @staticmethod
    def _field_rule_matches(rule: FieldRule, where: Where) -> bool:
        if not matches_source(rule.source, where.source, where.source_name):
            return False
        if not matches_asset(rule.asset, where.asset):
            return False
        if rule.field is None:
            return True
        return where.field is not None and matches_name(rule.field, where.field)

    def entity_class(self, entity_type: str) -> FieldClass | None:
        cls = self.doc.classification
        klass = cls.entities.get(entity_type)
        if klass is None:
            return None
        category = klass.category or default_category(entity_type)
        category_def = cls.categories.get(category)
        sensitivity = klass.sensitivity or (category_def.sensitivity if category_def else None)
        if sensitivity is None:  # check_references makes this unreachable for loaded policies
            return None
        special = klass.special if klass.special is not None else (category_def.special if category_def else None)
        return FieldClass(category, sensitivity, tuple(special or ()), cls.entry_mark("entities", entity_type),
                          f"entity type {entity_type} (classification.entities)")

    def classify(self, where: Where, entity_types: Sequence[str]) -> FieldClass | None:
        """The field's class, or None when nothing in the policy classifies it."""
        candidates = [c for c in (self.entity_class(e) for e in entity_types) if c is not None]
        base = max(candidates, key=lambda c: c.sensitivity.rank, default=None)
        category_rule = self.field_attribute(where, "category")
        sensitivity_rule = self.field_attribute(where, "sensitivity")
        special_rule = self.field_attribute(where, "special")
        if category_rule is None and sensitivity_rule is None and special_rule is None:
            return base
        cls = self.doc.classification
        if category_rule is not None:
            category = str(category_rule.rule.category)
        elif base is not None:
            category = base.category
        else:
            category = default_category(entity_types[0]) if entity_types else "other"
        category_def = cls.categories.get(category)
        if sensitivity_rule is not None:
            sensitivity = sensitivity_rule.rule.sensitivity
        elif category_rule is not None and category_def is not None and category_def.sensitivity is not None:
            sensitivity = category_def.sensitivity
        elif base is not None:
            sensitivity = base.sensitivity
        else:
            return None  # an override saying only "special" with nothing to build on
        if special_rule is not None:
            special = tuple(special_rule.rule.special)
        elif category_rule is not None and category_def is not None:
            special = tuple(category_def.special or ())
        else:
            special = base.special if base is not None else ()
        deciding = sensitivity_rule or category_rule or special_rule
        assert deciding is not None
        why = deciding.why
        if base is not None and (category_rule is None or sensitivity_rule is None):
            why += f", over {base.why}"
        return FieldClass(category, sensitivity, special, deciding.origin, why)

    def allows_personal_data(self, where: Where) -> Chosen | None:
        """The rule saying ``allow_personal_data: false`` for this field, if the policy has one."""
        chosen = self.field_attribute(where, "allow_personal_data")
        if chosen is None or chosen.rule.allow_personal_data:
            return None
        return chosen

    # -- anonymization ----------------------------------------------------------------------

    def anonymization(self, where: Where, entity_types: Sequence[str], klass: FieldClass | None) -> Chosen | None:
        rules = self.doc.anonymization.rules
        best: tuple[tuple[int, ...], AnonymizationRule] | None = None
        for index, rule in enumerate(rules):
            if rule.field is None or where.field is None:
                continue
            if not matches_source(rule.source, where.source, where.source_name):
                continue
            asset = rule.asset or "*"
            if matches_asset(asset, where.asset) and matches_name(rule.field, where.field):
                rank = (*specificity(asset), *specificity(rule.field), index)
                if best is None or rank > best[0]:
                    best = (rank, rule)
        if best is not None:
            rule = best[1]
            return Chosen(rule, rule.origin, f"anonymization rule for field {rule.asset or '*'}.{rule.field}")
        for entity_type in entity_types:
            found = [r for r in rules if r.entity == entity_type]
            if found:
                return Chosen(found[-1], found[-1].origin, f"anonymization rule for entity type {entity_type}")
        if klass is not None:
            found = [r for r in rules if r.category == klass.category]
            if found:
                return Chosen(found[-1], found[-1].origin, f"anonymization rule for category {klass.category}")
        return None

    # -- retention --------------------------------------------------------------------------

    def retention(self, where: Where, categories: set[str]) -> Chosen | None:
        best: tuple[tuple[int, ...], RetentionRule, str] | None = None
        for index, rule in enumerate(self.doc.retention.rules):
            if not matches_source(rule.source, where.source, where.source_name):
                continue
            for pattern in rule.assets:
                if matches_asset(pattern, where.asset):
                    rank = (*specificity(pattern), index)
                    if best is None or rank > best[0]:
                        best = (rank, rule, pattern)
        if best is not None:
            _, rule, pattern = best
            return Chosen(rule, rule.origin, f'retention rule "{rule.label}" selects asset {pattern}')
        by_category = [
            rule for rule in self.doc.retention.rules
            if matches_source(rule.source, where.source, where.source_name) and set(rule.categories) & categories
        ]
        if not by_category:
            return None
        longest = max(by_category, key=lambda r: r.period.approx_days)
        held = sorted(set(longest.categories) & categories)
        why = f'retention rule "{longest.label}" selects category {", ".join(held)}'
        if len(by_category) > 1:
            why += f" (the longest of {len(by_category)} category rules for this asset)"
        return Chosen(longest, longest.origin, why)

    # -- access -----------------------------------------------------------------------------

    def access(self, where: Where, entity_types: Sequence[str], klass: FieldClass | None) -> list[AccessDecision]:
        decisions = []
        anonymization = None
        for role_name, role in self.doc.access.roles.items():
            chosen = None
            ranked: list[tuple[tuple[int, ...], Any, str]] = []
            for index, rule in enumerate(role.rules):
                if rule.asset is not None:
                    if not (matches_source(rule.source, where.source, where.source_name)
                            and matches_asset(rule.asset, where.asset)):
                        continue
                    if rule.field is not None and not (where.field and matches_name(rule.field, where.field)):
                        continue
                    level = 3 if rule.field is not None else 2
                    target = f"{rule.asset}.{rule.field}" if rule.field else f"asset {rule.asset}"
                    ranked.append(((level, *specificity(rule.asset), index), rule, target))
                    continue
                if rule.entity is not None and rule.entity in entity_types:
                    target = f"entity type {rule.entity}"
                elif klass is not None and rule.category == klass.category:
                    target = f"category {rule.category}"
                elif klass is not None and rule.sensitivity is not None and rule.sensitivity == klass.sensitivity:
                    target = f"sensitivity {rule.sensitivity}"
                else:
                    continue
                ranked.append(((1, _STRICTNESS[rule.read], 0, index), rule, target))
            if ranked:
                _, chosen, target = max(ranked, key=lambda t: t[0])
                read: Read = chosen.read
                operator, params = chosen.operator, dict(chosen.params)
                if read == "masked" and operator is None:
                    if anonymization is None:
                        anonymization = self.anonymization(where, entity_types, klass)
                    operator = anonymization.rule.operator if anonymization else "mask"
                    params = dict(anonymization.rule.params) if anonymization else {}
                decisions.append(AccessDecision(role_name, read, operator if read == "masked" else None, params,
                                                chosen.origin, f"role {role_name}: rule for {target}"))
            else:
                read = role.default or "none"
                why = f"role {role_name}: no rule matches; {'its default' if role.default else 'deny by default'}"
                operator = "mask" if read == "masked" else None
                decisions.append(AccessDecision(role_name, read, operator, {}, role.mark_of("default"), why))
        return decisions

    # -- DSR and processing -----------------------------------------------------------------

    def erasure(self, where: Where) -> Chosen | None:
        best: tuple[tuple[int, ...], ErasureRule] | None = None
        for index, rule in enumerate(self.doc.dsr.erasure):
            if matches_source(rule.source, where.source, where.source_name) and matches_asset(rule.asset, where.asset):
                rank = (*specificity(rule.asset), index)
                if best is None or rank > best[0]:
                    best = (rank, rule)
        if best is not None:
            return Chosen(best[1], best[1].origin, f"dsr.erasure rule for asset {best[1].asset}")
        if self.doc.dsr.default_erasure is not None:
            return Chosen(self.doc.dsr.default_erasure, self.doc.dsr.mark_of("default_erasure"),
                          "dsr.default_erasure (no rule names this asset)")
        return None

    def identifier(self, where: Where, entity_types: Sequence[str]) -> str | None:
        """Why this field identifies a data subject (for DSR lookups), or None."""
        identifiers = self.doc.dsr.identifiers
        for address in identifiers.fields or []:
            asset, _, name = address.rpartition(".")
            if where.field is not None and matches_asset(asset, where.asset) and matches_name(name, where.field):
                return f"dsr.identifiers.fields lists {address}"
        for entity_type in entity_types:
            if entity_type in (identifiers.entities or []):
                return f"dsr.identifiers.entities lists {entity_type}"
        return None

    def activities(self, where: Where, categories: set[str]) -> list[Activity]:
        found = []
        for activity in self.doc.processing.activities:
            if not matches_source(activity.source, where.source, where.source_name):
                continue
            if any(matches_asset(p, where.asset) for p in activity.assets) or set(activity.categories) & categories:
                found.append(activity)
        return found
