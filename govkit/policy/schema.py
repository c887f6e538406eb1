"""The policy file format as pydantic models: what each section may say, checked strictly.

Every model forbids unknown keys (a typo such as ``retension:`` must fail loudly, not be
ignored) and remembers where in which file it was written (:class:`Node`), so that errors
and ``govkit policy explain`` can cite ``file:line``.

Two kinds of containers merge differently when files extend each other (see
:mod:`govkit.policy.loader` for the whole story):

* mappings keyed by name (``classification.entities``, ``classification.categories``,
  ``access.roles``, ``dsr.deadlines``) merge key by key, and inside an entry field by field,
  so a workspace can change one entity's sensitivity and keep its category;
* lists of rules (:class:`Rule`) are matched by what they *select* (an asset, a field, a
  category, an entity type): a rule replaces the inherited rules that select the same thing.
"""

from __future__ import annotations

import fnmatch
import re
from abc import abstractmethod
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from govkit.actions.anonymize.operators import parameter_names
from govkit.detect.entities import known_entities
from govkit.policy.errors import Mark, close_match
from govkit.policy.periods import Period, PeriodError
from govkit.policy.predicates import Predicate, PredicateError

# -- vocabularies --------------------------------------------------------------------------

#: Anonymization operators and the parameters each takes, from the operator registry
#: (:mod:`govkit.actions.anonymize.operators`), so a policy can name exactly the operators
#: ``govkit anonymize`` runs. ``decrypt`` is left out: a policy says how data leaves, not
#: how it comes back.
OPERATOR_PARAMETERS: dict[str, tuple[str, ...]] = {
    name: params for name, params in parameter_names().items() if name != "decrypt"
}
KNOWN_OPERATORS: tuple[str, ...] = tuple(OPERATOR_PARAMETERS)

#: Lawful bases: GDPR art. 6(1)(a)-(f), plus PIPL art. 13's own (HR management, news
#: reporting, information the person made public) and CCPA's "business purpose".
LEGAL_BASES = (
    "consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests",
    "hr_management", "news_reporting", "public_information", "business_purpose",
)  # fmt: skip

Special = Literal["gdpr-special-category", "gdpr-criminal-offence", "pipl-sensitive", "ccpa-sensitive"]
Action = Literal["delete", "anonymize", "archive"]
ErasureAction = Literal["delete", "anonymize", "retain"]
Read = Literal["clear", "masked", "none"]

#: ``timestamp: $mtime`` in a retention rule: a file's modification time, not a column.
MTIME = "$mtime"
#: ``timestamp: $name``: the date in a file's name (``export-2021-03-04.csv``, ``app_20210304.log``).
NAME_DATE = "$name"
#: The timestamps that date a file as a whole rather than a row.
FILE_DATES = (MTIME, NAME_DATE)


