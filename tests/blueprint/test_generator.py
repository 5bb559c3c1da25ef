"""`riso new/add/update` against the small fixture blueprint: validation, add, 3-way update, determinism."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fixture_blueprint
import pytest
import yaml
from blueprint_helpers import assert_one_line_error, commit_all, git, run_riso, tree_snapshot

from riso import blueprint_store, generate, names
from riso.errors import RisoError

pytestmark = pytest.mark.usefixtures("fake_blueprint")


def answers(root: Path) -> dict[str, object]:
    data = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert isinstance(data, dict)
    return data


def run_project_tests(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:riso", "tests"],
        cwd=root,
        env={"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--template", "nope"], "unknown template 'nope'"),
        (["--template", "api", "--with", "database,queue"], "unknown feature 'queue'"),
        (["--template", "minimal", "--name", "1abc"], "'1abc'"),
        (["--template", "minimal", "--name", "class"], "keyword"),
        (["--template", "minimal", "--name", "my-app!"], "'!'"),
        (["--template", "minimal", "--name", "a" * 33], "at most 32"),
    ],
)
def test_new_rejects_bad_input_with_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    done = run_riso("new", "target", *args, cwd=tmp_path)
    assert_one_line_error(done, needle)
    assert not (tmp_path / "target").exists()


@pytest.mark.parametrize("name", ["1abc", "class", "my-app!", "json", "-app", "app-"])
def test_invalid_names_are_rejected_by_the_library(tmp_path: Path, name: str) -> None:
    with pytest.raises(RisoError):
        generate.new(tmp_path / "x", template="minimal", name=name)
    assert not (tmp_path / "x").exists()


def test_longest_accepted_name_renders_ruff_clean(tmp_path: Path) -> None:
    """Names are capped where the generated code still keeps its lines under the limit."""
    name = "abcdefghij-abcdefghij-abcdefghij"[: names.MAX_LENGTH]
    target = tmp_path / "long"
    generate.render(target, {"project_name": name, "features": ["api", "cache", "database", "monitoring"]})
    for argv in (["ruff", "check", "--quiet", "."], ["ruff", "format", "--check", "--quiet", "."]):
        done = subprocess.run(argv, cwd=target, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_hyphenated_name_gives_underscored_package(tmp_path: Path) -> None:
    project = generate.new(tmp_path / "my-app", template="minimal")
    assert (project.project_name, project.package_name) == ("my-app", "my_app")
    assert (tmp_path / "my-app" / "src" / "my_app" / "__init__.py").is_file()


def test_non_empty_target_is_left_untouched(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    before = tree_snapshot(target)
    done = run_riso("new", str(target), "--template", "minimal", cwd=tmp_path)
    assert_one_line_error(done, "not empty")
    assert tree_snapshot(target) == before
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_add_outside_a_project_is_an_error(tmp_path: Path) -> None:
    done = run_riso("add", "database", cwd=tmp_path)
    assert_one_line_error(done, "not inside a riso project")


def test_add_unknown_feature_is_an_error(tmp_path: Path) -> None:
    generate.new(tmp_path / "demo", template="minimal")
    done = run_riso("add", "queue", cwd=tmp_path / "demo")
    assert_one_line_error(done, "unknown feature 'queue'")


def test_add_present_feature_is_a_no_op_that_says_so(tmp_path: Path) -> None:
    root = generate.new(tmp_path / "demo", template="minimal").path
    before = tree_snapshot(root)
    done = run_riso("add", "api", cwd=root / "src")
    assert done.returncode == 0, done.stderr
    assert "already present" in done.stdout
    assert tree_snapshot(root) == before
    assert git(root, "status", "--porcelain") == ""


# --- new and add --------------------------------------------------------------------------------


def test_new_then_add_brings_code_manifest_and_answers(tmp_path: Path) -> None:
    done = run_riso("new", "demo", "--template", "minimal", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    root = tmp_path / "demo"
    assert git(root, "log", "--format=%s").startswith("New project from riso blueprint")
    done = run_riso("add", "database", "cache", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "Added cache, database" in done.stdout
    assert (root / "src" / "demo" / "db.py").is_file()
    assert 'features = ["api", "cache", "database"]' in (root / "pyproject.toml").read_text()
    assert answers(root)["features"] == ["api", "cache", "database"]
    tests = run_project_tests(root)
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_add_keeps_a_user_edit(tmp_path: Path) -> None:
    root = generate.new(tmp_path / "demo", template="minimal").path
    readme = root / "README.md"
    readme.write_text(readme.read_text() + "\nMy notes.\n")
    commit_all(root, "notes")
    generate.add(root, ["cache"])
    text = readme.read_text()
    assert "My notes." in text
    assert "Features: api, cache" in text


def test_add_refuses_a_dirty_tree(tmp_path: Path) -> None:
    root = generate.new(tmp_path / "demo", template="minimal").path
    (root / "README.md").write_text("changed\n")
    done = run_riso("add", "cache", cwd=root)
    assert_one_line_error(done, "uncommitted changes")
    assert (root / "README.md").read_text() == "changed\n"


def test_rendering_the_same_answers_twice_is_identical(tmp_path: Path) -> None:
    data = {"project_name": "twin", "features": ["api", "database"]}
    generate.render(tmp_path / "a", data)
    generate.render(tmp_path / "b", data)
    assert tree_snapshot(tmp_path / "a") == tree_snapshot(tmp_path / "b")


def test_blueprint_tag_is_a_function_of_content(tmp_path: Path, fake_blueprint: Path) -> None:
    first = blueprint_store.record_installed(str(tmp_path / "one"))
    second = blueprint_store.record_installed(str(tmp_path / "two"))
    assert first == second
    assert first.startswith("0.1.0+b")
    (fake_blueprint / "project" / "README.md.jinja").write_text("changed\n")
    assert blueprint_store.record_installed(str(tmp_path / "one")) != first


# --- update -------------------------------------------------------------------------------------


def _edited_project(tmp_path: Path) -> Path:
    root = generate.new(tmp_path / "demo", template="minimal").path
    init = root / "src" / "demo" / "__init__.py"
    init.write_text(init.read_text().replace("A service", "My own words"))
    commit_all(root, "user edit")
    return root


def test_update_merges_a_blueprint_change_and_keeps_user_edits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _edited_project(tmp_path)
    old = answers(root)["_commit"]
    monkeypatch.setenv("RISO_BLUEPRINT", str(fixture_blueprint.write(tmp_path / "v2", "Version two.")))
    done = run_riso("update", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "Version two." in (root / "README.md").read_text()
    assert '"""My own words"""' in (root / "src" / "demo" / "__init__.py").read_text()
    new = answers(root)["_commit"]
    assert isinstance(new, str)
    assert new != old
    assert new.startswith("0.1.0.post1+b")  # same riso version, changed blueprint: never a downgrade
    commit_all(root, "update")
    again = run_riso("update", cwd=root)
    assert again.returncode == 0, again.stderr
    assert "Already up to date" in again.stdout


def test_update_reports_conflicts_and_leaves_markers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = generate.new(tmp_path / "demo", template="minimal").path
    readme = root / "README.md"
    readme.write_text(readme.read_text().replace("Version one of the blueprint.", "My version."))
    commit_all(root, "user edit")
    monkeypatch.setenv("RISO_BLUEPRINT", str(fixture_blueprint.write(tmp_path / "v2", "Version two.")))
    done = run_riso("update", cwd=root)
    assert_one_line_error(done, "conflicts in README.md")
    text = readme.read_text()
    assert "<<<<<<< before updating" in text
    assert "My version." in text
    assert "Version two." in text


def test_update_refuses_a_dirty_tree(tmp_path: Path) -> None:
    root = generate.new(tmp_path / "demo", template="minimal").path
    (root / "scratch.txt").write_text("wip\n")
    done = run_riso("update", cwd=root)
    assert_one_line_error(done, "uncommitted changes")


def test_update_from_a_tagged_template_repository(tmp_path: Path) -> None:
    """A project made from a template repository with release tags updates to its latest tag."""
    repo = fixture_blueprint.write(tmp_path / "template-repo")
    git(repo, "init", "--quiet")
    commit_all(repo, "v1")
    git(repo, "tag", "v1.0.0")
    root = generate.new(tmp_path / "demo", template="minimal", src=str(repo), ref="v1.0.0").path
    assert answers(root)["_commit"] == "v1.0.0"
    readme = root / "README.md"
    readme.write_text(readme.read_text() + "\nUser line.\n")
    commit_all(root, "user edit")
    fixture_blueprint.write(repo, "Version two.")
    commit_all(repo, "v2")
    git(repo, "tag", "v2.0.0")
    result = generate.update(root)
    assert (result.old, result.new, result.conflicts) == ("v1.0.0", "v2.0.0", [])
    text = readme.read_text()
    assert "Version two." in text
    assert "User line." in text


def test_update_records_a_missing_old_blueprint_when_it_is_the_installed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project from another machine (or a starter) whose blueprint this riso ships."""
    root = generate.new(tmp_path / "demo", template="minimal").path
    monkeypatch.setenv("RISO_BLUEPRINT_STORE", str(tmp_path / "fresh-store"))
    answers_path = root / ".copier-answers.yml"
    answers_path.write_text(answers_path.read_text().replace(str(tmp_path / "store"), str(tmp_path / "fresh-store")))
    commit_all(root, "moved")
    result = generate.update(root)
    assert result.old == result.new
    assert blueprint_store.has_tag(result.old, str(tmp_path / "fresh-store"))


def test_new_add_and_update_work_without_a_git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CI machines and fresh containers often have no user.email: Copier's scratch commits still work."""
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(key, raising=False)
    root = _edited_project(tmp_path)
    assert generate.add(root, ["cache"]).added == ["cache"]
    commit_all(root, "add cache")
    monkeypatch.setenv("RISO_BLUEPRINT", str(fixture_blueprint.write(tmp_path / "v2", "Version two.")))
    result = generate.update(root)
    assert result.conflicts == []
    assert "Version two.\n\nFeatures: api, cache" in (root / "README.md").read_text()
    assert '"""My own words"""' in (root / "src" / "demo" / "__init__.py").read_text()
