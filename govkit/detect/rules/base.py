"""The pieces every rule is made of, and the one registry that applies them in order.

A **finding rule** turns a column's evidence (pattern hits, name hints, NER tags, shapes)
into candidate entities, in one phase of the classifier (:data:`Phase`). A **column rule**
sets an entity aside for a column, at one stage of the classifier (:data:`Stage`): the
evidence says PERSON, but the values are firms' names. A **table rule** gives a table a
meaning (:class:`~govkit.detect.tables.TableMeaning`) that drops verdicts its rows cannot
carry: a list of cities describes no one. Each rule is a class in its own file, named after
its id (``org-names`` lives in ``org_names.py``), with a short ``id``, a one-line
``summary`` (what ``govkit explain`` prints) and a docstring saying why. :data:`ORDER`
declares the order in which the registry applies them, so adding a rule is a new file and
one line here, not another branch in the classifier. The registry imports the rule files
itself, on first use, which also keeps the finding rules (which use the classifier's
arithmetic) free of an import cycle with govkit/detect/columns.py.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, TypeVar

if TYPE_CHECKING:
    from govkit.detect.columns import Evidence
    from govkit.detect.tables import TableMeaning

#: Where in the classifier a column rule is asked:
#: ``column``: before anything, for the whole column (flags);
#: ``patterns``: an entity validated patterns found (rule "values match");
#: ``name``: an entity the column's name points at (rule "name + values");
#: ``ner``: an entity the NER model alone found in most values (rule "values look like");
#: ``prose``: an entity the NER model found in free text (rule "free text").
Stage = Literal["column", "patterns", "name", "ner", "prose"]

#: When a finding rule runs: ``patterns``, the validated-pattern rules of a structured
#: column; ``shape``, the rules that weigh names, shapes and NER, after the pattern rules
#: (they stand back where patterns proved another entity); ``prose``, free-text columns.
Phase = Literal["patterns", "shape", "prose"]

#: The order in which rules are applied: finding rules add candidates in this order (a tie
#: in confidence goes to the earlier one); of the column and table rules, the first that
#: fires is the one recorded.
ORDER: tuple[str, ...] = (
    "values-match",
    "mixed-kinds",
    "sparse-matches",
    "name-values",
    "ner-values",
    "han-names",
    "address-values",
    "prose-patterns",
    "prose-ner",
    "yes-no-flags",
    "version-numbers",
    "bare-domains",
    "enumeration",
    "org-names",
    "sales-regions",
    "description-prose",
    "place-lookup",
    "organisation",
    "names-no-person",
)


@dataclass(frozen=True, slots=True)
class ColumnFacts:
    """What a column rule may look at: the names, and the sampled values counted."""

    table: str
    column: str
    kind: str
    texts: Counter[str]
    n: int
    distinct: int


@dataclass(frozen=True, slots=True)
class TableFacts:
    """What a table rule may look at: the table, its columns, and what their verdicts said.

    ``persons``: the columns judged PERSON; ``unlike_people``: the columns whose values the
    NER model read as people less than half the time.
    """

    table: str
    columns: Sequence[str]
    persons: Sequence[str] = ()
    unlike_people: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Fired:
    """A rule that decided something about a column: which, for what entity, where, why."""

    rule: str
    entity: str
    stage: str
    why: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class ColumnRule(ABC):
    """Sets an entity aside for a column: :meth:`check` says why, or None to let it stand."""

    id: ClassVar[str]
    summary: ClassVar[str]
    stages: ClassVar[frozenset[str]]
    #: The entities the rule is about; None: any.
    entities: ClassVar[frozenset[str] | None] = None

    def applies(self, stage: str, entity: str) -> bool:
        return stage in self.stages and (self.entities is None or entity in self.entities)

    @abstractmethod
    def check(self, entity: str, facts: ColumnFacts) -> str | None:
        """Why ``entity`` is not what this column holds, or None."""


class FindingRule(ABC):
    """Adds candidate entities for a column from its evidence (:meth:`find`)."""

    id: ClassVar[str]
    summary: ClassVar[str]
    phase: ClassVar[str]

    @abstractmethod
    def find(self, ev: Evidence) -> None:
        """Add to ``ev.candidates`` the entities this rule finds (never replacing one)."""


class TableRule(ABC):
    """Gives a table a meaning from its name, columns and column verdicts, or None."""

    id: ClassVar[str]
    summary: ClassVar[str]

    @abstractmethod
    def meaning(self, facts: TableFacts) -> TableMeaning | None:
        """The table's meaning by this rule, or None when the rule does not apply."""


