"""riso's main job, end to end: render the `api` starter, install it, start its services, run its tests,
serve it with `riso up` (its `app` process), and say where it answers. Run through `bash scripts/quickstart`
(which installs what it needs).

The project goes to $RISO_DEMO_DIR (default: .demo/myapi in this checkout). A previous demo there is
stopped and replaced; nothing else is touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from riso import matrix

CHECKOUT = Path(__file__).resolve().parents[1]
MARKER = ".riso-quickstart"


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def sh(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, text=True, capture_output=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"quickstart: `{' '.join(argv)}` failed (exit {done.returncode}); output above")
    return done.stdout


def riso(*args: str, cwd: Path) -> str:
    return sh([sys.executable, "-m", "riso", *args], cwd)


def clear_previous(demo: Path) -> None:
    if not demo.exists():
        return
    if not (demo / MARKER).exists():
        raise SystemExit(f"quickstart: {demo} exists and is not a previous demo; set RISO_DEMO_DIR elsewhere")
    if (demo / ".riso").exists():
        subprocess.run([sys.executable, "-m", "riso", "down", "--volumes"], cwd=demo, capture_output=True)
    shutil.rmtree(demo)


def main() -> None:
    demo = Path(os.environ.get("RISO_DEMO_DIR", CHECKOUT / ".demo" / "myapi")).resolve()
    clear_previous(demo)
    demo.parent.mkdir(parents=True, exist_ok=True)
    demo.parent.chmod(0o755)  # as root, Postgres runs as an unprivileged user that must reach its data

    step(f"Rendering the api starter into {demo}")
    print(riso("new", str(demo), "--template", "api", "--defaults", "--no-git", cwd=demo.parent).strip())
    (demo / MARKER).write_text("made by riso's scripts/quickstart; safe to delete\n")

    step("Installing it (its own .venv from its uv.lock; riso stays beside it, not in it)")
    settings = matrix.Settings(CHECKOUT, demo.parent, {}, None, shutil.which("uv") is not None)
    for _, argv in matrix.install_steps(demo, settings):
        sh(argv, demo)
    venv_bin = demo / ".venv" / "bin"

    step("Starting its services: riso up -d --services-only")
    riso("up", "-d", "--allow-missing", "--services-only", cwd=demo)
    print(riso("status", cwd=demo).strip())
    env = {
        **os.environ,
        **dict(line.split("=", 1) for line in riso("env", "--dotenv", cwd=demo).splitlines() if "=" in line),
    }
    env = {k: v.strip("'\"") for k, v in env.items()}

    step("Running its tests against them: pytest")
    print(
        sh([str(venv_bin / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"], demo, env)
        .strip()
        .splitlines()[-1]
    )

    step("Migrating and serving it: riso up -d app (uvicorn --reload, restarted if it crashes)")
    sh([str(venv_bin / "alembic"), "upgrade", "head"], demo, env)
    riso("up", "-d", "--allow-missing", "app", cwd=demo)
    exports = dict(line.split("=", 1) for line in riso("env", "--dotenv", cwd=demo).splitlines() if "=" in line)
    app = exports["APP_URL"].strip("'\"")
    print(f"API:        {app}/docs   (items: /items, health: /healthz, /readyz)")
    print(f"Metrics:    {app}/metrics")
    print(f"Prometheus: {env.get('PROMETHEUS_URL', '(not running)')}")
    bin_dir = Path(sys.executable).parent
    print(f"\nriso is in {bin_dir}: `source {bin_dir}/activate` puts it on PATH.")
    print(f"Logs: riso logs app -f. Stop everything with:\n  cd {demo} && riso down")


if __name__ == "__main__":
    main()
