"""The commands people run all day load only what they use (the gain of riso.cli.quick must not regress).

Each command runs in a fresh interpreter exactly as the `riso` script runs it (`riso.cli.main`), and
the test lists the heavy modules left in `sys.modules` afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from core_support import needs_postgres, needs_redis, riso, write_project

HEAVY = ("copier", "jinja2", "httpx", "asyncpg", "testcontainers")
# Never on the everyday commands: the CLI framework, the terminal renderer, the models, the generator.
NOT_EVERYDAY = (
    *HEAVY,
    "typer",
    "click",
    "rich",
    "pydantic",
    "pydantic_core",
    "tomlkit",
    "yaml",
    "psutil",
    "riso.config",
    "riso.plan",
    "riso.plan_model",
    "riso.services",
)
EVERYDAY = (
    ["env"],
    ["env", "--dotenv"],
    ["status"],
    ["status", "--json"],
    ["plan", "--json"],
    ["up", "-d"],
    ["up", "-d", "--services-only"],
)
# A process of the project's own beside the services: the quick path runs processes too.
TICK = f"""
[tool.riso.processes.tick]
command = [{json.dumps(sys.executable)}, "-c", "import time; time.sleep(600)"]
depends_on = ["redis"]
"""

_RUN_MAIN = """
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["riso", *json.loads(sys.argv[1])]
from riso.cli import main
try:
    main()
except SystemExit as done:
    code = done.code
sys.stdout.flush()
sys.stderr.write("\\nloaded: " + json.dumps([m for m in heavy if m in sys.modules]) + f" exit: {code}\\n")
"""


def imported_by(statement: str) -> list[str]:
    code = f"import sys; {statement}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.split()


def loaded_by_command(args: list[str], cwd: Path, heavy: tuple[str, ...] = NOT_EVERYDAY) -> tuple[list[str], int]:
    """The modules of `heavy` that `riso <args>` has imported when it is done, and its exit code."""
    done = subprocess.run(
        [sys.executable, "-c", _RUN_MAIN, json.dumps(args), json.dumps(heavy)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    tail = done.stderr.rsplit("\nloaded: ", 1)
    assert len(tail) == 2, done.stderr
    listed, code = tail[1].rsplit(" exit: ", 1)
    return json.loads(listed), int(code)


def test_the_runner_imports_nothing_heavy() -> None:
    assert imported_by("import riso.runner, riso.doctor") == []


def test_the_cli_imports_no_generator_stack() -> None:
    # Every command loads riso.cli; a module there that imports Copier at the top makes every
    # `riso up` pay for it.
    assert imported_by("import riso.cli") == []


def test_the_entry_point_imports_nothing_but_itself() -> None:
    code = "import sys, riso.cli; print(' '.join(sorted(m for m in sys.modules if m.startswith('riso'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["riso", "riso.cli"]


def test_the_typer_app_still_serves_the_other_commands(tmp_path: Path) -> None:
    # The check above is not vacuous: the same harness sees Typer and rich where they are used.
    loaded, code = loaded_by_command(["features"], tmp_path)
    assert code == 0
    assert {"typer", "rich"} <= set(loaded)


def test_everyday_commands_outside_a_project_load_nothing_heavy(tmp_path: Path) -> None:
    for args in EVERYDAY:
        loaded, code = loaded_by_command(args, tmp_path)
        assert code == 2, args  # no pyproject.toml: one error line
        assert loaded == [], f"`riso {' '.join(args)}` loaded {loaded}"


def _running(folder: Path) -> None:
    write_project(folder, ["database", "cache"], TICK)
    assert riso("up", "-d", cwd=folder).code == 0
    riso("status", cwd=folder)  # the plan cache is written by a command that finds .riso/run


@needs_postgres
@needs_redis
def test_everyday_commands_in_a_running_project_load_nothing_heavy(folder: Path) -> None:
    _running(folder)
    for args in EVERYDAY:
        if args[0] == "up":
            continue  # the next test
        loaded, code = loaded_by_command(args, folder)
        assert code == 0, args
        assert loaded == [], f"`riso {' '.join(args)}` loaded {loaded}"


@needs_postgres
@needs_redis
def test_up_detached_loads_nothing_heavy_running_or_warm(folder: Path) -> None:
    _running(folder)
    loaded, code = loaded_by_command(["up", "-d"], folder)
    assert (code, loaded) == (0, []), "`riso up -d` (all running)"
    # warm start: data kept, servers stopped; the start, its probes and hooks load nothing heavy either
    assert riso("down", cwd=folder).code == 0
    loaded, code = loaded_by_command(["up", "-d"], folder)
    assert (code, loaded) == (0, []), "a warm `riso up -d`"
    status = riso("status", cwd=folder)
    assert status.code == 0 and "tick         running" in status.stdout, status.output


def test_a_changed_manifest_takes_the_full_path_once(folder: Path) -> None:
    write_project(folder, ["cache"])
    (folder / ".riso" / "run").mkdir(parents=True)
    loaded, _ = loaded_by_command(["plan", "--json"], folder, ("pydantic",))
    assert loaded == ["pydantic"]  # no cache yet: computed (and validated) by the models
    assert loaded_by_command(["plan", "--json"], folder, ("pydantic",))[0] == []
    write_project(folder, ["database", "cache"])
    assert loaded_by_command(["plan", "--json"], folder, ("pydantic",))[0] == ["pydantic"]
    shown = json.loads(riso("plan", "--json", cwd=folder).stdout)
    assert [s["name"] for s in shown["services"]] == ["postgres", "redis"]


@pytest.mark.parametrize("args", [["--help"], ["status", "--help"], ["up"], ["env", "--bogus"]])
def test_what_the_quick_path_does_not_know_goes_to_typer(args: list[str], tmp_path: Path) -> None:
    loaded, _ = loaded_by_command(args, tmp_path, ("typer",))
    assert loaded == ["typer"]


_INTERRUPT_AT_IMPORT = """
import json, os, signal, sys
target = sys.argv[2]
sys.argv = ["riso", *json.loads(sys.argv[1])]


class CtrlC:
    # a real SIGINT, delivered while `target` is being imported: as a Ctrl-C during start-up
    def find_spec(self, name, path=None, module=None):
        if name == target:
            os.kill(os.getpid(), signal.SIGINT)
        return None


sys.meta_path.insert(0, CtrlC())
from riso.cli import main
main()
"""


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (["--help"], "typer"),  # the Typer app's imports
        (["status"], "riso.runner"),  # the quick path's
        (["plan", "--json"], "riso.plan_cache"),
        (["new", "x", "--template", "api"], "riso.cli.generate"),
    ],
)
def test_ctrl_c_while_starting_exits_130_without_a_traceback(args: list[str], module: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_AT_IMPORT, json.dumps(args), module],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert "KeyboardInterrupt" not in done.stderr
    assert not (tmp_path / "x").exists()