Rule = ColumnRule | TableRule | FindingRule
_R = TypeVar("_R", bound=type[ColumnRule] | type[TableRule] | type[FindingRule])


class Registry:
    """The rules, applied in :data:`ORDER`; one instance, :data:`REGISTRY`."""

    def __init__(self, order: Sequence[str]) -> None:
        self.order = tuple(order)
        self._rules: dict[str, Rule] = {}
        self._package: str | None = None
        self._cached: list[Rule] | None = None

    def register(self, cls: _R) -> _R:
        """Class decorator: add one rule. Its id must be new and listed in the order."""
        rule = cls()
        if rule.id in self._rules:
            raise ValueError(f"rule {rule.id!r} registered twice")
        if rule.id not in self.order:
            raise ValueError(f"rule {rule.id!r} is not in the declared order (govkit/detect/rules/base.py ORDER)")
        if not (cls.__doc__ or "").strip() or not rule.summary:
            raise ValueError(f"rule {rule.id!r} needs a docstring saying why and a one-line summary")
        self._rules[rule.id] = rule
        self._cached = None
        return cls

    def load_from(self, package: str) -> None:
        """Import the rule files of ``package`` (``ID.replace('-', '_')`` per id) on first use."""
        self._package = package

    def _load(self) -> None:
        if self._package is not None:
            package, self._package = self._package, None
            for rule_id in self.order:
                importlib.import_module(f"{package}.{rule_id.replace('-', '_')}")

    def rules(self) -> list[Rule]:
        """Every registered rule, in the declared order."""
        if self._cached is None:
            self._load()
            self._cached = [self._rules[i] for i in self.order if i in self._rules]
        return self._cached

    def get(self, rule_id: str) -> Rule:
        """The rule registered as ``rule_id`` (KeyError if none)."""
        self._load()
        return self._rules[rule_id]

    def finding_rule(self, rule_id: str) -> FindingRule:
        rule = self.get(rule_id)
        if not isinstance(rule, FindingRule):
            raise TypeError(f"{rule_id!r} is not a finding rule")
        return rule

    def find(self, phase: Phase, ev: Evidence) -> None:
        """Apply the finding rules of ``phase``, in order; each new candidate records its rule."""
        for rule in self.rules():
            if isinstance(rule, FindingRule) and rule.phase == phase:
                before = set(ev.candidates)
                rule.find(ev)
                for entity in ev.candidates.keys() - before:
                    ev.candidates[entity].found_by = rule.id

    def column_rule(self, rule_id: str) -> ColumnRule:
        rule = self.get(rule_id)
        if not isinstance(rule, ColumnRule):
            raise TypeError(f"{rule_id!r} is a table rule")
        return rule

    def table_rule(self, rule_id: str) -> TableRule:
        rule = self.get(rule_id)
        if not isinstance(rule, TableRule):
            raise TypeError(f"{rule_id!r} is a column rule")
        return rule

    def column_rules(self, stage: str, entity: str) -> list[ColumnRule]:
        return [r for r in self.rules() if isinstance(r, ColumnRule) and r.applies(stage, entity)]

    def veto(self, stage: Stage, entity: str, facts: ColumnFacts) -> Fired | None:
        """The first rule, in order, that sets ``entity`` aside at ``stage``, or None."""
        for rule in self.column_rules(stage, entity):
            why = rule.check(entity, facts)
            if why is not None:
                return Fired(rule.id, entity, stage, why)
        return None

    def table_meaning(self, facts: TableFacts) -> tuple[str, TableMeaning] | None:
        """The first table rule, in order, that gives the table a meaning: (id, meaning)."""
        for rule in self.rules():
            if isinstance(rule, TableRule):
                meaning = rule.meaning(facts)
                if meaning is not None:
                    return rule.id, meaning
        return None


REGISTRY = Registry(ORDER)
REGISTRY.load_from("govkit.detect.rules")
register = REGISTRY.register
