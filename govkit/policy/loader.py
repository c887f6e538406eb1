"""Loading policies: files -> validated models -> one effective policy, or a precise error.

Where policies come from
    A workspace's policy is every ``*.yaml``/``*.yml`` file directly in ``<workspace>/policies/``,
    loaded together as *peers*; with no such file it is the shipped ``baseline`` pack. (There
    is no ``[policy]`` table in govkit.toml: the folder is the whole configuration.)

``extends``
    A file may ``extends:`` one or more bases: a shipped pack by bare name (``gdpr``), or
    another file by a path relative to the extending file (``./common.yaml``). Shipped packs
    live in the top-level ``policies/`` folder of the repository and are packaged into the
    wheel as ``govkit/_data/policies``. A cycle is an error that names it.

Merge order
    All bases are linearized depth-first, each file once, after its own bases (``extends:
    [gdpr, pipl]`` where both extend ``baseline`` gives ``baseline, gdpr, pipl``); then the
    peers as one layer on top. A later layer overrides an earlier one:

    * scalars replace;
    * lists of plain values (``dsr.identifiers.entities``, a rule's ``assets``) replace, except
      ``special`` and ``cite``, which add up (a category may be GDPR-special *and*
      PIPL-sensitive);
    * mappings keyed by name (``classification.entities``, ``classification.categories``,
      ``access.roles``, ``dsr.deadlines``) merge key by key, entries field by field;
    * lists of rules merge by selector: a rule replaces the inherited rules selecting the
      same asset, field, category or entity type (a retention rule for ``[customers, orders]``
      loses ``customers`` to a newer rule for ``customers``); other inherited rules stay.

    Within one layer (one file, or the peer files of a workspace) nothing overrides
    anything: two values for the same key or two rules with a common selector must agree,
    or loading fails with both positions ("contradicting rules ..."). Plain lists of peers
    are united.

All or nothing
    Every problem of every file is collected; if there is any, :class:`PolicyError` is raised
    and nothing is returned, so a bad policy never half-loads.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from govkit.detect.entities import entity, known_entities
from govkit.limits import POLICY_MAX_BYTES
from govkit.policy.errors import Mark, PolicyError, Problem, close_match
from govkit.policy.schema import (
    CategoryName,
    Node,
    PolicyFile,
    Rule,
    Sensitivity,
)
from govkit.policy.yamlmarks import MarkedDict, MarkedList, describe, load_yaml, mark_at

BASELINE = "baseline"
POLICY_DIR = "policies"
_SUFFIXES = (".yaml", ".yml")

N = TypeVar("N", bound=Node)

#: Lists that add up across layers instead of being replaced: a category can be special
#: under GDPR *and* sensitive under PIPL, and keeps the citations of both.
ACCUMULATING = frozenset({"special", "cite"})


# -- where files are -----------------------------------------------------------------------------


def packs_dir() -> Traversable:
    """The shipped packs: package data in a wheel, the repository's ``policies/`` otherwise."""
    data = resources.files("govkit").joinpath("_data", "policies")
    if data.is_dir():
        return data
    return Path(__file__).resolve().parents[2] / POLICY_DIR


def shipped_packs() -> list[str]:
    """Names of the shipped packs (``baseline``, ``gdpr``, ...)."""
    return sorted(p.name.rsplit(".", 1)[0] for p in packs_dir().iterdir() if p.name.endswith(_SUFFIXES))


def policy_files(workspace_root: Path) -> list[Path]:
    """The workspace's own policy files, in name order (the order does not change the result)."""
    folder = workspace_root / POLICY_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in _SUFFIXES)


@dataclass(frozen=True)
class _Source:
    """A policy file on disk or inside the package; ``key`` identifies it for cycle checks."""

    key: str
    display: str
    location: Traversable
    pack: str | None = None

    def read(self) -> str:
        """The file's text; never more than :data:`~govkit.limits.POLICY_MAX_BYTES` is read
        (a policy "file" that is ``/dev/zero`` or a 10 GB mistake fails at once)."""
        try:
            with self.location.open("rb") as handle:
                data = handle.read(POLICY_MAX_BYTES + 1)
            if len(data) > POLICY_MAX_BYTES:
                raise PolicyError.one(f"policy file too large: over {POLICY_MAX_BYTES:,} bytes (the limit)",
                                      Mark(self.display, 1, 1))
            return data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError.one(f"cannot read policy file {self.display}: {type(exc).__name__}") from None


def _file_source(path: Path) -> _Source:
    resolved = path.resolve()
    try:
        display = str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        display = str(path)
    return _Source(str(resolved), display, resolved)


