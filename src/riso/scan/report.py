"""What a scan found: per tool, findings counted by severity, or the one-line reason it was skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# Highest first. Bandit grades low/medium/high; a new secret and a known vulnerability (pip-audit gives
# no grade) count as high: either one fails the scan.
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Finding:
    """One thing a tool reported: where, what, and how bad."""

    severity: str
    where: str
    what: str


@dataclass(frozen=True)
class ToolResult:
    """One tool's run: its findings, or why it did not run (`skipped`), and a note for the table."""

    tool: str
    findings: tuple[Finding, ...] = ()
    skipped: str | None = None
    note: str = ""

    def counts(self) -> dict[str, int]:
        found = Counter(f.severity for f in self.findings)
        return {severity: found.get(severity, 0) for severity in SEVERITIES}

    def at_least(self, threshold: str) -> list[Finding]:
        """The findings of `threshold` severity or worse."""
        worst = SEVERITIES[: SEVERITIES.index(threshold) + 1]
        return [f for f in self.findings if f.severity in worst]


@dataclass(frozen=True)
class Report:
    """Every tool's result, in the order they ran."""

    results: tuple[ToolResult, ...] = field(default_factory=tuple)

    def failing(self, threshold: str = "high") -> list[tuple[str, Finding]]:
        """(tool, finding) for each finding of `threshold` severity or worse."""
        return [(r.tool, f) for r in self.results for f in r.at_least(threshold)]

    def passed(self, threshold: str = "high") -> bool:
        return not self.failing(threshold)
