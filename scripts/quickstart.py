"""riso's main job, end to end: render the `api` starter, install it, start its services, run its tests,
serve it, and say where it answers. Run through `bash scripts/quickstart` (which installs what it needs).

The project goes to $RISO_DEMO_DIR (default: .demo/myapi in this checkout). A previous demo there is
stopped and replaced; nothing else is touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
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


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return int(probe.getsockname()[1])
            except OSError:
                continue
    raise SystemExit("quickstart: no free port for the app")


def serve(demo: Path, env: dict[str, str]) -> tuple[int, int]:
    port = free_port(8000)
    log = (demo / ".riso" / "logs" / "app.log").open("ab")
    app = subprocess.Popen(
        [str(demo / ".venv" / "bin" / "python"), "-m", "myapi", "serve", "--port", str(port)],
        cwd=demo,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return port, app.pid
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"quickstart: the app did not become ready; see {demo}/.riso/logs/app.log")


def main() -> None:
    demo = Path(os.environ.get("RISO_DEMO_DIR", CHECKOUT / ".demo" / "myapi")).resolve()
    clear_previous(demo)
    demo.parent.mkdir(parents=True, exist_ok=True)
    demo.parent.chmod(0o755)  # as root, Postgres runs as an unprivileged user that must reach its data

    step(f"Rendering the api starter into {demo}")
    print(riso("new", str(demo), "--template", "api", "--defaults", "--no-git", cwd=demo.parent).strip())
    (demo / MARKER).write_text("made by riso's scripts/quickstart; safe to delete\n")

    step("Installing it (its own .venv, riso beside it from this checkout)")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = matrix.build_riso_wheel(CHECKOUT, Path(tmp))
        settings = matrix.Settings(CHECKOUT, demo.parent, {}, wheel, shutil.which("uv") is not None)
        for _, argv in matrix.install_steps(demo, settings):
            sh(argv, demo)
    venv_bin = demo / ".venv" / "bin"

    step("Starting its services: riso up -d")
    sh([str(venv_bin / "riso"), "up", "-d", "--allow-missing"], demo)
    print(sh([str(venv_bin / "riso"), "status"], demo).strip())
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

    step("Migrating and serving it")
    sh([str(venv_bin / "alembic"), "upgrade", "head"], demo, env)
    port, pid = serve(demo, env)
    print(f"API:        http://127.0.0.1:{port}/docs   (items: /items, health: /healthz, /readyz)")
    print(f"Metrics:    http://127.0.0.1:{port}/metrics")
    print(f"Prometheus: {env.get('PROMETHEUS_URL', '(not running)')}")
    print(f"\nThe app runs as pid {pid}. Stop everything with:\n  kill {pid}; cd {demo} && riso down")


if __name__ == "__main__":
    main()
