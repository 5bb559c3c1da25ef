"""Services in throwaway containers through testcontainers (optional: `pip install 'riso[testcontainers]'`).

Only the generic `DockerContainer` is used (stable across testcontainers 4.x); readiness is probed here
with the same checks the plugin uses everywhere else.
"""

from __future__ import annotations

import importlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from riso.errors import RisoError

INSTALL_HINT = "pip install 'riso[testcontainers]'"
POSTGRES_IMAGE = os.environ.get("RISO_POSTGRES_IMAGE", "postgres:16-alpine")
REDIS_IMAGE = os.environ.get("RISO_REDIS_IMAGE", "redis:7-alpine")
# Durability is pointless for a test server and costs most of the time of CREATE DATABASE.
POSTGRES_FAST = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]


@dataclass
class Container:
    url: str
    stop: Callable[[], None]


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _ping_raw(address: str, timeout: float) -> bool:
    """GET /_ping over a Unix socket or plain TCP; a TLS engine is left to the docker SDK."""
    parts = urlsplit(address)
    try:
        if parts.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(parts.path)
        elif parts.scheme in ("tcp", "http"):
            sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 2375), timeout=timeout)
        else:
            return False
        with sock:
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b" 200 " in sock.recv(1024).split(b"\r\n", 1)[0] + b" "
    except OSError:
        return False


def _ping_sdk(timeout: float) -> bool:
    try:
        docker = importlib.import_module("docker")  # installed with testcontainers
    except ImportError:
        return False
    try:
        return bool(docker.from_env(timeout=int(timeout) or 1).ping())
    except Exception:
        return False


def engine_answers(timeout: float = 2) -> bool:
    if os.environ.get("DOCKER_TLS_VERIFY"):
        return _ping_sdk(timeout)
    return _ping_raw(docker_host(), timeout)


def _docker_container() -> Any:
    try:
        from testcontainers.core.container import DockerContainer
    except ImportError:
        raise RisoError("a Docker engine answers but testcontainers is not installed", INSTALL_HINT) from None
    return DockerContainer


def _start(image: str, port: int, env: dict[str, str], command: list[str] | None) -> tuple[Any, str, int]:
    container = _docker_container()(image)
    for key, value in env.items():
        container = container.with_env(key, value)
    container = container.with_exposed_ports(port)
    if command:
        container = container.with_command(command)
    container.start()
    return container, container.get_container_host_ip(), int(container.get_exposed_port(port))


def _wait(probe: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.2)
    raise RisoError(f"{what} container did not become ready within {timeout:.0f} s")


def _stopper(container: Any) -> Callable[[], None]:
    def stop() -> None:
        container.stop()

    return stop


def start_postgres(ready: Callable[[str], bool], timeout: float = 90) -> Container:
    """A Postgres container; `ready(url)` says whether it accepts queries yet."""
    env = {"POSTGRES_PASSWORD": "postgres", "POSTGRES_USER": "postgres"}
    container, host, port = _start(POSTGRES_IMAGE, 5432, env, ["postgres", *POSTGRES_FAST])
    url = f"postgresql://postgres:postgres@{host}:{port}/postgres"
    try:
        _wait(lambda: ready(url), "the Postgres", timeout)
    except BaseException:
        container.stop()
        raise
    return Container(url, _stopper(container))


def start_redis(ready: Callable[[str], bool], timeout: float = 60) -> Container:
    container, host, port = _start(REDIS_IMAGE, 6379, {}, None)
    url = f"redis://{host}:{port}/0"
    try:
        _wait(lambda: ready(url), "the Redis", timeout)
    except BaseException:
        container.stop()
        raise
    return Container(url, _stopper(container))
