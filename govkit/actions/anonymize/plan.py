"""The anonymization plan: which field gets which operator, and why.

The plan is made before any data is read: from the inventory (what each field holds), the
policy (which operator its entity type or category calls for) and ``--rule`` overrides,
most specific first (a ``--rule`` beats the policy). It is what ``--dry-run`` prints and
what the audit record keeps.

Keys and references: a primary-key or foreign-key column that is transformed must be
transformed by an injective, deterministic operator (``pseudonymize`` of an identifier or an
integer, full-length ``hash``, deterministic ``encrypt``: see :func:`not_injective`), and
the same operator is then applied on the other side of every reference, so
``InvoiceLine -> Invoice -> Customer`` joins give the same rows after anonymization as before. A plan that
would break a key fails here, before any write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from govkit.actions.anonymize.operators import (
    OPERATORS,
    OperatorContext,
    OperatorError,
    build,
    parse_spec,
    validate_params,
)
from govkit.detect.names import hints_for
from govkit.errors import UsageError
from govkit.inventory.store import InventoryRow
from govkit.policy.schema import matches_asset, matches_name

#: What a personal field without any applicable rule gets: nothing personal survives it.
DEFAULT_OPERATOR = "redact"


@dataclass(slots=True)
class FieldPlan:
    asset: str
    field: str
    operator: str
    params: dict[str, Any]
    entity_type: str | None
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    @property
    def spec(self) -> str:
        params = ",".join(f"{k}={v}" for k, v in self.params.items())
        return self.operator + (f":{params}" if params else "")


@dataclass(slots=True)
class Rule:
    """A ``--rule FIELD=OPERATOR[:params]``; FIELD is ``column`` or ``table.column`` (globs ok),
    or a JSON path starting with ``$`` (``$.user.email``), kept whole."""

    asset: str
    field: str
    operator: str
    params: dict[str, Any]
    text: str

    @classmethod
    def parse(cls, text: str) -> Rule:
        target, sep, spec = text.partition("=")
        if not sep or not target.strip() or not spec.strip():
            raise UsageError(f'--rule expects FIELD=OPERATOR[:params], e.g. Customer.Email=pseudonymize; got "{text}"')
        operator, params = parse_spec(spec.strip())
        validate_params(operator, params)
        if target.strip().startswith("$"):  # a JSON path: its dots are steps, not table.column
            return cls("*", target.strip(), operator, params, text)
        asset, dot, name = target.strip().rpartition(".")
        return cls(asset if dot else "*", name, operator, params, text)

    def matches(self, asset: str, field_name: str) -> bool:
        return matches_asset(self.asset, asset) and matches_name(self.field, field_name)


@dataclass(slots=True)
class Plan:
    """Field plans keyed by (asset, field), lower case."""

    source: str
    fields: dict[tuple[str, str], FieldPlan] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def for_asset(self, asset: str) -> dict[str, FieldPlan]:
        """The plans of one asset by field name (lower case), ``schema.table`` or ``table``."""
        short = asset.rsplit(".", 1)[-1].lower()
        return {f: p for (a, f), p in self.fields.items() if a in (asset.lower(), short)}

    def add(self, plan: FieldPlan) -> None:
        self.fields[(plan.asset.lower(), plan.field.lower())] = plan

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "fields": [p.to_dict() for p in self.fields.values()], "notes": self.notes}


def build_plan(
    source: str,
    rows: Sequence[InventoryRow],
    policy: Any | None,
    rules: Sequence[Rule],
    columns: dict[str, list[str]],
    *,
    source_name: str | None = None,
    fit: bool = False,
) -> Plan:
    """The plan for ``columns`` (asset -> its column names) of ``source``.

    ``rows`` are the inventory's findings for this source; ``policy`` the effective policy
    (``None``: personal fields get :data:`DEFAULT_OPERATOR`). ``fit``: fit ``fake`` and
    ``generalize`` to what each column holds and to its row (:func:`fit_to_column`); exports
    do, and any other caller that passes the operators the row (``Operator.apply_with``)
    should, so that it writes what ``govkit anonymize`` writes.
    """
    from govkit.policy.resolve import Resolver, Where

    plan = Plan(source)
    found: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        found.setdefault((row.asset.lower(), row.field.lower()), []).append(row.entity_type)
    resolver = Resolver(policy) if policy is not None else None
    for asset, names in columns.items():
        short = asset.rsplit(".", 1)[-1].lower()
        for name in names:
            entity_types = list(dict.fromkeys(
                found.get((asset.lower(), name.lower())) or found.get((short, name.lower())) or []))
            entity = entity_types[0] if entity_types else None
            rule = next((r for r in reversed(rules) if r.matches(asset, name)), None)
            if rule is not None:
                if entity is None:  # not in the inventory: the column name says how to format it
                    hints = [h for h in hints_for(name, short) if h.effective_strength >= 0.5]
                    entity = hints[0].entity_type if hints else None
                params = fit_to_column(rule.operator, rule.params, name, names) if fit else rule.params
                plan.add(FieldPlan(asset, name, rule.operator, params, entity, f"--rule {rule.text}"))
                continue
            if not entity_types:
                continue
            chosen = None
            if resolver is not None:
                where = Where(source, source_name, asset, name)
                chosen = resolver.anonymization(where, entity_types, resolver.classify(where, entity_types))
            if chosen is None:
                plan.add(FieldPlan(asset, name, DEFAULT_OPERATOR, {}, entity,
                                   f"holds {', '.join(entity_types)}; no anonymization rule, so the safe default"))
            else:
                params = dict(chosen.rule.params)
                if fit:
                    params = fit_to_column(chosen.rule.operator, params, name, names)
                plan.add(FieldPlan(asset, name, chosen.rule.operator, params, entity, chosen.why))
    return plan


def fit_to_column(operator: str, params: dict[str, Any], column: str, columns: Sequence[str]) -> dict[str, Any]:
    """The operator's parameters fitted to what ``column`` holds (see :mod:`.roles`).

    - ``fake`` without a provider (or ``provider: auto``) gets the one the column calls for
      (``first_name`` for ``FirstName``, ``street_address`` for ``Address``...), and
      ``locale_from`` the row's country column, if the row has one.
    - ``generalize`` to a location level (``city``, ``region``, ``country``) gets ``holds``
      (the column's own level) and the row's other location columns (``city_from``...).

    Parameters given explicitly are kept. JSON paths (``$.a.b``) have no row and are left.
    """
    from govkit.actions.anonymize.roles import LOCATION_LEVELS, PERSON_PROVIDERS, role_of, siblings

    if column.startswith("$") or operator not in ("fake", "generalize"):
        return params
    role = role_of(column)
    out = dict(params)
    row = siblings(column, columns)
    if operator == "fake":
        if out.get("provider", "auto") == "auto":
            out["provider"] = PERSON_PROVIDERS.get(role or "", "name")
        if "country" in row and "locale" not in out and "locale_from" not in out:
            out["locale_from"] = row["country"]
        return out
    if out.get("to") in ("city", "region", "country") and role == "coordinate":
        out.setdefault("holds", role)
        if "country" in row:
            out.setdefault("country_from", row["country"])
    elif out.get("to") in ("city", "region", "country") and role in LOCATION_LEVELS:
        out.setdefault("holds", role)
        for level, sibling in row.items():
            if level != "street":  # a street is never a coarser level of anything
                out.setdefault(f"{level}_from", sibling)
    return out


def propagate_keys(plan: Plan, tables: Sequence[Any], context: OperatorContext) -> None:
    """Make references consistent and refuse plans that would break a key (see module doc).

    ``tables`` are :class:`~govkit.sources.database.TableInfo`. A transformed column that a
    foreign key points to (or that points elsewhere) gives its plan to the other side, until
    nothing changes (chains such as InvoiceLine -> Invoice -> Customer).
    """
    by_name = {t.name.lower(): t for t in tables} | {t.qualified.lower(): t for t in tables}
    pairs: list[tuple[str, str, str, str]] = []
    for table in tables:
        for fk in table.foreign_keys:
            referred = by_name.get(fk.referred_table.lower())
            referred_name = referred.name if referred is not None else fk.referred_table
            for column, target in zip(fk.columns, fk.referred_columns, strict=True):
                pairs.append((table.name, column, referred_name, target))
    changed = True
    while changed:
        changed = False
        for a_table, a_col, b_table, b_col in pairs:
            a = plan.fields.get((a_table.lower(), a_col.lower()))
            b = plan.fields.get((b_table.lower(), b_col.lower()))
            if a is not None and b is not None:
                if (a.operator, a.params) != (b.operator, b.params):
                    raise UsageError(
                        f"{a_table}.{a_col} references {b_table}.{b_col} but they are planned differently "
                        f"({a.spec} vs {b.spec}); give both the same deterministic operator")
                continue
            given, table, column = (a, b_table, b_col) if a is not None else (b, a_table, a_col)
            if given is None or given.operator == "keep":
                continue
            plan.add(FieldPlan(table, column, given.operator, given.params, given.entity_type,
                               f"references {given.asset}.{given.field} (kept consistent for joins)"))
            changed = True
    keys = {(t.name.lower(), c.lower()) for t in tables for c in t.primary_key}
    keys |= {(a.lower(), c.lower()) for a, c, _, _ in pairs} | {(b.lower(), c.lower()) for _, _, b, c in pairs}
    kinds = {(t.name.lower(), c.name.lower()): c.kind for t in tables for c in t.columns}
    for key in sorted(keys):
        chosen = plan.fields.get(key)
        if chosen is None or chosen.operator == "keep":
            continue
        reason = not_injective(chosen, build(chosen.operator, chosen.params, context), kinds.get(key))
        if reason is not None:
            raise UsageError(
                f"{chosen.asset}.{chosen.field} is a key or reference column; {chosen.spec} would break it "
                f"({reason}): use pseudonymize (identifier formats, integers), deterministic encrypt, or keep")


def not_injective(chosen: FieldPlan, operator: Any, kind: str | None) -> str | None:
    """Why ``operator`` may give two different keys one value (None: it never does).

    Injective: ``keep``; deterministic ``encrypt`` (AES-SIV); ``pseudonymize`` of an integer
    column (a keyed permutation of each width) or of an identifier with a format-preserving
    format (FF3-1, a bijection; see :mod:`.pseudonyms`); ``hash`` at its full 64 hex
    characters (HMAC-SHA256: no collision is known, which a truncated digest cannot say).
    Keyed tokens (names, e-mails) are 64-bit truncations: rare collisions, still collisions.
    """
    from govkit.actions.anonymize.pseudonyms import FORMATS

    name = chosen.operator
    if name == "keep" or (name == "encrypt" and operator.deterministic):
        return None
    if name == "pseudonymize":
        if kind == "integer" or (chosen.entity_type or "") in FORMATS:
            return None
        return f"pseudonyms of {chosen.entity_type or 'untyped text'} are truncated keyed digests, not a bijection"
    if name == "hash":
        length = chosen.params.get("length", 64)
        return None if int(length) >= 64 else f"a digest cut to {length} characters can collide"
    if name == "encrypt":
        return "randomized encryption gives a different value each time"
    return f"{name} is not injective"


def check_operators(plan: Plan) -> None:
    """Every operator in the plan exists and has valid parameters (before reading data)."""
    for chosen in plan.fields.values():
        if chosen.operator not in OPERATORS:
            raise OperatorError(f'unknown operator "{chosen.operator}" for {chosen.asset}.{chosen.field}')
        validate_params(chosen.operator, chosen.params)