class Sensitivity(StrEnum):
    """How much harm exposure does, in increasing order (``rank`` compares them)."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"

    @property
    def rank(self) -> int:
        return list(Sensitivity).index(self)


def _error(message: str, suggestion: str | None = None, at: tuple[str | int, ...] = ()) -> PydanticCustomError:
    """A validation error whose text is final; ``at`` narrows the location below the model."""
    return PydanticCustomError("govkit", "{message}", {"message": message, "suggestion": suggestion, "at": at})


# -- scalar types with their own parsers ------------------------------------------------------


def _period(value: Any) -> Period:
    if isinstance(value, Period):
        return value
    try:
        return Period.parse(value)
    except PeriodError as exc:
        raise _error(str(exc), exc.suggestion) from None


def _predicate(value: Any) -> Predicate:
    if isinstance(value, Predicate):
        return value
    if not isinstance(value, str):
        raise _error(f"expected a predicate such as \"status != 'open'\", got {type(value).__name__}")
    try:
        return Predicate.parse(value)
    except PredicateError as exc:
        raise _error(str(exc)) from None


PeriodValue = Annotated[Period, PlainValidator(_period), PlainSerializer(str, return_type=str)]
PredicateValue = Annotated[Predicate, PlainValidator(_predicate), PlainSerializer(str, return_type=str)]

_ENTITY_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_CATEGORY_NAME = re.compile(r"[a-z][a-z0-9_]*")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


def _entity_name(value: str) -> str:
    if not _ENTITY_NAME.fullmatch(value):
        raise _error(f'entity type "{value}" must be written in UPPER_SNAKE_CASE like EMAIL_ADDRESS',
                     close_match(value, known_entities()))
    return value


def _category_name(value: str) -> str:
    if not _CATEGORY_NAME.fullmatch(value):
        raise _error(f'category "{value}" must be written in lower_snake_case like government_id',
                     value.lower().replace("-", "_").replace(" ", "_"))
    return value


def _simple_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise _error(f'"{value}" is not a valid name: use letters, digits, "_", "-" and "."')
    return value


def _glob(value: str) -> str:
    if not value.strip():
        raise _error("a name or glob pattern cannot be empty")
    return value


EntityName = Annotated[str, AfterValidator(_entity_name)]
CategoryName = Annotated[str, AfterValidator(_category_name)]
SimpleName = Annotated[str, AfterValidator(_simple_name)]
Glob = Annotated[str, AfterValidator(_glob)]


# -- the base: strict, and remembering where it was written ------------------------------------


class Node(BaseModel):
    """A policy element: no unknown keys, and the file position of itself and its keys."""

    model_config = ConfigDict(extra="forbid", validate_default=False)

    _origin: Mark | None = PrivateAttr(default=None)
    _value_marks: dict[str, Mark] = PrivateAttr(default_factory=dict)
    _key_marks: dict[str, Mark] = PrivateAttr(default_factory=dict)
    #: For mapping-valued fields (``entities``, ``roles``...): where each entry's key was written.
    _entry_marks: dict[str, dict[str, Mark]] = PrivateAttr(default_factory=dict)
    #: For list-valued fields (``categories: [a, b]``): where each item was written.
    _item_marks: dict[str, list[Mark]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_marks(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        result = handler(data)
        mark = getattr(data, "mark", None)
        if isinstance(mark, Mark) and isinstance(data, dict):
            result._origin = mark
            result._value_marks = dict(getattr(data, "value_marks", {}))
            result._key_marks = dict(getattr(data, "key_marks", {}))
            result._entry_marks = {
                key: dict(value.key_marks) for key, value in data.items()
                if isinstance(getattr(value, "key_marks", None), dict)
            }
            result._item_marks = {
                key: list(value.item_marks) for key, value in data.items()
                if isinstance(getattr(value, "item_marks", None), list)
            }
        return result

    @property
    def origin(self) -> Mark | None:
        return self._origin

    def mark_of(self, key: str, index: int | None = None) -> Mark | None:
        """Where ``key``'s value (or its ``index``-th item) was written; else the rule itself."""
        if index is not None:
            items = self._item_marks.get(key, [])
            if 0 <= index < len(items):
                return items[index]
        return self._value_marks.get(key) or self._origin

    def key_mark_of(self, key: str) -> Mark | None:
        return self._key_marks.get(key) or self._origin

    def entry_mark(self, field_name: str, key: str) -> Mark | None:
        """Where ``key`` of the mapping ``field_name`` was written (``entities: {EMAIL_ADDRESS: ...}``)."""
        return self._entry_marks.get(field_name, {}).get(key) or self.mark_of(field_name)

    def take_marks(self, other: Node, keys: set[str]) -> None:
        """After a merge: the values of ``keys`` now come from ``other``'s file.

        The mark dicts are replaced, never mutated: ``model_copy`` shares them with the
        model this one was copied from.
        """
        self._value_marks = {**self._value_marks, **{k: m for k, m in other._value_marks.items() if k in keys}}
        self._key_marks = {**self._key_marks, **{k: m for k, m in other._key_marks.items() if k in keys}}
        entries = dict(self._entry_marks)
        for key in keys & set(other._entry_marks):
            entries[key] = {**entries.get(key, {}), **other._entry_marks[key]}
        self._entry_marks = entries
        self._item_marks = {**self._item_marks, **{k: m for k, m in other._item_marks.items() if k in keys}}
        if other._origin is not None:
            self._origin = other._origin


