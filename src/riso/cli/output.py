"""Where the CLI prints: rich consoles for the Typer commands, plain writes for the everyday ones.

`out` (results, stdout) and `err` (problems, stderr) make their rich Console on first use, so a
command that prints nothing through them never loads rich. `line` and `problem` print what
`out.print` / `err.print` would for plain text with one leading colour tag (`[red]error:[/] ...`),
byte for byte, without rich: the everyday commands use them (riso.cli.quick).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

    from riso.runner import ServiceStatus

# The SGR codes rich writes for the colour names the commands use.
SGR = {"red": "31", "yellow": "33", "green": "32", "bold": "1"}


class LazyConsole:
    """A rich Console (highlight off) made on first `print`."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def print(self, *objects: Any, **options: Any) -> None:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False)
        self._console.print(*objects, **options)


out = LazyConsole(stderr=False)
err = LazyConsole(stderr=True)


def colour_on(stream: TextIO) -> bool:
    """Whether rich would colour `stream` (its checks for a plain terminal: FORCE_COLOR, NO_COLOR, TERM)."""
    env = os.environ
    if env.get("NO_COLOR", "") != "":
        return False
    compatible = env.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        terminal = compatible == "1"
    elif env.get("FORCE_COLOR") is not None:
        terminal = env["FORCE_COLOR"] != ""
    else:
        try:
            terminal = stream.isatty()
        except ValueError:
            terminal = False
    return terminal and env.get("TERM", "").lower() not in ("dumb", "unknown")


def paint(text: str, colour: str, stream: TextIO) -> str:
    return f"\x1b[{SGR[colour]}m{text}\x1b[0m" if colour_on(stream) else text


def line(text: str, stream: TextIO | None = None) -> None:
    """One line of plain text, as `out.print(text, soft_wrap=True)` prints text without markup."""
    print(text, file=stream or sys.stdout)


def problem(label: str, colour: str, text: str) -> None:
    """`label` in `colour`, then `text`, on stderr, as `err.print(f"[{colour}]{label}[/] {escape(text)}")`."""
    print(f"{paint(label, colour, sys.stderr)} {text}", file=sys.stderr)


def status_line(s: ServiceStatus) -> str:
    """One line of `riso status`: name, state, pid, port, health, and a process's restarts."""
    health = "healthy" if s.healthy else ("unhealthy" if s.state == "running" else "")
    pid = f"pid {s.pid}" if s.pid else ""
    port = f"port {s.port}" if s.port else ""
    restarts = f"restarts {s.restarts}" if s.restarts else ""
    return f"{s.name:<12} {s.state:<10} {pid:<11} {port:<11} {health:<9} {restarts}".rstrip()


def failure_text(s: ServiceStatus) -> str:
    """Why `riso status` fails for `s` (after `error:`)."""
    why = "is not answering its readiness probe" if s.state == "running" else f"is {s.state}"
    return f"{s.name} {why} (run `riso up` to start it; `riso logs {s.name}` shows why)"