def _pack_source(name: str) -> _Source | None:
    for suffix in _SUFFIXES:
        location = packs_dir().joinpath(name + suffix)
        if location.is_file():
            return _Source(f"pack:{name}", f"govkit:policies/{name}{suffix}", location, pack=name)
    return None


def _resolve_ref(ref: str, base: _Source) -> _Source | None:
    """``gdpr`` -> the shipped pack; ``./x.yaml`` -> relative to the extending file."""
    is_path = "/" in ref or "\\" in ref or ref.endswith(_SUFFIXES)
    if not is_path:
        return _pack_source(ref)
    if base.pack is not None:
        location = packs_dir().joinpath(*[p for p in ref.split("/") if p not in ("", ".")])
        if location.is_file():
            name = ref.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            return _Source(f"pack:{name}", f"govkit:policies/{ref.lstrip('./')}", location, pack=name)
        return None
    assert isinstance(base.location, Path)
    path = base.location.parent / ref
    return _file_source(path) if path.is_file() else None


# -- the effective policy ------------------------------------------------------------------------


@dataclass
class Policy:
    """The effective policy: the merged document and the files it came from (bases first)."""

    doc: PolicyFile
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = self.doc.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
        for key in PolicyFile.META:
            data.pop(key, None)
        return {"files": self.files, **_prune(data)}

    def to_yaml(self) -> str:
        import yaml

        header = "# The effective policy, merged from:\n" + "".join(f"#   {f}\n" for f in self.files)
        data = self.to_dict()
        data.pop("files")
        return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def _prune(data: Any) -> Any:
    """Drop empty sections and lists from ``show`` output: only what the policy says."""
    if isinstance(data, dict):
        pruned = {k: _prune(v) for k, v in data.items()}
        return {k: v for k, v in pruned.items() if v not in ({}, [], None)}
    if isinstance(data, list):
        return [_prune(v) for v in data]
    return data


def load_pack(name: str) -> Policy:
    """A shipped pack with its bases, e.g. ``load_pack("gdpr")``."""
    source = _pack_source(name)
    if source is None:
        packs = shipped_packs()
        raise PolicyError.one(f'unknown policy pack "{name}" (shipped: {", ".join(packs)})',
                              suggestion=close_match(name, packs))
    return _Loader().load([source])


def load_policy(paths: Sequence[Path]) -> Policy:
    """Load ``paths`` together as peers (the way a workspace's policies/ folder is loaded)."""
    if not paths:
        return load_pack(BASELINE)
    sources = []
    for path in paths:
        if not path.is_file():
            raise PolicyError.one(f"no such policy file: {path}")
        sources.append(_file_source(path))
    return _Loader().load(sources)


def active_policy(workspace_root: Path) -> Policy:
    """The workspace's policy: its ``policies/*.yaml``, or the shipped baseline."""
    return load_policy(policy_files(workspace_root))


# -- the loader ----------------------------------------------------------------------------------


@dataclass
class _Loaded:
    source: _Source
    doc: PolicyFile
    bases: list[_Loaded]