# -- selectors and rules -------------------------------------------------------------------------

_GLOB_CHARS = re.compile(r"[*?\[\]]")


def matches_asset(pattern: str, asset: str) -> bool:
    """``customers`` matches ``customers`` and ``public.customers``; globs as in govkit.toml."""
    pattern, asset = pattern.lower(), asset.lower()
    return fnmatch.fnmatchcase(asset, pattern) or fnmatch.fnmatchcase(asset.rsplit(".", 1)[-1], pattern)


def matches_name(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


def specificity(pattern: str) -> tuple[int, int]:
    """Literal names beat globs; among globs, the one with more literal characters wins."""
    return (0 if _GLOB_CHARS.search(pattern) else 1, len(_GLOB_CHARS.sub("", pattern)))


def matches_source(wanted: str | None, source: str, source_name: str | None) -> bool:
    return wanted is None or wanted in (source, source_name)


Selector = tuple[str, ...]


class Rule(Node):
    """An entry of a rule list. Subclasses say what they select and what they decide.

    (pydantic's model metaclass is an ``ABCMeta``, so ``selectors`` is truly abstract.)
    """

    #: Keys that document a rule without changing what it decides.
    NOTES: ClassVar[frozenset[str]] = frozenset({"cite", "note", "name", "description", "reason"})

    @abstractmethod
    def selectors(self) -> list[Selector]:
        """What this rule applies to; two rules with a common selector compete."""

    def without(self, removed: set[Selector]) -> Self | None:
        """This rule minus the selectors a newer rule took over; None if nothing is left."""
        return None if set(self.selectors()) & removed else self

    #: Keys that say what the rule selects (the rest is what it decides).
    SELECTOR_KEYS: ClassVar[frozenset[str]] = frozenset({"source", "asset", "field"})

    def decision(self) -> dict[str, Any]:
        """What the rule decides (for contradiction checks): everything but selectors and notes."""
        skip = self.NOTES | self.SELECTOR_KEYS
        return {k: v for k, v in self.model_dump(mode="json").items() if k not in skip}

    @staticmethod
    def describe(selector: Selector) -> str:
        kind, *rest = selector
        source = f" in source {rest[0]}" if rest and rest[0] != "*" else ""
        if kind == "field":
            return f"field {rest[1]}.{rest[2]}{source}" if rest[2] else f"asset {rest[1]}{source}"
        if kind == "asset":
            return f"asset {rest[1]}{source}"
        return f"{kind} {rest[-1]}"


# -- classification ------------------------------------------------------------------------------


class CategoryDef(Node):
    """A category of personal data and the sensitivity its entity types have by default."""

    description: str | None = None
    sensitivity: Sensitivity | None = None
    special: list[Special] | None = None
    cite: list[str] | None = None


class EntityClass(Node):
    """How one entity type is classified. Unset keys come from its category (or base policy)."""

    category: CategoryName | None = None
    sensitivity: Sensitivity | None = None
    special: list[Special] | None = None
    cite: list[str] | None = None
    note: str | None = None


class FieldRule(Rule):
    """An override for one asset (``field`` omitted) or one field, whatever was detected in it."""

    source: str | None = None
    asset: Glob
    field: Glob | None = None
    category: CategoryName | None = None
    sensitivity: Sensitivity | None = None
    special: list[Special] | None = None
    allow_personal_data: bool | None = Field(
        default=None, description="false: this asset or field must never hold personal data"
    )
    cite: list[str] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        classes = (self.category, self.sensitivity, self.special)
        if classes == (None, None, None) and self.allow_personal_data is None:
            raise _error("a classification.fields rule needs category, sensitivity, special or allow_personal_data")
        if self.allow_personal_data is False and classes != (None, None, None):
            raise _error("a rule saying allow_personal_data: false cannot also classify the data it forbids "
                         "(drop category, sensitivity and special)", at=("allow_personal_data",))
        return self

    def selectors(self) -> list[Selector]:
        return [("field", self.source or "*", self.asset.lower(), (self.field or "").lower())]


class Classification(Node):
    categories: dict[CategoryName, CategoryDef] = Field(default_factory=dict)
    entities: dict[EntityName, EntityClass] = Field(default_factory=dict)
    fields: list[FieldRule] = Field(default_factory=list)


# -- processing (records of processing activities, GDPR art. 30) ---------------------------------


class Activity(Rule):
    """One processing activity: why, on what basis, about whom, shared with whom."""

    name: str
    description: str | None = None
    purposes: list[str] = Field(min_length=1)
    legal_basis: str
    data_subjects: list[str] = Field(default_factory=list)
    source: str | None = None
    assets: list[Glob] = Field(default_factory=list)
    categories: list[CategoryName] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)
    transfers: list[str] = Field(default_factory=list)
    safeguards: list[str] = Field(default_factory=list)
    cite: list[str] = Field(default_factory=list)

    NOTES: ClassVar[frozenset[str]] = frozenset({"cite", "description"})

    @field_validator("legal_basis")
    @classmethod
    def _known_basis(cls, value: str) -> str:
        if value not in LEGAL_BASES:
            raise _error(f'unknown legal basis "{value}" (expected one of: {", ".join(LEGAL_BASES)})',
                         close_match(value, LEGAL_BASES))
        return value

    @model_validator(mode="after")
    def _selects_something(self) -> Self:
        if not self.assets and not self.categories:
            raise _error(f'processing activity "{self.name}" needs assets or categories')
        return self

    SELECTOR_KEYS: ClassVar[frozenset[str]] = frozenset({"name"})

    def selectors(self) -> list[Selector]:
        return [("activity", self.name.lower())]


