"""riso.plan_cache: the light plan objects equal the models, and the cache answers only for its inputs."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest
from core_support import manifest, write_project

from riso import config, plan, plan_cache, plan_model
from riso.errors import ConfigError
from riso.runner import hooks

FEATURE_SETS = [["api"], ["database"], ["cache"], ["database", "cache", "monitoring"], ["api", "database", "cache"]]
MODELS = {
    "Plan": plan_model.Plan,
    "Project": plan_model.Project,
    "Service": plan_model.Service,
    "Readiness": plan_model.Readiness,
    "File": plan_model.File,
    "CreateDatabase": plan_model.CreateDatabase,
    "Sql": plan_model.Sql,
    "Command": plan_model.Command,
    "Process": plan_model.Process,
    "ProcessReadiness": plan_model.ProcessReadiness,
}


def built(features: list[str], extra: str = "") -> plan_model.Plan:
    return plan.build(config.parse(tomllib.loads(manifest(features, extra))))


def test_the_light_classes_have_the_models_fields() -> None:
    assert plan_cache.view_fields() == {name: list(model.model_fields) for name, model in MODELS.items()}


@pytest.mark.parametrize("features", FEATURE_SETS, ids=lambda f: "+".join(f))
def test_a_view_holds_what_the_model_holds(features: list[str]) -> None:
    extra = '[tool.riso.services.postgres]\nextensions = ["citext"]\ninitial_script = {after = "SELECT 1"}\n'
    model = built(features, extra)
    light = plan_cache.view(json.loads(plan.to_json(model)))
    assert plan_cache.dump(light) == model.model_dump()
    for svc, light_svc in zip(model.services, light.services, strict=True):
        assert light.service(svc.name) is light_svc
        # the runner's setup stamp must not change with the path that computed the plan
        assert hooks.setup_fingerprint(light_svc.post_start) == hooks.setup_fingerprint(svc.post_start)  # type: ignore[arg-type]
        assert [h.model_dump() for h in hooks.still_to_run(light_svc.post_start, True)] == [  # type: ignore[arg-type]
            h.model_dump() for h in hooks.still_to_run(svc.post_start, True)
        ]
    with pytest.raises(KeyError):
        light.service("nosuch")


def test_the_project_root_is_found_like_the_config_finds_it(tmp_path: Path) -> None:
    write_project(tmp_path, ["cache"])
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert plan_cache.project_root(deep) == config.find_project_root(deep) == tmp_path
    bare = tmp_path.parent / f"{tmp_path.name}-bare"
    bare.mkdir()
    with pytest.raises(ConfigError) as ours:
        plan_cache.project_root(bare)
    with pytest.raises(ConfigError) as theirs:
        config.find_project_root(bare)
    assert str(ours.value) == str(theirs.value)


def _project(tmp_path: Path, features: list[str]) -> Path:
    write_project(tmp_path, features)
    (tmp_path / ".riso" / "run").mkdir(parents=True)
    return tmp_path


def test_the_second_load_is_cached_and_equal(tmp_path: Path) -> None:
    root = _project(tmp_path, ["database", "cache"])
    first = plan_cache.load(root)
    second = plan_cache.load(root)
    assert (first.cached, second.cached) == (False, True)
    assert second.json == first.json == plan.to_json(built(["database", "cache"]))
    assert plan_cache.dump(second.plan) == first.plan.model_dump()


def test_each_input_invalidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, ["cache"])
    plan_cache.load(root)
    assert plan_cache.load(root).cached

    write_project(root, ["cache", "database"])  # the manifest
    assert not plan_cache.load(root).cached
    assert [s.name for s in plan_cache.load(root).plan.services] == ["postgres", "redis"]

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")  # PATH
    assert not plan_cache.load(root).cached
    assert plan_cache.load(root).cached
    fake = bin_dir / "redis-server"  # a server appears in a folder on PATH
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert not plan_cache.load(root).cached
    assert plan_cache.load(root).plan.service("redis").binaries["redis-server"] == str(fake)
    fake.unlink()  # ... and goes
    assert plan_cache.load(root).plan.service("redis").binaries["redis-server"] != str(fake)

    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan.to_json(built(["api"])))
    monkeypatch.setenv("RISO_PLAN", str(plan_file))  # RISO_PLAN and its contents
    assert plan_cache.load(root).plan.services == []
    assert plan_cache.load(root).cached
    plan_file.write_text(plan.to_json(built(["cache"])))
    assert [s.name for s in plan_cache.load(root).plan.services] == ["redis"]


def test_a_broken_or_foreign_cache_is_computed_anew(tmp_path: Path) -> None:
    root = _project(tmp_path, ["cache"])
    cache = root / plan_cache.CACHE
    for garbage in (b"\xff\xfe not json", b"[]", b'{"format": 1}', b"", b'{"format": 99, "inputs": {}, "plan": ""}'):
        cache.write_bytes(garbage)
        loaded = plan_cache.load(root)
        assert not loaded.cached
        assert loaded.json == plan.to_json(built(["cache"]))
        assert plan_cache.load(root).cached
    record = json.loads(cache.read_text())
    record["plan"] = record["plan"].replace('"port"', '"porthole"')  # a field the light classes do not know
    cache.write_text(json.dumps(record))
    assert not plan_cache.load(root).cached


def test_no_cache_without_state_and_the_same_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, ["cache"])
    plan_cache.load(tmp_path)
    assert not (tmp_path / ".riso").exists()  # `riso plan --json` in a fresh project writes nothing
    write_project(tmp_path, ["telepathy"])
    with pytest.raises(ConfigError, match="unknown feature 'telepathy'"):
        plan_cache.load(tmp_path)
    monkeypatch.setenv("RISO_PLAN", str(tmp_path / "nowhere.json"))
    with pytest.raises(ConfigError, match="does not exist"):
        plan_cache.load(tmp_path)
