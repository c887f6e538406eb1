"""YAML that remembers where everything came from.

PyYAML's ``safe_load`` returns plain dicts and lists and forgets positions, which leaves an
error message nothing better than "retention.rules.3.period is invalid". Composing the node
graph with a :class:`yaml.SafeLoader` subclass and building the values ourselves keeps each
node's start mark, so every key and value can be traced to ``file:line:column``. The
mappings and lists returned are ``dict``/``list`` subclasses carrying those marks; pydantic
accepts them as ordinary containers and the schema's validators read the marks back.

The loader also refuses what ``safe_load`` silently accepts: duplicate keys (the second one
would quietly win) and non-string keys.

And it is bounded (:mod:`govkit.limits`): building values ourselves means an alias is built
again wherever it is used, so a "billion laughs" file (an anchor of nine aliases of an
anchor of nine aliases ...) would expand exponentially (one of 200 bytes took
``govkit policy validate`` past 6 GB). Values built per file, aliases expanded, are
counted against :data:`~govkit.limits.YAML_MAX_NODES`; aliases against
:data:`~govkit.limits.YAML_MAX_ALIASES`; nesting against
:data:`~govkit.limits.YAML_MAX_DEPTH` (PyYAML's composer recurses, and a few thousand
``[`` raised ``RecursionError``). Each ends as one :class:`PolicyError` at ``file:line:column``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from govkit.limits import POLICY_MAX_BYTES, YAML_MAX_ALIASES, YAML_MAX_DEPTH, YAML_MAX_NODES
from govkit.policy.errors import Mark, PolicyError

Path = tuple[str | int, ...]


class MarkedDict(dict[str, Any]):
    """A mapping from YAML with the position of itself, each key and each value."""

    mark: Mark
    key_marks: dict[str, Mark]
    value_marks: dict[str, Mark]


class MarkedList(list[Any]):
    """A sequence from YAML with the position of itself and of each item."""

    mark: Mark
    item_marks: list[Mark]


class _Loader(yaml.SafeLoader):
    """SafeLoader; composing only. Tags beyond the YAML core schema are rejected.

    Composing counts aliases and open collections (see the module docstring); building
    (:func:`_build`) spends :attr:`budget`, one per value.
    """

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self.file = file
        self.aliases = 0
        self.depth = 0
        self.budget = YAML_MAX_NODES
        self.built: set[int] = set()

    def _at(self, mark: Any) -> Mark:
        return Mark(self.file, mark.line + 1, mark.column + 1)

    def _next(self) -> Mark:
        """Where the next event starts."""
        return self._at(self.peek_event().start_mark)  # type: ignore[no-untyped-call]

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > YAML_MAX_ALIASES:
                raise PolicyError.one(f"more than {YAML_MAX_ALIASES:,} YAML aliases (*name) in one file "
                                      "(the limit)", self._next())
            return super().compose_node(parent, index)
        if not self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent):
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > YAML_MAX_DEPTH:
                raise PolicyError.one(f"YAML nested deeper than {YAML_MAX_DEPTH} levels (the limit)",
                                      self._next())
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def spend(self, node: yaml.Node, via: Mark | None) -> Mark | None:
        """One value built from ``node``; refuse once the file has built too many.

        ``via``: the anchored node whose alias is being expanded, if any (where the error
        points); returned, or ``node``'s mark when this is the first repeat of an anchor.
        """
        if id(node) in self.built:
            via = via or _mark(node, self.file)
        elif isinstance(node, yaml.CollectionNode):
            self.built.add(id(node))
        self.budget -= 1
        if self.budget < 0:
            if via is None:
                raise PolicyError.one(f"more than {YAML_MAX_NODES:,} YAML values in one file (the limit)",
                                      self._at(node.start_mark))
            raise PolicyError.one(f"YAML aliases expand to more than {YAML_MAX_NODES:,} values (the limit; "
                                  "aliases of aliases?), expanding the anchor", via)
        return via


def _mark(node: yaml.Node, file: str) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


def load_yaml(text: str, file: str) -> Any:
    """Parse one YAML document into marked containers; raise PolicyError naming the spot."""
    if len(text) > POLICY_MAX_BYTES:
        raise PolicyError.one(f"policy file too large: {len(text):,} characters (limit {POLICY_MAX_BYTES:,})",
                              Mark(file, 1, 1))
    try:
        loader = _Loader(text, file)  # rejects control characters already
    except yaml.YAMLError as exc:
        raise PolicyError.one(f"bad YAML: {_one_line(exc)}", Mark(file, 1, 1)) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _build(loader, node, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(file, mark.line + 1, mark.column + 1) if mark is not None else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise PolicyError.one(f"bad YAML syntax: {problem}", where) from None
    except yaml.YAMLError as exc:
        raise PolicyError.one(f"bad YAML: {_one_line(exc)}", Mark(file, 1, 1)) from None
    except RecursionError:  # a backstop: the depth limit is far below the interpreter's
        raise PolicyError.one(f"YAML nested too deeply (limit {YAML_MAX_DEPTH} levels)", Mark(file, 1, 1)) from None
    finally:
        loader.dispose()


def _one_line(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return lines[0] if lines else type(exc).__name__


def _build(loader: _Loader, node: yaml.Node, file: str, parents: frozenset[int] = frozenset(),
           via: Mark | None = None) -> Any:
    via = loader.spend(node, via)
    if id(node) in parents:
        raise PolicyError.one("a YAML alias refers to its own parent (a recursive structure)", _mark(node, file))
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        parents = parents | {id(node)}
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves '<<' merge keys
        result = MarkedDict()
        result.mark = _mark(node, file)
        result.key_marks, result.value_marks = {}, {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_mark = _mark(key_node, file)
            if not isinstance(key, str):
                raise PolicyError.one(f"keys must be text, got {describe(key)} {key!r}", key_mark)
            if key in result:
                first = result.key_marks[key]
                raise PolicyError.one(f'duplicate key "{key}" (first at line {first.line})', key_mark)
            result.key_marks[key] = key_mark
            result.value_marks[key] = _mark(value_node, file)
            result[key] = _build(loader, value_node, file, parents, via)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = MarkedList()
        items.mark = _mark(node, file)
        items.item_marks = []
        for item in node.value:
            items.item_marks.append(_mark(item, file))
            items.append(_build(loader, item, file, parents, via))
        return items
    return loader.construct_object(node, deep=True)


def mark_at(root: Any, path: Sequence[str | int], *, key: bool = False) -> Mark | None:
    """The mark of the value at ``path`` (or of its key, with ``key=True``).

    Walks as far down the path as the document goes and returns the deepest mark found, so
    a path into something that does not exist (a missing key) points at its parent.
    Path elements that do not address the current container (pydantic adds union member
    names such as ``'str'``) are skipped.
    """
    current = root
    best: Mark | None = getattr(root, "mark", None)
    for index, step in enumerate(path):
        last = index == len(path) - 1
        if isinstance(current, MarkedDict) and isinstance(step, str) and step in current:
            best = current.key_marks[step] if key and last else current.value_marks[step]
            current = current[step]
        elif isinstance(current, MarkedList) and isinstance(step, int) and 0 <= step < len(current):
            best = current.item_marks[step]
            current = current[step]
        elif isinstance(current, dict | list):
            continue
        else:
            break
    return best


def describe(value: Any) -> str:
    """A YAML-flavoured name for a value's type: for "expected X, got Y" messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"
