"""Emptying one Redis database over a raw socket (no client library needed in the project)."""

from __future__ import annotations

import os
import socket
import ssl
from urllib.parse import unquote, urlsplit, urlunsplit

from riso.errors import RisoError

DATABASES = 16  # Redis' default `databases` setting
UNREACHABLE_HINT = (
    "if REDIS_URL points there, start that server (`riso up -d`) or unset REDIS_URL so the tests start their own"
)


def _command(*args: str) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _reply(stream: socket.socket) -> bytes:
    """One simple reply line (+OK, -ERR …, :1); every command sent here answers with one."""
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = stream.recv(4096)
        if not chunk:
            raise ConnectionError("Redis closed the connection")
        data += chunk
    return data[:-2]


def database_of(url: str) -> int:
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


def with_database(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def database_for_tests(url: str) -> int:
    """The database number tests use on a shared server: never the URL's own one (the app's dev data),
    and one per xdist worker so workers never empty each other's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) if worker.isdigit() else 0
    choices = [n for n in range(DATABASES - 1, -1, -1) if n != database_of(url)]
    return choices[index % len(choices)]


def flush(url: str, timeout: float = 10) -> None:
    """SELECT the URL's database and FLUSHDB it; raises RisoError naming the server on failure."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    commands = []
    if parts.password is not None:
        user = (unquote(parts.username),) if parts.username else ()
        commands.append(("AUTH", *user, unquote(parts.password)))
    commands += [("SELECT", str(database_of(url))), ("FLUSHDB",)]
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            stream = (
                ssl.create_default_context().wrap_socket(raw, server_hostname=host) if parts.scheme == "rediss" else raw
            )
            for command in commands:
                stream.sendall(_command(*command))
                answer = _reply(stream)
                if answer.startswith(b"-"):
                    raise RisoError(
                        f"Redis at {host}:{port} refused {command[0]}: {answer[1:].decode(errors='replace')}"
                    )
    except OSError as err:
        raise RisoError(f"cannot reach Redis at {host}:{port}: {err}", UNREACHABLE_HINT) from None


def ping(url: str, timeout: float = 2) -> bool:
    """Whether a Redis server answers PING at `url`."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout) as sock:
            sock.sendall(_command("PING"))
            return _reply(sock) == b"+PONG"
    except (OSError, ConnectionError):
        return False