class Processing(Node):
    controller: str | None = None
    representative: str | None = None
    dpo: str | None = None
    activities: list[Activity] = Field(default_factory=list)


# -- retention -----------------------------------------------------------------------------------


class RetentionException(Node):
    """Rows kept beyond the period: a predicate, a legal hold, or both (hold on some rows)."""

    where: PredicateValue | None = None
    legal_hold: str | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _needs_where_or_hold(self) -> Self:
        if self.where is None and self.legal_hold is None:
            raise _error("a retention exception needs 'where' (a predicate) or 'legal_hold' (a hold's reference)")
        return self


class RetentionRule(Rule):
    """Keep the selected assets' rows at most ``period`` after ``timestamp``, then ``action``."""

    name: str | None = None
    source: str | None = None
    assets: list[Glob] = Field(default_factory=list)
    categories: list[CategoryName] = Field(default_factory=list)
    timestamp: str
    period: PeriodValue
    action: Action
    exceptions: list[RetentionException] = Field(default_factory=list)
    #: Child tables (globs) whose rows referencing an expiring row go with it when they have no
    #: retention rule of their own; ``true`` for every child. Without it, such a child stops
    #: ``retention apply`` (the rows would be orphaned or the delete would fail).
    cascade: bool | list[Glob] = False
    #: The law that obliges keeping the rows for ``period`` (tax law for invoices): the period is
    #: then also a minimum, and an erasure request meets it (see ``on_erasure``).
    legal_basis: str | None = None
    #: What an erasure does to the subject's rows still inside an obligation to keep them:
    #: ``retain`` (keep, restricted), ``anonymize`` (keep the row, anonymize its personal
    #: fields) or ``delete`` (erasure wins). Only with ``legal_basis``; defaults to ``retain``.
    on_erasure: ErasureAction | None = None
    cite: list[str] = Field(default_factory=list)
    note: str | None = None

    SELECTOR_KEYS: ClassVar[frozenset[str]] = frozenset({"source", "assets", "categories"})

    @model_validator(mode="after")
    def _erasure_needs_obligation(self) -> Self:
        if self.on_erasure is not None and not (self.legal_basis or "").strip():
            raise _error("on_erasure says how an erasure meets an obligation to keep; it needs the legal_basis "
                         "of that obligation", at=("on_erasure",))
        return self

    def cascades_to(self, child: str) -> bool:
        """Whether rows of ``child`` (a table without its own rule) go with the expiring rows."""
        if isinstance(self.cascade, bool):
            return self.cascade
        return any(matches_asset(pattern, child) for pattern in self.cascade)

    @model_validator(mode="after")
    def _selects_something(self) -> Self:
        if not self.assets and not self.categories:
            raise _error("a retention rule needs assets (table or file globs) or categories")
        if not self.timestamp.strip():
            raise _error("timestamp cannot be empty: name a column, or $mtime or $name for files", at=("timestamp",))
        return self

    def selectors(self) -> list[Selector]:
        src = self.source or "*"
        assets: list[Selector] = [("asset", src, a.lower()) for a in self.assets]
        return assets + [("category", src, c) for c in self.categories]

    def without(self, removed: set[Selector]) -> Self | None:
        src = self.source or "*"
        assets = [a for a in self.assets if ("asset", src, a.lower()) not in removed]
        categories = [c for c in self.categories if ("category", src, c) not in removed]
        if not assets and not categories:
            return None
        if len(assets) == len(self.assets) and len(categories) == len(self.categories):
            return self
        copy = self.model_copy(update={"assets": assets, "categories": categories})
        return copy

    @property
    def label(self) -> str:
        return self.name or ", ".join([*self.assets, *self.categories])


