"""`riso check --matrix`: feature rules, covering sets, tiers, shards, a throwaway feature, and whole runs
against the small fixture blueprint."""

from __future__ import annotations

import json
import os
from collections import Counter
from itertools import combinations, pairwise
from pathlib import Path

import pytest
from blueprint_helpers import assert_one_line_error, run_riso

from riso import blueprint_store, config, features, matrix, matrix_probe, plan, static_checks
from riso import interactions as dependence
from riso.covering import Space, covering_set, interactions, is_covering
from riso.errors import RisoError
from riso.features import Feature, FeatureError, all_combinations


def test_every_combination_by_default() -> None:
    combos = matrix.select(None)
    assert combos == features.valid_combinations()
    assert len(combos) == 80  # 128 subsets; auth needs api and database (48 lack one)
    assert () in combos


def test_only_selects_feature_sets_in_canonical_order() -> None:
    assert matrix.select(["database,api", "none", "cache", "api,database"]) == [("api", "database"), (), ("cache",)]


def test_only_rejects_an_unknown_feature() -> None:
    with pytest.raises(RisoError, match="unknown feature 'queue'"):
        matrix.select(["api,queue"])


def test_locked_requirements_follow_groups_and_markers(tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    lock.write_text(
        """
[[package]]
name = "fastapi"
version = "0.115.0"
groups = ["main"]

[[package]]
name = "colorama"
version = "0.4.6"
groups = ["main", "dev"]
markers = {main = "platform_system == \\"Windows\\"", dev = "sys_platform == \\"win32\\""}

[[package]]
name = "mypy"
version = "1.11.0"
groups = ["dev"]
markers = "python_version >= \\"3.8\\""

[[package]]
name = "sphinx"
version = "8.0.0"
groups = ["docs"]
"""
    )
    assert matrix.locked_requirements(lock) == [
        "fastapi==0.115.0",
        'colorama==0.4.6 ; (platform_system == "Windows") or (sys_platform == "win32")',
        'mypy==1.11.0 ; python_version >= "3.8"',
    ]


@pytest.mark.slow
@pytest.mark.usefixtures("fake_blueprint")
def test_matrix_run_prints_a_table_with_tiers_and_passes(tmp_path: Path) -> None:
    done = run_riso("check", "--matrix", "--only", "none", "--only", "cache,database", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| (none)                           | full " in done.stdout  # the empty set is in the covering set
    assert "| cache,database                   | static" in done.stdout
    assert "2/2 passed" in done.stdout
    assert "(2 static, 1 full)" in done.stdout


@pytest.mark.slow
@pytest.mark.usefixtures("fake_blueprint")
def test_static_tier_checks_each_file_once_and_reuses_results(tmp_path: Path) -> None:
    assigned = {c: "static" for c in [(), ("cache",), ("api", "database")]}
    cache = tmp_path / "cache"
    first = matrix.check(assigned, work=tmp_path / "w1", cache_dir=cache)  # type: ignore[arg-type]
    assert all(r.ok for r in first.results), [r.tail() for r in first.results]
    steps = {s.name for r in first.results for s in r.steps}
    assert {"render", "ruff check", "ruff format", "imports", "schemas", "mypy"} <= steps
    assert not any(s.cached for r in first.results for s in r.steps if s.name == "mypy")
    second = matrix.check(assigned, work=tmp_path / "w2", cache_dir=cache)  # type: ignore[arg-type]
    assert all(s.cached for r in second.results for s in r.steps if s.name in ("ruff check", "mypy", "imports"))


@pytest.mark.slow
@pytest.mark.usefixtures("fake_blueprint")
def test_shard_runs_only_its_share(tmp_path: Path) -> None:
    done = run_riso("check", "--matrix", "--only", "none", "--only", "cache", "--shard", "2/2", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1/1 passed" in done.stdout
    assert "shard 2/2" in done.stdout


@pytest.mark.slow
def test_matrix_failure_names_the_step_and_prints_its_tail(
    tmp_path: Path, fake_blueprint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = fake_blueprint / "project" / "src" / "{{ package_name }}" / "unused.py"
    module.write_text("import os\n")
    done = run_riso("check", "--matrix", "--only", "none", cwd=tmp_path)
    assert done.returncode == 1
    assert "FAIL (ruff check)" in done.stdout
    assert "F401" in done.stderr  # the tail of ruff's output
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: 1 of 1 combination(s) failed")


def test_check_without_matrix_says_what_to_pass(tmp_path: Path) -> None:
    assert_one_line_error(run_riso("check", cwd=tmp_path), "--matrix")


# --- features: requires / conflicts ---------------------------------------------------------------


@pytest.fixture
def extra_features(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two throwaway features added to the table in-process: auth requires database; lite conflicts with it."""
    monkeypatch.setitem(features.FEATURES, "auth", Feature("auth", "throwaway: login", requires=("database",)))
    monkeypatch.setitem(features.FEATURES, "lite", Feature("lite", "throwaway: no database", conflicts=("database",)))


def test_todays_features_are_valid_together_unless_auth_lacks_api_or_database() -> None:
    expected = [c for c in all_combinations() if "auth" not in c or {"api", "database"} <= set(c)]
    assert features.valid_combinations() == expected
    assert len(all_combinations()) == 128 and len(expected) == 80
    assert features.check_table() == []


@pytest.mark.usefixtures("extra_features")
def test_validation_names_one_problem() -> None:
    assert features.validate_features(["database", "auth", "auth"]) == ["auth", "database"]
    with pytest.raises(FeatureError, match=r"^feature 'auth' requires 'database' \(add 'database' or leave out"):
        features.validate_features(["auth", "api"])
    with pytest.raises(FeatureError, match=r"^features 'database' and 'lite' conflict"):
        features.validate_features(["lite", "database"])
    with pytest.raises(FeatureError, match=r"^unknown feature 'queue' \(known: api, auth, cache"):
        features.validate_features(["queue"])


@pytest.mark.usefixtures("extra_features")
def test_valid_combinations_respect_requires_and_conflicts() -> None:
    valid = features.valid_combinations()
    assert all(features.is_valid(c) for c in valid)
    assert ("auth",) not in valid and ("database", "lite") not in valid
    assert ("auth", "database") in valid and ("lite",) in valid
    # 8 features: 256 subsets; auth without database (64) and lite with database (64) overlap in none
    assert len(valid) == 256 - 64 - 64
    assert features.check_table() == []


def test_check_table_finds_broken_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(features.FEATURES, "x", Feature("x", "", requires=("nope",)))
    monkeypatch.setitem(features.FEATURES, "y", Feature("y", "", requires=("api", "cache"), conflicts=("cache",)))
    found = features.check_table()
    assert any("'x' refers to 'nope'" in p for p in found)
    assert any("'y' can never be chosen" in p for p in found)


# --- covering sets --------------------------------------------------------------------------------


def _space(n: int, rules: bool) -> Space:
    names = [f"f{i:02d}" for i in range(n)]
    if not rules:
        return Space.of(names)
    # a spread of rules like the roadmap's: chains of requirements and a few exclusions
    requires = {names[i]: [names[i // 3]] for i in range(3, n, 2)}
    conflicts = [(names[i], names[i + 1]) for i in range(2, n - 1, 5)]
    return Space.of(names, requires, conflicts)


def _all_valid(space: Space) -> list[tuple[str, ...]]:
    subsets = (c for k in range(len(space.names) + 1) for c in combinations(space.names, k))
    return [c for c in subsets if space.valid(c)]


@pytest.mark.parametrize("strength", [2, 3])
@pytest.mark.parametrize(
    ("n", "rules"), [(1, False), (2, False), (4, False), (6, True), (9, True), (12, False), (12, True)]
)
def test_covering_set_covers_every_feasible_interaction_with_valid_rows(n: int, rules: bool, strength: int) -> None:
    space = _space(n, rules)
    rows = covering_set(space, strength)
    assert all(space.valid(r) for r in rows), "an invalid combination in the covering set"
    assert len(set(rows)) == len(rows)
    # every interaction (presence and absence values) some valid combination has, checked by brute force
    valid = _all_valid(space)
    wanted = {
        tuple((name, name in combo) for name in names)
        for combo in valid
        for names in combinations(space.names, min(strength, n))
    }
    got = {
        tuple((name, name in row) for name in names)
        for row in rows
        for names in combinations(space.names, min(strength, n))
    }
    assert wanted <= got
    assert interactions(space, strength) == wanted  # the feasibility rule agrees with enumeration
    assert is_covering(rows, space, strength)
    # mandatory rows: none, each alone (with what it requires), all together where valid
    assert () in rows
    for name in space.names:
        assert space.completed([name]) in rows or not space.feasible({name: True})
    if space.valid(space.names):
        assert tuple(space.names) in rows


def test_covering_set_is_deterministic_and_small() -> None:
    space = _space(20, rules=False)
    rows = covering_set(space, 2)
    assert rows == covering_set(space, 2)
    assert len(rows) <= 22 + 12  # mandatory 22 rows, then a handful of greedy ones
    assert is_covering(rows, space, 2)


def test_covering_set_drops_an_interaction_no_valid_combination_has() -> None:
    space = Space.of(["auth", "database"], {"auth": ["database"]})
    assert (("auth", True), ("database", False)) not in interactions(space, 2)
    assert covering_set(space, 2) == [(), ("auth", "database"), ("database",)]


def test_todays_covering_set() -> None:
    rows = features.covering_combinations(2)
    assert rows[:9] == [
        (),
        ("api",),
        ("api", "auth", "database"),  # auth alone, with what it requires
        ("cache",),
        ("database",),
        ("monitoring",),
        ("secrets",),
        ("tasks",),
        ("api", "auth", "cache", "database", "monitoring", "secrets", "tasks"),
    ]
    assert is_covering(rows, features.space(), 2)


# --- tiers and shards -----------------------------------------------------------------------------


def test_tiers_full_on_the_covering_set_static_on_the_rest() -> None:
    assigned = matrix.tiers(matrix.select(None))
    full = [c for c, t in assigned.items() if t == "full"]
    assert set(full) == set(features.covering_combinations(2))
    assert len(assigned) == 80 and 0 < len(full) < 80
    assert all(t == "full" for t in matrix.tiers(matrix.select(None), exhaustive=True).values())


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_shards_split_every_combination_once_and_balance_the_full_tier(n: int) -> None:
    assigned = matrix.tiers(matrix.select(None))
    shards = [matrix.shard(assigned, k, n) for k in range(1, n + 1)]
    seen = Counter(c for part in shards for c in part)
    assert set(seen) == set(assigned) and set(seen.values()) == {1}
    assert all(part[c] == assigned[c] for part in shards for c in part)
    per_shard = [sum(t == "full" for t in part.values()) for part in shards]
    assert max(per_shard) - min(per_shard) <= 1
    assert shards == [matrix.shard(assigned, k, n) for k in range(1, n + 1)]  # deterministic


@pytest.mark.parametrize("spec", ["0/4", "5/4", "x", "1/0", "1-4"])
def test_a_bad_shard_is_one_error(spec: str) -> None:
    with pytest.raises(RisoError, match="--shard"):
        matrix.parse_shard(spec)


def test_gray_order_puts_neighbours_one_feature_apart() -> None:
    ordered = matrix.gray_order(matrix.select(None))
    assert sorted(ordered) == sorted(matrix.select(None))
    assert all(len(set(a) ^ set(b)) == 1 for a, b in pairwise(ordered))


def test_only_rejects_a_set_that_breaks_a_rule(extra_features: None) -> None:
    with pytest.raises(RisoError, match=r"--only auth: feature 'auth' requires 'database'"):
        matrix.select(["auth"])


# --- a throwaway feature: one entry in the table, picked up everywhere ----------------------------


@pytest.fixture
def throwaway(monkeypatch: pytest.MonkeyPatch) -> str:
    entry = Feature("throwaway", "a feature that exists for this test", ("redis",), requires=("database",))
    monkeypatch.setitem(features.FEATURES, entry.name, entry)
    return entry.name


def test_a_new_feature_reaches_the_matrix(throwaway: str) -> None:
    combos = matrix.select(None)
    # with database only: 48 sets of the other six (auth only with api)
    assert len(combos) == 80 + 48
    assert all("database" in c for c in combos if throwaway in c)
    assigned = matrix.tiers(combos)
    assert assigned[("database", "throwaway")] == "full"  # alone, with what it requires
    everything = ("api", "auth", "cache", "database", "monitoring", "secrets", "tasks", "throwaway")
    assert assigned[everything] == "full"
    full = [c for c, t in assigned.items() if t == "full"]
    assert is_covering(full, features.space(), 2)
    assert matrix.select(["throwaway,database"]) == [("database", "throwaway")]


def test_a_new_feature_reaches_manifest_validation_and_the_plan(throwaway: str) -> None:
    data = {"project": {"name": "demo"}, "tool": {"riso": {"features": ["throwaway", "database"]}}}
    cfg = config.parse(data)
    assert cfg.features == ["database", "throwaway"]
    built = plan.build(cfg)
    assert [s.name for s in built.services] == ["postgres", "redis"]  # redis comes from the new entry
    assert built.project.features == ["database", "throwaway"]


@pytest.mark.skipif(
    not hasattr(config, "validate_features"),
    reason="config.py's feature validator does not call features.validate_features yet",
)
def test_manifest_validation_enforces_a_new_features_rules(throwaway: str) -> None:
    data = {"project": {"name": "demo"}, "tool": {"riso": {"features": ["throwaway"]}}}
    with pytest.raises(RisoError, match=r"features: feature 'throwaway' requires 'database'"):
        config.parse(data)


SCHEMAS = Path(__file__).resolve().parents[2].parent / "shared" / "schemas"


def test_probe_names_a_compose_file_the_schema_rejects(tmp_path: Path) -> None:
    schemas = Path(os.environ.get("RISO_SCHEMAS") or SCHEMAS)
    if not (schemas / "compose-spec.json").is_file():
        pytest.skip(f"no JSON schemas at {schemas} (set RISO_SCHEMAS)")
    loaded = {n: json.loads((schemas / f).read_text()) for n, f in static_checks.SCHEMA_FILES.items()}
    (tmp_path / "docker-compose.yml").write_text("services:\n  app:\n    image: x\n    ports: {bad: 1}\n")
    (tmp_path / "ok.yml").write_text("services:\n  app:\n    image: x\n")
    found = matrix_probe.check_schemas(tmp_path, [["docker-compose.yml", "compose"], ["ok.yml", "compose"]], loaded)
    assert found.startswith("docker-compose.yml: services/app/ports:")
    assert "ok.yml" not in found


# --- the static tier's content-addressed cache ----------------------------------------------------


def test_cache_keys_follow_content_and_the_cache_survives_a_reload(tmp_path: Path) -> None:
    assert static_checks.digest("a", "b") != static_checks.digest("ab")  # parts are length-prefixed
    cache = static_checks.Cache.open(tmp_path / "c.json")
    cache.put("ruff check", "k", "")
    cache.save()
    assert static_checks.Cache.open(tmp_path / "c.json").get("ruff check", "k") == ""
    (tmp_path / "c.json").write_text("{broken")
    assert static_checks.Cache.open(tmp_path / "c.json").get("ruff check", "k") is None


def test_sync_tree_writes_only_what_differs_and_removes_the_rest(tmp_path: Path) -> None:
    source, tree = tmp_path / "a", tmp_path / "tree"
    (source / "src").mkdir(parents=True)
    (source / "src" / "x.py").write_text("x = 1\n")
    (source / "y.py").write_text("y = 1\n")
    assert static_checks.sync_tree(source, tree) == 2
    (tree / "stale.py").write_text("")
    (source / "y.py").write_text("y = 2\n")
    assert static_checks.sync_tree(source, tree) == 1
    assert static_checks.tree_files(tree) == static_checks.tree_files(source)


@pytest.mark.slow
def test_static_tier_names_a_type_error_and_the_full_tier_is_skipped(tmp_path: Path, fake_blueprint: Path) -> None:
    module = fake_blueprint / "project" / "src" / "{{ package_name }}" / "typed.py"
    module.write_text('COUNT: int = "three"\n')
    done = matrix.check({(): "full", ("cache",): "static"}, work=tmp_path / "w", cache_dir=tmp_path / "c")
    assert [r.ok for r in done.results] == [False, False]
    for result in done.results:
        assert result.failed_step is not None and result.failed_step.name == "mypy"
        assert "typed.py:1: error: Incompatible types in assignment" in result.tail()
        assert "pytest" not in [s.name for s in result.steps]  # static failures skip the full tier


# --- beyond STATIC_EVERY_LIMIT: the static tier on a covering set bounded by the interaction order ----


def test_the_blueprints_interaction_order_is_measured() -> None:
    report = dependence.scan(blueprint_store.installed_blueprint())
    # A Python module depends on at most three features together: the tasks feature's web part
    # and metrics (api, monitoring, tasks), the cache-outage test (api, cache, database), the
    # span tests of the database and the cache (api, monitoring and each), the auth feature's login
    # limits in Redis (auth with cache or tasks: `'redis' in services`).
    assert report.order == 3
    assert {f.features for f in report.widest()} == {
        frozenset({"api", "monitoring", "tasks"}),
        frozenset({"api", "cache", "database"}),
        frozenset({"api", "database", "monitoring"}),
        frozenset({"api", "cache", "monitoring"}),
        frozenset({"auth", "cache", "tasks"}),
    }
    assembled = {p.rsplit("/", 1)[-1] for p in report.assembled}
    assert {"config.py.jinja", "features.py.jinja", "conftest.py.jinja", "pyproject.toml.jinja"} <= assembled


def test_a_file_that_tests_three_features_raises_the_order(tmp_path: Path) -> None:
    (tmp_path / "project" / "src").mkdir(parents=True)
    (tmp_path / "features").mkdir()
    (tmp_path / "project" / "src" / "{% if 'a' in features %}a{% endif %}.py.jinja").write_text(
        "{% if 'b' in features and 'c' not in features %}x = 1{% endif %}\n"
    )
    (tmp_path / "project" / "src" / "joined.py.jinja").write_text("{% for f in features %}{{ f }}{% endfor %}\n")
    report = dependence.scan(tmp_path)
    assert report.order == 3
    assert [f.path for f in report.widest()] == ["project/src/{% if 'a' in features %}a{% endif %}.py.jinja"]
    assert report.assembled == ["project/src/joined.py.jinja"]


def test_beyond_the_limit_the_static_tier_is_a_covering_set(monkeypatch: pytest.MonkeyPatch) -> None:
    combos = matrix.select(None)
    assert set(matrix.tiers(combos).values()) == {"full", "static"}  # 16: every one rendered
    monkeypatch.setattr(matrix, "STATIC_EVERY_LIMIT", 8)
    assigned = matrix.tiers(combos, order=2)
    checked = {c for c, tier in assigned.items() if tier != "bounded"}
    assert checked == set(features.covering_combinations(3)) | set(features.covering_combinations(2))
    assert "bounded" in assigned.values() and len(checked) < len(combos)
    assert set(matrix.tiers(combos, order=2, every=True).values()) == {"full", "static"}
    assert set(matrix.tiers(combos, order=2, exhaustive=True).values()) == {"full"}
    assert {c for c, t in matrix.tiers(combos, order=3).items() if t != "bounded"} >= set(
        features.covering_combinations(4)
    )
    shards = [matrix.shard(assigned, k, 3) for k in (1, 2, 3)]
    assert sorted(c for s in shards for c in s) == sorted(assigned)  # bounded ones are listed by a shard too
