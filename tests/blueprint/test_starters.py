"""The starters in templates/ and renders of the real blueprint: in sync, deterministic, complete."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml
from blueprint_helpers import REPO, assert_one_line_error, commit_all, git, run_riso, tree_snapshot

from riso import blueprint_store, coordinates, generate, locking, starters
from riso.features import FEATURES, valid_combinations

TEMPLATES = REPO / "templates"
IMPORTS_RISO = re.compile(r"^\s*(import riso\b|from riso(\.\w+)* import )", re.MULTILINE)


@pytest.mark.parametrize("name", sorted(starters.STARTERS))
def test_starter_is_a_complete_project(name: str) -> None:
    root = TEMPLATES / name
    for rel in ("pyproject.toml", "uv.lock", "README.md", "flake.nix", ".copier-answers.yml"):
        assert (root / rel).is_file(), f"templates/{name}/{rel} is missing"
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == blueprint_store.DEFAULT_STORE
    assert sorted(answers["features"]) == sorted(generate.TEMPLATES[name])
    assert answers["project_name"] == starters.STARTERS[name]["project_name"]
    assert not (root / "poetry.lock").exists()
    assert answers["package_manager"] == "uv"
    locked = {p["name"] for p in tomllib.loads((root / "uv.lock").read_text())["package"]}
    assert {"fastapi", "pytest", "ruff", "mypy"} <= locked
    if "database" in generate.TEMPLATES[name]:
        assert {"pytest-postgresql", "psycopg", "testcontainers"} <= locked
    if "cache" in generate.TEMPLATES[name]:
        assert "pytest-redis" in locked
    assert "riso" not in locked  # a tool beside the project, never one of its dependencies
    assert locking.lock_matches(root, "uv"), "uv.lock matches pyproject.toml (uv lock --check --offline)"


def test_templates_sync_check_passes_on_the_committed_starters(tmp_path: Path) -> None:
    done = run_riso("templates", "sync", "--check", cwd=tmp_path, env={"RISO_BLUEPRINT_STORE": ""})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "templates/api: up to date" in done.stdout
    assert "templates/minimal: up to date" in done.stdout


@pytest.fixture
def fresh_minimal(tmp_path: Path) -> Path:
    """templates/minimal synced from the blueprint as it is now (its committed lock reused, offline)."""
    target = tmp_path / "minimal"
    target.mkdir()
    shutil.copy2(TEMPLATES / "minimal" / "uv.lock", target / "uv.lock")
    starters.sync_one("minimal", target, check=False)
    assert starters.sync_one("minimal", target, check=True).stale == []
    return target


def test_check_names_the_stale_file(fresh_minimal: Path) -> None:
    (fresh_minimal / "README.md").write_text("edited by hand\n")
    (fresh_minimal / "stray.txt").write_text("not from the blueprint\n")
    report = starters.sync_one("minimal", fresh_minimal, check=True)
    assert report.stale == ["README.md", "stray.txt"]
    assert (fresh_minimal / "README.md").read_text() == "edited by hand\n"  # --check writes nothing


def test_check_reports_a_lock_that_no_longer_matches(fresh_minimal: Path) -> None:
    """A lock resolved for other requirements than the blueprint's (here: ruff>=0.5) is stale."""
    lock = fresh_minimal / "uv.lock"
    text = lock.read_text()
    assert '{ name = "ruff", specifier = ">=0.6" }' in text
    lock.write_text(text.replace('{ name = "ruff", specifier = ">=0.6" }', '{ name = "ruff", specifier = ">=0.5" }'))
    assert starters.sync_one("minimal", fresh_minimal, check=True).stale == ["uv.lock"]


def test_check_reports_a_missing_lock(fresh_minimal: Path) -> None:
    (fresh_minimal / "uv.lock").unlink()
    assert starters.sync_one("minimal", fresh_minimal, check=True).stale == ["uv.lock"]


