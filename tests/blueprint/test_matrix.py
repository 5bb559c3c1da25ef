"""`riso check --matrix`: selection, lock parsing, and whole runs against the small fixture blueprint."""

from __future__ import annotations

from pathlib import Path

import pytest
from blueprint_helpers import assert_one_line_error, run_riso

from riso import matrix
from riso.errors import RisoError
from riso.features import all_combinations


def test_every_combination_by_default() -> None:
    combos = matrix.select(None)
    assert combos == all_combinations()
    assert len(combos) == 16
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
def test_matrix_run_prints_a_table_and_passes(tmp_path: Path) -> None:
    done = run_riso("check", "--matrix", "--only", "none", "--only", "cache,database", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| (none)" in done.stdout
    assert "| cache,database" in done.stdout
    assert "2/2 passed" in done.stdout


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