class _Loader:
    """One load: parses each file once, collects every problem, merges, checks references."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.cache: dict[str, _Loaded | None] = {}

    def load(self, tops: Sequence[_Source]) -> Policy:
        loaded = [self.visit(s, ()) for s in tops]
        self.fail_if_problems()
        nodes = [n for n in loaded if n is not None]
        order: list[_Loaded] = []
        seen: set[str] = set()

        def post(node: _Loaded) -> None:
            if node.source.key in seen:
                return
            seen.add(node.source.key)
            for base in node.bases:
                post(base)
            order.append(node)

        for node in nodes:
            for base in node.bases:
                post(base)
        peers = []
        for node in nodes:
            if node.source.key not in seen and node not in peers:
                peers.append(node)
        effective = PolicyFile()
        for node in order:
            effective = override(effective, node.doc)
        if peers:
            layer = peers[0].doc
            for peer in peers[1:]:
                layer = combine(layer, peer.doc, self.problems)
            if len(peers) > 1:
                self.problems.extend(check_rules(layer))
            effective = override(effective, layer)
        self.fail_if_problems()
        self.problems.extend(check_references(effective))
        self.fail_if_problems()
        return Policy(effective, [n.source.display for n in [*order, *peers]])

    def fail_if_problems(self) -> None:
        if self.problems:
            unique = list(dict.fromkeys(self.problems))
            raise PolicyError(unique)

    def visit(self, source: _Source, stack: tuple[tuple[_Source, Mark | None], ...]) -> _Loaded | None:
        keys = [s.key for s, _ in stack]
        if source.key in keys:
            cycle = [s.display for s, _ in stack[keys.index(source.key):]] + [source.display]
            self.problems.append(Problem(f"extends cycle: {' -> '.join(cycle)}", stack[-1][1]))
            return None
        if source.key in self.cache:
            return self.cache[source.key]
        self.cache[source.key] = None
        try:
            raw = load_yaml(source.read(), source.display)
        except PolicyError as exc:
            self.problems.extend(exc.problems)
            return None
        if raw is None:
            raw = MarkedDict()
            raw.mark, raw.key_marks, raw.value_marks = Mark(source.display, 1, 1), {}, {}
        if not isinstance(raw, MarkedDict):
            self.problems.append(Problem(
                f"a policy file must be a mapping of sections (classification, retention, ...), got {describe(raw)}",
                getattr(raw, "mark", Mark(source.display, 1, 1)),
            ))
            return None
        try:
            doc = PolicyFile.model_validate(raw)
        except ValidationError as exc:
            self.problems.extend(translate(exc, raw))
            doc = None
        bases = []
        for ref, mark in _extends(raw, source.display):
            if not isinstance(ref, str):
                continue  # reported by validation
            base_source = _resolve_ref(ref, source)
            if base_source is None:
                is_path = "/" in ref or ref.endswith(_SUFFIXES)
                if is_path:
                    self.problems.append(Problem(f'extends: no policy file "{ref}" (relative to {source.display})',
                                                 mark))
                else:
                    packs = shipped_packs()
                    self.problems.append(Problem(
                        f'unknown policy pack "{ref}" in extends (shipped: {", ".join(packs)})', mark,
                        close_match(ref, packs),
                    ))
                continue
            base = self.visit(base_source, (*stack, (source, mark)))
            if base is not None:
                bases.append(base)
        if doc is None:
            return None
        self.problems.extend(check_rules(doc))
        loaded = _Loaded(source, doc, bases)
        self.cache[source.key] = loaded
        return loaded


def _extends(raw: MarkedDict, display: str) -> list[tuple[Any, Mark]]:
    value = raw.get("extends")
    if value is None:
        return []
    if isinstance(value, MarkedList):
        return list(zip(value, value.item_marks, strict=True))
    return [(value, raw.value_marks.get("extends", Mark(display, 1, 1)))]


# -- pydantic errors -> problems ---------------------------------------------------------------------

_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "list_type": "a list", "tuple_type": "a list",
    "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
}  # fmt: skip


def dotted(loc: Iterable[str | int]) -> str:
    text = ""
    for step in loc:
        if isinstance(step, int):
            text += f"[{step}]"
        elif step != "[key]":
            text += ("." if text else "") + step
    return text


def translate(exc: ValidationError, raw: MarkedDict) -> list[Problem]:
    """Turn pydantic's errors into one-line problems with file positions."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = _clean_loc(tuple(error["loc"]))
        kind = error["type"]
        ctx = error.get("ctx") or {}
        value = error.get("input")
        if kind == "govkit":
            loc = (*loc, *ctx.get("at", ()))
            on_key = bool(loc) and loc[-1] == "[key]"
            path = tuple(s for s in loc if s != "[key]")
            problems.append(Problem(ctx["message"], mark_at(raw, path, key=on_key), ctx.get("suggestion")))
            continue
        path = tuple(s for s in loc if s != "[key]")
        if kind == "extra_forbidden":
            key = str(path[-1])
            allowed = _allowed_keys(path[:-1])
            parent = dotted(path[:-1])
            where = f" in {parent}" if parent else ""
            suggestion = close_match(key, allowed) if allowed else None
            hint = "" if suggestion or not allowed else f" (expected one of: {', '.join(allowed)})"
            problems.append(Problem(f'unknown key "{key}"{where}{hint}', mark_at(raw, path, key=True), suggestion))
        elif kind == "missing":
            parent = dotted(path[:-1])
            where = f" in {parent}" if parent else ""
            problems.append(Problem(f'missing key "{path[-1]}"{where}', mark_at(raw, path[:-1])))
        elif kind in ("literal_error", "enum"):
            options = _options(str(ctx.get("expected", "")))
            shown = str(value) if isinstance(value, str) else describe(value)
            problems.append(Problem(
                f'{dotted(path)} must be one of: {", ".join(options)}; got "{shown}"', mark_at(raw, path),
                close_match(str(value), options) if isinstance(value, str) else None,
            ))
        elif kind in _EXPECTED:
            problems.append(Problem(f"{dotted(path)} must be {_EXPECTED[kind]}, got {describe(value)}",
                                    mark_at(raw, path)))
        elif kind == "too_short":
            problems.append(Problem(f"{dotted(path)} must not be empty", mark_at(raw, path)))
        else:
            problems.append(Problem(f"{dotted(path)}: {error['msg']}", mark_at(raw, path)))
    return problems


