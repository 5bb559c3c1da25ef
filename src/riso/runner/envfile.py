"""Writing exports for shells and dotenv readers, so that no value is ever interpreted.

`shell` lines are for `eval "$(riso env)"`; `dotenv` lines are for `.env` files read by a shell
(`set -a; . .env`), direnv's `dotenv`, docker compose and python-dotenv alike: every value is
single-quoted, which all of them read literally (no `$` or backtick expansion). A value holding a
single quote or a line break cannot be written that way for all of them, so it is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from riso.errors import RisoError


def shell_quote(value: str) -> str:
    """`value` as one POSIX shell word, taken literally."""
    return "'" + value.replace("'", "'\\''") + "'"


def dotenv_quote(name: str, value: str) -> str:
    """`value` single-quoted for dotenv readers; refused when no quoting is read alike by all."""
    bad = next((c for c in value if c in "'\n\r\0"), None)
    if bad is not None:
        raise RisoError(
            f"{name} holds {bad!r}, which a .env file cannot hold so that every reader sees the same value",
            'rename what it comes from (a database or user name), or use `eval "$(riso env)"`',
        )
    return f"'{value}'"


def shell(exports: Mapping[str, str]) -> str:
    return "".join(f"export {name}={shell_quote(value)}\n" for name, value in exports.items())


def dotenv(exports: Mapping[str, str]) -> str:
    return "".join(f"{name}={dotenv_quote(name, value)}\n" for name, value in exports.items())
