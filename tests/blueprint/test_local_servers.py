"""A generated project's tests with no service URL set: throwaway servers from local binaries.

What a developer gets who clones the project and runs `pytest` without `riso up`: the rendered
conftest starts Postgres (pytest-postgresql, `pg_ctl`) and Redis (pytest-redis) itself. The project is
installed from its own uv.lock only, so riso is not importable there. Postgres refuses to run as root,
so as root the tests run as an ordinary user, as a developer would.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from unprivileged import ORDINARY, as_user, ordinary_user

from riso import generate, locking
from riso.features import FEATURES

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not glob.glob("/usr/lib/postgresql/*/bin/pg_ctl") and not shutil.which("pg_ctl"), reason="no pg_ctl"
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server"),
    pytest.mark.skipif(
        os.geteuid() == 0 and shutil.which("setpriv") is None, reason="setpriv (util-linux) not installed"
    ),
]


def _chown_tree(folder: Path, uid: int, gid: int) -> None:
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, uid, gid, follow_symlinks=False)


def test_the_generated_tests_start_their_own_servers_when_no_url_is_set() -> None:
    folder = Path(tempfile.mkdtemp(prefix="riso-local-"))
    folder.chmod(0o755)
    project = folder / "demo"
    try:
        generate.render(project, {"project_name": "demo", "features": sorted(FEATURES)})
        locking.lock(project, "uv")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "VIRTUAL_ENV"))}
        env["UV_PYTHON"] = sys.executable
        sync = subprocess.run(
            ["uv", "sync", "--frozen"], cwd=project, env=env, capture_output=True, text=True, timeout=900
        )
        assert sync.returncode == 0, sync.stderr
        python = str(project / ".venv" / "bin" / "python")

        (folder / "tmp").mkdir()
        run_env = {
            "PATH": f"{project / '.venv' / 'bin'}{os.pathsep}/usr/bin:/bin",
            "HOME": str(folder),
            "TMPDIR": str(folder / "tmp"),
            "LANG": "C.UTF-8",
        }
        prefix: list[str] = []
        if os.geteuid() == 0:
            user = ordinary_user()
            _chown_tree(folder, user.pw_uid, user.pw_gid)
            # The venv's interpreter is a link to this one; where the user cannot read it, the link
            # must not fall through to another Python on the machine.
            same = f"import sys; sys.exit(sys.version_info[:3] != {tuple(sys.version_info[:3])!r})"
            prefix = as_user(ORDINARY, (python, "-c", same))
        imports = subprocess.run([*prefix, python, "-c", "import riso"], env=run_env, capture_output=True, timeout=60)
        assert imports.returncode != 0, "riso is importable in the project's environment"
        tests = subprocess.run(
            [*prefix, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"],
            cwd=project,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        output = tests.stdout[-4000:] + tests.stderr[-2000:]
        assert tests.returncode == 0, output
        assert " passed" in tests.stdout and "skipped" not in tests.stdout, output
    finally:
        shutil.rmtree(folder, ignore_errors=True)
