"""Expanding the plan's placeholders (`{root}`, `{port}`, `{bin:psql}`, ...; see docs/plan.md).

Only the known placeholders are replaced; any other brace text (YAML flow maps, JSON in a config
file) is left alone. A placeholder naming an unknown service or binary is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from riso.errors import RisoError

HOST = "127.0.0.1"

_PATTERN = re.compile(r"\{(root|state|run|logs|data_dir|socket_dir|port|host)\}|\{(port|bin):([A-Za-z0-9_.+-]+)\}")


@dataclass(frozen=True)
class Context:
    """The values one service's templates expand to."""

    service: str
    root: str
    state: str
    run: str
    logs: str
    ports: Mapping[str, int] = field(default_factory=dict)
    binaries: Mapping[str, str | None] = field(default_factory=dict)
    data_dir: str | None = None
    socket_dir: str | None = None
    host: str = HOST

    def with_dirs(self, data_dir: str, socket_dir: str | None) -> Context:
        return replace(self, data_dir=data_dir, socket_dir=socket_dir)

    def _simple(self, name: str) -> str:
        if name == "port":
            return self._port(self.service)
        value = getattr(self, name)
        if value is None:
            raise RisoError(f"{self.service}: the plan uses {{{name}}}, which has no value for this service")
        return str(value)

    def _port(self, service: str) -> str:
        port = self.ports.get(service)
        if port is None:
            raise RisoError(f"{self.service}: the plan uses the port of {service!r}, which is not in the plan")
        return str(port)

    def _binary(self, name: str) -> str:
        if name not in self.binaries:
            raise RisoError(f"{self.service}: the plan uses {{bin:{name}}}, which is not in its binaries")
        path = self.binaries[name]
        if path is None:
            raise RisoError(f"{self.service}: binary {name!r} was not found")
        return path

    def _replace(self, match: re.Match[str]) -> str:
        simple, kind, arg = match.groups()
        if simple:
            return self._simple(simple)
        return self._port(arg) if kind == "port" else self._binary(arg)

    def expand(self, template: str) -> str:
        return _PATTERN.sub(self._replace, template)

    def expand_all(self, templates: list[str]) -> list[str]:
        return [self.expand(t) for t in templates]
