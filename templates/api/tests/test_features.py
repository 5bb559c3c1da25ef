"""The registry: the features the app reads are the ones `[tool.riso]` declares."""

from __future__ import annotations

import tomllib
from pathlib import Path

from myapi.core.registry import Feature, in_opening_order
from myapi.features import FEATURES

ROOT = Path(__file__).resolve().parents[1]


def test_the_registry_holds_the_declared_features() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["riso"]["features"]
    assert sorted(feature.name for feature in FEATURES) == sorted(declared)


def test_a_feature_opens_after_those_it_uses() -> None:
    first, second = Feature("first", uses=("second",)), Feature("second")
    assert [f.name for f in in_opening_order([first, second])] == ["second", "first"]
    absent = Feature("alone", uses=("not-here",))
    assert in_opening_order([absent]) == [absent]
