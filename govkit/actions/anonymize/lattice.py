"""k-anonymity (and l-diversity) by the least generalization: a search of the lattice of levels.

Each quasi-identifier has a generalization hierarchy (:mod:`.hierarchies`, chosen from its
role and values by :func:`hierarchy_for`). A *node* of the lattice is one level per
quasi-identifier; node ``a`` precedes ``b`` when every level of ``a`` is at most ``b``'s.
The search looks, as ARX's Flash and Incognito do, for the node of least information loss
among those that meet the privacy model within the suppression budget:

- **Privacy model**: the rows in classes smaller than ``k`` (or, with ``l``, with fewer than
  ``l`` distinct sensitive values) must fit in the budget (``--max-suppression``); they are
  suppressed. Both tests are *monotone*: generalizing merges classes, so a node that meets
  them has every more general node meet them, and a node that fails has every more specific
  node fail.
- **Loss**: non-uniform entropy (ARX's NUE), normalized so that generalizing every
  quasi-identifier to ``*`` costs 1: for each row and quasi-identifier, ``log2`` of how many
  rows share its generalized value over how many share the value itself; a suppressed row
  counts as generalized to ``*``. Reported with it: discernibility (sum of squared class
  sizes, suppressed rows counting the whole table each, normalized by rows squared) and
  generalization intensity (mean of level / top level).
- **Search**, in two steps. (1) The frontier, Incognito-style: nodes are visited bottom-up
  by height; a node above one that meets the model is tagged as meeting it without being
  checked (predictive tagging), the others are checked. (2) Branch and bound over the
  nodes that meet it: the loss without suppression is a lower bound of the loss and is
  monotone and cheap (a sum of per-column terms), so the nodes are taken in its order and
  the search stops when the bound passes the best loss found. ``nodes_checked`` says how
  many nodes had their classes computed, out of ``lattice_size``.

Memory: the distinct (quasi-identifier, row context, sensitive value) tuples with their
counts, never rows; each node maps distinct values level by level with a cache.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from govkit.actions.anonymize import hierarchies as h
from govkit.actions.anonymize.roles import LOCATION_LEVELS, role_of, siblings
from govkit.errors import UsageError

Batch = list[tuple[Any, ...]]
Node = tuple[int, ...]
#: the most nodes a search takes on (the product of the quasi-identifiers' level counts)
MAX_NODES = 20_000


class PrefixHierarchy(h.Hierarchy):
    """Codes and text: exact -> the first 5, 3, 1 characters (shorter than the longest) -> ``*``."""

    kind = "text"

    def __init__(self, longest: int) -> None:
        self.prefixes = tuple(n for n in (5, 3, 1) if n < longest)
        self.levels = ("exact", *(f"prefix {n}" for n in self.prefixes), h.TOP)

    def place(self, value: Any, level: int, row: Mapping[str, Any] = h._NO_ROW) -> h.Placed:
        if level <= 0:
            return h.Placed(value, 0)
        if level >= self.top:
            return h.Placed(h.TOP, self.top)
        return h.Placed(str(value).replace(" ", "")[: self.prefixes[level - 1]], level)


def hierarchy_for(column: str, values: Iterable[Any]) -> h.Hierarchy:
    """The hierarchy of a quasi-identifier: by its role (location columns), else by its values
    (dates, numbers: bands to fit their range, else codes and text by prefix)."""
    role = role_of(column)
    if role == "postcode":
        return h.PostcodeHierarchy()
    if role in LOCATION_LEVELS:
        return h.LocationHierarchy(role)
    distinct = [v for v in set(values) if not h._missing(v) and v != h.TOP]
    if not distinct:
        return h.Hierarchy()
    # Mostly dates (or numbers) is dates: the few values that are not (a masked or erased
    # cell) cannot be placed and go up to *, which the search counts as the loss they are.
    dates = sum(1 for v in distinct if h.date_parts(v) is not None and not isinstance(v, int | float))
    if dates >= 0.8 * len(distinct):
        return h.DateHierarchy()
    numbers = [n for n in (h.as_number(v) for v in distinct) if n is not None]
    codes = [v for v in distinct if h.as_number(v) is not None]
    if len(numbers) >= 0.8 * len(distinct) and not _is_code(codes):
        return h.NumberHierarchy(h.widths_for(min(numbers), max(numbers)))
    return PrefixHierarchy(max(len(str(v).replace(" ", "")) for v in distinct))


def _is_code(values: Sequence[Any]) -> bool:
    """Digit strings that are codes, not quantities: a leading zero, or all one length of 4+."""
    texts = [v.strip() for v in values if isinstance(v, str)]
    if len(texts) != len(values) or not all(t.isdigit() for t in texts):
        return False
    return any(len(t) > 1 and t[0] == "0" for t in texts) or (len({len(t) for t in texts}) == 1 and len(texts[0]) >= 4)


@dataclass(slots=True)
class Loss:
    """How much a node's generalization and suppression cost (see the module doc)."""

    entropy: float  # non-uniform entropy, 0 (nothing generalized) .. 1 (everything at *)
    discernibility: float  # sum of squared class sizes (suppressed: rows each) / rows^2
    intensity: float  # mean of level / top level over the quasi-identifiers

    def to_dict(self) -> dict[str, float]:
        return {"non_uniform_entropy": round(self.entropy, 6), "discernibility": round(self.discernibility, 6),
                "generalization_intensity": round(self.intensity, 6)}