def test_sync_rewrites_a_stale_starter_and_keeps_its_lock(fresh_minimal: Path, tmp_path: Path) -> None:
    before = tree_snapshot(fresh_minimal)
    (fresh_minimal / "README.md").write_text("edited by hand\n")
    report = starters.sync_one("minimal", fresh_minimal, check=False)
    assert report.stale == ["README.md"]
    assert not report.relocked
    assert tree_snapshot(fresh_minimal) == before


@pytest.mark.usefixtures("store")
def test_rendering_the_same_answers_twice_gives_identical_trees(tmp_path: Path) -> None:
    answers = {"project_name": "twin", "features": sorted(FEATURES), "devcontainer_flavour": "nix"}
    generate.render(tmp_path / "one", answers)
    generate.render(tmp_path / "two", answers)
    first, second = tree_snapshot(tmp_path / "one"), tree_snapshot(tmp_path / "two")
    assert first == second
    assert len(first) > 20


def test_a_project_made_from_a_starter_updates_and_adds_features(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`nix flake init -t riso#minimal`, then `riso update` and `riso add cache` on a machine that never rendered."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # an empty blueprint store (~/.local/share/riso/...)
    root = tmp_path / "myapp"
    shutil.copytree(TEMPLATES / "minimal", root)
    git(root, "init", "--quiet")
    commit_all(root, "flake init")
    result = generate.update(root)
    assert (result.old, result.conflicts) == (result.new, [])
    assert git(root, "status", "--porcelain") == ""
    assert generate.add(root, ["cache"]).added == ["cache"]
    assert (root / "src" / "myapp" / "cache" / "client.py").is_file()
    assert '"cache"' in (root / "pyproject.toml").read_text()


def test_copier_defaults_of_the_coordinates_are_the_constant() -> None:
    """Plain `copier copy` renders what riso passes: the defaults in copier.yml equal riso/coordinates.py."""
    questions = yaml.safe_load((REPO / "src" / "riso" / "blueprint" / "copier.yml").read_text())
    assert questions["riso_pypi_name"]["default"] == coordinates.PYPI_NAME
    assert questions["riso_flake_url"]["default"] == coordinates.FLAKE_URL
    assert questions["package_manager"]["default"] == "uv"


@pytest.mark.slow
@pytest.mark.usefixtures("store")
def test_no_render_names_a_placeholder_owner_or_imports_riso(tmp_path: Path) -> None:
    """Every valid feature combination (80), both package managers where the files differ: no `OWNER`, no
    riso import."""
    renders = [(combo, "uv") for combo in valid_combinations()] + [(tuple(sorted(FEATURES)), "poetry")]
    for features, manager in renders:
        dest = tmp_path / ("+".join(features) or "none") / manager
        generate.render(dest, {"project_name": "demo", "features": list(features), "package_manager": manager})
        for path in (p for p in dest.rglob("*") if p.is_file()):
            text = path.read_text(encoding="utf-8")
            rel = path.relative_to(dest)
            assert "OWNER" not in text, f"{features}: {rel} names OWNER"
            assert not IMPORTS_RISO.search(text), f"{features}: {rel} imports riso"
        assert coordinates.FLAKE_URL in (dest / "flake.nix").read_text()
        readme = (dest / "README.md").read_text()
        assert "Until riso is on PyPI" in readme


@pytest.mark.slow
def test_new_makes_a_first_commit_with_uv_lock(tmp_path: Path, store: Path) -> None:
    done = run_riso("new", "demo", "--template", "minimal", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    root = tmp_path / "demo"
    assert "uv.lock" in git(root, "show", "--name-only", "--format=", "HEAD").split()
    assert git(root, "status", "--porcelain") == ""
    assert locking.lock_matches(root, "uv")


def test_a_failed_lock_is_one_line_and_leaves_nothing(tmp_path: Path, store: Path) -> None:
    """No package index (uv offline with an empty cache): one error line, no half-made project."""
    env = {"RISO_UV": "uv --offline", "UV_CACHE_DIR": str(tmp_path / "empty-cache")}
    done = run_riso("new", "demo", "--template", "minimal", cwd=tmp_path, env=env)
    assert_one_line_error(done, "uv lock", "failed")
    assert not (tmp_path / "demo").exists()
