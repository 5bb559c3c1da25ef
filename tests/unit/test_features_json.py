"""modules/features.json, read by the Nix side, is what src/riso/features.py says."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from riso import features

REPO = Path(__file__).resolve().parents[2]


def test_features_json_is_in_sync_with_features_py() -> None:
    spec = importlib.util.spec_from_file_location("write_features", REPO / "checks" / "write_features.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = (REPO / "modules" / "features.json").read_text(encoding="utf-8")
    assert current == module.expected(), "run: python checks/write_features.py"


def test_every_combination_is_listed_once() -> None:
    data = json.loads((REPO / "modules" / "features.json").read_text(encoding="utf-8"))
    combos = [tuple(c) for c in data["combinations"]]
    assert combos == features.valid_combinations()  # those that keep requires and conflicts
    assert len(set(combos)) == len(combos) == 80  # of 2 ** 7 subsets: auth needs api and database
    assert sorted(data["features"]) == sorted(features.FEATURES)
