"""A covering set of feature combinations: few sets that still exercise every pair (or triple) of choices.

Each feature is a yes/no choice. A t-way *interaction* is t features with a value each, e.g.
(api=yes, database=no). A set of combinations *covers* it when one of them has exactly those values.
`covering_set` returns: the empty set, every feature alone, all features together (each made valid:
a feature alone comes with what it requires), then greedy rows until every feasible t-way
interaction is covered. Only valid combinations appear (requires and conflicts respected), and an
interaction no valid combination can have (auth=yes, database=no when auth requires database) is
not asked for.

The greedy step is AETG-like and deterministic (no randomness, ties broken by name): a row starts
from an uncovered interaction, then fixes one feature at a time to the value that covers the most
uncovered interactions with the features already fixed, keeping the row completable. With
`requires` as implications and `conflicts` as exclusions, "completable" is exact and cheap: the
features set to yes, closed under `requires`, must hold no conflict and none of the features set to no.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations, product

Interaction = tuple[tuple[str, bool], ...]  # sorted by feature name
Combo = tuple[str, ...]  # the features present, sorted


@dataclass(frozen=True)
class Space:
    """The features and their rules, as the covering algorithm needs them."""

    names: tuple[str, ...]
    requires: Mapping[str, frozenset[str]] = field(default_factory=dict)
    conflicts: frozenset[frozenset[str]] = frozenset()

    @classmethod
    def of(
        cls,
        names: Iterable[str],
        requires: Mapping[str, Iterable[str]] | None = None,
        conflicts: Iterable[Iterable[str]] = (),
    ) -> Space:
        given = requires or {}
        return cls(
            tuple(sorted(set(names))),
            {n: frozenset(given.get(n, ())) for n in names},
            frozenset(frozenset(pair) for pair in conflicts),
        )

    def closure(self, on: Iterable[str]) -> set[str]:
        found: set[str] = set()
        todo = list(on)
        while todo:
            name = todo.pop()
            if name not in found:
                found.add(name)
                todo.extend(self.requires.get(name, ()))
        return found

    def feasible(self, assignment: Mapping[str, bool]) -> bool:
        """Whether some valid combination agrees with this partial assignment."""
        on = self.closure(n for n, v in assignment.items() if v)
        if any(assignment.get(n) is False for n in on):
            return False
        return not any(pair <= on for pair in self.conflicts)

    def valid(self, combo: Iterable[str]) -> bool:
        chosen = set(combo)
        return self.feasible({n: n in chosen for n in self.names})

    def completed(self, on: Iterable[str]) -> Combo:
        """The smallest valid combination holding `on` (which must be feasible)."""
        return tuple(sorted(self.closure(on)))


def interactions(space: Space, strength: int) -> set[Interaction]:
    """Every t-way interaction some valid combination has."""
    found: set[Interaction] = set()
    for names in combinations(space.names, min(strength, len(space.names))):
        for values in product((False, True), repeat=len(names)):
            assignment = dict(zip(names, values, strict=True))
            if space.feasible(assignment):
                found.add(tuple(zip(names, values, strict=True)))
    return found


def covered_by(combo: Iterable[str], space: Space, strength: int) -> set[Interaction]:
    chosen = set(combo)
    return {
        tuple((n, n in chosen) for n in names) for names in combinations(space.names, min(strength, len(space.names)))
    }


def _index(uncovered: set[Interaction]) -> dict[tuple[str, bool], list[Interaction]]:
    found: dict[tuple[str, bool], list[Interaction]] = {}
    for t in sorted(uncovered):
        for literal in t:
            found.setdefault(literal, []).append(t)
    return found


def _greedy_row(space: Space, seed: Interaction, index: Mapping[tuple[str, bool], list[Interaction]]) -> Combo:
    row: dict[str, bool] = dict(seed)
    for name in space.names:
        if name in row:
            continue
        best: tuple[int, int, bool] | None = None
        for value in (False, True):
            if not space.feasible({**row, name: value}):
                continue
            touching = index.get((name, value), [])
            gain = sum(1 for t in touching if all(row.get(n) == v for n, v in t if n != name))
            potential = len(touching)
            score = (gain, potential, not value)  # ties: fewer features (cheaper to test)
            if best is None or score > best:
                best = score
        assert best is not None  # a feasible row always extends: `name` is free, or required and set to yes
        row[name] = not best[2]
    return tuple(n for n in space.names if row[n])


def mandatory_rows(space: Space) -> list[Combo]:
    """The empty set, each feature alone (with what it requires), all features together (or as many as fit)."""
    rows: list[Combo] = [()]
    for name in space.names:
        if space.feasible({name: True}):
            rows.append(space.completed([name]))
    together: dict[str, bool] = {}
    for name in space.names:
        together[name] = space.feasible({**together, name: True})
    rows.append(tuple(n for n in space.names if together[n]))
    return list(dict.fromkeys(rows))


def covering_set(space: Space, strength: int = 2, seeds_per_row: int = 8) -> list[Combo]:
    """Mandatory rows, then greedy rows until every feasible `strength`-way interaction is covered."""
    rows = mandatory_rows(space)
    uncovered = interactions(space, strength)
    for row in rows:
        uncovered -= covered_by(row, space, strength)
    while uncovered:
        seeds = sorted(uncovered)[:seeds_per_row]
        index = _index(uncovered)
        candidates = [_greedy_row(space, seed, index) for seed in seeds]
        best = max(candidates, key=lambda c: (len(covered_by(c, space, strength) & uncovered), -len(c)))
        rows.append(best)
        uncovered -= covered_by(best, space, strength)
    return rows


def is_covering(rows: Sequence[Iterable[str]], space: Space, strength: int) -> bool:
    seen: set[Interaction] = set()
    for row in rows:
        seen |= covered_by(row, space, strength)
    return interactions(space, strength) <= seen
