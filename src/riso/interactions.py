"""How many features a blueprint file depends on: the measured bound behind the matrix's static tier.

Every template (its path and its content) is parsed with Jinja and its tests of `'name' in features`
(or `not in`) are collected; a part under `features/<name>/` depends on `<name>` as well, since it is
included only for that feature. A file's *dependence* is that set: its existence and content are the
same in every combination that agrees on those features. Files that loop over `features` (the shared
files assembled from per-feature parts: `core/config.py`, `features.py`, `pyproject.toml`, ...) are
*assembled*: they hold one piece per feature, written by the feature's own part.

The largest dependence of a non-assembled file is the blueprint's *interaction order*. A problem
confined to files that depend on at most t features together shows in every combination that agrees
with the failing one on those t features, so a t-way covering set (riso.covering) finds it without
rendering every combination. `matrix.tiers` uses order + 1 as the static tier's strength once every
combination would not fit (the extra one allows a file to import a module that depends on one more
feature). This is a measured bound, not a proof: a file whose behaviour depends on features without
naming them (e.g. by importing every module it finds) escapes it, which the blueprint does not do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, nodes
from jinja2.exceptions import TemplateSyntaxError

from riso.errors import RisoError

SKIPPED = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"})


@dataclass
class Dependence:
    """What one blueprint file's existence and content depend on."""

    path: str
    features: frozenset[str] = frozenset()
    assembled: bool = False


@dataclass
class Report:
    files: list[Dependence] = field(default_factory=list)

    @property
    def order(self) -> int:
        """The most features a non-assembled Python module depends on together (what type-checking
        and imports see; other files are checked one by one, see `widest_other`)."""
        return max((len(f.features) for f in self.files if not f.assembled and _python(f.path)), default=0)

    @property
    def assembled(self) -> list[str]:
        return sorted(f.path for f in self.files if f.assembled)

    def widest(self) -> list[Dependence]:
        return [f for f in self.files if not f.assembled and _python(f.path) and len(f.features) == self.order]

    def widest_other(self) -> list[Dependence]:
        """Non-Python files (YAML, JSON, Markdown) with the most feature tests of their own."""
        others = [f for f in self.files if not f.assembled and not _python(f.path)]
        most = max((len(f.features) for f in others), default=0)
        return [f for f in others if len(f.features) == most]


def _python(path: str) -> bool:
    """A Python module once rendered (path tags such as `{% if … %}web.py{% endif %}` taken out)."""
    return re.sub(r"\{%.*?%\}", "", path).removesuffix(".jinja").endswith(".py")


def _environment() -> Environment:
    return Environment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _name_of(node: nodes.Node) -> str | None:
    while isinstance(node, nodes.Filter):  # features | sort, features | list ...
        if node.node is None:
            return None
        node = node.node
    return node.name if isinstance(node, nodes.Name) else None


def _is_features(node: nodes.Node) -> bool:
    """`features`, or `services` (computed from the features: it holds what they bring)."""
    return _name_of(node) in ("features", "services")


def _bringing(service: str) -> set[str]:
    from riso.features import FEATURES

    return {name for name, feature in FEATURES.items() if service in feature.services}


def _scan(source: str, where: str) -> tuple[set[str], bool]:
    try:
        tree = _environment().parse(source)
    except TemplateSyntaxError as error:
        raise RisoError(f"{where}: not a valid Jinja template ({error.message}, line {error.lineno})") from None
    named: set[str] = set()
    for compare in tree.find_all(nodes.Compare):
        operands = [compare.expr, *(op.expr for op in compare.ops)]
        if any(op.op in ("in", "notin") for op in compare.ops) and any(_is_features(o) for o in operands):
            names = {o.value for o in operands if isinstance(o, nodes.Const) and isinstance(o.value, str)}
            if any(_name_of(o) == "services" for o in operands):
                names = {feature for service in names for feature in _bringing(service)}
            named |= names
    loops = any(_is_features(loop.iter) for loop in tree.find_all(nodes.For))
    return named, loops


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not SKIPPED.intersection(path.parts) and not path.name.endswith((".pyc", ".pyo")):
            yield path


def scan(blueprint: Path) -> Report:
    """The dependence of every file under `blueprint`/project and `blueprint`/features."""
    report = Report()
    for part, root in (("project", blueprint / "project"), ("features", blueprint / "features")):
        for path in _files(root):
            relative = path.relative_to(blueprint).as_posix()
            named, loops = _scan(path.relative_to(root).as_posix(), relative)
            if path.suffix == ".jinja" or part == "features":
                in_content, content_loops = _scan(path.read_text(encoding="utf-8", errors="replace"), relative)
                named |= in_content
                loops = loops or content_loops
            if part == "features":
                owner = path.relative_to(root).parts[0]
                if path.parent == root:  # the folder's README
                    continue
                named.add(owner)
            report.files.append(Dependence(relative, frozenset(named), loops))
    return report
