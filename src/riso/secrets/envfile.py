"""Dotenv bodies: the plaintext inside each encrypted file, read with python-dotenv (as the
generated app reads it) and written in one quoting that reads back exactly."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

from riso.errors import RisoError

NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


def check_name(name: str) -> str:
    """`name` when it is an upper-case environment variable name (what the app's settings read)."""
    if not NAME.fullmatch(name):
        raise RisoError(
            f"{name!r} is not a secret name",
            "use upper-case letters, digits and _, not starting with a digit, as in DATABASE_URL",
        )
    return name


def parse(text: str, source: str) -> dict[str, str]:
    """NAME=value lines (comments and blank lines allowed); a line that is neither is an error naming
    its number, never its content (it may be a value)."""
    from dotenv.parser import parse_stream

    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error or (binding.key is not None and binding.value is None):
            original = binding.original
            line = original.line + len(original.string) - len(original.string.lstrip("\n"))
            raise RisoError(f"{source}: line {line} is not NAME=value", "quote values with spaces or # in them")
        if binding.key is None:
            continue  # a comment or a blank line
        values[check_name(binding.key)] = binding.value or ""
    return values


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render(values: Mapping[str, str]) -> str:
    """The dotenv body for `values`, sorted by name; every value single-quoted (no expansion)."""
    header = "# Secrets, one NAME='value' a line (encrypted with age; edit with `riso secrets edit`).\n"
    return header + "".join(f"{check_name(name)}={_quoted(values[name])}\n" for name in sorted(values))


def with_value(text: str, name: str, value: str | None) -> str:
    """`text` with `name` set to `value` (or removed when None), every other line kept as written."""
    from dotenv.parser import parse_stream

    parse(text, "the secrets")  # refuse to rewrite what does not parse
    kept: list[str] = []
    done = False
    for binding in parse_stream(io.StringIO(text)):
        original = binding.original.string
        if binding.key != name:
            kept.append(original)
            continue
        if value is not None and not done:
            lead = original[: len(original) - len(original.lstrip("\n"))]
            kept.append(f"{lead}{name}={_quoted(value)}\n")
            done = True
    body = "".join(kept)
    if value is not None and not done:
        if body and not body.endswith("\n"):
            body += "\n"
        body += f"{check_name(name)}={_quoted(value)}\n"
    return body


def empty() -> str:
    return render({})