class Retention(Node):
    rules: list[RetentionRule] = Field(default_factory=list)


# -- anonymization -------------------------------------------------------------------------------


def check_operator(operator: str, params: dict[str, Any]) -> None:
    """Operator name and parameter names against :data:`OPERATOR_PARAMETERS`."""
    if operator not in OPERATOR_PARAMETERS:
        raise _error(f'unknown operator "{operator}"', close_match(operator, KNOWN_OPERATORS), at=("operator",))
    allowed = OPERATOR_PARAMETERS[operator]
    for name in params:
        if name not in allowed:
            takes = f"takes {', '.join(allowed)}" if allowed else "takes no parameters"
            raise _error(f'unknown parameter "{name}" for operator "{operator}" ({takes})',
                         close_match(name, allowed), at=("params", name, "[key]"))


class AnonymizationRule(Rule):
    """The operator for one category, one entity type, or one field (most specific wins)."""

    category: CategoryName | None = None
    entity: EntityName | None = None
    source: str | None = None
    asset: Glob | None = None
    field: Glob | None = None
    operator: str
    params: dict[str, Any] = Field(default_factory=dict)
    cite: list[str] = Field(default_factory=list)
    note: str | None = None

    SELECTOR_KEYS: ClassVar[frozenset[str]] = frozenset({"category", "entity", "source", "asset", "field"})

    @model_validator(mode="after")
    def _one_selector(self) -> Self:
        chosen = [k for k in ("category", "entity", "field") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise _error("an anonymization rule selects exactly one of category, entity or field (with asset)")
        if self.asset is not None and self.field is None:
            raise _error("'asset' in an anonymization rule needs 'field' too (use asset: x, field: '*')",
                         at=("asset",))
        check_operator(self.operator, self.params)
        return self

    def selectors(self) -> list[Selector]:
        if self.field is not None:
            return [("field", self.source or "*", (self.asset or "*").lower(), self.field.lower())]
        if self.entity is not None:
            return [("entity", self.entity)]
        return [("category", self.category or "")]


class Anonymization(Node):
    rules: list[AnonymizationRule] = Field(default_factory=list)


# -- access --------------------------------------------------------------------------------------


class AccessRule(Rule):
    """What a role sees of one category, sensitivity, entity type or asset (or field)."""

    category: CategoryName | None = None
    sensitivity: Sensitivity | None = None
    entity: EntityName | None = None
    source: str | None = None
    asset: Glob | None = None
    field: Glob | None = None
    read: Read
    operator: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    note: str | None = None
    cite: list[str] = Field(default_factory=list)

    SELECTOR_KEYS: ClassVar[frozenset[str]] = frozenset(
        {"category", "sensitivity", "entity", "source", "asset", "field"}
    )

    @model_validator(mode="after")
    def _one_selector(self) -> Self:
        chosen = [k for k in ("category", "sensitivity", "entity", "asset") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise _error("an access rule selects exactly one of category, sensitivity, entity or asset (+ field)")
        if self.field is not None and self.asset is None:
            raise _error("'field' in an access rule needs 'asset' too", at=("field",))
        if self.operator is not None or self.params:
            if self.read != "masked":
                raise _error(f"an operator only applies when read is masked, not {self.read}", at=("operator",))
            check_operator(self.operator or "mask", self.params)
        return self

    def selectors(self) -> list[Selector]:
        if self.asset is not None:
            return [("field", self.source or "*", self.asset.lower(), (self.field or "").lower())]
        if self.category is not None:
            return [("category", self.category)]
        if self.entity is not None:
            return [("entity", self.entity)]
        return [("sensitivity", str(self.sensitivity))]


class Role(Node):
    description: str | None = None
    default: Read | None = None
    rules: list[AccessRule] = Field(default_factory=list)


class Access(Node):
    roles: dict[SimpleName, Role] = Field(default_factory=dict)


# -- data subject requests -----------------------------------------------------------------------


def _field_address(value: str) -> str:
    asset, dot, name = value.rpartition(".")
    if not dot or not asset or not name:
        raise _error(f'"{value}" is not a field address; expected TABLE.COLUMN such as customers.email')
    return value


class Identifiers(Node):
    """What identifies a data subject: entity types, and specific fields (TABLE.COLUMN)."""

    entities: list[EntityName] | None = None
    fields: list[Annotated[str, AfterValidator(_field_address)]] | None = None


class ErasureRule(Rule):
    """What erasure does to one asset's rows about the subject; ``retain`` needs its legal basis."""

    source: str | None = None
    asset: Glob
    action: ErasureAction
    legal_basis: str | None = None
    cite: list[str] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _retain_needs_basis(self) -> Self:
        if self.action == "retain" and not (self.legal_basis or "").strip():
            raise _error(f"erasure action retain for {self.asset} needs a legal_basis saying why the data is kept",
                         at=("action",))
        return self

    def selectors(self) -> list[Selector]:
        return [("asset", self.source or "*", self.asset.lower())]


class Dsr(Node):
    identifiers: Identifiers = Field(default_factory=Identifiers)
    erasure: list[ErasureRule] = Field(default_factory=list)
    default_erasure: ErasureAction | None = None
    deadlines: dict[SimpleName, PeriodValue] = Field(default_factory=dict)


# -- the file -------------------------------------------------------------------------------------


class PolicyFile(Node):
    """One policy file, and (after merging) the effective policy."""

    version: Literal[1] = 1
    name: str | None = None
    description: str | None = None
    extends: list[str] = Field(default_factory=list)
    classification: Classification = Field(default_factory=Classification)
    processing: Processing = Field(default_factory=Processing)
    retention: Retention = Field(default_factory=Retention)
    anonymization: Anonymization = Field(default_factory=Anonymization)
    access: Access = Field(default_factory=Access)
    dsr: Dsr = Field(default_factory=Dsr)

    #: Keys that describe a file rather than the policy; not merged.
    META: ClassVar[frozenset[str]] = frozenset({"version", "name", "description", "extends"})

    @field_validator("extends", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value
