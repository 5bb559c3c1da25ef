"""[tool.riso] validation: every error names the key and the fix, nothing else is accepted silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from riso import config
from riso.errors import ConfigError


def manifest(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(body)
    return tmp_path


def test_defaults_and_name_from_project(tmp_path: Path) -> None:
    cfg = config.load(manifest(tmp_path, '[project]\nname = "shop"\n[tool.riso]\nfeatures = ["cache", "api", "api"]\n'))
    assert cfg.name == "shop"
    assert cfg.features == ["api", "cache"]
    assert cfg.services.postgres.port == 0
    assert [db.name for db in cfg.services.postgres.initial_databases] == ["app"]


def test_unknown_feature_is_named_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"features: unknown feature 'queue' \(known: api, auth, cache, database"):
        config.load(manifest(tmp_path, '[tool.riso]\nfeatures = ["queue"]\n'))


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    body = '[tool.riso]\nfeatures = []\n[tool.riso.services.postgres]\nport = "abc"\n'
    with pytest.raises(ConfigError, match=r"services\.postgres\.port: .*integer.*'abc'"):
        config.load(manifest(tmp_path, body))


def test_misspelt_key_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"featurs: Extra inputs are not permitted"):
        config.load(manifest(tmp_path, '[tool.riso]\nfeaturs = ["api"]\n'))


def test_port_out_of_range(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"services\.redis\.port"):
        config.load(manifest(tmp_path, "[tool.riso]\n[tool.riso.services.redis]\nport = 70000\n"))


def test_missing_table_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no \[tool\.riso\] table"):
        config.load(manifest(tmp_path, '[project]\nname = "x"\n'))
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(manifest(tmp_path, "[tool.riso\n"))


def test_project_root_is_found_upwards_or_named(tmp_path: Path) -> None:
    root = manifest(tmp_path, "[tool.riso]\n")
    deep = root / "src" / "pkg"
    deep.mkdir(parents=True)
    assert config.find_project_root(deep) == root.resolve()
    lonely = tmp_path / "elsewhere"
    lonely.mkdir()
    (tmp_path / "pyproject.toml").unlink()
    with pytest.raises(ConfigError, match=r"no pyproject\.toml"):
        config.find_project_root(lonely)
