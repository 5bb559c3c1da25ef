"""The one exception type the CLI turns into a single clear line and a non-zero exit."""

from __future__ import annotations


class RisoError(Exception):
    """A problem the user can fix. `str(err)` names the problem; `hint` names the fix."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(RisoError):
    """The manifest is missing or invalid."""

    exit_code = 2