def _clean_loc(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Drop pydantic's validator tags (``function-after[...]``) from a location."""
    return tuple(s for s in loc if isinstance(s, int) or not (isinstance(s, str) and "[" in s and s != "[key]"))


def _options(expected: str) -> list[str]:
    import re

    return re.findall(r"'([^']*)'", expected)


def _unwrap(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


def _allowed_keys(path: Sequence[str | int]) -> list[str]:
    """The keys the model at ``path`` (inside a PolicyFile) accepts."""
    current: Any = PolicyFile
    for step in path:
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(step, str):
            info = current.model_fields.get(step)
            if info is None:
                return []
            current = _unwrap(info.annotation)
        elif get_origin(current) is list and isinstance(step, int):
            current = _unwrap(get_args(current)[0])
        elif get_origin(current) is dict and isinstance(step, str):
            current = _unwrap(get_args(current)[1])
        else:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


# -- merging -------------------------------------------------------------------------------------


def _rule_lists(model: type[BaseModel]) -> set[str]:
    """Names of the fields of ``model`` that hold lists of :class:`Rule`."""
    names = set()
    for name, info in model.model_fields.items():
        annotation = _unwrap(info.annotation)
        if get_origin(annotation) is list:
            item = _unwrap(get_args(annotation)[0])
            if isinstance(item, type) and issubclass(item, Rule):
                names.add(name)
    return names


def _merge_fields(model: Node) -> set[str]:
    fields = set(model.model_fields_set)
    if isinstance(model, PolicyFile):
        fields -= PolicyFile.META
    return fields


def override(base: N, over: N) -> N:
    """``over`` layered on ``base`` with the semantics in the module docstring."""
    updates: dict[str, Any] = {}
    rule_lists = _rule_lists(type(over))
    for name in _merge_fields(over):
        old, new = getattr(base, name), getattr(over, name)
        if isinstance(old, Node) and isinstance(new, Node):
            updates[name] = override(old, new)
        elif isinstance(old, dict) and isinstance(new, dict):
            merged = dict(old)
            for key, value in new.items():
                previous = old.get(key)
                both = isinstance(previous, Node) and isinstance(value, Node)
                merged[key] = override(previous, value) if both else value
            updates[name] = merged
        elif name in rule_lists:
            taken = {s for rule in new for s in rule.selectors()}
            kept = [r for rule in old if (r := rule.without(taken)) is not None]
            updates[name] = kept + list(new)
        elif name in ACCUMULATING and isinstance(old, list) and isinstance(new, list):
            updates[name] = [*old, *[v for v in new if v not in old]]
        else:
            updates[name] = new
    result = base.model_copy(update=updates)
    result.take_marks(over, set(updates))
    return result


def combine(first: N, second: N, problems: list[Problem], path: str = "") -> N:
    """Two peers as one layer: values must agree; rule lists are joined (checked later)."""
    updates: dict[str, Any] = {}
    rule_lists = _rule_lists(type(second))
    for name in _merge_fields(second):
        new = getattr(second, name)
        where = f"{path}.{name}" if path else name
        if name not in first.model_fields_set:
            updates[name] = new
            continue
        old = getattr(first, name)
        if isinstance(old, Node) and isinstance(new, Node):
            updates[name] = combine(old, new, problems, where)
        elif isinstance(old, dict) and isinstance(new, dict):
            merged = dict(old)
            for key, value in new.items():
                if key not in old:
                    merged[key] = value
                elif isinstance(value, Node) and isinstance(old[key], Node):
                    merged[key] = combine(old[key], value, problems, f"{where}.{key}")
                elif old[key] != value:
                    problems.append(_disagreement(where, key, old[key], value, first.entry_mark(name, key),
                                                  second.entry_mark(name, key)))
            updates[name] = merged
        elif name in rule_lists:
            updates[name] = [*old, *new]
        elif isinstance(old, list) and isinstance(new, list):
            updates[name] = [*old, *[v for v in new if v not in old]]
        elif old != new:
            problems.append(_disagreement(path, name, old, new, first.mark_of(name), second.mark_of(name)))
    result = first.model_copy(update=updates)
    result.take_marks(second, {n for n in updates if n not in first.model_fields_set})
    return result


def _show(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, str):
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False, default=str)


def _disagreement(path: str, key: str, old: Any, new: Any, old_mark: Mark | None, new_mark: Mark | None) -> Problem:
    where = f"{path}.{key}" if path else key
    return Problem(f"contradicting values for {where}: {_show(old)} at {old_mark} but {_show(new)}", new_mark)


def check_rules(model: Node) -> list[Problem]:
    """Two rules of one layer with a common selector must decide the same thing."""
    problems = []
    for name in _rule_lists(type(model)):
        first_by_selector: dict[tuple[str, ...], Rule] = {}
        for rule in getattr(model, name):
            for selector in rule.selectors():
                earlier = first_by_selector.setdefault(selector, rule)
                if earlier is rule:
                    continue
                old, new = earlier.decision(), rule.decision()
                if old == new:
                    continue
                key = next(k for k in [*old, *new] if old.get(k) != new.get(k))
                problems.append(Problem(
                    f"contradicting rules for {Rule.describe(selector)}: {key} is {_show(old.get(key))} at "
                    f"{earlier.mark_of(key) if key in earlier.model_fields_set else earlier.origin} but "
                    f"{_show(new.get(key))}",
                    rule.mark_of(key) if key in rule.model_fields_set else rule.origin,
                ))
                break
    for name in model.model_fields_set | set(type(model).model_fields):
        value = getattr(model, name, None)
        children: Iterable[Any] = value.values() if isinstance(value, dict) else [value]
        for child in children:
            if isinstance(child, Node) and not isinstance(child, Rule):
                problems.extend(check_rules(child))
    return problems


# -- cross-references (on the effective policy) ------------------------------------------------------


def check_references(doc: PolicyFile) -> list[Problem]:
    """Names used in one section must exist in another: categories, entity types."""
    problems: list[Problem] = []
    cls = doc.classification
    categories = set(cls.categories)
    catalogue = set(known_entities())
    entities = catalogue | set(cls.entities)

    def category(name: str | None, node: Node, key: str, index: int | None = None) -> None:
        if name is not None and name not in categories:
            problems.append(Problem(f'unknown category "{name}" (declare it under classification.categories)',
                                    node.mark_of(key, index), close_match(name, categories)))

    def entity_ref(name: str | None, node: Node, key: str, index: int | None = None) -> None:
        if name is not None and name not in entities:
            problems.append(Problem(f'unknown entity type "{name}"', node.mark_of(key, index),
                                    close_match(name, entities)))

    for name, klass in cls.entities.items():
        if name not in catalogue:
            guess = close_match(name, catalogue, cutoff=0.8)
            if guess is not None:
                problems.append(Problem(f'unknown entity type "{name}"', cls.entry_mark("entities", name), guess))
                continue
        chosen = klass.category or default_category(name)
        if klass.category is not None:
            category(klass.category, klass, "category")
        elif chosen not in categories:
            problems.append(Problem(
                f'entity type {name} needs a category: its default, "{chosen}", is not declared under '
                "classification.categories", cls.entry_mark("entities", name)))
            continue
        if klass.sensitivity is None and (chosen not in categories or cls.categories[chosen].sensitivity is None):
            problems.append(Problem(
                f'entity type {name} has no sensitivity: set one on it or on category "{chosen}"',
                cls.entry_mark("entities", name)))
    for rule in cls.fields:
        category(rule.category, rule, "category")
    for activity in doc.processing.activities:
        for index, name in enumerate(activity.categories):
            category(name, activity, "categories", index)
    for retention in doc.retention.rules:
        for index, name in enumerate(retention.categories):
            category(name, retention, "categories", index)
    for anon in doc.anonymization.rules:
        category(anon.category, anon, "category")
        entity_ref(anon.entity, anon, "entity")
    for role in doc.access.roles.values():
        for access in role.rules:
            category(access.category, access, "category")
            entity_ref(access.entity, access, "entity")
    identifiers = doc.dsr.identifiers
    for index, name in enumerate(identifiers.entities or []):
        entity_ref(name, identifiers, "entities", index)
    return problems


def default_category(entity_type: str) -> CategoryName:
    """The catalogue's category for an entity type (``other`` for custom ones)."""
    return entity(entity_type).category


__all__ = [
    "BASELINE",
    "Policy",
    "Sensitivity",
    "active_policy",
    "load_pack",
    "load_policy",
    "packs_dir",
    "policy_files",
    "shipped_packs",
]
