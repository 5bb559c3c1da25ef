"""The api feature's command, and the app served by uvicorn itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from myapp.cli import build_parser
from tests.test_config import example_environment


def test_serve_takes_host_and_port() -> None:
    args = build_parser().parse_args(["serve", "--host", "127.0.0.2", "--port", "9000"])
    assert (args.command, args.host, args.port) == ("serve", "127.0.0.2", 9000)


FACTORY = "myapp.main:create_app"


@pytest.mark.parametrize("bad", [{"LOG_LEVEL": "bogus"}, {"PORT": "http", "ENVIRONMENT": "dev"}])
def test_uvicorn_factory_with_bad_settings_is_one_line_and_exit_2(
    tmp_path: Path, bad: dict[str, str]
) -> None:
    """`uvicorn FACTORY --factory` says what is wrong like the CLI does, without a traceback,
    and shows no secret."""
    environment = {**os.environ, **example_environment(), **bad}
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", FACTORY, "--factory"],
        cwd=tmp_path,  # no .env
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: setting ")
    assert all(f"setting {name}: " in line for name in bad)
    for secret in ("hunter2", *example_environment().values()):
        assert secret not in result.stderr + result.stdout
