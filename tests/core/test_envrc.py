"""The generated `.envrc` under the real direnv: `.riso/env` once `riso up` wrote it, `riso env` before.

direnv runs with a PATH without Nix (the Nix branch is `use flake`, which needs nixpkgs) and with
its own data folders; `riso` on that PATH is a wrapper that counts its calls, so the test sees
when Python ran.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from core_support import RISO, needs_postgres, needs_redis, riso, write_project

ENVRC = Path(__file__).resolve().parents[2] / "src" / "riso" / "blueprint" / "project" / ".envrc"
DIRENV = shutil.which("direnv")
pytestmark = pytest.mark.skipif(DIRENV is None, reason="direnv not installed (apt-get install direnv)")


def sandbox_path(home: Path, calls: Path) -> str:
    """A bin folder with the system's commands but no `nix`, and a `riso` that counts its calls."""
    bin_dir = home / "bin"
    bin_dir.mkdir()
    for system in ("/usr/local/bin", "/usr/bin", "/bin"):
        if not Path(system).is_dir():
            continue
        for entry in os.scandir(system):
            target = bin_dir / entry.name
            if not entry.name.startswith("nix") and entry.name != "riso" and not target.exists():
                target.symlink_to(entry.path)
    wrapper = bin_dir / "riso"
    wrapper.write_text(f'#!/bin/sh\necho call >> "{calls}"\nexec "{RISO}" "$@"\n')
    wrapper.chmod(0o755)
    return str(bin_dir)


def loaded(folder: Path, home: Path, path: str) -> dict[str, str]:
    """The environment direnv gives a command run in `folder`."""
    env = {
        "PATH": path,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    assert DIRENV is not None
    subprocess.run([DIRENV, "allow", str(folder)], env=env, check=True, capture_output=True, timeout=60)
    done = subprocess.run(
        [DIRENV, "exec", str(folder), "env", "-0"], env=env, check=True, capture_output=True, timeout=60
    )
    pairs = [item.split(b"=", 1) for item in done.stdout.split(b"\0") if b"=" in item]
    return {k.decode(): v.decode() for k, v in pairs}


def exports(folder: Path) -> dict[str, str]:
    lines = riso("env", "--dotenv", cwd=folder).stdout.splitlines()
    return {name: value.strip("'") for name, value in (line.split("=", 1) for line in lines)}


def test_the_envrc_is_the_blueprint_s_in_every_starter() -> None:
    for starter in (ENVRC.parents[4] / "templates").iterdir():
        assert (starter / ".envrc").read_text() == ENVRC.read_text(), starter.name


@needs_postgres
@needs_redis
def test_direnv_reads_riso_env_once_riso_up_wrote_it(folder: Path, tmp_path: Path) -> None:
    write_project(folder, ["database", "cache"])
    shutil.copy(ENVRC, folder / ".envrc")
    calls = tmp_path / "calls"
    path = sandbox_path(tmp_path, calls)

    before = loaded(folder, tmp_path, path)  # never started: `riso env` answers
    assert calls.read_text().count("call") == 1
    wanted = exports(folder)
    assert {k: before.get(k) for k in wanted} == wanted
    assert set(wanted) >= {"DATABASE_URL", "REDIS_URL"}

    assert riso("up", "-d", cwd=folder).code == 0
    assert (folder / ".riso" / "env").is_file()
    after = loaded(folder, tmp_path, path)
    assert calls.read_text().count("call") == 1  # direnv read .riso/env: no Python ran
    assert {k: after.get(k) for k in wanted} == wanted

    earlier = time.time() - 60
    os.utime(folder / ".riso" / "env", (earlier, earlier))  # the manifest edited since: `riso env` again
    edited = loaded(folder, tmp_path, path)
    assert {k: edited.get(k) for k in wanted} == wanted
    assert calls.read_text().count("call") == 2