@dataclass(slots=True)
class LatticePlan:
    """The chosen node, what it costs, and how to apply it to rows."""

    quasi_identifiers: list[str]
    hierarchies: list[h.Hierarchy]
    levels: list[int]
    k: int
    l_div: int | None
    rows: int
    budget: int
    suppressed: int = 0
    budget_met: bool = True
    loss: Loss = field(default_factory=lambda: Loss(0.0, 0.0, 0.0))
    top_loss: Loss = field(default_factory=lambda: Loss(1.0, 1.0, 1.0))
    achieved_k: int = 0
    achieved_l: int | None = None
    nodes_checked: int = 0
    lattice_size: int = 1
    seconds: float = 0.0
    #: the context columns (role -> column) each quasi-identifier's hierarchy reads
    context: list[dict[str, str]] = field(default_factory=list)
    risky: set[tuple[Any, ...]] = field(default_factory=set)
    #: column -> the quasi-identifier it copied (a street generalized to its row's city): where
    #: its value is the quasi-identifier's, it follows it to the chosen level (see :meth:`apply`)
    followers: dict[str, str] = field(default_factory=dict)
    _caches: list[dict[Any, Any]] = field(default_factory=list)

    @property
    def reached(self) -> dict[str, str]:
        return {q: hierarchy.levels[level]
                for q, hierarchy, level in zip(self.quasi_identifiers, self.hierarchies, self.levels, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k, "l": self.l_div, "achieved_k": self.achieved_k, "achieved_l": self.achieved_l,
                "levels": self.reached, "suppressed": self.suppressed, "budget": self.budget,
                "budget_met": self.budget_met, "loss": self.loss.to_dict(),
                "loss_if_all_at_top": self.top_loss.to_dict(), "nodes_checked": self.nodes_checked,
                "lattice_size": self.lattice_size, "seconds": round(self.seconds, 4)}

    def generalize(self, values: Sequence[Any], rows: Sequence[Mapping[str, Any]]) -> tuple[Any, ...]:
        if not self._caches:
            self._caches = [{} for _ in self.levels]
        out = []
        for value, row, hierarchy, level, cache in zip(values, rows, self.hierarchies, self.levels, self._caches,
                                                      strict=True):
            if level == 0:
                out.append(value)
                continue
            key = (value, tuple(row.items())) if row else value
            try:
                found = cache[key]
            except KeyError:
                found = cache[key] = hierarchy(value, level, row)
            except TypeError:  # unhashable
                found = hierarchy(value, level, row)
            out.append(found)
        return tuple(out)

    def apply(self, columns: Sequence[str], batches: Iterable[Batch]) -> Iterator[tuple[Batch, int]]:
        """Each batch with its quasi-identifiers generalized and the rows of small classes left out."""
        position = {c.lower(): i for i, c in enumerate(columns)}
        indexes = [position[q.lower()] for q in self.quasi_identifiers]
        context = [{role: position[c.lower()] for role, c in ctx.items()} for ctx in self.context]
        qi_at = {q.lower(): n for n, q in enumerate(self.quasi_identifiers)}
        followers = [(position[c.lower()], qi_at[q.lower()]) for c, q in self.followers.items()
                     if c.lower() in position and q.lower() in qi_at and self.levels[qi_at[q.lower()]]]
        coarsened = any(self.levels)
        for batch in batches:
            kept: Batch = []
            for row in batch:
                rows = [{role: row[i] for role, i in ctx.items()} for ctx in context]
                key = self.generalize([row[i] for i in indexes], rows)
                if key in self.risky:
                    continue
                if coarsened:
                    values = list(row)
                    for column, n in followers:  # a copy of a quasi-identifier must not keep what it hid
                        if values[column] == row[indexes[n]]:
                            values[column] = key[n]
                    for i, value in zip(indexes, key, strict=True):
                        values[i] = value
                    row = tuple(values)
                kept.append(row)
            yield kept, len(batch) - len(kept)


def prepare(columns: Sequence[str], quasi_identifiers: Sequence[str]) -> tuple[list[h.Hierarchy | None],
                                                                              list[dict[str, str]]]:
    """The hierarchies known from the columns' roles (locations, postcodes; None: chosen from the
    values by :func:`finish`) and the row columns each reads (what :func:`count` keeps)."""
    known: list[h.Hierarchy | None] = []
    for q in quasi_identifiers:
        role = role_of(q)
        known.append(h.PostcodeHierarchy() if role == "postcode" else h.LocationHierarchy(role)
                     if role in LOCATION_LEVELS else None)
    return known, context_columns(columns, quasi_identifiers, [x or h.Hierarchy() for x in known])


def finish(known: Sequence[h.Hierarchy | None], quasi_identifiers: Sequence[str],
           sizes: Counter[tuple[Any, ...]]) -> list[h.Hierarchy]:
    """Every quasi-identifier's hierarchy: the known ones, the others from their counted values."""
    return [x if x is not None else hierarchy_for(q, (key[i] for key in sizes))
            for i, (q, x) in enumerate(zip(quasi_identifiers, known, strict=True))]


def context_columns(columns: Sequence[str], quasi_identifiers: Sequence[str],
                    hierarchies: Sequence[h.Hierarchy]) -> list[dict[str, str]]:
    """For each quasi-identifier, the row's columns its hierarchy reads (by role)."""
    out = []
    for q, hierarchy in zip(quasi_identifiers, hierarchies, strict=True):
        row = siblings(q, columns)
        out.append({role: column for role, column in row.items() if role in hierarchy.needs})
    return out


def count(columns: Sequence[str], batches: Iterable[Batch], quasi_identifiers: Sequence[str],
          context: Sequence[Mapping[str, str]], sensitive: str | None = None) -> Counter[tuple[Any, ...]]:
    """Distinct (quasi-identifiers, context values, sensitive value) tuples with their counts."""
    position = {c.lower(): i for i, c in enumerate(columns)}
    missing = [q for q in [*quasi_identifiers, *([sensitive] if sensitive else [])] if q.lower() not in position]
    if missing:
        raise UsageError(f"no column {', '.join(missing)} (columns: {', '.join(columns)})")
    wanted = [position[q.lower()] for q in quasi_identifiers]
    for ctx in context:
        wanted += [position[c.lower()] for c in ctx.values()]
    if sensitive:
        wanted.append(position[sensitive.lower()])
    sizes: Counter[tuple[Any, ...]] = Counter()
    for batch in batches:
        sizes.update(tuple(row[i] for i in wanted) for row in batch)
    return sizes


class _Evaluator:
    """Class sizes, suppression and loss of lattice nodes over the distinct tuples.

    Each column's generalized values at each level are coded as small integers once; a
    node's classes are then a few numpy operations over the distinct tuples (combine the
    codes, ``unique``, ``bincount``), so a node costs microseconds per distinct tuple in C
    rather than a Python loop.
    """

    def __init__(self, sizes: Counter[tuple[Any, ...]], hierarchies: Sequence[h.Hierarchy],
                 context: Sequence[Mapping[str, str]], k: int, l_div: int | None, sensitive: bool) -> None:
        self.hierarchies = list(hierarchies)
        self.width = len(hierarchies)
        self.k, self.l = k, l_div
        # split each distinct tuple into (qi values, row dicts per qi, sensitive value, count)
        self.keys: list[tuple[tuple[Any, ...], tuple[Mapping[str, Any], ...], Any, int]] = []
        for key, size in sizes.items():
            at = self.width
            rows = []
            for ctx in context:
                rows.append(dict(zip(ctx, key[at:at + len(ctx)], strict=True)))
                at += len(ctx)
            self.keys.append((key[:self.width], tuple(rows), key[at] if sensitive else None, size))
        self.weights = np.array([size for *_, size in self.keys], dtype=np.float64)
        self.rows = int(self.weights.sum())
        self._values: dict[tuple[int, int], list[Any]] = {}
        self._codes: dict[tuple[int, int], tuple[np.ndarray[Any, Any], int]] = {}
        self._column_loss: dict[tuple[int, int], float] = {}
        self.original = [self.codes(i, 0) for i in range(self.width)]
        self._original_counts = [np.bincount(c, weights=self.weights, minlength=n)[c] for c, n in self.original]
        if sensitive:
            found: dict[Any, int] = {}
            self.sensitive = np.array([found.setdefault(_hashable(v), len(found)) for _, _, v, _ in self.keys],
                                      dtype=np.int64)
            self.sensitive_count = max(1, len(found))
        self.checked = 0

    def column(self, i: int, level: int) -> list[Any]:
        """The generalized value of column ``i`` at ``level`` for each distinct tuple."""
        found = self._values.get((i, level))
        if found is None:
            hierarchy = self.hierarchies[i]
            cache: dict[Any, Any] = {}
            found = []
            for values, rows, _, _ in self.keys:
                value, row = values[i], rows[i]
                key = (value, tuple(row.items())) if row else value
                try:
                    out = cache[key]
                except KeyError:
                    out = cache[key] = hierarchy(value, level, row)
                except TypeError:
                    out = hierarchy(value, level, row)
                found.append(out)
            self._values[(i, level)] = found
        return found

    def codes(self, i: int, level: int) -> tuple[np.ndarray[Any, Any], int]:
        """Column ``i`` at ``level`` as integer codes (one per distinct tuple) and how many codes."""
        found = self._codes.get((i, level))
        if found is None:
            numbering: dict[Any, int] = {}
            codes = np.array([numbering.setdefault(_hashable(v), len(numbering)) for v in self.column(i, level)],
                             dtype=np.int64)
            found = self._codes[(i, level)] = (codes, max(1, len(numbering)))
        return found

    def class_ids(self, node: Node) -> tuple[np.ndarray[Any, Any], int]:
        """The class of each distinct tuple at ``node`` (0..n-1) and the number of classes."""
        ids = np.zeros(len(self.keys), dtype=np.int64)
        count = 1
        for i, level in enumerate(node):
            codes, n = self.codes(i, level)
            _, ids = np.unique(ids * n + codes, return_inverse=True)
            ids = ids.reshape(-1)
            count = int(ids.max()) + 1 if len(ids) else 0
        return ids, count

    def risky(self, node: Node) -> tuple[np.ndarray[Any, Any], int]:
        """Which distinct tuples sit in classes that must be suppressed at ``node``, and their rows."""
        self.checked += 1
        ids, count = self.class_ids(node)
        sizes = np.bincount(ids, weights=self.weights, minlength=count)
        bad = sizes < self.k
        if self.l is not None:
            pairs = np.unique(ids * self.sensitive_count + self.sensitive)
            bad |= np.bincount(pairs // self.sensitive_count, minlength=count) < self.l
        mask = bad[ids]
        return mask, int(self.weights[mask].sum())

    def achieved(self, node: Node, mask: np.ndarray[Any, Any]) -> tuple[int, int | None]:
        """The smallest class and the fewest distinct sensitive values among the kept classes."""
        ids, count = self.class_ids(node)
        kept = ~mask
        if not kept.any():
            return 0, (0 if self.l is not None else None)
        sizes = np.bincount(ids[kept], weights=self.weights[kept], minlength=count)
        k = int(sizes[sizes > 0].min())
        if self.l is None:
            return k, None
        pairs = np.unique(ids[kept] * self.sensitive_count + self.sensitive[kept])
        diverse = np.bincount(pairs // self.sensitive_count, minlength=count)
        return k, int(diverse[sizes > 0].min())

    def risky_keys(self, node: Node, mask: np.ndarray[Any, Any]) -> set[tuple[Any, ...]]:
        """The generalized quasi-identifier tuples of the suppressed classes (what :meth:`LatticePlan.apply` drops)."""
        columns = [self.column(i, level) for i, level in enumerate(node)]
        return {tuple(column[j] for column in columns) for j in np.flatnonzero(mask)}

    def column_loss(self, i: int, level: int) -> float:
        """Column ``i``'s entropy loss at ``level`` with nothing suppressed (see :meth:`loss`)."""
        found = self._column_loss.get((i, level))
        if found is None:
            codes, n = self.codes(i, level)
            generalized = np.bincount(codes, weights=self.weights, minlength=n)[codes]
            found = float((self.weights * np.log2(generalized / self._original_counts[i])).sum())
            self._column_loss[(i, level)] = found
        return found

    def lower_bound(self, node: Node) -> float:
        """The node's entropy loss without its suppression: a lower bound of :meth:`loss`, and
        monotone (a coarser level only merges values)."""
        return sum(self.column_loss(i, level) for i, level in enumerate(node))

    def loss(self, node: Node, mask: np.ndarray[Any, Any]) -> Loss:
        """Non-uniform entropy: for each row and quasi-identifier, ``log2`` of the rows sharing
        its generalized value over the rows sharing its value; a suppressed row counts as
        generalized to ``*`` (all rows). Normalized by every quasi-identifier at ``*``."""
        entropy = self.lower_bound(node)
        if mask.any():
            for i, level in enumerate(node):  # a suppressed row: from its value's share to the whole table's
                codes, n = self.codes(i, level)
                generalized = np.bincount(codes, weights=self.weights, minlength=n)[codes]
                entropy += float((self.weights[mask] * np.log2(self.rows / generalized[mask])).sum())
        top = self.top_entropy()
        ids, count = self.class_ids(node)
        sizes = np.bincount(ids, weights=self.weights, minlength=count)
        suppressed = float(self.weights[mask].sum())
        kept_sizes = np.bincount(ids[~mask], weights=self.weights[~mask], minlength=count)
        discern = float((kept_sizes * kept_sizes).sum()) + suppressed * self.rows
        del sizes
        intensity = sum(level / max(1, hierarchy.top) for level, hierarchy in zip(node, self.hierarchies,
                                                                                    strict=True)) / max(1, self.width)
        return Loss(entropy / top if top else 0.0, discern / max(1, self.rows) ** 2, intensity)

    def top_entropy(self) -> float:
        """The entropy loss of every quasi-identifier at ``*`` (the normalizer)."""
        return float(sum((self.weights * np.log2(self.rows / counts)).sum() for counts in self._original_counts))


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def search(
    columns: Sequence[str], sizes: Counter[tuple[Any, ...]], quasi_identifiers: Sequence[str],
    hierarchies: Sequence[h.Hierarchy], context: Sequence[Mapping[str, str]], k: int, *,
    l_div: int | None = None, sensitive: str | None = None, max_suppression: float = 0.0, generalize: bool = True,
) -> LatticePlan:
    """The node of least loss that meets ``k`` (and ``l``) within the suppression budget.

    ``sizes`` comes from :func:`count` with the same ``context`` (and ``sensitive``). With
    ``generalize=False`` only the bottom node is considered (suppression alone). When no node
    meets the model within the budget, the top node is chosen and its small classes are
    suppressed anyway (``budget_met`` is then False): the output must be k-anonymous.
    """
    started = time.perf_counter()
    if k < 1:
        raise UsageError("k must be at least 1")
    if l_div is not None and not sensitive:
        raise UsageError("--l needs --sensitive COLUMN (the attribute whose values must be diverse)")
    evaluator = _Evaluator(sizes, hierarchies, context, k, l_div, bool(sensitive))
    rows = evaluator.rows
    budget = math.floor(rows * max_suppression + 1e-9)
    tops = [hierarchy.top for hierarchy in hierarchies] if generalize else [0] * len(hierarchies)
    lattice_size = math.prod(t + 1 for t in tops)
    plan = LatticePlan(list(quasi_identifiers), list(hierarchies), [0] * len(hierarchies), k, l_div, rows, budget,
                       context=[dict(c) for c in context], lattice_size=lattice_size)
    if lattice_size > MAX_NODES:
        raise UsageError(f"the lattice of {len(tops)} quasi-identifiers has {lattice_size:,} nodes (more than "
                         f"{MAX_NODES:,}): name fewer quasi-identifiers")
    # 1. The frontier: bottom-up by height; a node above one that meets the model meets it too
    #    (tagged, not checked); the others are checked.
    satisfied: set[Node] = set()
    checked: dict[Node, tuple[np.ndarray[Any, Any], int]] = {}
    nodes = sorted(itertools.product(*(range(t + 1) for t in tops)), key=lambda n: (sum(n), n))
    for node in nodes:
        if node in satisfied:
            continue
        risky, at_risk = checked[node] = evaluator.risky(node)
        if at_risk <= budget:
            satisfied.add(node)
            _tag_successors(node, tops, satisfied)
    # 2. The least loss among the nodes that meet it, branch and bound: in order of the loss
    #    without suppression (a lower bound, one sum per node), until that bound passes the best.
    best: tuple[Loss, int, Node, np.ndarray[Any, Any]] | None = None
    for node in sorted(satisfied, key=lambda n: (evaluator.lower_bound(n), n)):
        top_entropy = evaluator.top_entropy() or 1.0
        if best is not None and evaluator.lower_bound(node) / top_entropy >= best[0].entropy - 1e-12:
            break
        if node not in checked:
            checked[node] = evaluator.risky(node)
        risky, at_risk = checked[node]
        if at_risk > budget:  # tagged, but the data is not monotone there (a city in two regions)
            continue
        loss = evaluator.loss(node, risky)
        if best is None or (loss.entropy, at_risk, loss.discernibility) < (best[0].entropy, best[1],
                                                                           best[0].discernibility):
            best = (loss, at_risk, node, risky)
    if best is not None:
        loss, suppressed, node, risky = best
        plan.budget_met = True
    else:
        node = tuple(tops)
        risky, suppressed = checked.get(node) or evaluator.risky(node)
        loss = evaluator.loss(node, risky)
        plan.budget_met = False
    plan.levels = list(node)
    plan.risky, plan.suppressed, plan.loss = evaluator.risky_keys(node, risky), suppressed, loss
    top = tuple(hierarchy.top for hierarchy in hierarchies)
    plan.top_loss = evaluator.loss(top, evaluator.risky(top)[0])
    evaluator.checked -= 1  # the top-loss reference is not part of the search
    plan.achieved_k, achieved_l = evaluator.achieved(node, risky)
    if l_div is not None:
        plan.achieved_l = achieved_l
    plan.nodes_checked = evaluator.checked
    plan.seconds = time.perf_counter() - started
    return plan


def _tag_successors(node: Node, tops: Sequence[int], satisfied: set[Node]) -> None:
    """Every node at least as general as ``node`` meets the model too (monotonicity)."""
    stack = [node]
    while stack:
        current = stack.pop()
        for i, level in enumerate(current):
            if level < tops[i]:
                successor = (*current[:i], level + 1, *current[i + 1:])
                if successor not in satisfied:
                    satisfied.add(successor)
                    stack.append(successor)
